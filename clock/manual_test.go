package clock

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestManualClockAfterFunc(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		timers  []time.Duration // scheduled at t0
		stop    int             // index of a timer to stop first, or -1
		advance []time.Duration
		want    []int // timer indexes fired, in order
	}{
		{name: "none due", timers: []time.Duration{time.Minute}, stop: -1, advance: []time.Duration{time.Second}, want: nil},
		{name: "due in time order", timers: []time.Duration{3 * time.Second, time.Second, 2 * time.Second}, stop: -1, advance: []time.Duration{5 * time.Second}, want: []int{1, 2, 0}},
		{name: "across advances", timers: []time.Duration{time.Second, 3 * time.Second}, stop: -1, advance: []time.Duration{2 * time.Second, 2 * time.Second}, want: []int{0, 1}},
		{name: "stopped", timers: []time.Duration{time.Second, time.Second}, stop: 0, advance: []time.Duration{time.Second}, want: []int{1}},
		{name: "zero fires on the next move only", timers: []time.Duration{0}, stop: -1, advance: []time.Duration{0}, want: []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewManual(t0)
			var fired []int
			var timers []Timer
			for i, d := range tt.timers {
				timers = append(timers, c.AfterFunc(d, func() { fired = append(fired, i) }))
			}
			if len(fired) != 0 {
				t.Fatalf("AfterFunc fired synchronously: %v", fired)
			}
			if tt.stop >= 0 && !timers[tt.stop].Stop() {
				t.Fatalf("Stop of a pending timer reported false")
			}
			for _, d := range tt.advance {
				c.Advance(d)
			}
			if diff := cmp.Diff(tt.want, fired); diff != "" {
				t.Errorf("fired (-want +got):\n%s", diff)
			}
			for _, i := range tt.want {
				if timers[i].Stop() {
					t.Errorf("Stop of fired timer %d reported it pending", i)
				}
			}
		})
	}
}

// TestManualClockMoves covers Set, Pending, a clock moved backward, and a
// call that schedules another one which is due at once: it runs in the
// same move.
func TestManualClockMoves(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		move        func(c *Manual)
		wantNow     time.Time
		wantFired   []string
		anyOrder    bool // compare wantFired as a set
		wantPending int
	}{
		{
			name:        "set before anything is due",
			move:        func(c *Manual) { c.Set(t0.Add(59 * time.Second)) },
			wantNow:     t0.Add(59 * time.Second),
			wantPending: 2,
		},
		{
			name:        "set past the first call: it schedules a call due at once",
			move:        func(c *Manual) { c.Set(t0.Add(time.Minute)) },
			wantNow:     t0.Add(time.Minute),
			wantFired:   []string{"minute", "chained"},
			wantPending: 1,
		},
		{
			name:        "backward fires nothing",
			move:        func(c *Manual) { c.Advance(-time.Hour) },
			wantNow:     t0.Add(-time.Hour),
			wantPending: 2,
		},
		{
			// The chained call is due at the reading the clock was moved
			// to, so whether it runs before or after "hour" is left open.
			name:      "past everything",
			move:      func(c *Manual) { c.Advance(2 * time.Hour) },
			wantNow:   t0.Add(2 * time.Hour),
			wantFired: []string{"minute", "chained", "hour"},
			anyOrder:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := NewManual(t0)
			var fired []string
			c.AfterFunc(time.Hour, func() { fired = append(fired, "hour") })
			c.AfterFunc(time.Minute, func() {
				fired = append(fired, "minute")
				c.AfterFunc(0, func() { fired = append(fired, "chained") })
			})
			tt.move(c)
			got := struct {
				Now     time.Time
				Fired   []string
				Pending int
			}{c.Now(), fired, c.Pending()}
			want := struct {
				Now     time.Time
				Fired   []string
				Pending int
			}{tt.wantNow, tt.wantFired, tt.wantPending}
			var opts []cmp.Option
			if tt.anyOrder {
				opts = append(opts, cmpopts.SortSlices(func(a, b string) bool { return a < b }))
			}
			if diff := cmp.Diff(want, got, opts...); diff != "" {
				t.Errorf("after the move (-want +got):\n%s", diff)
			}
		})
	}
}

// TestManualClockChainedCalls: a call scheduled by a callback is due
// relative to the callback's own due time, as on a real clock, and runs
// within the same move if that is before the target.
func TestManualClockChainedCalls(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManual(t0)
	var seen []time.Duration
	c.AfterFunc(time.Minute, func() {
		seen = append(seen, c.Now().Sub(t0))
		c.AfterFunc(30*time.Minute, func() { seen = append(seen, c.Now().Sub(t0)) })
	})
	c.Advance(2 * time.Hour)
	if diff := cmp.Diff([]time.Duration{time.Minute, 31 * time.Minute}, seen); diff != "" {
		t.Errorf("readings inside the callbacks (-want +got):\n%s", diff)
	}
	if got := c.Now().Sub(t0); got != 2*time.Hour || c.Pending() != 0 {
		t.Errorf("after the move: at %v with %d pending; want 2h and none", got, c.Pending())
	}
}
