package domain

import (
	"context"
	"iter"
	"net/url"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// An image listing is narrowed server-side: instead of one listing of
// everything Glance shows the viewer, filtered here, Filter.Images asks
// Glance for a few listings that hold only what the domain may see, and
// merges them. Each narrowed listing is a Glance filter plus a predicate
// restating it, so that the listings stay disjoint even if a service
// ignored a filter, and every item still gets its verdict: narrowing only
// saves bytes, it never decides.

// narrowed is one of the listings an image listing is made of.
type narrowed struct {
	opts images.ListOpts
	// prop and value are a custom property filter (domain_id=<id>), which
	// ListOpts cannot express; prop is "" for none.
	prop, value string
	// keep restates the listing's filters, so that listings never overlap.
	keep func(*images.Image) bool
}

// ToImageListQuery implements images.ListOptsBuilder: the ListOpts' query
// and the property filter.
func (n narrowed) ToImageListQuery() (string, error) {
	q, err := n.opts.ToImageListQuery()
	if err != nil || n.prop == "" {
		return q, err
	}
	sep := "&"
	if q == "" {
		sep = "?"
	}
	return q + sep + url.QueryEscape(n.prop) + "=" + url.QueryEscape(n.value), nil
}

// describe is what ListError.Query says of the listing: its narrowing.
func (n narrowed) describe(base images.ListOpts) string {
	var parts []string
	if n.opts.Visibility != "" && n.opts.Visibility != base.Visibility {
		parts = append(parts, "visibility="+string(n.opts.Visibility))
	}
	if n.opts.Owner != "" {
		parts = append(parts, "owner="+n.opts.Owner)
	}
	if n.prop != "" {
		parts = append(parts, n.prop+"="+n.value)
	}
	return strings.Join(parts, "&")
}

// glanceParams are the list parameters Glance reads itself: a domain-id
// property of one of these names cannot be filtered on.
var glanceParams = []string{"id", "limit", "marker", "name", "visibility", "os_hidden", "member_status", "owner",
	"status", "size_min", "size_max", "sort", "sort_key", "sort_dir", "tag", "created_at", "updated_at",
	"container_format", "disk_format", "protected"}

// listOpts returns the caller's options as ListOpts, or false for a builder
// of another type, which is passed to Glance as it is.
func listOpts(opts images.ListOptsBuilder) (images.ListOpts, bool) {
	switch o := opts.(type) {
	case nil:
		return images.ListOpts{}, true
	case images.ListOpts:
		return o, true
	case *images.ListOpts:
		if o == nil {
			return images.ListOpts{}, true
		}
		return *o, true
	}
	return images.ListOpts{}, false
}

// imagePlan returns the narrowed listings that together hold every image
// the caller's listing (base) would hold and the viewer may see, or false
// when base cannot be narrowed: an owner or marker of the caller's own,
// visibility=all, or a visibility Glance will reject.
//
// What Glance can select: visibility=, owner= and a custom property's exact
// value (domain_id=<id>), combined with each other and with the caller's
// filters. What it cannot: a property that is absent, a name prefix, or a
// list of property values. So without Policy.RequireDomainID the public
// images are one listing of them all, since an operator's image without
// domain_id may be anyone's by its name.
func (f *Filter) imagePlan(base images.ListOpts) ([]narrowed, bool) {
	if base.Owner != "" || base.Marker != "" {
		return nil, false
	}
	with := func(vis images.ImageVisibility, owner string) images.ListOpts {
		o := base
		o.Visibility, o.Owner = vis, owner
		return o
	}
	var plan []narrowed
	public := func() {
		isPublic := func(img *images.Image) bool { return img.Visibility == images.ImageVisibilityPublic }
		if !f.requireID || slices.Contains(glanceParams, f.property) {
			plan = append(plan, narrowed{opts: with(images.ImageVisibilityPublic, ""), keep: isPublic})
			return
		}
		// Every operator image names its domain: the domain's own and the
		// Default domain's are all it may see of the public ones.
		for _, id := range []string{f.dom.ID, f.defaultID} {
			plan = append(plan, narrowed{opts: with(images.ImageVisibilityPublic, ""), prop: f.property, value: id,
				keep: func(img *images.Image) bool { return isPublic(img) && f.domainID(img) == id }})
		}
	}
	// own lists the viewer's project's non-public images of visibility vis
	// ("" for every one).
	own := func(vis images.ImageVisibility) {
		if f.project == "" {
			return
		}
		p := f.project
		plan = append(plan, narrowed{opts: with(vis, p), keep: func(img *images.Image) bool {
			return img.Owner == p && img.Visibility != images.ImageVisibilityPublic && (vis == "" || img.Visibility == vis)
		}})
	}
	// others lists the vis images of every project but the viewer's.
	others := func(vis images.ImageVisibility) {
		p := f.project
		plan = append(plan, narrowed{opts: with(vis, ""), keep: func(img *images.Image) bool {
			return img.Visibility == vis && (p == "" || img.Owner != p)
		}})
	}
	// operators lists the operator projects' vis images.
	operators := func(vis images.ImageVisibility) {
		for _, op := range f.operators {
			if op == f.project || op == "" {
				continue
			}
			plan = append(plan, narrowed{opts: with(vis, op), keep: func(img *images.Image) bool {
				return img.Owner == op && img.Visibility == vis
			}})
		}
	}
	ops := slices.ContainsFunc(f.operators, func(op string) bool { return op != "" && op != f.project })
	switch base.Visibility {
	case "":
		// Glance's default listing: the public images, the project's own
		// and the shared images it accepted.
		public()
		own("")
		if ops || f.foreign {
			others(images.ImageVisibilityShared)
		}
	case images.ImageVisibilityPublic:
		public()
	case images.ImageVisibilityCommunity:
		own(images.ImageVisibilityCommunity)
		if f.foreign {
			others(images.ImageVisibilityCommunity)
		} else {
			operators(images.ImageVisibilityCommunity)
		}
	case images.ImageVisibilityShared:
		if ops || f.foreign {
			plan = append(plan, narrowed{opts: with(images.ImageVisibilityShared, ""), keep: func(img *images.Image) bool {
				return img.Visibility == images.ImageVisibilityShared
			}})
		} else {
			own(images.ImageVisibilityShared)
		}
	case images.ImageVisibilityPrivate:
		own(images.ImageVisibilityPrivate)
		operators(images.ImageVisibilityPrivate)
	default:
		return nil, false
	}
	return plan, true
}

// imageOrder returns the order Glance lists images in for base (its sort
// and its tie-breakers, created_at and id, newest first) as a comparison, or
// false for a sort this package does not know, which then goes to Glance as
// one listing.
func imageOrder(base images.ListOpts) (func(a, b *images.Image) int, bool) {
	type key struct {
		name string
		desc bool
	}
	var keys []key
	add := func(name, dir string) bool {
		if !slices.Contains([]string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}, name) {
			return false
		}
		switch dir {
		case "", "desc":
			keys = append(keys, key{name, true})
		case "asc":
			keys = append(keys, key{name, false})
		default:
			return false
		}
		return true
	}
	switch {
	case base.Sort != "" && (base.SortKey != "" || base.SortDir != ""):
		return nil, false
	case base.Sort != "":
		for part := range strings.SplitSeq(base.Sort, ",") {
			name, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			if !add(name, dir) {
				return nil, false
			}
		}
	case base.SortKey != "":
		if !add(base.SortKey, base.SortDir) {
			return nil, false
		}
	case base.SortDir != "":
		return nil, false
	}
	for _, name := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(keys, func(k key) bool { return k.name == name }) {
			keys = append(keys, key{name, true})
		}
	}
	return func(a, b *images.Image) int {
		for _, k := range keys {
			var c int
			switch k.name {
			case "name":
				c = strings.Compare(a.Name, b.Name)
			case "status":
				c = strings.Compare(string(a.Status), string(b.Status))
			case "container_format":
				c = strings.Compare(a.ContainerFormat, b.ContainerFormat)
			case "disk_format":
				c = strings.Compare(a.DiskFormat, b.DiskFormat)
			case "size":
				c = compareInt(a.SizeBytes, b.SizeBytes)
			case "id":
				c = strings.Compare(a.ID, b.ID)
			case "created_at":
				c = a.CreatedAt.Compare(b.CreatedAt)
			case "updated_at":
				c = a.UpdatedAt.Compare(b.UpdatedAt)
			}
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}, true
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cursor walks one narrowed listing a page at a time.
type cursor struct {
	n     narrowed
	query string // n.describe, for errors
	next  func() (pagination.Page, error, bool)
	stop  func()
	buf   []images.Image
	pages int
	done  bool
}

// fill makes c's buffer hold the listing's next kept images, fetching pages
// until one has some or the listing ends.
func (c *cursor) fill() error {
	for len(c.buf) == 0 && !c.done {
		page, err, ok := c.next()
		switch {
		case !ok:
			c.done = true
			return nil
		case err != nil:
			c.done = true
			return &ListError{Kind: "images", Page: c.pages + 1, Query: c.query, Err: err}
		}
		c.pages++
		items, err := images.ExtractImages(page)
		if err != nil {
			c.done = true
			return &ListError{Kind: "images", Page: c.pages, Query: c.query, Err: err}
		}
		c.buf = slices.DeleteFunc(items, func(img images.Image) bool { return !c.n.keep(&img) })
	}
	return nil
}

// pages turns a pager into a sequence of its pages, ending with the error
// of the page that failed.
func pages(ctx context.Context, pager pagination.Pager) iter.Seq2[pagination.Page, error] {
	return func(yield func(pagination.Page, error) bool) {
		stopped := false
		err := pager.EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			if !yield(page, nil) {
				stopped = true
				return false, nil
			}
			return true, nil
		})
		if err != nil && !stopped {
			yield(nil, err)
		}
	}
}

