package region

import (
	"context"
	"errors"
	"fmt"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/regions"
)

// ErrRegionTree: the regions given to Learn are inconsistent; see
// *RegionTreeError.
var ErrRegionTree = errors.New("region: inconsistent Keystone regions")

// RegionTreeError is one inconsistency in the regions given to Learn. It
// matches ErrRegionTree.
type RegionTreeError struct {
	Region string
	Reason string
}

func (e *RegionTreeError) Error() string {
	return fmt.Sprintf("region: Keystone region %q: %s", e.Region, e.Reason)
}

// Is reports whether target is ErrRegionTree.
func (e *RegionTreeError) Is(target error) bool { return target == ErrRegionTree }

// RegionInfo is a Keystone region as far as locations are concerned: its
// id and its parent_region_id ("" for a top-level region).
type RegionInfo struct {
	ID       string
	ParentID string
}

// maxDepth bounds the parent_region_id walk.
const maxDepth = 32

// Learn teaches the resolver which location holds each of regions, from
// Keystone's region tree: a region belongs to the location whose name is
// the region itself or its nearest ancestor (TYO1 → parent JP → location
// JP), or to the location of its nearest configured ancestor. Regions whose
// ancestry reaches no location are ignored, and configured regions keep
// their configured location.
//
// regions is the whole tree, as ListRegions returns it: what it yields
// replaces what was learned before, as one immutable snapshot, so that
// LocationOf never takes a lock. A cycle, a region listed twice with two
// parents, or a configured region whose ancestry leads to another location
// is reported (errors.Join of *RegionTreeError) and nothing is changed.
func (r *Resolver) Learn(regions []RegionInfo) error {
	parent := make(map[string]string, len(regions))
	var errs []error
	for _, reg := range regions {
		if reg.ID == "" {
			errs = append(errs, &RegionTreeError{Region: reg.ID, Reason: "empty region id"})
			continue
		}
		if p, dup := parent[reg.ID]; dup && p != reg.ParentID {
			errs = append(errs, &RegionTreeError{Region: reg.ID,
				Reason: fmt.Sprintf("listed twice, with parents %q and %q", p, reg.ParentID)})
			continue
		}
		parent[reg.ID] = reg.ParentID
	}
	learned := map[string]string{}
	for _, reg := range regions {
		if reg.ID == "" {
			continue
		}
		if conf, ok := r.configured[reg.ID]; ok {
			// Check the configuration against Keystone's tree.
			loc, err := r.ancestorLocation(reg.ID, reg.ParentID, parent)
			switch {
			case err != nil:
				errs = append(errs, err)
			case loc != "" && loc != conf:
				errs = append(errs, &RegionTreeError{Region: reg.ID,
					Reason: fmt.Sprintf("configured in location %s but Keystone places it under %s", conf, loc)})
			}
			continue
		}
		if _, isLoc := r.byName[reg.ID]; isLoc {
			learned[reg.ID] = reg.ID
			continue
		}
		loc, err := r.ancestorLocation(reg.ID, reg.ParentID, parent)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if loc != "" {
			learned[reg.ID] = loc
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	r.learned.Store(&learned)
	return nil
}

// ancestorLocation walks up from id's parent p to the first ancestor that
// is a location or a configured region, and returns that location ("" if
// none).
func (r *Resolver) ancestorLocation(id, p string, parent map[string]string) (string, error) {
	for depth := 0; p != ""; depth++ {
		if p == id || depth == maxDepth {
			return "", &RegionTreeError{Region: id, Reason: "parent_region_id chain loops or is too deep"}
		}
		if _, ok := r.byName[p]; ok {
			return p, nil
		}
		if loc, ok := r.configured[p]; ok {
			return loc, nil
		}
		p = parent[p]
	}
	return "", nil
}

// ListRegions lists Keystone's regions through gophercloud (GET
// /v3/regions, following pages) with client, an identity v3 ServiceClient
// such as openstack.NewIdentityV3 returns.
func ListRegions(ctx context.Context, client *gophercloud.ServiceClient) ([]RegionInfo, error) {
	pages, err := regions.List(client, nil).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("region: list Keystone regions: %w", err)
	}
	all, err := regions.ExtractRegions(pages)
	if err != nil {
		return nil, fmt.Errorf("region: list Keystone regions: %w", err)
	}
	out := make([]RegionInfo, len(all))
	for i, reg := range all {
		out[i] = RegionInfo{ID: reg.ID, ParentID: reg.ParentRegionID}
	}
	return out, nil
}

// Discover lists Keystone's regions with client and learns them (Learn).
func (r *Resolver) Discover(ctx context.Context, client *gophercloud.ServiceClient) error {
	regs, err := ListRegions(ctx, client)
	if err != nil {
		return err
	}
	return r.Learn(regs)
}
