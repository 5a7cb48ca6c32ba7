package geostack

import (
	"cmp"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/internal/typednil"
)

// ImageRef names an image in a region.
type ImageRef struct {
	Region string
	// ID is the image's id. With a domain configured, a name that one
	// image the domain may see carries is accepted too, as Client.Image
	// accepts it.
	ID string
}

// String returns "REGION/ID", the value of CopiedFromProperty.
func (r ImageRef) String() string { return r.Region + "/" + r.ID }

// CopiedFromProperty is the image property CopyImage sets on every copy:
// the source as "REGION/ID". It is how a later CopyImage of the same source
// into the same region and project finds the copy instead of making
// another one.
const CopiedFromProperty = "geostack_copied_from"

// CopyOptions adjust CopyImage. The zero value copies with the source's
// name and metadata, privately, by streaming.
type CopyOptions struct {
	// Name is the copy's name; empty keeps the source's.
	Name string
	// Visibility is the copy's visibility; empty means private. Only an
	// admin may make it public.
	Visibility images.ImageVisibility
	// Properties are set on the copy, over those carried from the source.
	// Glance's own attributes (checksum, os_hash_*, os_glance_*, ...) and
	// CopiedFromProperty cannot be set.
	Properties map[string]string
	// DropProperties are custom properties of the source not to carry.
	DropProperties []string

	// WebDownloadURL, if set, is a URL template at which the destination's
	// Glance can fetch the source image's data itself, without a token:
	// an operator's web share of the source region's store. "{id}" is
	// replaced by the source image's id and "{region}" by its region, as
	// in "http://share.tyo1.example/images/{id}". When the destination
	// offers Glance's web-download import, CopyImage asks it to fetch the
	// data from there and checks the hashes the destination computed;
	// when it does not offer it, refuses the URL or the fetch fails, the
	// data is streamed instead.
	WebDownloadURL string
	// PollInterval is how often the copy is looked at while the
	// destination imports it (web-download). Zero means 2 s.
	PollInterval time.Duration

	// Progress, if set, is called with the bytes copied so far and the
	// image's size: about every MiB while the data stream, and once when
	// the copy is complete (or found complete). Calls come one at a time, from the goroutine that
	// sends the upload; the callback must not block.
	Progress func(copied, total int64)
	// CleanupTimeout bounds the deletion of a half-made copy after a
	// failure, which runs even when ctx is canceled or past its deadline.
	// Zero means 30 s.
	CleanupTimeout time.Duration
}

// Errors a *CopyError wraps (errors.Is).
var (
	// ErrInvalidCopy is wrapped by a CopyImage refused before any request:
	// a region or id missing, the same region twice, a bad option.
	ErrInvalidCopy = errors.New("geostack: invalid image copy")
	// ErrImageNotCopyable is wrapped when the source cannot be copied
	// faithfully: not active, without a hash to check the copy against,
	// with a hash algorithm geostack does not know, or a volume-backed
	// snapshot whose data are block-storage snapshots of its region.
	ErrImageNotCopyable = errors.New("geostack: image cannot be copied")
	// ErrImageHashMismatch is wrapped when the data that arrived differ
	// from the source's: the stream did not hash to the source's
	// os_hash_value (or checksum), or the destination computed another
	// size or hash.
	ErrImageHashMismatch = errors.New("geostack: image data do not match the source's")
	// ErrCopyInProgress is wrapped when another copy of the same source
	// into the same region and project is uploading or importing; try
	// again once it is done.
	ErrCopyInProgress = errors.New("geostack: another copy of the image is in progress")
)

// CopyError is the error of a failed CopyImage. It wraps the cause (one of
// the Err* values above, a context error, a gophercloud error) and, when
// the half-made copy could not be deleted, the deletion's error.
type CopyError struct {
	// Source and Region are the copy's source and destination region.
	Source ImageRef
	Region string
	// Op is the step that failed: "check" (the arguments, both regions'
	// endpoints, the token), "source" (looking the source up), "find"
	// (looking for an earlier copy), "create", "import" (web-download),
	// "stream" or "verify" (the destination's size and hashes).
	Op string
	// Image is the id of the copy CopyImage had created in Region when it
	// failed, or "". It was deleted, unless CleanupErr says why not.
	Image string
	// Err is the cause.
	Err error
	// CleanupErr is why the half-made copy could not be deleted, or nil.
	// A later CopyImage of the same source deletes it.
	CleanupErr error
}

