// Command imagecopy copies an image from one region to another with
// geostack's Client.CopyImage: the data stream from the source region's
// Glance into the destination's, hashed on the way, in constant memory.
//
// With no flags it starts the embedded fake cloud, uploads a 32 MiB image
// of a gnc user into TYO1, and then:
//
//   - interrupts a copy to SJC1 half-way: nothing is left in SJC1;
//   - copies it to SJC1, and shows what the copy kept of the source;
//   - tries again: the completed copy is found, nothing is copied;
//   - copies it to SIN1 by web-download: SIN1's Glance fetches the data
//     from TYO1's web share itself, and the hashes are still checked;
//   - copies it to OSA1 while TYO1 corrupts one byte of the stream: the
//     copy is refused before it completes, and nothing is left in OSA1.
//
// On a real cloud:
//
//	go run ./examples/imagecopy -cloud NAME -config geostack.json -from TYO1 -to SJC1 [-image ID] [-web-share URL]
//
// copies -image (or a scratch image of -size-mib it uploads first) from
// -from to -to, after interrupting a first try. -web-share is an URL
// template of the operator's web share of -from's store ("{id}" is the
// image id), for a second copy by web-download into -to. The scratch image
// and every copy of it are deleted at the end, unless -keep.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
)

type options struct {
	demo.Flags
	from, to, image, webShare string
	sizeMiB                   int
	keep                      bool

	cfg geostack.Config // set by run
}

// domainOf is the id of the configuration's domain, if it has one.
func domainOf(cfg geostack.Config) (string, bool) {
	if cfg.Domains == nil || cfg.Domain == "" {
		return "", false
	}
	d, ok := cfg.Domains.ByName(cfg.Domain)
	return d.ID, ok
}

