// Command proxy runs gnc's API wrapper proxies (domain/proxy) in front of
// the embedded fake cloud: image, compute and volume in TYO1, and identity
// at SG, whose catalog leads clients to the others. With no flags it sends
// them a few requests with gophercloud, as gnc's and zjp's users, prints
// what each got, and exits; with -serve it keeps serving and prints the
// environment for the openstack CLI.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/domain/proxy"
	"github.com/geostack/geostack/examples/internal/demo"
	"github.com/geostack/geostack/geostacktest"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/region"
)

func main() {
	serve := flag.Bool("serve", false, "keep serving, for the openstack CLI, until interrupted")
	addr := flag.String("addr", "127.0.0.1:0", "address the proxies listen at")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, *addr, *serve); err != nil {
		fmt.Fprintln(os.Stderr, "proxy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, addr string, serve bool) error {
	env, err := demo.Start(demo.Flags{}, geostacktest.Options{})
	if err != nil {
		return err
	}
	defer env.Close()
	fake := env.Fake
	gnc, _ := env.Base.Domains.ByName("gnc")

	// The domain's rules: a Default-domain public image is shared, gnc's
	// users name their images gnc_….
	filter, err := env.Base.Domains.Filter("gnc", domain.Policy{PrefixedImageNames: true})
	if err != nil {
		return err
	}
	// Tokens are validated at gnc's admin endpoint in SG, as a SaaS
	// backend would, and must be gnc's.
	svcCred, svcScope := fake.ServiceCredential()
	validator, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{gnc}, Home: "SG", Primary: env.Base.Primary,
		ServiceCredential: svcCred, ServiceScope: svcScope,
	})
	if err != nil {
		return err
	}
	defer validator.Close()
	resolver, err := region.New(region.Config{Locations: env.Base.Locations, Primary: env.Base.Primary})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mount := func(prefix string, cfg proxy.Config) error {
		cfg.Filter, cfg.Validator, cfg.Prefix = filter, validator, prefix
		p, err := proxy.New(cfg)
		if err != nil {
			return err
		}
		mux.Handle(prefix+"/", p)
		mux.Handle(prefix, p)
		return nil
	}
	// The services of TYO1, and the catalog rewrite that leads clients
	// of the identity proxy to them: every interface of each.
	var rewrites []proxy.Rewrite
	for _, s := range []struct{ svc, path string }{{proxy.Image, "image"}, {proxy.Compute, "compute"}, {proxy.BlockStorage, "volume"}} {
		prefix := "/gnc/TYO1/" + s.path
		if err := mount(prefix, proxy.Config{Service: s.svc, Upstream: fake.URL("JP") + "/TYO1/" + s.path, Home: "JP"}); err != nil {
			return err
		}
		for _, iface := range []string{"", "/internal", "/admin"} {
			rewrites = append(rewrites, proxy.Rewrite{From: fake.URL("JP") + iface + "/TYO1/" + s.path, To: base + prefix})
		}
	}
	for _, loc := range fake.Locations() {
		for _, u := range []string{fake.AuthURL(loc), fake.AdminAuthURL(loc)} {
			rewrites = append(rewrites, proxy.Rewrite{From: strings.TrimSuffix(u, "/v3"), To: base + "/gnc/identity"})
		}
	}
	if err := mount("/gnc/identity", proxy.Config{Service: proxy.Identity, Resolver: resolver, Home: "SG", Catalog: rewrites}); err != nil {
		return err
	}
	// gncu00000002 administers the gnc domain (as seeded): it creates
	// gnc's users.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	authURL := base + "/gnc/identity/v3"
	fmt.Fprintf(out, "gnc's proxies over the fake cloud at %s: /gnc/identity (SG), /gnc/TYO1/{image,compute,volume}\n", base)

	if serve {
		fmt.Fprintf(out, "for the openstack CLI:\n  export OS_AUTH_URL=%s OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=TYO1 OS_INTERFACE=public \\\n"+
			"    OS_USERNAME=gncu00000001 OS_PASSWORD=%s OS_USER_DOMAIN_NAME=gnc OS_PROJECT_NAME=gnct00000001 OS_PROJECT_DOMAIN_NAME=gnc\n"+
			"  openstack image list\n"+
			"gnc's domain admin: OS_USERNAME=gncu00000002 OS_DOMAIN_NAME=gnc, without OS_PROJECT_NAME\n"+
			"(interrupt to stop)\n", authURL, geostacktest.UserPassword)
		<-ctx.Done()
		return nil
	}
	return tour(ctx, out, fake, authURL)
}

