package ksmconfig

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/geostack/geostack/internal/configerr"
)

// maxFileSize bounds a configuration file; real ones are tens of
// kilobytes.
const maxFileSize = 1 << 20

// section is the settings of one section, from an INI file or a map.
type section struct {
	source string // the file, "" for a map
	keys   []string
	values map[string]setting
}

// setting is one key's value and the line it was set on (0 for a map).
// An invalid one was reported already and has no value.
type setting struct {
	value   string
	line    int
	invalid bool
}

// readSection reads the section named want of the INI file at path. See
// parseSection for what it returns.
func readSection(path, want string) (*section, []*configerr.Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, withSource(path, problemErr(&configerr.Problem{Reason: "cannot read the configuration", Err: err}))
	}
	defer f.Close()
	s, problems, err := parseSection(f, want)
	if err != nil {
		return nil, nil, withSource(path, err)
	}
	s.source = path
	return s, problems, nil
}

// parseSection reads the section named want from an INI document as
// oslo.config reads it:
//
//   - a line is taken without its trailing white space; a blank line ends
//     a value;
//   - "[name]" starts a section (names compare in lower case, except
//     DEFAULT); a section may appear more than once;
//   - a line starting with '#' or ';' is a comment; there are no comments
//     at the end of a line (key = a # b sets "a # b");
//   - "key = value" or "key: value", split at the first '=' or ':', both
//     sides trimmed; a value in matching single or double quotes loses
//     them;
//   - a line starting with a space or a tab continues the value above it,
//     joined with a newline.
//
// Stricter than oslo.config, which takes the last: a key given twice in
// the section is an error. oslo.config substitutes $name and ${name} in
// values with other options; here that is an error, and $$ (or \$) is a
// literal $.
//
// It returns the section's settings and the problems of the document,
// each with its line, so that the settings' own problems can be reported
// with them; or an error when the document cannot be read or has no such
// section.
func parseSection(r io.Reader, want string) (*section, []*configerr.Problem, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, nil, problemErr(&configerr.Problem{Reason: "cannot read the configuration", Err: err})
	}
	if len(data) > maxFileSize {
		return nil, nil, problemErr(&configerr.Problem{Reason: fmt.Sprintf("the file is over %d bytes", maxFileSize)})
	}
	want = normalizeSection(want)
	s := &section{values: map[string]setting{}}
	var (
		problems []*configerr.Problem
		current  string // the section of the lines being read, normalized
		inAny    bool   // a section header has been read
		found    bool   // the wanted section was seen
		key      string // the assignment being read, "" if none
		keyLine  int
		valLines []string
	)
	add := func(p *configerr.Problem) { problems = append(problems, p) }
	bad := func(line int, format string, args ...any) {
		add(&configerr.Problem{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
	flush := func() {
		if key == "" {
			return
		}
		k, v, line := key, strings.Join(valLines, "\n"), keyLine
		key, valLines = "", nil
		if !inAny {
			bad(line, "%s: a setting before any [section]", k)
			return
		}
		if current != want {
			return
		}
		if prev, ok := s.values[k]; ok {
			add(&configerr.Problem{Key: k, Line: line, Reason: fmt.Sprintf("given twice (line %d and line %d)", prev.line, line)})
			return
		}
		v, err := unescape(v)
		if err != nil {
			add(&configerr.Problem{Key: k, Line: line, Reason: err.Error()})
			s.keys = append(s.keys, k) // known, not to be reported again as unused
			s.values[k] = setting{line: line, invalid: true}
			return
		}
		s.keys = append(s.keys, k)
		s.values[k] = setting{value: v, line: line}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRightFunc(sc.Text(), unicode.IsSpace)
		switch {
		case line == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if key == "" {
				bad(n, "a continuation line (it starts with white space) without a setting above it")
				continue
			}
			valLines = append(valLines, strings.TrimLeftFunc(line, unicode.IsSpace))
		default:
			flush()
			switch line[0] {
			case '[':
				switch {
				case !strings.HasSuffix(line, "]"):
					bad(n, "a section header without its closing ]")
				case len(line) <= 2:
					bad(n, "an empty section name")
				default:
					current, inAny = normalizeSection(line[1:len(line)-1]), true
					found = found || current == want
				}
			case '#', ';':
			default:
				i := strings.IndexAny(line, "=:")
				if i < 0 {
					bad(n, "neither '=' nor ':' in a setting")
					continue
				}
				k := strings.TrimSpace(line[:i])
				if k == "" {
					bad(n, "a setting without a key")
					continue
				}
				v := strings.TrimSpace(line[i+1:])
				if len(v) > 0 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
					// A lone quote becomes empty, as in oslo.config.
					v = v[1:max(len(v)-1, 1)]
				}
				key, keyLine, valLines = k, n, []string{v}
			}
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		return nil, nil, problemErr(&configerr.Problem{Reason: "cannot read the configuration", Err: err})
	}
	if !found {
		var l configerr.List
		for _, p := range problems {
			l.AddProblem(p)
		}
		l.AddProblem(&configerr.Problem{Reason: fmt.Sprintf("no [%s] section", want)})
		return nil, nil, l.Err()
	}
	return s, problems, nil
}

// normalizeSection is oslo.config's comparison of section names.
func normalizeSection(name string) string {
	if name == "DEFAULT" {
		return name
	}
	return strings.ToLower(name)
}

// unescape undoes oslo.config's escapes of $ ($$ and \$) and refuses its
// substitutions ($name, ${name}), which geostack does not make: a value
// that relies on one would silently differ. A $ before anything else
// stays, as in oslo.config. The error never quotes the value: it may be a
// secret.
func unescape(v string) (string, error) {
	if !strings.Contains(v, "$") {
		return v, nil
	}
	v = strings.ReplaceAll(v, `\$`, "$$")
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '$' || i+1 == len(v) {
			b.WriteByte(c)
			continue
		}
		switch n := v[i+1]; {
		case n == '$':
			b.WriteByte('$')
			i++
		case n == '{', n == '_', 'a' <= n && n <= 'z', 'A' <= n && n <= 'Z':
			return "", fmt.Errorf("the value refers to another option with $ (at byte %d), which oslo.config substitutes and geostack does not: "+
				"write the value itself, or $$ for a literal $", i+1)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// fromMap is a section given as a map, keys in sorted order.
func fromMap(m map[string]string) *section {
	s := &section{values: make(map[string]setting, len(m))}
	for k, v := range m {
		s.keys = append(s.keys, k)
		s.values[k] = setting{value: v}
	}
	slices.Sort(s.keys)
	return s
}

// problemErr is an error of one problem.
func problemErr(p *configerr.Problem) error {
	var l configerr.List
	l.AddProblem(p)
	return l.Err()
}

// withSource names the file err came from.
func withSource(path string, err error) error {
	if ce, ok := err.(*configerr.Error); ok {
		ce.Source = path
	}
	return err
}
