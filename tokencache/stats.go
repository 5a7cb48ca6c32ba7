package tokencache

// Stats are counters of a Cache (Cache.Stats) or of one entry
// (Handle.Stats), since it was created. Reads are not counted: a read is
// one atomic load, and a counter would cost more than the read.
type Stats struct {
	// Issued is the number of fetches that returned a token.
	Issued uint64
	// FromShared is the number of tokens taken from the shared tier
	// (Options.Shared) instead of being fetched. The tier's own counters
	// are Shared.Stats.
	FromShared uint64
	// Refreshes is the number of background refreshes started.
	Refreshes uint64
	// Failures is the number of fetches that failed.
	Failures uint64
	// Coalesced is the number of callers that waited for a fetch started
	// by someone else instead of starting their own.
	Coalesced uint64
	// Invalidations is the number of tokens dropped by Invalidate.
	Invalidations uint64
	// Refused is the number of Invalidate calls refused because a token
	// had been dropped less than 30 s before.
	Refused uint64
}

func (s *Stats) add(o Stats) {
	s.Issued += o.Issued
	s.FromShared += o.FromShared
	s.Refreshes += o.Refreshes
	s.Failures += o.Failures
	s.Coalesced += o.Coalesced
	s.Invalidations += o.Invalidations
	s.Refused += o.Refused
}