func (e *CopyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "geostack: copy image %s to %s: %s: %v", e.Source, e.Region, e.Op, e.Err)
	switch {
	case e.Image != "" && e.CleanupErr != nil:
		fmt.Fprintf(&b, "; the half-made image %s could not be deleted: %v", e.Image, e.CleanupErr)
	case e.Image != "":
		fmt.Fprintf(&b, "; the half-made image %s was deleted", e.Image)
	}
	return b.String()
}

// Unwrap returns the cause and the cleanup's error.
func (e *CopyError) Unwrap() []error {
	if e.CleanupErr != nil {
		return []error{e.Err, e.CleanupErr}
	}
	return []error{e.Err}
}

// CopyImage copies the image src into the region dstRegion and returns the
// copy, active and checked. The data stream from the source's Glance
// download straight into the destination's upload: memory stays constant
// whatever the size, and nothing is written to disk. Both regions are
// reached with the client's one token.
//
// Integrity: the stream is hashed as it passes with the source's
// os_hash_algo and must end with the source's os_hash_value (an image
// without one, from before Glance computed it, is checked by its MD5
// checksum); a mismatch aborts the upload before it completes, so the
// destination never holds wrong data as active. After the upload, the
// destination's own size, checksum and, when both regions hash alike,
// os_hash_value must equal the source's. The stream is not hashed with MD5
// as well: the destination's checksum checks that, and a second hash of
// every byte would cost the client as much CPU again.
//
// Web-download: with opts.WebDownloadURL, the destination's Glance fetches
// the data from the operator's web share itself (the interoperable import's
// web-download), and its size and hashes are checked as above. Where it
// does not offer web-download, refuses the URL, or its fetch fails, the
// data are streamed into the same image instead.
//
// Metadata: the copy has the source's disk_format, container_format,
// min_disk, min_ram, tags, os_hidden and custom properties (the domain's
// domain_id among them), except those in opts.DropProperties and those
// Glance keeps for itself (checksum, size, os_hash_*, os_glance_*,
// stores, locations, direct_url, ...); then opts.Properties, and
// CopiedFromProperty. The copy belongs to the client's project: its owner
// is never carried. It is private unless opts.Visibility says otherwise,
// and not protected, whatever the source is. With a domain configured, the
// source must be an image the domain may see (see Client.Image).
//
// Failure is clean: when the copy fails after its image was created (the
// context canceled, the source dropping the download, the destination
// answering 5xx, a hash mismatch), that image is deleted, with a context
// that outlives ctx (bounded by opts.CleanupTimeout). The error is a
// *CopyError.
//
// Idempotence: before creating anything, CopyImage looks for the client
// project's images in dstRegion whose CopiedFromProperty names src. An
// active one whose size and hashes match the source is returned as the
// copy; none is made. A queued one, what a try that crashed leaves behind
// (Glance puts an image whose upload broke back to queued), is deleted
// and the copy starts afresh: a queued image holds no data, so there is
// nothing to resume. One that is uploading or importing is another copy
// under way, and CopyImage fails with ErrCopyInProgress. Two concurrent
// first calls may each make a copy; later calls return the oldest.
//
// The upload is sent chunked, as the data's length is not known to
// net/http: Glance's own server accepts that; one fronted by uwsgi
// refuses chunked uploads beyond a few tens of KiB. A Config.HTTPClient
// with a Timeout bounds the whole transfer.
func (c *Client) CopyImage(ctx context.Context, src ImageRef, dstRegion string, opts CopyOptions) (*images.Image, error) {
	cp := &imageCopy{c: c, src: src, dst: dstRegion, opts: opts, log: c.cfg.Logger, clock: c.cfg.Clock}
	if cp.log == nil || typednil.Is(cp.log) {
		cp.log = slog.New(slog.DiscardHandler)
	}
	if cp.clock == nil || typednil.Is(cp.clock) {
		cp.clock = clock.System()
	}
	img, err := cp.run(ctx)
	if err == nil {
		return img, nil
	}
	e := &CopyError{Source: src, Region: dstRegion, Op: cp.op, Image: cp.created, Err: err}
	if cp.created != "" {
		e.CleanupErr = cp.cleanup(ctx, cp.created)
		if e.CleanupErr != nil {
			cp.log.WarnContext(ctx, "geostack: half-made image copy not deleted",
				"source", src.String(), "region", dstRegion, "image", cp.created, "error", e.CleanupErr)
		}
	}
	return nil, e
}

