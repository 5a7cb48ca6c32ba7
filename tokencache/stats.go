package tokencache

import (
	"sync/atomic"
	"unsafe"
)

// Stats are counters of a Cache (Cache.Stats) or of one Handle
// (Handle.Stats), since it was created.
type Stats struct {
	// Issued is the number of fetches that returned a token.
	Issued uint64
	// FromShared is the number of tokens taken from the shared tier
	// (Options.Shared) instead of being fetched. The tier's own counters
	// are Shared.Stats.
	FromShared uint64
	// Hits is the number of reads served a fresh token without waiting:
	// requests sent by Handle.Transport, and Token calls if
	// Options.CountReads is set.
	Hits uint64
	// StaleHits is the number of reads (counted as Hits are) served a
	// token inside its refresh window.
	StaleHits uint64
	// Refreshes is the number of background refreshes started.
	Refreshes uint64
	// Failures is the number of fetches that failed.
	Failures uint64
	// Coalesced is the number of callers that waited for a fetch started
	// by someone else instead of starting their own.
	Coalesced uint64
	// Invalidations is the number of tokens dropped by Invalidate.
	Invalidations uint64
}

func (s *Stats) add(o Stats) {
	s.Issued += o.Issued
	s.FromShared += o.FromShared
	s.Hits += o.Hits
	s.StaleHits += o.StaleHits
	s.Refreshes += o.Refreshes
	s.Failures += o.Failures
	s.Coalesced += o.Coalesced
	s.Invalidations += o.Invalidations
}

// stripes is the number of cells of a counter. A power of two.
const stripes = 16

// counter is a striped counter for the read path: goroutines on different
// stacks mostly add to different cache lines, so concurrent readers of one
// Handle do not contend on one line.
type counter struct {
	cells [stripes]struct {
		n atomic.Uint64
		_ [56]byte // one cache line per cell
	}
}

// inc adds one to the cell chosen by the address of the caller's stack.
// Goroutine stacks are distinct allocations, so the address tells
// goroutines apart well enough; a moved stack merely changes cell.
func (c *counter) inc() {
	var probe byte
	p := uintptr(unsafe.Pointer(&probe))
	c.cells[(p>>12^p>>16)&(stripes-1)].n.Add(1)
}

func (c *counter) load() uint64 {
	var n uint64
	for i := range c.cells {
		n += c.cells[i].n.Load()
	}
	return n
}
