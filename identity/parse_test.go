package identity

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gophercloud/gophercloud/v2"

	"github.com/geostack/geostack/catalog"
)

const goodBody = `{"token":{
 "methods":["password"],
 "user":{"domain":{"id":"d1","name":"gnc"},"id":"u1","name":"gncu00000001"},
 "audit_ids":["a1"],
 "issued_at":"2030-01-02T03:04:05.000000Z",
 "expires_at":"2030-01-02T04:04:05.000000Z",
 "project":{"domain":{"id":"d1","name":"gnc"},"id":"p1","name":"gnct00000001"},
 "is_domain":false,
 "roles":[{"id":"r1","name":"member"}],
 "catalog":[{"id":"s1","name":"nova","type":"compute","endpoints":[
  {"id":"e1","region":"TYO1","region_id":"TYO1","interface":"public","url":"http://nova.example/v2.1/$(project_id)s"}]}]
}}`

// decodeBody decodes a body the way gophercloud does before Extract.
func decodeBody(b []byte) (any, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return v, dec.Decode(&v)
}

func parse(t testing.TB, body string, h http.Header, sent time.Time, subject string) (*Token, error) {
	t.Helper()
	v, err := decodeBody([]byte(body))
	if err != nil {
		t.Fatalf("test body does not decode: %v", err)
	}
	return parseToken(parseInput{result: gophercloud.Result{Body: v, Header: h}, sent: sent, subject: subject})
}

func TestParseToken(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	tok, err := parse(t, goodBody, http.Header{"X-Subject-Token": {"tok"}}, sent, "")
	if err != nil {
		t.Fatal(err)
	}
	want := &Token{
		ID:        "tok",
		IssuedAt:  time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		ExpiresAt: time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC),
		Expiry:    sent.Add(time.Hour),
		Methods:   []string{"password"},
		AuditIDs:  []string{"a1"},
		User:      User{ID: "u1", Name: "gncu00000001", Domain: DomainRef{ID: "d1", Name: "gnc"}},
		Project:   &Project{ID: "p1", Name: "gnct00000001", Domain: DomainRef{ID: "d1", Name: "gnc"}},
		Roles:     []Role{{ID: "r1", Name: "member"}},
	}
	if diff := cmp.Diff(want, tok, cmpopts.IgnoreFields(Token{}, "Catalog"), cmpopts.IgnoreUnexported(Token{})); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	ep, err := tok.Catalog.Select(catalog.Query{Type: "compute", Region: "TYO1"})
	if err != nil || ep.URL != "http://nova.example/v2.1/p1" {
		t.Errorf("Select = %+v, %v; want the project id substituted", ep, err)
	}
}

