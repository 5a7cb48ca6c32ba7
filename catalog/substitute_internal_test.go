package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSubstitute(t *testing.T) {
	t.Parallel()
	const id = "p1"
	tests := []struct {
		name, raw, id string
		want          string
		template      bool
	}{
		{"no placeholder", "https://x.example.com/v2.1", id, "https://x.example.com/v2.1", false},
		{"dollar project", "https://x/v3/$(project_id)s", id, "https://x/v3/p1", false},
		{"dollar tenant", "https://x/v2/$(tenant_id)s", id, "https://x/v2/p1", false},
		{"percent project", "https://x/v3/%(project_id)s", id, "https://x/v3/p1", false},
		{"percent tenant", "https://x/v3/%(tenant_id)s", id, "https://x/v3/p1", false},
		{"twice, adjacent", "https://x/$(project_id)s$(tenant_id)s", id, "https://x/p1p1", false},
		{"mixed with text", "https://x/AUTH_%(tenant_id)s/c?p=$(project_id)s&q=1", id, "https://x/AUTH_p1/c?p=p1&q=1", false},
		{"parenthesis first", "(x)/$(project_id)s", id, "(x)/p1", false},
		{"placeholder first", "$(project_id)s/x", id, "p1/x", false},
		{"unknown placeholder left", "https://x/$(project_id)s/$(user_id)s", id, "https://x/p1/$(user_id)s", true},
		{"cut placeholder", "https://x/$(project_id", id, "https://x/$(project_id", true},
		{"parenthesis only", "https://x/a(b)", id, "https://x/a(b)", false},
		{"no project ID", "https://x/$(project_id)s", "", "https://x/$(project_id)s", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, template := substitute(tt.raw, tt.id)
			if diff := cmp.Diff(tt.want, u); diff != "" || template != tt.template {
				t.Errorf("substitute(%q, %q) = %q, %v; want template %v (-want +got):\n%s", tt.raw, tt.id, u, template, tt.template, diff)
			}
		})
	}
}

func TestSubstituteAllocates(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want float64
	}{{"https://x.example.com/v2.1", 0}, {"https://x/a(b)", 0}, {"https://x/v3/$(project_id)s/$(tenant_id)s", 1}} {
		if n := testing.AllocsPerRun(100, func() { _, _ = substitute(tt.raw, "p1") }); n != tt.want {
			t.Errorf("substitute(%q) allocates %v times, want %v", tt.raw, n, tt.want)
		}
	}
}
