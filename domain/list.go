package domain

import (
	"context"
	"iter"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// Images lists images with client (an image v2 service client) and opts,
// and yields those the filter's domain may see. Breaking out of the loop
// stops the listing: no further page is requested. A failed page is yielded
// last as a *ListError with a zero Image.
//
// Where Glance can, the listing is narrowed server-side: opts (nil, an
// images.ListOpts or a *images.ListOpts) becomes a few Glance listings that
// hold only what the domain may see (the public images, or with
// Policy.RequireDomainID only the domain's and the Default domain's; the
// viewer's own project's; the shared images, when operator projects or
// foreign images count), each with opts' filters, sort and page size, each
// a page in memory at a time, merged in Glance's order. Options Glance
// cannot combine with that (an Owner or Marker of the caller's,
// visibility=all, a sort this package does not know) and builders of other
// types go to Glance as they are, as one listing, filtered here. Either way
// each image gets its verdict here: see the package documentation.
func (f *Filter) Images(ctx context.Context, client *gophercloud.ServiceClient, opts images.ListOptsBuilder) iter.Seq2[images.Image, error] {
	if base, ok := listOpts(opts); ok {
		plan, ok := f.imagePlan(base)
		order, sorted := imageOrder(base)
		if ok && sorted {
			return f.mergeImages(ctx, client, base, plan, order)
		}
		opts = base // a nil *ListOpts would not make a query
	}
	return filtered(ctx, "images", images.List(client, opts), images.ExtractImages, f.VisibleImage)
}

// Flavors lists flavors in detail (flavors.ListDetail) with client, a
// compute v2 service client, and opts, and yields those the filter's domain
// may see, as Images does.
func (f *Filter) Flavors(ctx context.Context, client *gophercloud.ServiceClient, opts flavors.ListOptsBuilder) iter.Seq2[flavors.Flavor, error] {
	return filtered(ctx, "flavors", flavors.ListDetail(client, opts), flavors.ExtractFlavors, f.VisibleFlavor)
}

// VolumeTypes lists volume types with client, a block-storage v3 service
// client, and opts, and yields those the filter's domain may see, as Images
// does.
func (f *Filter) VolumeTypes(ctx context.Context, client *gophercloud.ServiceClient, opts volumetypes.ListOptsBuilder) iter.Seq2[volumetypes.VolumeType, error] {
	return filtered(ctx, "volume types", volumetypes.List(client, opts), volumetypes.ExtractVolumeTypes, f.VisibleVolumeType)
}

// filtered turns a pager into a sequence of its visible items.
func filtered[T any](ctx context.Context, kind string, pager pagination.Pager,
	extract func(pagination.Page) ([]T, error), visible func(*T) bool) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		pages, failed := 0, 0
		stopped := false
		err := pager.EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			pages++
			items, err := extract(page)
			if err != nil {
				failed = pages
				return false, err
			}
			for i := range items {
				if visible(&items[i]) && !yield(items[i], nil) {
					stopped = true
					return false, nil
				}
			}
			return true, nil
		})
		if err != nil && !stopped {
			if failed == 0 {
				failed = pages + 1 // fetching or checking the next page failed
			}
			var zero T
			yield(zero, &ListError{Kind: kind, Page: failed, Err: err})
		}
	}
}
