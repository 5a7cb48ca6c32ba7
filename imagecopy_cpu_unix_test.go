//go:build unix

package geostack_test

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used so far, user and system:
// what a copy costs whatever else the machine runs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