func TestParseTokenScopes(t *testing.T) {
	t.Parallel()
	base := `"user":{"id":"u"},"issued_at":"2030-01-02T03:04:05Z","expires_at":"2030-01-02T04:04:05Z"`
	tests := []struct {
		name    string
		extra   string
		project *Project
		domain  *DomainRef
		system  bool
	}{
		{name: "unscoped"},
		{name: "domain", extra: `,"domain":{"id":"d","name":"gnc"}`, domain: &DomainRef{ID: "d", Name: "gnc"}},
		{name: "system", extra: `,"system":{"all":true}`, system: true},
		{name: "system not all", extra: `,"system":{"all":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := parse(t, `{"token":{`+base+tt.extra+`}}`, http.Header{"X-Subject-Token": {"x"}}, time.Date(2030, 1, 2, 3, 4, 6, 0, time.UTC), "")
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(tok.Project, tt.project) || !cmp.Equal(tok.Domain, tt.domain) || tok.System != tt.system {
				t.Errorf("scope = %+v %+v %v, want %+v %+v %v", tok.Project, tok.Domain, tok.System, tt.project, tt.domain, tt.system)
			}
			if tok.Catalog == nil {
				t.Error("Catalog is nil")
			}
		})
	}
}

func TestParseTokenErrors(t *testing.T) {
	t.Parallel()
	hdr := http.Header{"X-Subject-Token": {"tok"}}
	mod := func(old, new string) string { return strings.Replace(goodBody, old, new, 1) }
	tests := []struct {
		name    string
		body    string
		header  http.Header
		subject string
		want    string
	}{
		{"no subject header", goodBody, http.Header{}, "", "X-Subject-Token"},
		{"other subject", goodBody, hdr, "another", "X-Subject-Token is not the token validated"},
		{"no expires_at", mod(`"expires_at":"2030-01-02T04:04:05.000000Z",`, ""), hdr, "", "token.expires_at"},
		{"no issued_at", mod(`"issued_at":"2030-01-02T03:04:05.000000Z",`, ""), hdr, "", "token.issued_at"},
		{"bad expires_at", mod(`2030-01-02T04:04:05.000000Z`, "tomorrow"), hdr, "", `token.expires_at "tomorrow" is not a time`},
		{"zero lifetime", mod(`2030-01-02T04:04:05`, "2030-01-02T03:04:05"), hdr, "", "is not after issued_at"},
		{"negative lifetime", mod(`2030-01-02T04:04:05`, "2029-01-02T03:04:05"), hdr, "", "is not after issued_at"},
		{"no user", mod(`"user":{"domain":{"id":"d1","name":"gnc"},"id":"u1","name":"gncu00000001"},`, ""), hdr, "", "token.user.id"},
		{"no user id", mod(`"id":"u1",`, ""), hdr, "", "token.user.id"},
		{"no project id", mod(`"id":"p1",`, ""), hdr, "", "token.project.id"},
		{"two scopes", mod(`"is_domain":false`, `"system":{"all":true}`), hdr, "", "more than one"},
		{"no token key", `{"access":{}}`, hdr, "", `"token"`},
		{"methods not a list", mod(`["password"]`, `"password"`), hdr, "", "token body"},
		{"token not an object", `{"token":[1]}`, hdr, "", "token body"},
		{"array body", `[1]`, hdr, "", "token body"},
		{"null body", `null`, hdr, "", "token.issued_at"},
		{"empty object", `{}`, hdr, "", "token.issued_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, tt.body, tt.header, time.Date(2030, 1, 2, 3, 4, 6, 0, time.UTC), tt.subject)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseToken error = %v, want it to say %q", err, tt.want)
			}
		})
	}
}

func TestValidatedExpiry(t *testing.T) {
	t.Parallel()
	// The token was issued at 03:04:05 for 1h on Keystone's clock.
	sent := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		date string
		want time.Time
	}{
		{"Keystone 10 min after issue", "Wed, 02 Jan 2030 03:14:05 GMT", sent.Add(50 * time.Minute)},
		{"Keystone at issue", "Wed, 02 Jan 2030 03:04:05 GMT", sent.Add(time.Hour)},
		{"Keystone at expiry", "Wed, 02 Jan 2030 04:04:05 GMT", sent},
		// A Date that cannot be Keystone's clock is ignored: expires_at
		// is compared with the local send time, capped by the lifetime.
		{"Date before issue", "Wed, 02 Jan 2030 02:00:00 GMT", sent.Add(time.Hour)},
		{"Date after expiry", "Wed, 02 Jan 2030 05:00:00 GMT", sent.Add(time.Hour)},
		{"no Date", "", sent.Add(time.Hour)},
		{"bad Date", "yesterday", sent.Add(time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"X-Subject-Token": {"tok"}}
			if tt.date != "" {
				h.Set("Date", tt.date)
			}
			tok, err := parse(t, goodBody, h, sent, "tok")
			if err != nil {
				t.Fatal(err)
			}
			if !tok.Expiry.Equal(tt.want) {
				t.Errorf("Expiry = %v, want %v", tok.Expiry, tt.want)
			}
		})
	}
	t.Run("local clock ahead of an expired token", func(t *testing.T) {
		t.Parallel()
		late := time.Date(2030, 1, 2, 5, 0, 0, 0, time.UTC)
		tok, err := parse(t, goodBody, http.Header{}, late, "tok")
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2030, 1, 2, 4, 4, 5, 0, time.UTC); !tok.Expiry.Equal(want) {
			t.Errorf("Expiry = %v, want %v", tok.Expiry, want)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Add([]byte(goodBody), "tok", "", false)
	f.Add([]byte(goodBody), "", "Wed, 02 Jan 2030 03:14:05 GMT", true)
	f.Add([]byte(`{"token":{"user":{"id":"u"},"issued_at":"2030-01-02T03:04:05Z","expires_at":"2030-01-02T04:04:05Z","system":{"all":true}}}`), "t", "", false)
	f.Add([]byte(`{"token":{"user":{"id":"u"},"issued_at":"2030-01-02T03:04:05","expires_at":"2030-01-02T04:04:05.5","domain":{"id":"d"},"catalog":[{"type":"x","endpoints":[{"interface":"admin","url":"%(tenant_id)s"}]}]}}`), "t", "", false)
	f.Add([]byte(`{"token":null}`), "t", "", false)
	f.Fuzz(func(t *testing.T, body []byte, subjectHeader, date string, validate bool) {
		v, err := decodeBody(body)
		if err != nil {
			return // gophercloud fails first; classify reports ErrBadResponse
		}
		h := http.Header{}
		if subjectHeader != "" {
			h.Set("X-Subject-Token", subjectHeader)
		}
		if date != "" {
			h.Set("Date", date)
		}
		subject := ""
		if validate {
			subject = "subject-token-secret"
		}
		sent := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		tok, err := parseToken(parseInput{result: gophercloud.Result{Body: v, Header: h}, sent: sent, subject: subject})
		if err != nil {
			msg := err.Error()
			for _, s := range []string{subject, subjectHeader} {
				if len(s) >= 4 && strings.Contains(msg, s) && !bytes.Contains(body, []byte(s)) {
					t.Fatalf("error %q holds the token id %q", msg, s)
				}
			}
			return
		}
		lifetime := tok.ExpiresAt.Sub(tok.IssuedAt)
		switch {
		case tok.ID == "":
			t.Fatal("token without ID")
		case validate && tok.ID != subject:
			t.Fatalf("validated token ID %q, want the subject", tok.ID)
		case tok.User.ID == "":
			t.Fatal("token without user id")
		case lifetime <= 0:
			t.Fatalf("lifetime %v accepted", lifetime)
		case tok.Catalog == nil:
			t.Fatal("nil Catalog")
		case !validate && !tok.Expiry.Equal(sent.Add(lifetime)):
			t.Fatalf("Expiry %v, want send time + lifetime %v", tok.Expiry, lifetime)
		case tok.Expiry.After(sent.Add(lifetime)):
			t.Fatalf("Expiry %v beyond send time + lifetime %v", tok.Expiry, lifetime)
		case tok.Project != nil && tok.Domain != nil:
			t.Fatal("token scoped to a project and a domain")
		}
		// The formatted token depends on the id only through its
		// fingerprint.
		other := *tok
		other.ID = "x"
		want := strings.Replace(other.String(), TokenFingerprint("x"), TokenFingerprint(tok.ID), 1)
		if got := tok.String(); got != want {
			t.Fatalf("formatted token %q, want %q", got, want)
		}
	})
}
