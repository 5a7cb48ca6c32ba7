package catalog

import "testing"

// TestAliasTablesAgree checks that aliasesOf and officialType hold the same
// facts.
func TestAliasTablesAgree(t *testing.T) {
	t.Parallel()
	for _, official := range []string{"block-storage", "shared-file-system", "baremetal", "clustering",
		"container-infrastructure-management", "workflow", "meter", "message", "instance-ha", "admin-logic",
		"alarm", "event", "application-container", "root-cause-analysis", "resource-optimization",
		"operator-policy", "application-deployment", "multi-region-network-automation", "monitoring-logging"} {
		aliases := aliasesOf(official)
		if len(aliases) == 0 {
			t.Errorf("aliasesOf(%q) is empty", official)
		}
		for i, a := range aliases {
			if o, rank, ok := officialType(a); !ok || o != official || rank != i+1 {
				t.Errorf("officialType(%q) = %q, %d, %v; want %q, %d, true", a, o, rank, ok, official, i+1)
			}
		}
	}
	for _, official := range []string{"compute", "image", "network", "identity", "dns"} {
		if a := aliasesOf(official); a != nil {
			t.Errorf("aliasesOf(%q) = %q, want none", official, a)
		}
	}
}