// imageCopy is one CopyImage call.
type imageCopy struct {
	c     *Client
	src   ImageRef
	dst   string
	opts  CopyOptions
	log   *slog.Logger
	clock clock.Clock

	srcSC, dstSC *gophercloud.ServiceClient
	project      string
	source       *images.Image
	want         sourceSums

	op      string // the step under way
	created string // the id of the image this call created, until it is complete
}

// sourceSums is what the copy is checked against.
type sourceSums struct {
	size     int64
	checksum string // MD5, hex; "" if the source has none
	algo     string // os_hash_algo; "" if the source has none
	value    string // os_hash_value
}

func (cp *imageCopy) run(ctx context.Context) (*images.Image, error) {
	cp.op = "check"
	if err := cp.check(); err != nil {
		return nil, err
	}
	var err error
	if cp.srcSC, err = cp.c.ServiceClient(ctx, "image", cp.src.Region); err != nil {
		return nil, err
	}
	if cp.dstSC, err = cp.c.ServiceClient(ctx, "image", cp.dst); err != nil {
		return nil, err
	}
	tok, err := cp.c.Token(ctx)
	if err != nil {
		return nil, err
	}
	if tok.Project == nil {
		return nil, fmt.Errorf("%w: Glance needs a project-scoped token", ErrInvalidCopy)
	}
	cp.project = tok.Project.ID

	cp.op = "source"
	if err := cp.loadSource(ctx); err != nil {
		return nil, err
	}

	cp.op = "find"
	if found, err := cp.findCopy(ctx); err != nil || found != nil {
		return found, err
	}

	cp.op = "create"
	created, err := images.Create(ctx, cp.dstSC, cp.createOpts()).Extract()
	if err != nil {
		return nil, err
	}
	cp.created = created.ID
	cp.log.DebugContext(ctx, "geostack: image copy started", cp.attrs(slog.Int64("size", cp.want.size))...)

	if cp.opts.WebDownloadURL != "" {
		cp.op = "import"
		img, err := cp.webDownload(ctx, created)
		if err != nil || img != nil {
			return img, err
		}
	}
	cp.op = "stream"
	if err := cp.stream(ctx); err != nil {
		return nil, err
	}
	cp.op = "verify"
	img, err := images.Get(ctx, cp.dstSC, cp.created).Extract()
	if err != nil {
		return nil, err
	}
	if err := cp.verify(img); err != nil {
		return nil, err
	}
	return cp.done(ctx, img, "stream"), nil
}

// done records the copy as complete: it is no longer deleted on failure.
func (cp *imageCopy) done(ctx context.Context, img *images.Image, method string) *images.Image {
	cp.created = ""
	if cp.opts.Progress != nil {
		cp.opts.Progress(cp.want.size, cp.want.size)
	}
	cp.log.DebugContext(ctx, "geostack: image copy done", cp.attrs(slog.String("method", method), slog.Int64("size", cp.want.size))...)
	return img
}

func (cp *imageCopy) attrs(more ...any) []any {
	a := []any{slog.String("source", cp.src.String()), slog.String("region", cp.dst)}
	if cp.created != "" {
		a = append(a, slog.String("image", cp.created))
	}
	return append(a, more...)
}

// ownAttributes are the image attributes Glance sets itself, reserves or
// that describe one region's copy alone: never carried, never set.
var ownAttributes = []string{
	"id", "name", "status", "owner", "visibility", "protected", "os_hidden", "tags",
	"disk_format", "container_format", "min_disk", "min_ram",
	"size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value",
	"created_at", "updated_at", "self", "file", "schema", "direct_url", "locations", "stores",
	"metadata", "properties", CopiedFromProperty,
}

