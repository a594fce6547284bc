//go:build unix

package obs

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time (user and system) the process has used, or 0
// when the system cannot tell. Benchmarks report work per CPU-second beside work
// per wall-second: on a shared machine the wall clock also counts the time
// other processes held the core.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
