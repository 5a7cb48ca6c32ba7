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
