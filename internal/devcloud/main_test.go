package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	keystone := filepath.Join("..", "keystonetest", "testdata", "keystone.json")
	out := filepath.Join(t.TempDir(), "clouds.yaml")
	tests := []struct {
		name    string
		args    []string
		wantOut string // in stdout
		wantErr string // in the error; "" for none
	}{
		{"clouds.yaml to stdout", []string{"clouds-yaml", "-keystone", keystone}, "\n  gnc: ", ""},
		{"clouds.yaml to a file", []string{"clouds-yaml", "-keystone", keystone, "-o", out}, "", ""},
		{"an auth_url replaced", []string{"clouds-yaml", "-keystone", keystone, "-auth-url", "SG=http://127.0.0.1:1/v3"},
			`{name: SIN1, values: {auth: {auth_url: "http://127.0.0.1:1/v3"}}}`, ""},
		{"an unknown location", []string{"clouds-yaml", "-keystone", keystone, "-auth-url", "XX=http://h/v3"}, "", "XX is not a location"},
		{"a malformed -auth-url", []string{"clouds-yaml", "-keystone", keystone, "-auth-url", "SG"}, "", "want LOCATION=URL"},
		{"no keystone.json", []string{"clouds-yaml", "-keystone", ""}, "", "no keystone.json"},
		{"an unknown command", []string{"nope", "-keystone", keystone}, "", `unknown command "nope"`},
		{"no command", nil, "", "usage:"},
	}
	for _, tc := range tests {
		var stdout strings.Builder
		err := run(tc.args, &stdout)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.wantErr)
		case !strings.Contains(stdout.String(), tc.wantOut):
			t.Errorf("%s: output lacks %q:\n%s", tc.name, tc.wantOut, stdout.String())
		}
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("clouds.yaml mode %v, want 0600: it holds passwords", st.Mode().Perm())
	}
}