func isOwnAttribute(k string) bool {
	return slices.Contains(ownAttributes, k) || strings.HasPrefix(k, "os_glance")
}

func (cp *imageCopy) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidCopy}, args...)...)
	}
	switch {
	case cp.src.Region == "" || cp.src.ID == "":
		return bad("the source needs a region and an id")
	case cp.dst == "":
		return bad("no destination region")
	case cp.dst == cp.src.Region:
		return bad("source and destination are both in %s", cp.dst)
	case cp.opts.CleanupTimeout < 0 || cp.opts.PollInterval < 0:
		return bad("negative CleanupTimeout or PollInterval")
	}
	switch cp.opts.Visibility {
	case "", images.ImageVisibilityPrivate, images.ImageVisibilityShared, images.ImageVisibilityCommunity, images.ImageVisibilityPublic:
	default:
		return bad("unknown visibility %q", cp.opts.Visibility)
	}
	for k := range cp.opts.Properties {
		if isOwnAttribute(k) || k == "" {
			return bad("property %q cannot be set: it is Glance's or geostack's own", k)
		}
	}
	if cp.opts.WebDownloadURL != "" {
		if !strings.Contains(cp.opts.WebDownloadURL, "{id}") {
			return bad("WebDownloadURL has no {id}")
		}
		u, err := url.Parse(cp.webDownloadURI())
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("WebDownloadURL is not an http or https URL template")
		}
	}
	return nil
}

// webDownloadURI is the URL at which the destination fetches the source.
func (cp *imageCopy) webDownloadURI() string {
	return strings.NewReplacer("{id}", url.PathEscape(cp.src.ID), "{region}", url.PathEscape(cp.src.Region)).Replace(cp.opts.WebDownloadURL)
}

// loadSource looks the source up, by the domain's rules when there is a
// domain, and checks it can be copied faithfully.
func (cp *imageCopy) loadSource(ctx context.Context) error {
	var img *images.Image
	var err error
	if cp.c.filter != nil {
		img, err = cp.c.Image(ctx, cp.src.Region, cp.src.ID)
	} else {
		img, err = images.Get(ctx, cp.srcSC, cp.src.ID).Extract()
	}
	if err != nil {
		return err
	}
	cp.src.ID = img.ID // a name resolved
	cp.source = img
	notCopyable := func(why string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrImageNotCopyable, fmt.Sprintf(why, args...))
	}
	if img.Status != images.ImageStatusActive {
		return notCopyable("its status is %s, not active", img.Status)
	}
	if bdm, _ := img.Properties["block_device_mapping"].(string); bdm != "" && bdm != "[]" {
		return notCopyable("it is a volume-backed snapshot: its data are block-storage snapshots in %s", cp.src.Region)
	}
	cp.want = sourceSums{size: img.SizeBytes, checksum: img.Checksum}
	cp.want.algo, _ = img.Properties["os_hash_algo"].(string)
	cp.want.value, _ = img.Properties["os_hash_value"].(string)
	switch {
	case cp.want.algo != "" && newImageHash(cp.want.algo) == nil:
		return notCopyable("its os_hash_algo %q is not one geostack can check", cp.want.algo)
	case cp.want.algo != "" && cp.want.value == "":
		return notCopyable("it has an os_hash_algo but no os_hash_value")
	case cp.want.value == "" && cp.want.checksum == "":
		return notCopyable("it has neither os_hash_value nor checksum to check the copy against")
	}
	return nil
}

// newImageHash returns a hash of Glance's hashing_algorithm names
// (Python's hashlib names), or nil for one geostack does not offer.
func newImageHash(algo string) hash.Hash {
	switch algo {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	case "sha512_224":
		return sha512.New512_224()
	case "sha512_256":
		return sha512.New512_256()
	case "sha3_224":
		return sha3.New224()
	case "sha3_256":
		return sha3.New256()
	case "sha3_384":
		return sha3.New384()
	case "sha3_512":
		return sha3.New512()
	}
	return nil
}

// markedList lists the images whose CopiedFromProperty names the source:
// Glance filters on any property given as a query parameter.
type markedList struct {
	images.ListOpts
	source string
}