// mergeImages lists the narrowed listings of plan with client, each a page
// at a time, and yields their visible images merged in order: the listings
// are each in Glance's order, so the merge is too. An image two listings
// hand out (one changed between two pages) is yielded once.
func (f *Filter) mergeImages(ctx context.Context, client *gophercloud.ServiceClient, base images.ListOpts,
	plan []narrowed, order func(a, b *images.Image) int) iter.Seq2[images.Image, error] {
	return func(yield func(images.Image, error) bool) {
		cursors := make([]*cursor, len(plan))
		for i, n := range plan {
			next, stop := iter.Pull2(pages(ctx, images.List(client, n)))
			cursors[i] = &cursor{n: n, query: n.describe(base), next: next, stop: stop}
		}
		defer func() {
			for _, c := range cursors {
				c.stop()
			}
		}()
		last := ""
		for {
			var head *cursor
			for _, c := range cursors {
				if err := c.fill(); err != nil {
					yield(images.Image{}, err)
					return
				}
				if len(c.buf) > 0 && (head == nil || order(&c.buf[0], &head.buf[0]) < 0) {
					head = c
				}
			}
			if head == nil {
				return
			}
			img := head.buf[0]
			head.buf = head.buf[1:]
			if img.ID == last {
				continue
			}
			last = img.ID
			if f.VisibleImage(&img) && !yield(img, nil) {
				return
			}
		}
	}
}
