package catalog

import "strings"

// CanonicalType returns the official service type for t: "volumev3" gives
// "block-storage". A type the service-types authority does not know is
// returned as is, lower-cased. CanonicalType does not allocate unless t has
// upper-case letters.
func CanonicalType(t string) string {
	t = strings.ToLower(t)
	if official, _, ok := officialType(t); ok {
		return official
	}
	return t
}

// officialType looks t (lower-case) up in the service-types authority's
// table. rank is 0 for the official type and 1, 2, ... for its historical
// aliases in the authority's order, which is the order in which the catalog's
// types are preferred when it lists one service under several of them.
//
// This switch is the module's one table of service types and aliases. Its
// source is the OpenStack service-types authority (the
// openstack/service-types-authority repository, published as
// service-types.json at service-types.openstack.org): every service type
// registered there as of 2025, retired ones included since old catalogs
// still list them, with its aliases in the authority's order. To update it,
// add or change a case here; nothing else lists aliases.
//
// gophercloud has a table too, gophercloud.ServiceTypeAliases, but it cannot
// replace this one: it lists only the types gophercloud has clients for, so
// most alias families are missing (meter's "telemetry", instance-ha's "ha",
// operator-policy's "policy", ...); its alias order is not the authority's
// (block-storage lists volumev3 last, so it cannot rank volumev3 above
// volumev2); it spells the network type "networking"; and it is an exported
// variable that any importer may change. TestGophercloudAliasesAgree checks
// that the two agree wherever gophercloud has an entry, so an upgrade that
// adds one shows here.
func officialType(t string) (official string, rank int, ok bool) {
	switch t {
	case "accelerator":
		return "accelerator", 0, true
	case "admin-logic":
		return "admin-logic", 0, true
	case "registration":
		return "admin-logic", 1, true
	case "alarm":
		return "alarm", 0, true
	case "alarming":
		return "alarm", 1, true
	case "application-catalog":
		return "application-catalog", 0, true
	case "application-container":
		return "application-container", 0, true
	case "container":
		return "application-container", 1, true
	case "application-deployment":
		return "application-deployment", 0, true
	case "application_deployment":
		return "application-deployment", 1, true
	case "backup":
		return "backup", 0, true
	case "baremetal":
		return "baremetal", 0, true
	case "bare-metal":
		return "baremetal", 1, true
	case "baremetal-introspection":
		return "baremetal-introspection", 0, true
	case "block-storage":
		return "block-storage", 0, true
	case "volumev3":
		return "block-storage", 1, true
	case "volumev2":
		return "block-storage", 2, true
	case "volume":
		return "block-storage", 3, true
	case "block-store":
		return "block-storage", 4, true
	case "clustering":
		return "clustering", 0, true
	case "resource-cluster":
		return "clustering", 1, true
	case "cluster":
		return "clustering", 2, true
	case "compute":
		return "compute", 0, true
	case "container-infrastructure-management":
		return "container-infrastructure-management", 0, true
	case "container-infrastructure":
		return "container-infrastructure-management", 1, true
	case "container-infra":
		return "container-infrastructure-management", 2, true
	case "data-processing":
		return "data-processing", 0, true
	case "data-protection-orchestration":
		return "data-protection-orchestration", 0, true
	case "database":
		return "database", 0, true
	case "dns":
		return "dns", 0, true
	case "ec2-api":
		return "ec2-api", 0, true
	case "event":
		return "event", 0, true
	case "events":
		return "event", 1, true
	case "function-engine":
		return "function-engine", 0, true
	case "identity":
		return "identity", 0, true
	case "image":
		return "image", 0, true
	case "instance-ha":
		return "instance-ha", 0, true
	case "ha":
		return "instance-ha", 1, true
	case "key-manager":
		return "key-manager", 0, true
	case "load-balancer":
		return "load-balancer", 0, true
	case "log-management":
		return "log-management", 0, true
	case "message":
		return "message", 0, true
	case "messaging":
		return "message", 1, true
	case "meter":
		return "meter", 0, true
	case "metering":
		return "meter", 1, true
	case "telemetry":
		return "meter", 2, true
	case "metric-storage":
		return "metric-storage", 0, true
	case "monitoring":
		return "monitoring", 0, true
	case "monitoring-events":
		return "monitoring-events", 0, true
	case "monitoring-logging":
		return "monitoring-logging", 0, true
	case "monitoring-log-api":
		return "monitoring-logging", 1, true
	case "multi-region-network-automation":
		return "multi-region-network-automation", 0, true
	case "tricircle":
		return "multi-region-network-automation", 1, true
	case "network":
		return "network", 0, true
	case "nfv-orchestration":
		return "nfv-orchestration", 0, true
	case "object-store":
		return "object-store", 0, true
	case "operator-policy":
		return "operator-policy", 0, true
	case "policy":
		return "operator-policy", 1, true
	case "orchestration":
		return "orchestration", 0, true
	case "placement":
		return "placement", 0, true
	case "rating":
		return "rating", 0, true
	case "reservation":
		return "reservation", 0, true
	case "resource-optimization":
		return "resource-optimization", 0, true
	case "infra-optim":
		return "resource-optimization", 1, true
	case "root-cause-analysis":
		return "root-cause-analysis", 0, true
	case "rca":
		return "root-cause-analysis", 1, true
	case "search":
		return "search", 0, true
	case "shared-file-system":
		return "shared-file-system", 0, true
	case "sharev2":
		return "shared-file-system", 1, true
	case "share":
		return "shared-file-system", 2, true
	case "workflow":
		return "workflow", 0, true
	case "workflowv2":
		return "workflow", 1, true
	}
	return "", 0, false
}

// rankOf returns t's rank among its family's types (see officialType); a
// type the authority does not know is a family of its own, of rank 0.
func rankOf(t string) int {
	_, rank, _ := officialType(t)
	return rank
}
