package authurl

import (
	"strings"
	"testing"
)

func TestRoot(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		reason   string // a substring of the error, when refused
	}{
		{in: "https://keystone.example.net/v3", want: "https://keystone.example.net"},
		{in: "https://keystone.example.net/v3/", want: "https://keystone.example.net"},
		{in: "HTTPS://Keystone.Example.NET:5000", want: "https://keystone.example.net:5000"},
		{in: "http://127.0.0.1:5000/identity/v3", want: "http://127.0.0.1:5000/identity"},
		{in: "http://127.0.0.1:5000/srv1/v3", want: "http://127.0.0.1:5000/srv1"},
		{in: "", reason: "is empty"},
		{in: "keystone.example.net/v3", reason: "absolute http or https"},
		{in: "ftp://keystone.example.net/v3", reason: `scheme "ftp"`},
		{in: "https:///v3", reason: "no host"},
		{in: "https://k.example.net/v3?x=1", reason: "query or a fragment"},
		{in: "https://k.example.net/v3#x", reason: "query or a fragment"},
		{in: "https://k.example.net/v3?", reason: "query or a fragment"},
		{in: "https://admin:s3cret@k.example.net/v3", reason: "user information"},
		{in: "admin:s3cret@k.example.net/v3", reason: "user information"},
		{in: "https://k.example.net/%zz", reason: "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := Root(tt.in)
			if tt.reason == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Root(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("Root(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.reason)
			}
			if tt.in != "" && strings.Contains(err.Error(), tt.in) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Root(%q): error %q repeats the URL", tt.in, err)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://k.example.net/v3":      "https://k.example.net/v3",
		"admin:pw@k.example.net/v3":     "(URL with user information, not shown)",
		"https://u:pw@k.example.net/v3": "(URL with user information, not shown)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