func main() {
	var o options
	o.Register(flag.CommandLine)
	flag.StringVar(&o.from, "from", "TYO1", "source region")
	flag.StringVar(&o.to, "to", "SJC1", "destination region")
	flag.StringVar(&o.image, "image", "", "id of the image to copy; empty uploads a scratch image")
	flag.IntVar(&o.sizeMiB, "size-mib", 32, "size of the scratch image")
	flag.StringVar(&o.webShare, "web-share", "", `URL template of the source region's web share, such as "http://share.example/{id}" (real cloud)`)
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch image and its copies")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "imagecopy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, o options) error {
	env, err := demo.Start(o.Flags, geostacktest.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Base
	if env.Fake != nil {
		cfg.Credential, cfg.Scope = demo.User("gnc", 1)
		o.from, o.to, o.image, o.keep = "TYO1", "SJC1", "", true
		o.webShare = env.Fake.ImageShareURL("TYO1") + "/{id}"
		fmt.Fprintf(out, "fake cloud: regions %s\n", strings.Join(env.Fake.Regions(), ", "))
	}
	methods := &methodLog{}
	cfg.Logger = slog.New(methods) // records how each copy went
	o.cfg = cfg
	client, err := geostack.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer client.Close()

	// The source: the image given, or a scratch one uploaded now.
	src, err := source(ctx, out, client, o)
	if err != nil {
		return err
	}
	ref := geostack.ImageRef{Region: o.from, ID: src.ID}
	fmt.Fprintf(out, "source: %s in %s, %d bytes, %s %s\n", src.Name, o.from, src.SizeBytes,
		src.Properties["os_hash_algo"], short(src.Properties["os_hash_value"]))
	var made []geostack.ImageRef // what this run made, deleted at the end unless kept
	if o.image == "" && !o.keep {
		made = append(made, ref)
	}
	defer func() {
		for _, r := range slices.Backward(made) {
			if sc, err := client.ServiceClient(context.WithoutCancel(ctx), "image", r.Region); err == nil {
				images.Delete(context.WithoutCancel(ctx), sc, r.ID)
			}
		}
	}()

	// 1. A copy interrupted half-way leaves nothing behind.
	half, cancel := context.WithCancel(ctx)
	var at int64
	_, err = client.CopyImage(half, ref, o.to, geostack.CopyOptions{Progress: func(n, total int64) {
		if n >= total/2 && at == 0 {
			at = n
			cancel()
		}
	}})
	cancel()
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("the interrupted copy: %v, want it canceled", err)
	}
	left, err := copiesIn(ctx, client, o.to, ref)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "interrupted at %d MiB of %d MiB: %v; copies left in %s: %d\n", at>>20, src.SizeBytes>>20, context.Canceled, o.to, len(left))

	// 2. The copy, with its progress. On a real cloud with -web-share, the
	// destination fetches the data itself; on the fake cloud that is
	// shown into a third region below.
	next := int64(0)
	opts := geostack.CopyOptions{Progress: func(n, total int64) {
		if n >= next {
			fmt.Fprintf(out, "  copied %3d MiB of %d MiB\n", n>>20, total>>20)
			next += max(total/4, 1)
		}
	}}
	if env.Fake == nil {
		opts.WebDownloadURL = o.webShare
	}
	cp, err := client.CopyImage(ctx, ref, o.to, opts)
	if err != nil {
		return err
	}
	if o.image == "" && !o.keep {
		made = append(made, geostack.ImageRef{Region: o.to, ID: cp.ID})
	}
	fmt.Fprintf(out, "copy: %s in %s, %s, %d bytes, %s %s the source (by %s)\n", cp.ID, o.to, cp.Status, cp.SizeBytes,
		cp.Properties["os_hash_algo"], matches(cp, src), methods.last())
	fmt.Fprintf(out, "  kept: name %s, %s/%s, min_disk %d, min_ram %d, tags %s, %s\n", cp.Name, cp.DiskFormat, cp.ContainerFormat,
		cp.MinDiskGigabytes, cp.MinRAMMegabytes, strings.Join(cp.Tags, ","), custom(cp))
	fmt.Fprintf(out, "  owner %s (the client's project), %s\n", cp.Owner, cp.Visibility)

	// 3. A second try finds the copy.
	again, err := client.CopyImage(ctx, ref, o.to, geostack.CopyOptions{})
	if err != nil {
		return err
	}
	same := "another copy"
	if again.ID == cp.ID {
		same = "the same copy"
	}
	fmt.Fprintf(out, "second try: %s, %s\n", same, methods.last())

	// 4. On the fake cloud, by web-download into SIN1: its Glance fetches
	// the data from TYO1's web share, and the hashes are still checked.
	if env.Fake != nil {
		wd, err := client.CopyImage(ctx, ref, "SIN1", geostack.CopyOptions{WebDownloadURL: o.webShare, PollInterval: 10 * time.Millisecond})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "copy into SIN1 by %s: %s, %s %s the source\n", methods.last(), wd.Status, wd.Properties["os_hash_algo"], matches(wd, src))
	}

	// 5. On the fake cloud: a stream corrupted on its way is refused.
	if env.Fake != nil {
		env.Fake.SetServiceFault("image", "TYO1", geostacktest.Fault{CorruptDownloadAfter: src.SizeBytes / 3})
		_, err := client.CopyImage(ctx, ref, "OSA1", geostack.CopyOptions{})
		env.Fake.ClearFaults()
		if !errors.Is(err, geostack.ErrImageHashMismatch) {
			return fmt.Errorf("the corrupted copy: %v, want a hash mismatch", err)
		}
		left, err := copiesIn(ctx, client, "OSA1", ref)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "corrupted stream into OSA1: refused, the data did not hash to the source's; copies left in OSA1: %d\n", len(left))
	}
	return nil
}

