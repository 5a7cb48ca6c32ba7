package domain

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckImageName(t *testing.T) {
	t.Parallel()
	reg := testRegistry(t)
	tests := []struct {
		name     string
		prefixed bool
		image    string
		want     *NameError // nil: accepted
	}{
		{name: "any name without the policy", image: "my-snapshot"},
		{name: "another domain's name without the policy", image: "zjp_ubuntu"},
		{name: "own resource name", prefixed: true, image: "gnc_snapshot"},
		{name: "unprefixed", prefixed: true, image: "my-snapshot",
			want: &NameError{Kind: "image", Name: "my-snapshot", Domain: "gnc", Want: `start with "gnc_" and have at least one more character`}},
		{name: "another domain's", prefixed: true, image: "zjp_ubuntu",
			want: &NameError{Kind: "image", Name: "zjp_ubuntu", Domain: "gnc", Want: `start with "gnc_" and have at least one more character`}},
		{name: "prefix without separator", prefixed: true, image: "gncsnapshot",
			want: &NameError{Kind: "image", Name: "gncsnapshot", Domain: "gnc", Want: `start with "gnc_" and have at least one more character`}},
		{name: "bare prefix and separator", prefixed: true, image: "gnc_",
			want: &NameError{Kind: "image", Name: "gnc_", Domain: "gnc", Want: `start with "gnc_" and have at least one more character`}},
		{name: "case differs", prefixed: true, image: "GNC_x",
			want: &NameError{Kind: "image", Name: "GNC_x", Domain: "gnc", Want: `start with "gnc_" and have at least one more character`}},
		{name: "empty", prefixed: true, image: "",
			want: &NameError{Kind: "image", Name: "", Domain: "gnc", Want: `start with "gnc_" and have at least one more character`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := reg.Filter("gnc", Policy{PrefixedImageNames: tt.prefixed})
			if err != nil {
				t.Fatal(err)
			}
			err = f.CheckImageName(tt.image)
			checkNameError(t, tt.want, err)
		})
	}
}

func TestCheckAccountName(t *testing.T) {
	t.Parallel()
	f, err := testRegistry(t).Filter("zjp", Policy{})
	if err != nil {
		t.Fatal(err)
	}
	want := func(kind, name string) *NameError {
		return &NameError{Kind: kind, Name: name, Domain: "zjp", Want: `start with "zjp" and have at least one more character`}
	}
	tests := []struct {
		kind, name string
		want       *NameError
	}{
		{"user", "zjpu00000009", nil},
		{"project", "zjpt00000009", nil},
		{"user", "zjp_x", nil}, // an account name is the bare prefix and anything
		{"user", "zjp", want("user", "zjp")},
		{"user", "gncu00000009", want("user", "gncu00000009")},
		{"project", "ZJPt1", want("project", "ZJPt1")},
		{"project", "", want("project", "")},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			checkNameError(t, tt.want, f.CheckAccountName(tt.kind, tt.name))
		})
	}
}

func checkNameError(t *testing.T, want *NameError, err error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var ne *NameError
	if !errors.As(err, &ne) || !errors.Is(err, ErrOutsideNamespace) {
		t.Fatalf("error %T %v, want a *NameError matching ErrOutsideNamespace", err, err)
	}
	if diff := cmp.Diff(want, ne); diff != "" {
		t.Errorf("NameError (-want +got):\n%s", diff)
	}
}

func TestNameErrorMessage(t *testing.T) {
	t.Parallel()
	f, err := testRegistry(t).Filter("gnc", Policy{PrefixedImageNames: true})
	if err != nil {
		t.Fatal(err)
	}
	got := f.CheckImageName("centos").Error()
	want := `domain: image name "centos" is outside the namespace of domain "gnc": names must start with "gnc_" and have at least one more character`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if p := f.DomainIDProperty(); p != "domain_id" {
		t.Errorf("DomainIDProperty = %q, want domain_id", p)
	}
}
