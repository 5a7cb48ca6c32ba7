package catalog

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2"
)

// authorityTable reads officialType's switch from the source: for each
// official type, its catalog types by rank (the official type first).
func authorityTable(t *testing.T) map[string][]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "servicetypes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ranks := map[string]map[int]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "officialType" {
			return true
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			cc, ok := n.(*ast.CaseClause)
			if !ok || len(cc.List) == 0 {
				return true
			}
			for _, e := range cc.List {
				typ, _ := strconv.Unquote(e.(*ast.BasicLit).Value)
				official, rank, ok := officialType(typ)
				if !ok {
					t.Errorf("officialType(%q): case not found", typ)
				}
				if ranks[official] == nil {
					ranks[official] = map[int]string{}
				}
				if prev, dup := ranks[official][rank]; dup {
					t.Errorf("%q and %q both have rank %d in %q", prev, typ, rank, official)
				}
				ranks[official][rank] = typ
			}
			return false
		})
		return false
	})
	table := map[string][]string{}
	for official, byRank := range ranks {
		for r := range len(byRank) {
			typ, ok := byRank[r]
			if !ok {
				t.Errorf("%q has no type of rank %d: %v", official, r, byRank)
			}
			table[official] = append(table[official], typ)
		}
	}
	return table
}

// TestAuthorityTable checks the shape of officialType's table: each
// official type is its own rank 0, and its aliases have ranks 1, 2, ...
func TestAuthorityTable(t *testing.T) {
	t.Parallel()
	table := authorityTable(t)
	if len(table) < 40 {
		t.Fatalf("read %d official types from officialType, want the authority's (over 40)", len(table))
	}
	for official, types := range table {
		if types[0] != official {
			t.Errorf("%q: rank 0 is %q, want the official type itself", official, types[0])
		}
	}
	want := []string{"block-storage", "volumev3", "volumev2", "volume", "block-store"}
	if diff := cmp.Diff(want, table["block-storage"]); diff != "" {
		t.Errorf("block-storage types by rank (-want +got):\n%s", diff)
	}
}

// TestGophercloudAliasesAgree checks that every alias gophercloud knows
// names the same official type here, so that a gophercloud upgrade that
// learns a new alias or type fails here until this package's table has it.
func TestGophercloudAliasesAgree(t *testing.T) {
	t.Parallel()
	// gophercloud's spellings that are not the authority's.
	spelling := map[string]string{"networking": "network"}
	table := authorityTable(t)
	for gcType, aliases := range gophercloud.ServiceTypeAliases {
		official := gcType
		if s, ok := spelling[gcType]; ok {
			official = s
		}
		ours, ok := table[official]
		if !ok {
			t.Errorf("gophercloud knows service type %q; officialType does not", official)
			continue
		}
		for _, a := range aliases {
			if !slices.Contains(ours[1:], a) {
				t.Errorf("gophercloud has alias %q of %q; officialType has %q", a, official, ours[1:])
			}
		}
	}
}
