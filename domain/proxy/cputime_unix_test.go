//go:build unix

package proxy_test

import (
	"syscall"
	"time"
)

// processCPUTime returns the user and system CPU time the process has used,
// so that benchmarks on a shared machine report the work done apart from
// the time spent waiting for a core.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
