package exec

// LocalMaxGroups is localMaxGroups, for the tests of exec_test.
const LocalMaxGroups = localMaxGroups
