package geostack

import (
	"context"
	"errors"
	"iter"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain"
)

// ErrNoDomain is returned by the domain-filtered listings of a Client
// configured without a domain.
var ErrNoDomain = errors.New("geostack: no domain configured: set Config.Domains and Config.Domain")

// Images lists the images the client's domain may see in region: the
// Default domain's public images, the domain's own public images, and the
// project's non-public ones. opts (nil for none) is passed to Glance. The
// listing streams page by page; a failed page ends it with an error.
func (c *Client) Images(ctx context.Context, region string, opts images.ListOptsBuilder) iter.Seq2[images.Image, error] {
	return listing(ctx, c, "image", region, func(f *domain.Filter, sc *gophercloud.ServiceClient) iter.Seq2[images.Image, error] {
		return f.Images(ctx, sc, opts)
	})
}

// Flavors lists the flavors of the client's domain in region, and the
// shared unprefixed ones unless the domain policy hides them.
func (c *Client) Flavors(ctx context.Context, region string, opts flavors.ListOptsBuilder) iter.Seq2[flavors.Flavor, error] {
	return listing(ctx, c, "compute", region, func(f *domain.Filter, sc *gophercloud.ServiceClient) iter.Seq2[flavors.Flavor, error] {
		return f.Flavors(ctx, sc, opts)
	})
}

// VolumeTypes lists the volume types of the client's domain in region, and
// the shared ones (such as "default") unless the domain policy hides them.
func (c *Client) VolumeTypes(ctx context.Context, region string, opts volumetypes.ListOptsBuilder) iter.Seq2[volumetypes.VolumeType, error] {
	return listing(ctx, c, "block-storage", region, func(f *domain.Filter, sc *gophercloud.ServiceClient) iter.Seq2[volumetypes.VolumeType, error] {
		return f.VolumeTypes(ctx, sc, opts)
	})
}

// listing checks what every listing needs (a domain, a service client)
// before handing over to the domain filter, and turns a failure into the
// iterator's only element.
func listing[T any](ctx context.Context, c *Client, serviceType, region string, list func(*domain.Filter, *gophercloud.ServiceClient) iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if c.filter == nil {
			yield(zero, ErrNoDomain)
			return
		}
		sc, err := c.ServiceClient(ctx, serviceType, region)
		if err != nil {
			yield(zero, err)
			return
		}
		for v, err := range list(c.filter, sc) {
			if !yield(v, err) {
				return
			}
		}
	}
}
