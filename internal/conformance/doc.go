// Package conformance keeps the fake cloud of internal/testserver honest: its
// tests (build tag integration) send each request the fake serves to both
// the fake and the real services, and compare the answers.
//
//   - TestIntegrationConformance: every Keystone request, against the real
//     Keystone that scripts/keystone-up.sh starts. It compares the shapes of
//     the answers: status, the headers clients rely on, and the JSON keys and
//     value types, with ids, times and other values ignored.
//   - TestIntegrationServicesConformance: every Glance, Nova and Cinder
//     request of the library's domain-filtered accessors (image list with its
//     visibility, member status, property, owner, name and sort filters and
//     paging; image get; flavor list, detail and get; volume type list and
//     get), against the real services that scripts/services-up.sh starts in
//     TYO1. The fake is seeded with the same items as the real services (from
//     services.json), so besides the shapes the test compares what each answer
//     holds, how it pages and what its links look like.
//   - TestIntegrationGlanceConformance: the Glance writes an image copy
//     makes (create, upload chunked, download, patch, import by
//     web-download, delete) and their refusals, step by step on an image of
//     each side's own, against the real Glance in TYO1: status, headers and
//     the JSON shape of each answer.
//
// Run them with the real services' environment loaded:
//
//	. .ci/state/keystone.env; . .ci/state/services.env
//	go test -tags integration ./internal/conformance/
//
// The package has no code of its own.
package conformance