// tour sends the proxies a few requests with gophercloud, led by the
// catalog of a token issued at the identity proxy, and prints the answers.
func tour(ctx context.Context, out io.Writer, fake *geostacktest.Server, authURL string) error {
	login := func(dom string) (*gophercloud.ProviderClient, error) {
		return openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
			IdentityEndpoint: authURL, Username: dom + "u00000001", DomainName: dom, Password: geostacktest.UserPassword,
			Scope: &gophercloud.AuthScope{ProjectName: dom + "t00000001", DomainName: dom},
		})
	}
	pc, err := login("gnc")
	if err != nil {
		return err
	}
	eo := gophercloud.EndpointOpts{Region: "TYO1"}
	ic, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		return err
	}
	cc, err := openstack.NewComputeV2(pc, eo)
	if err != nil {
		return err
	}
	bc, err := openstack.NewBlockStorageV3(pc, eo)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "catalog of a token issued at the identity proxy: image %s\n", strings.TrimSuffix(ic.Endpoint, "/"))

	var imgs, fls, vts []string
	pages, err := images.List(ic, images.ListOpts{Limit: 2}).AllPages(ctx)
	if err != nil {
		return err
	}
	all, err := images.ExtractImages(pages)
	if err != nil {
		return err
	}
	for _, im := range all {
		imgs = append(imgs, im.Name)
	}
	fpages, err := flavors.ListDetail(cc, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	fall, err := flavors.ExtractFlavors(fpages)
	if err != nil {
		return err
	}
	for _, f := range fall {
		fls = append(fls, f.Name)
	}
	vpages, err := volumetypes.List(bc, nil).AllPages(ctx)
	if err != nil {
		return err
	}
	vall, err := volumetypes.ExtractVolumeTypes(vpages)
	if err != nil {
		return err
	}
	for _, v := range vall {
		vts = append(vts, v.Name)
	}
	for _, l := range []struct {
		label string
		names []string
	}{{"images", imgs}, {"flavors", fls}, {"volume types", vts}} {
		slices.Sort(l.names)
		fmt.Fprintf(out, "  %-14s %s\n", l.label+":", strings.Join(l.names, ", "))
	}

	_, err = images.Get(ctx, ic, fake.ImageID("zjp_centos")).Extract()
	fmt.Fprintf(out, "zjp_centos by id:         %s\n", status(err))
	_, err = images.Get(ctx, ic, fake.ImageID(geostacktest.PlantedImage)).Extract()
	fmt.Fprintf(out, "%s by id: %s\n", geostacktest.PlantedImage, status(err))
	_, err = images.Create(ctx, ic, images.CreateOpts{Name: "centos"}).Extract()
	fmt.Fprintf(out, "create image \"centos\":    %s\n", status(err))
	img, err := images.Create(ctx, ic, images.CreateOpts{Name: "gnc_tools", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		return err
	}
	domainID, _ := img.Properties["domain_id"].(string)
	fmt.Fprintf(out, "create image \"gnc_tools\": 201, domain_id is gnc's: %v\n", domainID == fake.Domain("gnc").ID)
	data := bytes.Repeat([]byte("geostack"), 1<<17) // 1 MiB
	if err := imagedata.Upload(ctx, ic, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
		return err
	}
	rc, err := imagedata.Download(ctx, ic, img.ID).Extract()
	if err != nil {
		return err
	}
	back, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "upload and download 1 MiB: same bytes: %v\n", bytes.Equal(back, data))
	_, err = login("zjp")
	fmt.Fprintf(out, "zjpu00000001 logs in:     %s\n", status(err))

	// gnc's domain admin creates users at the identity proxy in SG; they
	// are written at the primary, JP.
	apc, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: authURL, Username: "gncu00000002", DomainName: "gnc", Password: geostacktest.UserPassword,
		Scope: &gophercloud.AuthScope{DomainName: "gnc"},
	})
	if err != nil {
		return err
	}
	idc, err := openstack.NewIdentityV3(apc, gophercloud.EndpointOpts{Region: "JP"}) // identity lives in the locations (parent regions)
	if err != nil {
		return err
	}
	u, err := users.Create(ctx, idc, users.CreateOpts{Name: "gncu90000001", Password: "a-password"}).Extract()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "create user gncu90000001: 201, in domain gnc: %v\n", u.DomainID == fake.Domain("gnc").ID)
	_, err = users.Create(ctx, idc, users.CreateOpts{Name: "zjpu90000001"}).Extract()
	fmt.Fprintf(out, "create user zjpu90000001: %s\n", status(err))
	return nil
}

// status describes a gophercloud call's outcome by its HTTP status.
func status(err error) string {
	var code gophercloud.ErrUnexpectedResponseCode
	switch {
	case err == nil:
		return "200"
	case errors.As(err, &code):
		return fmt.Sprintf("%d %s", code.Actual, http.StatusText(code.Actual))
	}
	return err.Error()
}
