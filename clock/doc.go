// Package clock is the one time source every geostack package takes: the
// token cache's freshness timers, the region resolver's circuit cool-downs,
// the validation cache's expiry and a token's local expiry all read it.
//
// A nil Clock in any geostack configuration means the system clock. Tests
// pass a *Manual, which moves only when told to, so that nothing waits on
// the wall clock:
//
//	clk := clock.NewManual(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
//	cache, err := tokencache.New(tokencache.Options{Clock: clk})
//	clk.Advance(50 * time.Minute) // the cached token is now in its refresh window
//
// Code running inside a testing/synctest bubble may use the system clock
// instead: it is the bubble's fake clock there.
package clock
