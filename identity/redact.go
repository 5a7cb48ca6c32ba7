package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// redacted stands in for a secret in formatted output.
const redacted = "REDACTED"

// TokenFingerprint is a short, non-reversible name for a token id, safe to
// log: "sha256:" and the first 8 hex digits of the SHA-256 of id, or "" for
// an empty id. Two log lines with the same fingerprint are, with
// overwhelming likelihood, about the same token.
func TokenFingerprint(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// formatRedacted writes s for every verb: %q quotes it, every other verb
// (%v, %+v, %#v, %s, %d, %x, ...) writes it as is, so that no verb can reach
// the fields behind it.
func formatRedacted(f fmt.State, verb rune, s string) {
	if verb == 'q' {
		s = strconv.Quote(s)
	}
	f.Write([]byte(s))
}

// goStruct renders name{k:v, ...} with the non-empty fields quoted; a field
// whose value is redacted is written bare.
type goStruct struct {
	b     strings.Builder
	first bool
}

func newGoStruct(name string) *goStruct {
	g := &goStruct{first: true}
	g.b.WriteString(name)
	g.b.WriteByte('{')
	return g
}

func (g *goStruct) raw(k, v string) {
	if !g.first {
		g.b.WriteString(", ")
	}
	g.first = false
	g.b.WriteString(k)
	g.b.WriteByte(':')
	g.b.WriteString(v)
}

func (g *goStruct) str(k, v string) {
	if v != "" {
		g.raw(k, strconv.Quote(v))
	}
}

func (g *goStruct) secret(k, v string) {
	if v != "" {
		g.raw(k, redacted)
	}
}

func (g *goStruct) String() string { return g.b.String() + "}" }

// String shows the password credential with its secret replaced.
func (p Password) String() string {
	g := newGoStruct("identity.Password")
	g.str("UserID", p.UserID)
	g.str("UserName", p.UserName)
	g.str("DomainID", p.DomainID)
	g.str("DomainName", p.DomainName)
	g.secret("Password", p.Password)
	return g.String()
}

// Format implements fmt.Formatter: every verb shows String.
func (p Password) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p.String()) }

// LogValue implements slog.LogValuer without the secret.
func (p Password) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.String("method", p.Method()),
		slog.String("user_id", p.UserID),
		slog.String("user_name", p.UserName),
		slog.String("domain_id", p.DomainID),
		slog.String("domain_name", p.DomainName),
	)...)
}

// String shows the application credential with its secret replaced.
func (a ApplicationCredential) String() string {
	g := newGoStruct("identity.ApplicationCredential")
	g.str("ID", a.ID)
	g.str("Name", a.Name)
	g.str("UserID", a.UserID)
	g.str("UserName", a.UserName)
	g.str("UserDomainID", a.UserDomainID)
	g.str("UserDomainName", a.UserDomainName)
	g.secret("Secret", a.Secret)
	return g.String()
}

// Format implements fmt.Formatter: every verb shows String.
func (a ApplicationCredential) Format(f fmt.State, verb rune) { formatRedacted(f, verb, a.String()) }

// LogValue implements slog.LogValuer without the secret.
func (a ApplicationCredential) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.String("method", a.Method()),
		slog.String("id", a.ID),
		slog.String("name", a.Name),
		slog.String("user_id", a.UserID),
		slog.String("user_name", a.UserName),
		slog.String("user_domain_id", a.UserDomainID),
		slog.String("user_domain_name", a.UserDomainName),
	)...)
}

// String shows the token credential by its TokenFingerprint.
func (t TokenCredential) String() string {
	g := newGoStruct("identity.TokenCredential")
	if t.ID != "" {
		g.raw("ID", TokenFingerprint(t.ID))
	}
	return g.String()
}

// Format implements fmt.Formatter: every verb shows String.
func (t TokenCredential) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.String()) }

// LogValue implements slog.LogValuer with the token's fingerprint.
func (t TokenCredential) LogValue() slog.Value {
	return slog.GroupValue(nonEmpty(
		slog.String("method", t.Method()),
		slog.String("token", TokenFingerprint(t.ID)),
	)...)
}

