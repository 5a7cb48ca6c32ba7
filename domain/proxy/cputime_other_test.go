//go:build !unix

package proxy_test

import "time"

// processCPUTime is not measured on this system.
func processCPUTime() time.Duration { return 0 }
