package tokencache

import "github.com/geostack/geostack/identity"

// Key names a cache entry: the canonical identity of a credential and a
// scope. It never holds a secret in the clear.
type Key string

// KeyOf returns the key of cred and scope: identity.Fingerprint, a hash
// that includes a digest of the secret, so that two passwords never share
// an entry.
func KeyOf(cred identity.Credential, scope identity.Scope) Key {
	return Key(identity.Fingerprint(cred, scope))
}

// KeyOfLocation returns the key of cred and scope at one location. Use it
// when the locations of a deployment do not share Fernet keys, so a token
// issued at one location is not valid at another and each location needs
// its own token.
func KeyOfLocation(cred identity.Credential, scope identity.Scope, location string) Key {
	return KeyOf(cred, scope) + "@" + Key(location)
}

// Variant returns the key of a different kind of token of the same
// identity and scope, such as one issued without a catalog: a Handle that
// fetches such tokens must not share an entry with one that fetches
// ordinary ones, since every Handle of a key uses the first fetch
// registered for it.
func (k Key) Variant(name string) Key {
	return k + "#" + Key(name)
}

// short returns a prefix of the key that is enough to tell entries apart in
// logs and error messages.
func (k Key) short() string {
	const n = 12
	if len(k) <= n {
		return string(k)
	}
	return string(k[:n])
}
