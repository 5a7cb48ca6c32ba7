package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
)

// maxFileSize bounds a domain file; real ones are a few kilobytes.
const maxFileSize = 1 << 20

// LoadFile reads a domain file (see Load for its format), or the geostack
// configuration file a client reads with geostack.LoadConfig, and returns
// the registry of its domains. Errors are a *geostack.ConfigError naming
// the file.
func LoadFile(path string) (*Registry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, (&configError{File: path, Reason: "cannot read domain file", Err: err, index: -1}).err()
	}
	defer f.Close()
	r, cerr := load(f)
	if cerr != nil {
		cerr.File = path
		return nil, cerr.err()
	}
	return r, nil
}

// Load reads a JSON domain list and returns the registry of its domains,
// checked as New checks them. The document is an object with one key,
// "domains", a list of objects with the keys of Domain:
//
//	{
//	  "domains": [
//	    {
//	      "name": "gnc",
//	      "id": "7c1b0e4a2f8d4b5e9c3a6d1f0e2b4a68",
//	      "prefix": "gnc",
//	      "separator": "_",
//	      "endpoints": {
//	        "JP": {
//	          "user_auth_url": "https://identity.jp.example.net/v3",
//	          "admin_auth_url": "https://identity-admin.jp.example.net/v3"
//	        }
//	      }
//	    }
//	  ]
//	}
//
// "separator" and "endpoints" may be left out; "admin_auth_url" too.
//
// The document may also be a whole geostack configuration file (the one
// geostack.LoadConfig reads, such as examples/geostack.json), so that a
// backend and the clients of one deployment read one file: Load then
// skips its other keys ("home", "primary", "locations", "domain",
// "interfaces", "default_interfaces", "token_per_location",
// "failure_threshold", "cool_down", "attempt_timeout"), whose values it
// checks only for being JSON; geostack.LoadConfig checks them.
//
// Any other key (a typo included), a key given twice, a value of the
// wrong type, trailing data or a document over 1 MiB is an error. Errors
// are a *geostack.ConfigError giving the line, column and key of the
// fault.
func Load(r io.Reader) (*Registry, error) {
	reg, err := load(r)
	if err != nil {
		return nil, err.err()
	}
	return reg, nil
}

func load(r io.Reader) (*Registry, *configError) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, &configError{Reason: "cannot read domain list", Err: err, index: -1}
	}
	if len(data) > maxFileSize {
		return nil, &configError{Reason: "domain list larger than " + strconv.Itoa(maxFileSize) + " bytes", index: -1}
	}
	domains, starts, cerr := decode(data)
	if cerr != nil {
		return nil, cerr
	}
	reg, ce := newRegistry(domains)
	if ce != nil && ce.index >= 0 {
		ce.Line, ce.Column = position(data, starts[ce.index])
	}
	return reg, ce
}

// decode parses a domain list, returning the domains and the offset at
// which each one starts.
func decode(data []byte) ([]Domain, []int64, *configError) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	fail := func(off int64, key, reason string, err error) *configError {
		ce := &configError{Key: key, Reason: reason, Err: err, index: -1}
		ce.Line, ce.Column = position(data, off)
		return ce
	}
	// syntax reports a malformed document at the place the decoder gives.
	syntax := func(key string, err error) *configError {
		off := dec.InputOffset()
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			off = se.Offset
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(int64(len(data)), key, "unexpected end of document", nil)
		}
		return fail(off, key, "malformed JSON", err)
	}
	expect := func(key string, want json.Delim, what string) *configError {
		off := skipSpace(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return syntax(key, err)
		}
		if d, ok := tok.(json.Delim); !ok || d != want {
			return fail(off, key, "want "+what, nil)
		}
		return nil
	}

	if err := expect("", '{', "an object with the key \"domains\""); err != nil {
		return nil, nil, err
	}
	var (
		domains []Domain
		starts  []int64
		seenKey = map[string]bool{}
	)
	for dec.More() {
		off := skipSpace(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, syntax("", err)
		}
		key, _ := tok.(string)
		switch {
		case key != "domains" && !configFileKey(key):
			return nil, nil, fail(off, key, "unknown key; the keys are \"domains\" and those of a geostack configuration file ("+
				configFileKeyList+")", nil)
		case seenKey[key]:
			return nil, nil, fail(off, key, "duplicate key", nil)
		}
		seenKey[key] = true
		if key != "domains" {
			// geostack.LoadConfig's to check: here it need only be JSON.
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, nil, syntax(key, err)
			}
			continue
		}
		if err := expect("domains", '[', "a list of domains"); err != nil {
			return nil, nil, err
		}
		for dec.More() {
			i := len(domains)
			at := "domains[" + strconv.Itoa(i) + "]"
			start := skipSpace(data, dec.InputOffset())
			var d Domain
			if err := dec.Decode(&d); err != nil {
				if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
					key := at
					if te.Field != "" {
						key += "." + te.Field
					}
					return nil, nil, fail(start+te.Offset, key, "want "+te.Type.String()+", have "+te.Value, nil)
				}
				if _, ok := errors.AsType[*json.SyntaxError](err); ok || errors.Is(err, io.ErrUnexpectedEOF) {
					return nil, nil, syntax(at, err)
				}
				// Unknown fields and the like: encoding/json says which,
				// not where, so point at the domain.
				return nil, nil, fail(start, at, "", err)
			}
			domains = append(domains, d)
			starts = append(starts, start)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, nil, syntax("domains", err)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, syntax("", err)
	}
	if !seenKey["domains"] {
		return nil, nil, fail(0, "domains", "missing key", nil)
	}
	if off := skipSpace(data, dec.InputOffset()); off < int64(len(data)) {
		return nil, nil, fail(off, "", "data after the document", nil)
	}
	return domains, starts, nil
}

// configFileKey reports whether key is a key of a geostack configuration
// file other than "domains" (see geostack.LoadConfig), which Load skips.
func configFileKey(key string) bool {
	switch key {
	case "home", "primary", "locations", "domain", "interfaces", "default_interfaces",
		"token_per_location", "failure_threshold", "cool_down", "attempt_timeout":
		return true
	}
	return false
}

// configFileKeyList names the keys of configFileKey for an error message.
const configFileKeyList = "home, primary, locations, domain, interfaces, default_interfaces, token_per_location, " +
	"failure_threshold, cool_down, attempt_timeout"

// skipSpace returns the offset of the first byte at or after off that is
// neither JSON white space nor a comma.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// position turns a byte offset into a 1-based line and column (in bytes).
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = 1 + len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	return line, col
}
