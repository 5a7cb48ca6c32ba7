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

// NotFoundError is returned by Image, Flavor and VolumeType for an item that
// does not exist and, alike, for one the client's domain may not see: the
// two are not told apart, so a lookup is no oracle for another domain's
// items.
type NotFoundError struct {
	// Kind is "image", "flavor" or "volume type".
	Kind string
	// Ref is the id or name looked up.
	Ref string
	// Region is where.
	Region string
}

func (e *NotFoundError) Error() string {
	return "geostack: no " + e.Kind + " " + e.Ref + " in " + e.Region
}

// Images lists the images the client's domain may see in region, by the
// rules of package domain: the Default domain's and the domain's own public
// images, and the images of the client's own project; never another
// customer's image, whatever its name or properties claim. opts (nil for
// none) is passed to Glance. The listing streams page by page; a failed
// page ends it with an error.
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
// the shared ones (such as Cinder's own __DEFAULT__) unless the domain policy
// hides them.
func (c *Client) VolumeTypes(ctx context.Context, region string, opts volumetypes.ListOptsBuilder) iter.Seq2[volumetypes.VolumeType, error] {
	return listing(ctx, c, "block-storage", region, func(f *domain.Filter, sc *gophercloud.ServiceClient) iter.Seq2[volumetypes.VolumeType, error] {
		return f.VolumeTypes(ctx, sc, opts)
	})
}

// Image returns the image ref (an id, or else a name) in region if the
// client's domain may see it, by the rules of Images. An image that does
// not exist, or that the domain may not see, is a *NotFoundError; a name
// that several visible images share is an error naming how many.
func (c *Client) Image(ctx context.Context, region, ref string) (*images.Image, error) {
	f, sc, err := c.lookup(ctx, "image", region)
	if err != nil {
		return nil, err
	}
	if img, err := images.Get(ctx, sc, ref).Extract(); err == nil {
		if f.VisibleImage(img) {
			return img, nil
		}
		return nil, &NotFoundError{Kind: "image", Ref: ref, Region: region}
	} else if !gophercloud.ResponseCodeIs(err, 404) && !gophercloud.ResponseCodeIs(err, 400) {
		return nil, err
	}
	return byName(f.Images(ctx, sc, images.ListOpts{Name: ref}), "image", ref, region,
		func(i *images.Image) string { return i.Name })
}

// Flavor returns the flavor ref (an id, or else a name) in region if the
// client's domain may see it, as Image does.
func (c *Client) Flavor(ctx context.Context, region, ref string) (*flavors.Flavor, error) {
	f, sc, err := c.lookup(ctx, "compute", region)
	if err != nil {
		return nil, err
	}
	if fl, err := flavors.Get(ctx, sc, ref).Extract(); err == nil {
		if f.VisibleFlavor(fl) {
			return fl, nil
		}
		return nil, &NotFoundError{Kind: "flavor", Ref: ref, Region: region}
	} else if !gophercloud.ResponseCodeIs(err, 404) {
		return nil, err
	}
	return byName(f.Flavors(ctx, sc, nil), "flavor", ref, region, func(f *flavors.Flavor) string { return f.Name })
}

// VolumeType returns the volume type ref (an id, or else a name) in region
// if the client's domain may see it, as Image does.
func (c *Client) VolumeType(ctx context.Context, region, ref string) (*volumetypes.VolumeType, error) {
	f, sc, err := c.lookup(ctx, "block-storage", region)
	if err != nil {
		return nil, err
	}
	if vt, err := volumetypes.Get(ctx, sc, ref).Extract(); err == nil {
		if f.VisibleVolumeType(vt) {
			return vt, nil
		}
		return nil, &NotFoundError{Kind: "volume type", Ref: ref, Region: region}
	} else if !gophercloud.ResponseCodeIs(err, 404) {
		return nil, err
	}
	return byName(f.VolumeTypes(ctx, sc, nil), "volume type", ref, region,
		func(v *volumetypes.VolumeType) string { return v.Name })
}

// byName returns the one visible item of seq called ref.
func byName[T any](seq iter.Seq2[T, error], kind, ref, region string, name func(*T) string) (*T, error) {
	var found *T
	n := 0
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		if name(&v) == ref {
			n++
			found = &v
		}
	}
	switch n {
	case 0:
		return nil, &NotFoundError{Kind: kind, Ref: ref, Region: region}
	case 1:
		return found, nil
	}
	return nil, &AmbiguousNameError{Kind: kind, Name: ref, Region: region, Count: n}
}

// AmbiguousNameError is returned by a lookup by name that several visible
// items answer: use an id.
type AmbiguousNameError struct {
	Kind, Name, Region string
	Count              int
}

func (e *AmbiguousNameError) Error() string {
	return "geostack: " + e.Kind + " name " + e.Name + " in " + e.Region + " is ambiguous: use an id"
}

// lookup returns the viewer's filter and the service client of a lookup.
func (c *Client) lookup(ctx context.Context, serviceType, region string) (*domain.Filter, *gophercloud.ServiceClient, error) {
	if c.filter == nil {
		return nil, nil, ErrNoDomain
	}
	f, err := c.viewerFilter(ctx)
	if err != nil {
		return nil, nil, err
	}
	sc, err := c.ServiceClient(ctx, serviceType, region)
	if err != nil {
		return nil, nil, err
	}
	return f, sc, nil
}

// viewerFilter returns the domain filter for the client's own project,
// the owner of the images it publishes, as the current token says.
func (c *Client) viewerFilter(ctx context.Context) (*domain.Filter, error) {
	tok, err := c.home.handle.Token(ctx)
	if err != nil {
		return nil, err
	}
	if tok.Project == nil {
		return c.filter, nil
	}
	return c.filter.ForProject(tok.Project.ID), nil
}

// listing checks what every listing needs (a domain, a service client)
// before handing over to the domain filter, and turns a failure into the
// iterator's only element.
func listing[T any](ctx context.Context, c *Client, serviceType, region string, list func(*domain.Filter, *gophercloud.ServiceClient) iter.Seq2[T, error]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		f, sc, err := c.lookup(ctx, serviceType, region)
		if err != nil {
			yield(zero, err)
			return
		}
		for v, err := range list(f, sc) {
			if !yield(v, err) {
				return
			}
		}
	}
}