func (l markedList) ToImageListQuery() (string, error) {
	q, err := l.ListOpts.ToImageListQuery()
	if err != nil {
		return "", err
	}
	u, err := url.Parse(q)
	if err != nil {
		return "", err
	}
	v := u.Query()
	v.Set(CopiedFromProperty, l.source)
	return "?" + v.Encode(), nil
}

// findCopy looks for an earlier copy of the source in the client's project
// at the destination: a complete one is returned, a crashed try's is
// deleted, one under way is ErrCopyInProgress.
func (cp *imageCopy) findCopy(ctx context.Context) (*images.Image, error) {
	var found []images.Image
	for _, hidden := range []bool{false, true} { // Glance lists hidden images only when asked to
		pages, err := images.List(cp.dstSC, markedList{images.ListOpts{Owner: cp.project, Hidden: hidden}, cp.src.String()}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		ims, err := images.ExtractImages(pages)
		if err != nil {
			return nil, err
		}
		found = append(found, ims...)
	}
	slices.SortStableFunc(found, func(a, b images.Image) int { return a.CreatedAt.Compare(b.CreatedAt) })
	var leftovers []string
	var busy *images.Image
	for _, im := range found {
		if im.Owner != cp.project {
			continue
		}
		_, importing := im.Properties["os_glance_import_task"]
		switch {
		case im.Status == images.ImageStatusActive:
			if err := cp.verify(&im); err != nil {
				cp.log.WarnContext(ctx, "geostack: ignoring an image marked as a copy that does not match its source",
					cp.attrs(slog.String("image", im.ID), slog.String("error", err.Error()))...)
				continue
			}
			cp.log.DebugContext(ctx, "geostack: image copy found complete", cp.attrs(slog.String("image", im.ID))...)
			if cp.opts.Progress != nil {
				cp.opts.Progress(cp.want.size, cp.want.size)
			}
			return &im, nil
		case (im.Status == images.ImageStatusQueued && !importing) || im.Status == images.ImageStatusKilled:
			leftovers = append(leftovers, im.ID)
		case im.Status == images.ImageStatusQueued || im.Status == images.ImageStatusSaving ||
			im.Status == images.ImageStatusImporting || im.Status == "uploading":
			if busy == nil {
				busy = &im
			}
		}
	}
	if busy != nil {
		return nil, fmt.Errorf("%w: image %s is %s", ErrCopyInProgress, busy.ID, busy.Status)
	}
	for _, id := range leftovers {
		cp.log.DebugContext(ctx, "geostack: deleting the leftover of an earlier image copy", cp.attrs(slog.String("image", id))...)
		if err := images.Delete(ctx, cp.dstSC, id).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
			return nil, fmt.Errorf("delete the leftover %s of an earlier try: %w", id, err)
		}
	}
	return nil, nil
}

// createOpts is the copy's metadata.
func (cp *imageCopy) createOpts() images.CreateOpts {
	s := cp.source
	props := map[string]string{}
	for k, v := range s.Properties {
		str, ok := v.(string)
		if !ok || isOwnAttribute(k) || slices.Contains(cp.opts.DropProperties, k) {
			continue
		}
		props[k] = str
	}
	for k, v := range cp.opts.Properties {
		props[k] = v
	}
	props[CopiedFromProperty] = cp.src.String()
	vis := cmp.Or(cp.opts.Visibility, images.ImageVisibilityPrivate)
	opts := images.CreateOpts{
		Name:            cmp.Or(cp.opts.Name, s.Name),
		Visibility:      &vis,
		Tags:            slices.Clone(s.Tags),
		DiskFormat:      s.DiskFormat,
		ContainerFormat: s.ContainerFormat,
		MinDisk:         s.MinDiskGigabytes,
		MinRAM:          s.MinRAMMegabytes,
		Properties:      props,
	}
	if s.Hidden {
		hidden := true
		opts.Hidden = &hidden
	}
	return opts
}

