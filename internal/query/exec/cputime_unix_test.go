//go:build unix

package exec_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time the process has used. The benchmarks report
// CPU nanoseconds per record beside wall nanoseconds: on a shared machine the
// wall clock also counts the time other processes held the cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
