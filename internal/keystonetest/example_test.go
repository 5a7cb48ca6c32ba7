package keystonetest_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/geostack/geostack/internal/keystonetest"
)

// A test normally calls Load(t); ReadFile is the same without a testing.TB.
func ExampleReadFile() {
	env, err := keystonetest.ReadFile(filepath.Join("testdata", "keystone.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	user, _ := env.User("gncu00000001")
	fmt.Println("primary:", env.Primary, env.AuthURL(env.Primary))
	fmt.Println("US regions:", env.Regions["US"])
	fmt.Println("user:", user.Name, "in", user.DomainName, "member of", user.ProjectName)
	// Output:
	// primary: JP http://127.0.0.1:5001/v3
	// US regions: [SJC1]
	// user: gncu00000001 in gnc member of gnct00000001
}

// A test normally calls env.Services(t); ReadServicesFile is the same without
// a testing.TB and without the check that the services belong to env's Keystone.
func ExampleReadServicesFile() {
	svc, err := keystonetest.ReadServicesFile(filepath.Join("testdata", "services.json"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	fmt.Println("Glance in:", svc.Regions("image"))
	fmt.Println("SJC1 image:", svc.Endpoint("SJC1", "image", "public"))
	for _, im := range svc.ImagesNamed("TYO1", "gnc_centos_planted") {
		fmt.Println(im.Name, "is", im.Visibility, "and owned by", im.OwnerName)
	}
	// Output:
	// Glance in: [TYO1 SJC1]
	// SJC1 image: http://127.0.0.1:9293/SJC1/public/image
	// gnc_centos_planted is community and owned by zjpt00000001
}