// verify checks a copy's size and hashes against the source's.
func (cp *imageCopy) verify(img *images.Image) error {
	mismatch := func(what, got, want string) error {
		return fmt.Errorf("%w: the copy's %s is %s, the source's %s", ErrImageHashMismatch, what, got, want)
	}
	if img.Status != images.ImageStatusActive {
		return fmt.Errorf("the copy is %s after its upload, not active", img.Status)
	}
	if img.SizeBytes != cp.want.size {
		return mismatch("size", fmt.Sprint(img.SizeBytes), fmt.Sprint(cp.want.size))
	}
	checked := false
	if cp.want.checksum != "" {
		if img.Checksum != cp.want.checksum {
			return mismatch("checksum", img.Checksum, cp.want.checksum)
		}
		checked = true
	}
	algo, _ := img.Properties["os_hash_algo"].(string)
	value, _ := img.Properties["os_hash_value"].(string)
	if cp.want.algo != "" && algo == cp.want.algo {
		if value != cp.want.value {
			return mismatch(algo, value, cp.want.value)
		}
		checked = true
	}
	if !checked {
		return fmt.Errorf("%w: the copy has no checksum or %s hash to compare with the source's", ErrImageHashMismatch, cmp.Or(cp.want.algo, "MD5"))
	}
	return nil
}

// cleanup deletes the half-made copy with a context that outlives ctx.
func (cp *imageCopy) cleanup(ctx context.Context, id string) error {
	if cp.dstSC == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cmp.Or(cp.opts.CleanupTimeout, 30*time.Second))
	defer cancel()
	err := images.Delete(cctx, cp.dstSC, id).ExtractErr()
	if gophercloud.ResponseCodeIs(err, 404) {
		return nil
	}
	return err
}

// stream copies the data from the source's download into the copy's
// upload through a reader that hashes and counts them as they pass.
func (cp *imageCopy) stream(ctx context.Context) error {
	body, err := imagedata.Download(ctx, cp.srcSC, cp.src.ID).Extract()
	if err != nil {
		return fmt.Errorf("download from %s: %w", cp.src.Region, err)
	}
	defer body.Close()
	v := newVerifier(body, cp.src.Region, cp.want, cp.opts.Progress, func(n int64) {
		cp.log.DebugContext(ctx, "geostack: image copy progress", cp.attrs(slog.Int64("copied", n), slog.Int64("size", cp.want.size))...)
	})
	// net/http may still be reading the body when Upload returns (it
	// sends it from a goroutine of its own): once the download is closed,
	// the gate waits for that read to end and refuses the next, so that
	// no Progress call comes after CopyImage returns and v is ours again.
	g := &gate{r: v}
	err = imagedata.Upload(ctx, cp.dstSC, cp.created, g).ExtractErr()
	body.Close()
	g.close()
	switch {
	case v.err != nil: // the cause; the upload's error is its consequence
		return v.err
	case err != nil:
		if ctx.Err() != nil {
			return fmt.Errorf("upload to %s: %w", cp.dst, ctx.Err())
		}
		return fmt.Errorf("upload to %s: %w", cp.dst, err)
	case v.n != cp.want.size || !v.complete:
		// The upload ended without reading the data to the end.
		return fmt.Errorf("upload to %s ended after %d of %d bytes", cp.dst, v.n, cp.want.size)
	}
	return nil
}

// gate is a reader that can be shut: after close returns, no Read of r is
// under way and none will be.
type gate struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

var errGateClosed = errors.New("geostack: image copy stream closed")

func (g *gate) Read(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, errGateClosed
	}
	return g.r.Read(p)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}

// progressStep is how often Progress is called while the data stream.
const progressStep = 1 << 20

// verifier reads the source's data, hashes and counts them, reports
// progress, and ends the stream with an error instead of io.EOF when the
// data do not match the source: the upload is then cut before its end and
// the destination never completes it.
type verifier struct {
	r        io.Reader
	from     string // the source's region
	want     sourceSums
	h        hash.Hash // the source's os_hash_algo, or MD5
	wantSum  string
	n        int64
	complete bool
	err      error // sticky: why the stream was cut

	progress    func(copied, total int64)
	logProgress func(copied int64)
	nextReport  int64
	nextLog     int64
}

