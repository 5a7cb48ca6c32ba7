package domain

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/geostack/geostack/internal/authurl"
)

// KeystoneDefaultDomainID is the id of Keystone's Default domain. It owns
// no prefix and cannot be registered.
const KeystoneDefaultDomainID = "default"

// Registry is an immutable set of domains, checked at construction so that
// every name belongs to at most one of them. It is safe for concurrent use;
// lookups take no lock and allocate nothing.
type Registry struct {
	domains  []Domain // in the order given
	byName   map[string]int
	byID     map[string]int
	byPrefix map[string]int
	// byFirst lists, for each first byte, the domains whose prefix starts
	// with it: finding the namespace of a name checks one or two prefixes.
	byFirst [256][]int32
}

// New checks domains and returns a registry of them. It rejects an empty
// or duplicate name, id or prefix, a prefix that is a prefix of another
// (ownership of a name would be ambiguous), the Default domain's id, and
// endpoints that are not absolute http(s) URLs. The error is a
// *geostack.ConfigError naming the key and the domains at fault.
//
// New copies what it keeps: changing domains afterwards does not change the
// registry.
func New(domains ...Domain) (*Registry, error) {
	r, err := newRegistry(domains)
	if err != nil {
		return nil, err.err()
	}
	return r, nil
}

func newRegistry(domains []Domain) (*Registry, *configError) {
	r := &Registry{
		domains:  make([]Domain, len(domains)),
		byName:   make(map[string]int, len(domains)),
		byID:     make(map[string]int, len(domains)),
		byPrefix: make(map[string]int, len(domains)),
	}
	for i, d := range domains {
		if d.Separator == "" {
			d.Separator = DefaultSeparator
		}
		d.Endpoints = maps.Clone(d.Endpoints)
		if err := checkDomain(i, &d); err != nil {
			return nil, err
		}
		for _, dup := range []struct {
			m     map[string]int
			field string
			value string
		}{{r.byName, "name", d.Name}, {r.byID, "id", d.ID}, {r.byPrefix, "prefix", d.Prefix}} {
			if j, ok := dup.m[dup.value]; ok {
				return nil, errAt(i, dup.field, "domains "+strconv.Quote(domains[j].Name)+" and "+strconv.Quote(d.Name)+
					" have the same "+dup.field+" "+strconv.Quote(dup.value), domains[j].Name, d.Name)
			}
			dup.m[dup.value] = i
		}
		r.domains[i] = d
	}
	// If one prefix is a prefix of another, it is immediately followed
	// by such a one in sorted order.
	order := make([]int, len(r.domains))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(r.domains[a].Prefix, r.domains[b].Prefix) })
	for k := 1; k < len(order); k++ {
		a, b := &r.domains[order[k-1]], &r.domains[order[k]]
		if strings.HasPrefix(b.Prefix, a.Prefix) {
			first, second := a, b
			if order[k] < order[k-1] {
				first, second = b, a
			}
			return nil, errAt(max(order[k-1], order[k]), "prefix", "prefix "+strconv.Quote(a.Prefix)+" of domain "+strconv.Quote(a.Name)+
				" is a prefix of "+strconv.Quote(b.Prefix)+" of domain "+strconv.Quote(b.Name)+
				": a name such as "+strconv.Quote(b.Prefix+"x")+" would belong to both", first.Name, second.Name)
		}
	}
	for i := range r.domains {
		c := r.domains[i].Prefix[0]
		r.byFirst[c] = append(r.byFirst[c], int32(i))
	}
	return r, nil
}

func errAt(i int, field, reason string, domains ...string) *configError {
	key := "domains[" + strconv.Itoa(i) + "]"
	if field != "" {
		key += "." + field
	}
	return &configError{Key: key, Reason: reason, Domains: domains, index: i}
}

