//go:build race

package geostack_test

// constantMemorySize is what TestCopyImageConstantMemory copies under the
// race detector, which checks every byte copied or passed to a system call
// and would make 1 GiB take a quarter of a minute: 256 MiB, as large next to
// the bounds the test checks, and still sixteen times the 16 MiB target.
const constantMemorySize = 256 << 20
