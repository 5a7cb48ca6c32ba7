package geostack

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func hexOf(sum []byte) string { return hex.EncodeToString(sum) }

// TestVerifier covers what a fake Glance cannot serve: a source from before
// os_hash (MD5 only), a stream longer or shorter than the size, another
// algorithm.
func TestVerifier(t *testing.T) {
	t.Parallel()
	data := bytes.Repeat([]byte("geostack"), 200_000) // 1.6 MB: one progress call
	s512, s256, m := sha512.Sum512(data), sha256.Sum256(data), md5.Sum(data)
	n := int64(len(data))
	errDrop := errors.New("connection reset")
	tests := []struct {
		name     string
		r        io.Reader
		want     sourceSums
		wantErr  error // nil: the stream ends with io.EOF
		progress bool
	}{
		{"sha512", bytes.NewReader(data), sourceSums{size: n, checksum: hexOf(m[:]), algo: "sha512", value: hexOf(s512[:])}, nil, true},
		{"sha256", bytes.NewReader(data), sourceSums{size: n, algo: "sha256", value: hexOf(s256[:])}, nil, true},
		{"md5 only, from before os_hash", bytes.NewReader(data), sourceSums{size: n, checksum: hexOf(m[:])}, nil, true},
		{"md5 only, mismatch", bytes.NewReader(data), sourceSums{size: n, checksum: strings.Repeat("0", 32)}, ErrImageHashMismatch, true},
		{"os_hash mismatch", bytes.NewReader(data), sourceSums{size: n, checksum: hexOf(m[:]), algo: "sha512", value: "00"}, ErrImageHashMismatch, true},
		{"shorter than the size", bytes.NewReader(data[:n-1]), sourceSums{size: n, algo: "sha512", value: hexOf(s512[:])}, ErrImageHashMismatch, true},
		{"longer than the size", bytes.NewReader(append(data, 'x')), sourceSums{size: n, algo: "sha512", value: hexOf(s512[:])}, ErrImageHashMismatch, true},
		{"source drops", io.MultiReader(bytes.NewReader(data[:1000]), iotestErr{errDrop}), sourceSums{size: n, algo: "sha512", value: hexOf(s512[:])}, errDrop, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var last [2]int64
			v := newVerifier(tt.r, "TYO1", tt.want, func(c, total int64) { last = [2]int64{c, total} }, func(int64) {})
			_, err := io.Copy(io.Discard, v) // io.Copy stops at io.EOF, returns any other error
			if tt.wantErr == nil {
				if err != nil || !v.complete || v.n != n {
					t.Fatalf("copy: %v after %d bytes (complete %v), want all %d", err, v.n, v.complete, n)
				}
			} else if !errors.Is(err, tt.wantErr) || v.complete || !errors.Is(v.err, tt.wantErr) {
				t.Fatalf("copy: %v (kept %v), want %v", err, v.err, tt.wantErr)
			}
			if tt.progress && last[1] != n {
				t.Errorf("last progress %v, want the total %d", last, n)
			}
		})
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

func TestCopyMetadataRules(t *testing.T) {
	t.Parallel()
	src := &images.Image{
		ID: "s", Name: "gnc_web", DiskFormat: "qcow2", ContainerFormat: "bare", MinDiskGigabytes: 10, MinRAMMegabytes: 512,
		Tags: []string{"a"}, Hidden: true, Protected: true, Owner: "someone", Visibility: images.ImageVisibilityPublic,
		Properties: map[string]any{
			"domain_id": "gnc-id", "hw_disk_bus": "scsi", "drop_me": "x",
			"os_hash_algo": "sha512", "os_hash_value": "abc", "stores": "file", "direct_url": "file:///x",
			"os_glance_importing_to_stores": "", "os_glance_failed_import": "", "locations": []any{},
			CopiedFromProperty: "OSA1/older", "virtual_size": 1.0, "owner_specified.openstack.md5": "m",
		},
	}
	cp := &imageCopy{src: ImageRef{Region: "TYO1", ID: "s"}, source: src,
		opts: CopyOptions{Properties: map[string]string{"hw_disk_bus": "virtio"}, DropProperties: []string{"drop_me"}}}
	got := cp.createOpts()
	private, hidden := images.ImageVisibilityPrivate, true
	want := images.CreateOpts{
		Name: "gnc_web", Visibility: &private, Hidden: &hidden, Tags: []string{"a"}, DiskFormat: "qcow2", ContainerFormat: "bare",
		MinDisk: 10, MinRAM: 512,
		Properties: map[string]string{"domain_id": "gnc-id", "hw_disk_bus": "virtio", "owner_specified.openstack.md5": "m",
			CopiedFromProperty: "TYO1/s"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("create options (-want +got):\n%s", diff)
	}
}
