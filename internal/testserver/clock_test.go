package testserver

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
			c := NewManualClock(t0)
			var fired []int
			var timers []*Timer
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
