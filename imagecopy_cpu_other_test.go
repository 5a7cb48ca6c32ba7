//go:build !unix

package geostack_test

import "time"

// cpuTime is not measured here: BenchmarkCopyImage reports no CPU figures.
func cpuTime() time.Duration { return 0 }
