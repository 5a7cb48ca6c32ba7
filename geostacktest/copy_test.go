package geostacktest_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exampleFile is an example file of a package: example_test.go or
// example_*_test.go.
var exampleFile = regexp.MustCompile(`^example(_[a-z0-9_]+)?_test\.go$`)

// externalPackage matches the package clause of an external test package.
var externalPackage = regexp.MustCompile(`(?m)^package [a-z0-9]+_test$`)

// TestExamplesCopy is the promise that every Example is a program a user
// can copy: the example files of every public package are copied, as they
// are, into a fresh module that requires geostack (replaced by this
// checkout), with the testdata they read, and their tests run there. An
// Example that used an internal package, or a helper of its package's own
// tests, would not compile there.
func TestExamplesCopy(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go tool is not on PATH")
	}
	checkout, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	var copied []string
	err = filepath.WalkDir(checkout, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(checkout, path)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "internal" || rel == "examples":
				// internal packages are not importable by a user; the
				// example programs are tested by examples_test.go.
				return filepath.SkipDir
			}
			return nil
		}
		if !exampleFile.MatchString(d.Name()) {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Contains(src, []byte("\nfunc Example")) {
			return nil
		}
		if !externalPackage.Match(src) {
			t.Errorf("%s is not in an external test package: a user cannot copy it", rel)
			return nil
		}
		dir := filepath.Join(mod, filepath.Dir(rel))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, d.Name()), src, 0o644); err != nil {
			return err
		}
		if bytes.Contains(src, []byte(`"testdata`)) {
			if err := os.CopyFS(filepath.Join(dir, "testdata"), os.DirFS(filepath.Join(filepath.Dir(path), "testdata"))); err != nil && !os.IsExist(err) {
				return err
			}
		}
		copied = append(copied, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every public package with examples is here; a regression that moved
	// them all away would otherwise pass.
	for _, want := range []string{"example_test.go", "catalog/example_test.go", "domain/example_test.go", "identity/example_test.go",
		"identity/authtoken/example_test.go", "region/example_test.go", "tokencache/example_test.go", "geostacktest/example_test.go",
		"observe/example_test.go", "otelgeostack/example_test.go", "wirelog/example_test.go"} {
		found := false
		for _, c := range copied {
			found = found || filepath.ToSlash(c) == want
		}
		if !found {
			t.Errorf("%s was not copied (copied: %v)", want, copied)
		}
	}
	// The example files of the root package are package geostack_test, so
	// the fresh module's root holds them directly.
	gomod := "module example.com/copied\n\ngo 1.26.0\n\nrequire github.com/geostack/geostack v0.0.0\n\nreplace github.com/geostack/geostack => " + checkout + "\n"
	if err := os.WriteFile(filepath.Join(mod, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), goTool, args...)
		cmd.Dir, cmd.Env = mod, env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the fresh module: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("go %s: %s\n%s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond), out)
	}
	run("mod", "tidy")
	run("test", "-count=1", "./...")
}