func checkDomain(i int, d *Domain) *configError {
	who := "domain " + strconv.Quote(d.Name)
	if d.Name == "" {
		who = "domain #" + strconv.Itoa(i)
	}
	bad := func(field, reason string) *configError {
		if d.Name == "" {
			return errAt(i, field, who+": "+reason)
		}
		return errAt(i, field, who+": "+reason, d.Name)
	}
	switch {
	case d.Name == "":
		return bad("name", "empty name")
	case d.ID == "":
		return bad("id", "empty id")
	case d.ID == KeystoneDefaultDomainID:
		return bad("id", "id "+strconv.Quote(d.ID)+" is Keystone's Default domain, which owns no prefix")
	case d.Prefix == "":
		return bad("prefix", "empty prefix")
	}
	if why := badToken(d.Prefix); why != "" {
		return bad("prefix", "prefix "+strconv.Quote(d.Prefix)+" "+why)
	}
	if why := badToken(d.Separator); why != "" {
		return bad("separator", "separator "+strconv.Quote(d.Separator)+" "+why)
	}
	for _, loc := range slices.Sorted(maps.Keys(d.Endpoints)) {
		e := d.Endpoints[loc]
		key := "endpoints." + loc
		if loc == "" || badToken(loc) != "" {
			return bad("endpoints", "location name "+strconv.Quote(loc)+" must be non-empty printable text without spaces")
		}
		if e.UserAuthURL == "" && len(e.UserAuthURLs) == 0 {
			return bad(key+".user_auth_url", "missing user_auth_url at location "+loc)
		}
		if e.UserAuthURL != "" {
			if why := badURL(e.UserAuthURL); why != "" {
				return bad(key+".user_auth_url", "user_auth_url at location "+loc+" "+why)
			}
		}
		for j, u := range e.UserAuthURLs {
			if why := badURL(u); why != "" {
				return bad(key+".user_auth_urls["+strconv.Itoa(j)+"]", "user_auth_url at location "+loc+" "+why)
			}
		}
		if e.AdminAuthURL != "" {
			if why := badURL(e.AdminAuthURL); why != "" {
				return bad(key+".admin_auth_url", "admin_auth_url at location "+loc+" "+why)
			}
		}
		for j, u := range e.AdminAuthURLs {
			if why := badURL(u); why != "" {
				return bad(key+".admin_auth_urls["+strconv.Itoa(j)+"]", "admin_auth_url at location "+loc+" "+why)
			}
		}
	}
	return nil
}

// badToken says why s cannot be a prefix, separator or location name, or
// returns "".
func badToken(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "contains a space or control character"
		}
	}
	return ""
}

// badURL says why s is not a usable auth URL, or returns "". It never
// repeats the URL: the reason is authurl's, which leaves it out.
func badURL(s string) string {
	if _, err := authurl.Root(s); err != nil {
		return err.Error()
	}
	return ""
}

// ByName returns the domain named name.
func (r *Registry) ByName(name string) (Domain, bool) { return r.at(r.byName, name) }

// ByID returns the domain whose Keystone id is id.
func (r *Registry) ByID(id string) (Domain, bool) { return r.at(r.byID, id) }

func (r *Registry) at(m map[string]int, k string) (Domain, bool) {
	if i, ok := m[k]; ok {
		return r.domains[i], true
	}
	return Domain{}, false
}

// Owner returns the domain in whose namespace name is: the one whose
// prefix name starts with, byte-wise and case-sensitively. It applies to
// user, project and resource names alike ("gncu72074485", "gnc_centos" and
// "gnc" are all gnc's; "GNC_centos" is nobody's). Use Domain.OwnsAccount
// and Domain.OwnsResource to check that a name is also well formed.
func (r *Registry) Owner(name string) (Domain, bool) {
	if i := r.namespace(name); i >= 0 {
		return r.domains[i], true
	}
	return Domain{}, false
}

// namespace returns the index of the domain whose prefix starts name, or -1.
func (r *Registry) namespace(name string) int {
	if name == "" {
		return -1
	}
	for _, i := range r.byFirst[name[0]] {
		p := r.domains[i].Prefix
		if len(name) >= len(p) && name[:len(p)] == p {
			return int(i)
		}
	}
	return -1
}

// Domains returns the registered domains in the order they were given.
func (r *Registry) Domains() []Domain { return slices.Clone(r.domains) }
