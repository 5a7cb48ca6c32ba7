package catalog

import "testing"

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		u     string
		plain bool   // plainURL accepts it
		want  string // checkURL's reason
	}{
		{"https://compute.tyo1.example.com/v2.1", true, ""},
		{"http://10.0.0.5:8776/v3/p1", true, ""},
		{"https://object.example.com/v1/AUTH_$(project_id)s", true, ""},
		{"https://volume.example.com/v3/%(tenant_id)s", true, ""},
		{"https://x.example.com", true, ""},
		{"https://x.example.com:/", true, ""},
		{"https://x.example.com/a?b=c#d", true, ""},
		{"HTTPS://X.example.com/", false, ""},
		{"https://[::1]:5000/v3", false, ""},
		{"https://x.example.com/a%2Fb", false, ""},
		{"https://x.example.com/a b", false, ""},
		{"https://x_y.example.com/", false, ""},
		{"", false, "empty URL"},
		{"  ", false, "empty URL"},
		{"https://", false, "URL has no host"},
		{"https:///v3", false, "URL has no host"},
		{"https://user:pw@x.example.com/", false, "URL carries user credentials"},
		{"ftp://x.example.com/", false, "URL scheme is not http or https"},
		{"/relative/path", false, "URL scheme is not http or https"},
		{"http://[::1", false, "URL does not parse"},
		{"https://x.example.com:80:90/", false, "URL does not parse"},
		{"https://x.example.com/%zz", false, "URL does not parse"},
		{"https://x.example.com/a\x7f", false, "URL does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.u, func(t *testing.T) {
			t.Parallel()
			if got := plainURL(tt.u); got != tt.plain {
				t.Errorf("plainURL(%q) = %v, want %v", tt.u, got, tt.plain)
			}
			if got := checkURL(tt.u); got != tt.want {
				t.Errorf("checkURL(%q) = %q, want %q", tt.u, got, tt.want)
			}
		})
	}
}

// FuzzPlainURL checks plainURL's promise: url.Parse accepts every URL that
// plainURL accepts, as an http or https URL with a host and no user.
func FuzzPlainURL(f *testing.F) {
	for _, s := range []string{"https://a.example.com/v3/$(project_id)s", "http://10.0.0.1:80/%(tenant_id)s", "https://a:/", "https://a/?#"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		if plainURL(u) {
			if reason := parsedURLProblem(u); reason != "" {
				t.Errorf("plainURL(%q) = true, but url.Parse says %q", u, reason)
			}
		}
	})
}