// source returns the image to copy: o.image, or a scratch image uploaded
// now with a few properties to carry over.
func source(ctx context.Context, out io.Writer, client *geostack.Client, o options) (*images.Image, error) {
	sc, err := client.ServiceClient(ctx, "image", o.from)
	if err != nil {
		return nil, err
	}
	if o.image != "" {
		return images.Get(ctx, sc, o.image).Extract()
	}
	private := images.ImageVisibilityPrivate
	props := map[string]string{"os_distro": "geostack", "hw_disk_bus": "virtio"}
	if d, ok := domainOf(o.cfg); ok {
		props["domain_id"] = d
	}
	im, err := images.Create(ctx, sc, images.CreateOpts{
		Name: "gnc_app", Visibility: &private, DiskFormat: "raw", ContainerFormat: "bare",
		MinDisk: 1, MinRAM: 256, Tags: []string{"imagecopy-example"}, Properties: props,
	}).Extract()
	if err != nil {
		return nil, err
	}
	size := int64(cmp.Or(o.sizeMiB, 32)) << 20
	data := io.LimitReader(rand.NewChaCha8([32]byte{'i', 'm', 'a', 'g', 'e'}), size)
	if err := imagedata.Upload(ctx, sc, im.ID, data).ExtractErr(); err != nil {
		images.Delete(context.WithoutCancel(ctx), sc, im.ID)
		return nil, fmt.Errorf("upload the scratch image: %w", err)
	}
	return images.Get(ctx, sc, im.ID).Extract()
}

// copiesIn returns the client project's images in region that are copies
// of src.
func copiesIn(ctx context.Context, client *geostack.Client, region string, src geostack.ImageRef) ([]string, error) {
	sc, err := client.ServiceClient(ctx, "image", region)
	if err != nil {
		return nil, err
	}
	tok, err := client.Token(ctx)
	if err != nil {
		return nil, err
	}
	if tok.Project == nil {
		return nil, errors.New("the client's token has no project")
	}
	var ids []string
	for _, hidden := range []bool{false, true} {
		pages, err := images.List(sc, images.ListOpts{Owner: tok.Project.ID, Hidden: hidden}).AllPages(ctx)
		if err != nil {
			return nil, err
		}
		all, err := images.ExtractImages(pages)
		if err != nil {
			return nil, err
		}
		for _, im := range all {
			if im.Properties[geostack.CopiedFromProperty] == src.String() {
				ids = append(ids, im.ID)
			}
		}
	}
	return ids, nil
}

// matches says whether a copy's hashes are the source's.
func matches(cp, src *images.Image) string {
	if cp.Properties["os_hash_value"] == src.Properties["os_hash_value"] && cp.Checksum == src.Checksum {
		return "matches"
	}
	return "does not match"
}

// custom lists the copy's custom properties, sorted, without those Glance
// sets itself (its hashes, and the import's status after web-download).
func custom(im *images.Image) string {
	var kv []string
	for k, v := range im.Properties {
		if s, ok := v.(string); ok && !strings.HasPrefix(k, "os_hash") && !strings.HasPrefix(k, "os_glance") {
			kv = append(kv, k+"="+s)
		}
	}
	slices.Sort(kv)
	return strings.Join(kv, ", ")
}

func short(v any) string {
	s, _ := v.(string)
	if len(s) > 12 {
		return s[:12] + "…"
	}
	return s
}

// methodLog is a slog.Handler that keeps how each copy went, from
// CopyImage's debug records: "stream" or "web-download" when a copy was
// made, "found complete" when an earlier one was found.
type methodLog struct {
	mu      sync.Mutex
	methods []string
}

func (m *methodLog) Enabled(_ context.Context, l slog.Level) bool { return true }
func (m *methodLog) WithAttrs([]slog.Attr) slog.Handler           { return m }
func (m *methodLog) WithGroup(string) slog.Handler                { return m }

func (m *methodLog) Handle(_ context.Context, r slog.Record) error {
	method := ""
	switch r.Message {
	case "geostack: image copy found complete":
		method = "found complete, nothing copied"
	case "geostack: image copy done":
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "method" {
				method = a.Value.String()
			}
			return true
		})
	default:
		return nil
	}
	m.mu.Lock()
	m.methods = append(m.methods, method)
	m.mu.Unlock()
	return nil
}

func (m *methodLog) last() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.methods) == 0 {
		return "?"
	}
	return m.methods[len(m.methods)-1]
}
