package region

// Stats is a snapshot of a Resolver's counters.
type Stats struct {
	// Attempts is how many requests were sent to an auth_url.
	Attempts uint64
	// Failures is how many of them ended in a fault (connection error,
	// timeout, 5xx, unusable answer).
	Failures uint64
	// Failovers is how many times a request went on to a later auth_url
	// because an earlier one failed or had its circuit open.
	Failovers uint64
	// LagRetries is how many answers from a replica (a 401 to an
	// authentication, a 404 to a validation) were retried at the primary.
	LagRetries uint64
	// AuthURLs has one entry per configured auth_url, in configured order.
	AuthURLs []AuthURLStats
}

// AuthURLStats is the health and counters of one auth_url.
type AuthURLStats struct {
	AuthURL  string
	Location string
	// State is the circuit's state now.
	State CircuitState
	// ConsecutiveFailures is the current run of faults.
	ConsecutiveFailures int
	// Attempts and Failures count requests sent and faults.
	Attempts uint64
	Failures uint64
	// Skipped counts requests not sent because the circuit was open.
	Skipped uint64
	// Opens counts how many times the circuit opened (including reopening
	// after a failed probe).
	Opens uint64
}

// Stats returns a snapshot of the counters and of each circuit's state.
func (r *Resolver) Stats() Stats {
	s := Stats{
		Attempts:   r.attempts.Load(),
		Failures:   r.faults.Load(),
		Failovers:  r.failovers.Load(),
		LagRetries: r.lagRetries.Load(),
	}
	now := r.clock.Now()
	for _, name := range r.names {
		for _, c := range r.byName[name].circuits {
			state, streak := c.state(now)
			s.AuthURLs = append(s.AuthURLs, AuthURLStats{
				AuthURL:             c.authURL,
				Location:            c.location,
				State:               state,
				ConsecutiveFailures: streak,
				Attempts:            c.attempts.Load(),
				Failures:            c.faults.Load(),
				Skipped:             c.skips.Load(),
				Opens:               c.opens.Load(),
			})
		}
	}
	return s
}
