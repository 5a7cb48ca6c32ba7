// Package conformance keeps the fake cloud of internal/testserver honest: its
// tests (build tag integration) send each Keystone request the fake serves to
// both the fake and the real Keystone that scripts/keystone-up.sh starts, and
// compare the shapes of the answers: status, the headers clients rely on, and
// the JSON keys and value types, with ids, times and other values ignored.
//
// Run them with the real Keystone's environment loaded:
//
//	. .ci/state/keystone.env
//	go test -tags integration -run TestIntegrationConformance ./internal/conformance/
//
// The package has no code of its own.
package conformance