// String shows the token with its id replaced by its TokenFingerprint: the
// user, the scope and the local expiry.
func (t Token) String() string {
	g := newGoStruct("identity.Token")
	if t.ID != "" {
		g.raw("ID", TokenFingerprint(t.ID))
	}
	g.str("User", joinRef(t.User.ID, t.User.Name, t.User.Domain))
	if t.Project != nil {
		g.str("Project", joinRef(t.Project.ID, t.Project.Name, t.Project.Domain))
	}
	if t.Domain != nil {
		g.str("Domain", joinRef(t.Domain.ID, t.Domain.Name, DomainRef{}))
	}
	if t.System {
		g.raw("System", "true")
	}
	if len(t.Roles) > 0 {
		names := make([]string, len(t.Roles))
		for i, r := range t.Roles {
			names[i] = r.Name
		}
		g.str("Roles", strings.Join(names, ","))
	}
	if !t.Expiry.IsZero() {
		g.str("Expiry", t.Expiry.Format(time.RFC3339))
	}
	g.str("AuthURL", t.AuthURL)
	return g.String()
}

// joinRef renders "id (name@domain)".
func joinRef(id, name string, d DomainRef) string {
	dom := d.Name
	if dom == "" {
		dom = d.ID
	}
	if dom != "" {
		name += "@" + dom
	}
	if name == "" {
		return id
	}
	return id + " (" + name + ")"
}

// Format implements fmt.Formatter: every verb shows String.
func (t Token) Format(f fmt.State, verb rune) { formatRedacted(f, verb, t.String()) }

// LogValue implements slog.LogValuer with the token's fingerprint in place
// of its id.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", TokenFingerprint(t.ID)),
		slog.String("user_id", t.User.ID),
		slog.String("user_name", t.User.Name),
		slog.String("user_domain", t.User.Domain.Name),
	}
	if t.Project != nil {
		attrs = append(attrs, slog.String("project_id", t.Project.ID), slog.String("project_name", t.Project.Name))
	}
	if t.Domain != nil {
		attrs = append(attrs, slog.String("domain_id", t.Domain.ID), slog.String("domain_name", t.Domain.Name))
	}
	if t.System {
		attrs = append(attrs, slog.Bool("system", true))
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	attrs = append(attrs, slog.String("auth_url", t.AuthURL))
	return slog.GroupValue(nonEmpty(attrs...)...)
}

// nonEmpty drops empty string attributes.
func nonEmpty(attrs ...slog.Attr) []slog.Attr {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			continue
		}
		out = append(out, a)
	}
	return out
}

// MarshalJSON writes the credential without its secret, so that a JSON log
// handler or an encoder of a larger value cannot leak it. It is not meant
// to be read back.
func (p Password) MarshalJSON() ([]byte, error) { return marshalLogValue(p.LogValue(), "password") }

// MarshalJSON writes the credential without its secret; see
// Password.MarshalJSON.
func (a ApplicationCredential) MarshalJSON() ([]byte, error) {
	return marshalLogValue(a.LogValue(), "secret")
}

// MarshalJSON writes the token's fingerprint only; see
// Password.MarshalJSON.
func (t TokenCredential) MarshalJSON() ([]byte, error) { return marshalLogValue(t.LogValue(), "") }

// MarshalJSON writes what LogValue shows: the token's fingerprint in place
// of its id. A Token cannot be round-tripped through JSON; a store that
// must persist tokens encodes the fields it needs itself.
func (t Token) MarshalJSON() ([]byte, error) { return marshalLogValue(t.LogValue(), "") }

// marshalLogValue renders a group value as a JSON object, adding
// secretKey: "REDACTED" when secretKey is set.
func marshalLogValue(v slog.Value, secretKey string) ([]byte, error) {
	m := make(map[string]any)
	for _, a := range v.Group() {
		m[a.Key] = a.Value.Any()
	}
	if secretKey != "" {
		m[secretKey] = redacted
	}
	return json.Marshal(m)
}