func newVerifier(r io.Reader, from string, want sourceSums, progress func(int64, int64), logProgress func(int64)) *verifier {
	v := &verifier{r: r, from: from, want: want, progress: progress, logProgress: logProgress,
		nextReport: progressStep, nextLog: max(want.size/10, progressStep)}
	if want.algo != "" {
		v.h, v.wantSum = newImageHash(want.algo), want.value
	} else {
		v.h, v.wantSum = md5.New(), want.checksum
	}
	return v
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.h.Write(p[:n])
		v.n += int64(n)
		if v.n > v.want.size {
			v.err = fmt.Errorf("%w: the source sent more than its size of %d bytes", ErrImageHashMismatch, v.want.size)
			return 0, v.err
		}
		if v.progress != nil && v.n >= v.nextReport {
			v.progress(v.n, v.want.size)
			v.nextReport = v.n + progressStep
		}
		if v.n >= v.nextLog {
			v.logProgress(v.n)
			v.nextLog = v.n + max(v.want.size/10, progressStep)
		}
	}
	switch {
	case err == io.EOF:
		if v.n != v.want.size {
			v.err = fmt.Errorf("%w: the source sent %d bytes, its size is %d", ErrImageHashMismatch, v.n, v.want.size)
		} else if got := hex.EncodeToString(v.h.Sum(nil)); got != v.wantSum {
			v.err = fmt.Errorf("%w: the data streamed hash to %s, the source's %s is %s",
				ErrImageHashMismatch, got, cmp.Or(v.want.algo, "checksum"), v.wantSum)
		}
		if v.err != nil {
			return n, v.err
		}
		v.complete = true
		return n, io.EOF
	case err != nil:
		v.err = fmt.Errorf("download from %s: %w", v.from, err)
		return n, v.err
	}
	return n, nil
}

// webDownload asks the destination to fetch the data from the operator's
// web share and checks what it computed. It returns (nil, nil) when the
// data should be streamed instead: the destination does not offer
// web-download, refuses the URL, or its fetch failed.
func (cp *imageCopy) webDownload(ctx context.Context, created *images.Image) (*images.Image, error) {
	methods := created.OpenStackImageImportMethods
	if len(methods) == 0 {
		info, err := imageimport.Get(ctx, cp.dstSC).Extract()
		if err == nil {
			methods = info.ImportMethods.Value
		}
	}
	fallback := func(why string, args ...any) (*images.Image, error) {
		cp.log.DebugContext(ctx, "geostack: image copy streams instead of web-download", cp.attrs(slog.String("why", fmt.Sprintf(why, args...)))...)
		return nil, nil
	}
	if !slices.Contains(methods, string(imageimport.WebDownloadMethod)) {
		return fallback("%s does not offer web-download", cp.dst)
	}
	uri := cp.webDownloadURI()
	err := imageimport.Create(ctx, cp.dstSC, cp.created, imageimport.CreateOpts{Name: imageimport.WebDownloadMethod, URI: uri}).ExtractErr()
	var code gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &code) && code.Actual >= 400 && code.Actual < 500 {
		return fallback("%s refused the import: %d", cp.dst, code.Actual)
	}
	if err != nil {
		return nil, err
	}
	cp.log.DebugContext(ctx, "geostack: image copy by web-download", cp.attrs(slog.String("uri", uri))...)
	if cp.opts.Progress != nil {
		cp.opts.Progress(0, cp.want.size)
	}
	interval := cmp.Or(cp.opts.PollInterval, 2*time.Second)
	for {
		img, err := images.Get(ctx, cp.dstSC, cp.created).Extract()
		if err != nil {
			return nil, err
		}
		_, importing := img.Properties["os_glance_import_task"]
		switch {
		case img.Status == images.ImageStatusActive:
			if err := cp.verify(img); err != nil {
				return nil, err
			}
			return cp.done(ctx, img, "web-download"), nil
		case img.Status == images.ImageStatusQueued && !importing:
			// Glance puts the image back to queued when its task fails.
			return fallback("%s could not fetch %s", cp.dst, uri)
		case img.Status != images.ImageStatusQueued && img.Status != images.ImageStatusImporting:
			return nil, fmt.Errorf("web-download: the copy is %s", img.Status)
		}
		if err := sleep(ctx, cp.clock, interval); err != nil {
			return nil, err
		}
	}
}

// sleep waits d on clk, or until ctx ends.
func sleep(ctx context.Context, clk clock.Clock, d time.Duration) error {
	ch := make(chan struct{})
	t := clk.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}
