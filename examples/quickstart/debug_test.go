package main

import (
	"bytes"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
)

// tokenID matches a token id of the fake cloud anywhere: Fernet-shaped,
// base64url of a 0x80 version byte and a 64-bit time, so every one starts
// with gAAAAA.
var tokenID = regexp.MustCompile(`gAAAAA[A-Za-z0-9_-]{40,}`)

// TestDebugLogHasNoSecret runs the whole quickstart on the fake cloud with
// -debug, bodies included, and scans the debug log for every password of
// the cloud (as is, hex-encoded and JSON-escaped) and for any token id.
func TestDebugLogHasNoSecret(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	if err := run(t.Context(), io.Discard, demo.Flags{Debug: true, DebugOut: &logs}, false); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{"geostack: http request", "geostack: http response", "/auth/tokens", "/servers", "status=201", "request_id=req-", `\"password\":\"REDACTED\"`, "X-Subject-Token=sha256:", "X-Auth-Token=sha256:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("the debug log lacks %q: the scan would prove nothing:\n%.3000s", want, out)
		}
	}
	for _, s := range []string{geostacktest.UserPassword, geostacktest.ServicePassword, geostacktest.AdminPassword} {
		for _, form := range []string{s, hex.EncodeToString([]byte(s))} {
			if i := strings.Index(out, form); i >= 0 {
				t.Errorf("a password shows: …%s…", out[max(i-120, 0):min(i+len(form)+40, len(out))])
			}
		}
	}
	if m := tokenID.FindStringIndex(out); m != nil {
		t.Errorf("a token id shows: …%s…", out[max(m[0]-120, 0):min(m[1]+40, len(out))])
	}
}
