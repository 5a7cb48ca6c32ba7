package ksmconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/geostack/geostack/internal/configerr"
)

// problem is a problem as the tests compare it: its key, its line and a
// part of its reason.
type problem struct {
	Key  string
	Line int
	Has  string
}

// problemsOf returns err's problems, failing the test if err is not a
// configuration error; has is left empty, for cmp to compare keys and
// lines only, and matched is whether each reason holds the wanted text.
func problemsOf(t *testing.T, err error, want []problem) []problem {
	t.Helper()
	var ce *configerr.Error
	if !errors.As(err, &ce) || !errors.Is(err, configerr.ErrInvalid) {
		t.Fatalf("error %T %v is not a configuration error", err, err)
	}
	var got []problem
	for i, p := range ce.Problems {
		g := problem{Key: p.Key, Line: p.Line}
		if i < len(want) && strings.Contains(p.Error(), want[i].Has) {
			g.Has = want[i].Has
		} else {
			g.Has = p.Error()
		}
		got = append(got, g)
	}
	return got
}

func TestParseSection(t *testing.T) {
	t.Parallel()
	type val struct {
		Value string
		Line  int
	}
	tests := []struct {
		name string
		doc  string
		want map[string]val
	}{
		{
			name: "settings, comments and other sections",
			doc: `# a service's configuration
[DEFAULT]
debug = true

[keystone_authtoken]
; a comment
auth_url = https://identity.sg.example.net/v3
username: nova
password = "pa ss # not a comment"
project_name = 'service'
www_authenticate_uri =
quote = "
inline = a # b

[database]
connection = sqlite://
`,
			want: map[string]val{
				"auth_url": {"https://identity.sg.example.net/v3", 7}, "username": {"nova", 8},
				"password": {"pa ss # not a comment", 9}, "project_name": {"service", 10},
				"www_authenticate_uri": {"", 11}, "quote": {"", 12}, "inline": {"a # b", 13},
			},
		},
		{
			name: "the section's name in any case, given twice",
			doc:  "[Keystone_AuthToken]\na = 1\n[other]\na = 2\n[KEYSTONE_AUTHTOKEN]\nb = 3\n",
			want: map[string]val{"a": {"1", 2}, "b": {"3", 6}},
		},
		{
			name: "continuation lines, up to a blank line",
			doc:  "[keystone_authtoken]\nmemcached_servers = a:11211,\n    b:11211,\n\tc:11211\n\nregion_name = SG\n",
			want: map[string]val{"memcached_servers": {"a:11211,\nb:11211,\nc:11211", 2}, "region_name": {"SG", 6}},
		},
		{
			name: "a comment ends a value; indented, it continues one",
			doc:  "[keystone_authtoken]\na = 1\n  # two\n# three\nb = 4\n",
			want: map[string]val{"a": {"1\n# two", 2}, "b": {"4", 5}},
		},
		{
			name: "the first of = and : splits",
			doc:  "[keystone_authtoken]\nauth_url: http://h:5000/v3\nx = a:b\n",
			want: map[string]val{"auth_url": {"http://h:5000/v3", 2}, "x": {"a:b", 3}},
		},
		{
			name: "dollars: escaped, and before no name",
			doc:  "[keystone_authtoken]\na = p$$w\nb = p\\$w\nc = 5$\nd = $5\n",
			want: map[string]val{"a": {"p$w", 2}, "b": {"p$w", 3}, "c": {"5$", 4}, "d": {"$5", 5}},
		},
		{
			name: "CRLF line ends and trailing white space",
			doc:  "[keystone_authtoken]\r\nregion_name = SG \t\r\n",
			want: map[string]val{"region_name": {"SG", 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, problems, err := parseSection(strings.NewReader(tt.doc), "keystone_authtoken")
			if err != nil || problems != nil {
				t.Fatal(err, problems)
			}
			got := map[string]val{}
			for _, k := range s.keys {
				got[k] = val{s.values[k].value, s.values[k].line}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseSectionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  string
		want []problem
	}{
		{"no section", "[DEFAULT]\na = 1\n", []problem{{"", 0, "no [keystone_authtoken] section"}}},
		{"an empty file", "", []problem{{"", 0, "no [keystone_authtoken] section"}}},
		{"a key given twice", "[keystone_authtoken]\na = 1\n[x]\n[keystone_authtoken]\na = 2\n",
			[]problem{{"a", 5, "given twice (line 2 and line 5)"}}},
		{"a setting before any section", "a = 1\n[keystone_authtoken]\n", []problem{{"", 1, "a: a setting before any [section]"}}},
		{"a continuation without a setting", "[keystone_authtoken]\n  a = 1\n", []problem{{"", 2, "a continuation line"}}},
		{"a continuation after a blank line", "[keystone_authtoken]\na = 1\n\n  b\n", []problem{{"", 4, "a continuation line"}}},
		{"a header without ]", "[keystone_authtoken\na = 1\n", []problem{{"", 1, "without its closing ]"}, {"", 2, "a setting before any [section]"}, {"", 0, "no [keystone_authtoken] section"}}},
		{"an empty section name", "[]\n[keystone_authtoken]\n", []problem{{"", 1, "an empty section name"}}},
		{"neither = nor :", "[keystone_authtoken]\nregion_name SG\n", []problem{{"", 2, "neither '=' nor ':'"}}},
		{"no key", "[keystone_authtoken]\n= 1\n", []problem{{"", 2, "a setting without a key"}}},
		{"substitution", "[keystone_authtoken]\npassword = pa$word\nb = ${a}\n",
			[]problem{{"password", 2, "refers to another option with $"}, {"b", 3, "refers to another option with $"}}},
		{"a syntax error in another section counts too", "[keystone_authtoken]\na = 1\n[x]\nbroken\n", []problem{{"", 4, "neither '=' nor ':'"}}},
		{"every problem at once", "[keystone_authtoken]\nbroken\na = 1\na = 2\n= 3\n",
			[]problem{{"", 2, "neither"}, {"a", 4, "given twice"}, {"", 5, "without a key"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := parseErr(tt.doc)
			if diff := cmp.Diff(tt.want, problemsOf(t, err, tt.want)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "pa$word") {
				t.Errorf("error %q quotes a value", err)
			}
		})
	}
}

func TestParseSectionTooLarge(t *testing.T) {
	t.Parallel()
	doc := "[keystone_authtoken]\n" + strings.Repeat("# padding\n", maxFileSize/10+1)
	err := parseErr(doc)
	if !errors.Is(err, configerr.ErrInvalid) || !strings.Contains(err.Error(), "over") {
		t.Errorf("err = %v; want a too-large error", err)
	}
}

// parseErr returns the error parseSection returns for doc, or the problems
// it found as one.
func parseErr(doc string) error {
	_, problems, err := parseSection(strings.NewReader(doc), "keystone_authtoken")
	if err != nil {
		return err
	}
	var l configerr.List
	for _, p := range problems {
		l.AddProblem(p)
	}
	return l.Err()
}
