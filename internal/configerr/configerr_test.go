package configerr

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestError(t *testing.T) {
	t.Parallel()
	var inner List
	inner.Add("[1].prefix", "prefix %q is used by two domains", "gnc")
	var l List
	l.Add("home", "the home location is required")
	l.Wrap("domains", inner.Err())
	l.Wrap("domain_file", fs.ErrNotExist)
	l.AddProblem(&Problem{Key: "locations[0].name", Line: 3, Column: 14, Reason: "empty location name"})
	err := l.Err()
	e := err.(*Error)
	e.Source = "geostack.json"

	want := `geostack: invalid config in geostack.json: home: the home location is required; ` +
		`domains[1].prefix: prefix "gnc" is used by two domains; domain_file: file does not exist; ` +
		`line 3 column 14: locations[0].name: empty location name`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("Error() (-want +got):\n%s", diff)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Error("errors.Is(err, ErrInvalid) = false")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("errors.Is(err, fs.ErrNotExist) = false: a problem's cause is not reachable")
	}
	var p *Problem
	if !errors.As(err, &p) || p.Key != "home" {
		t.Errorf("errors.As(*Problem) = %v, want the first problem", p)
	}
	if (&List{}).Err() != nil {
		t.Error("an empty List returned an error")
	}
}

func TestJoin(t *testing.T) {
	t.Parallel()
	tests := []struct{ prefix, key, want string }{
		{"", "home", "home"},
		{"domains", "", "domains"},
		{"domains", "[0].prefix", "domains[0].prefix"},
		{"cache_options", "jitter", "cache_options.jitter"},
	}
	for _, tt := range tests {
		if got := Join(tt.prefix, tt.key); got != tt.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tt.prefix, tt.key, got, tt.want)
		}
	}
}
