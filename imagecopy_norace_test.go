//go:build !race

package geostack_test

// constantMemorySize is what TestCopyImageConstantMemory copies: 1 GiB.
const constantMemorySize = 1 << 30
