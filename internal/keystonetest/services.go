package keystonetest

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// EnvServices names the JSON description written by scripts/services-up.sh
// (STATE/services.json; STATE/services.env exports it).
const EnvServices = "GEOSTACK_SERVICES"

// ServicesSchemaVersion is the version of services.json this package reads.
const ServicesSchemaVersion = 1

// Services describes the real Glance, Cinder and Nova APIs that
// scripts/services-up.sh runs next to the Keystone of an Env, and the world it
// seeded in them. It mirrors services.json; the field names are that file's
// keys. It holds no secret: the services' credentials stay in their
// configuration files.
type Services struct {
	// Schema is the description's format version (ServicesSchemaVersion).
	Schema int `json:"schema"`
	// KeystoneAdminID is the id of the admin user of the Keystone the services
	// are registered in and validate tokens at (Env.Admin.ID).
	KeystoneAdminID string `json:"keystone_admin_id"`
	// Versions maps "glance", "cinder" and "nova" to the installed package
	// version without its epoch, e.g. "25.1.0-2+deb12u5".
	Versions map[string]string `json:"versions"`
	// Workers is the number of worker processes each service forks.
	Workers int `json:"workers"`
	// Instances are the running API servers: glance-TYO1, glance-SJC1,
	// cinder-TYO1 and nova-TYO1.
	Instances []ServiceInstance `json:"instances"`
	// Endpoints maps region, catalog service type ("image", "volumev3",
	// "compute") and interface ("public", "internal", "admin") to the URL
	// registered in Keystone's catalog. volumev3 URLs end in the template
	// "$(project_id)s", as Keystone stores them.
	Endpoints map[string]map[string]map[string]string `json:"endpoints"`
	// Placeholders maps each region to the catalog service types whose
	// endpoints there are still keystone-seed.py's closed-port placeholders.
	Placeholders map[string][]string `json:"placeholders"`

	// Images maps each Glance region to the images seeded there, in the order
	// they were created. Both regions hold the same names and kinds, with
	// different ids.
	Images map[string][]Image `json:"images"`
	// Flavors are the flavors seeded in Nova (TYO1).
	Flavors []Flavor `json:"flavors"`
	// VolumeTypes are Cinder's (TYO1) volume types: its own __DEFAULT__ (kind
	// "builtin") and the seeded ones.
	VolumeTypes []VolumeType `json:"volume_types"`

	// StateDir holds the services' configuration, databases, stores, pid
	// files and logs under StateDir/services.
	StateDir string `json:"state_dir"`
	// ScriptsDir holds services-up.sh and services-down.sh.
	ScriptsDir string `json:"scripts_dir"`
}

// ServiceInstance is one running API server.
type ServiceInstance struct {
	// Name is "<service>-<region>", e.g. "glance-SJC1".
	Name string `json:"name"`
	// Service is "glance", "cinder" or "nova"; ServiceType its catalog type.
	Service     string `json:"service"`
	ServiceType string `json:"service_type"`
	// Region is the OpenStack region it serves; Location the Keystone location
	// the region belongs to, whose AuthURL validates the tokens it receives.
	Region   string `json:"region"`
	Location string `json:"location"`
	AuthURL  string `json:"auth_url"`
	// Port is its loopback port; Endpoints its catalog URL per interface.
	Port      int               `json:"port"`
	Endpoints map[string]string `json:"endpoints"`
	// VersionURL is its version document, which answers without a token.
	VersionURL string `json:"version_url"`
	// PID is the parent process; WorkerPIDs the workers it forked at start.
	PID        int   `json:"pid"`
	WorkerPIDs []int `json:"worker_pids"`
	// Config and Log are its configuration file and log.
	Config string `json:"config"`
	Log    string `json:"log"`
}

// Image is a seeded Glance image.
type Image struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind says what the image stands for: "default-public",
	// "domain-public", "prefix-only-public", "domain-id-only-public",
	// "filler" (all published by the operator), "member-private",
	// "member-private-forged", "member-shared-accepted",
	// "member-shared-pending", "member-community" or
	// "member-community-forged" (see scripts/README.md).
	Kind       string `json:"kind"`
	Visibility string `json:"visibility"`
	// Owner is the owner project's id; OwnerName its name. CreatedBy is the
	// user that created it ("admin", "gncu00000001" or "zjpu00000001").
	Owner     string `json:"owner"`
	OwnerName string `json:"owner_name"`
	CreatedBy string `json:"created_by"`
	Status    string `json:"status"`
	Size      int64  `json:"size"`
	// Checksum is Glance's MD5 of the data; OSHashValue its OSHashAlgo hash.
	Checksum    string `json:"checksum"`
	OSHashAlgo  string `json:"os_hash_algo"`
	OSHashValue string `json:"os_hash_value"`
	// Properties are the custom properties the seed set (domain_id or none).
	Properties map[string]string `json:"properties"`
	// Members are the projects a shared image is shared with.
	Members []ImageMember `json:"members"`
}

// ImageMember is a project an image is shared with and the status that
// project set ("accepted"), or "pending" when it did not answer.
type ImageMember struct {
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name"`
	Status      string `json:"status"`
}

// Flavor is a seeded Nova flavor. Kind is "public-shared",
// "public-prefixed", "private-domain", "private-unprefixed" or
// "private-unshared". Access lists the project ids with flavor access to a
// private flavor.
type Flavor struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	IsPublic bool     `json:"is_public"`
	Access   []string `json:"access"`
	RAM      int      `json:"ram"`
	VCPUs    int      `json:"vcpus"`
	Disk     int      `json:"disk"`
}

// VolumeType is a Cinder volume type, with the kinds of Flavor plus
// "builtin" for Cinder's own __DEFAULT__. Access lists the project ids with
// type access to a private one.
type VolumeType struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	IsPublic bool     `json:"is_public"`
	Access   []string `json:"access"`
}

// ErrServicesNotConfigured is returned by ReadServicesFile for an empty path.
var ErrServicesNotConfigured = errors.New("keystonetest: " + EnvServices + " is not set")

// Services returns the services described by $GEOSTACK_SERVICES, which must
// be attached to e's Keystone. Without the variable the test is skipped, or
// fails when integration is required (see Required). A description that
// cannot be read, is invalid or belongs to another Keystone always fails the
// test.
func (e *Env) Services(t testing.TB) *Services {
	t.Helper()
	return e.services(t, os.Getenv)
}

func (e *Env) services(t testing.TB, getenv func(string) string) *Services {
	t.Helper()
	path := getenv(EnvServices)
	if path == "" {
		skipOrFail(t, getenv, EnvServices, "real Glance, Cinder and Nova (run scripts/services-up.sh, then . .ci/state/services.env)")
	}
	s, err := ReadServicesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.KeystoneAdminID != e.Admin.ID {
		t.Fatalf("keystonetest: %s belongs to another Keystone than %s (Keystone was set up again since scripts/services-up.sh ran; run it again)", path, EnvKeystone)
	}
	return s
}

// ReadServicesFile reads and checks a description written by
// scripts/services-up.sh.
func ReadServicesFile(path string) (*Services, error) {
	if path == "" {
		return nil, ErrServicesNotConfigured
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keystonetest: read services description: %w", err)
	}
	s, err := ParseServices(b)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return s, nil
}

// ParseServices decodes and checks a services description. It rejects
// unknown fields, so that Services keeps mirroring what the script writes.
func ParseServices(b []byte) (*Services, error) {
	var s Services
	if err := decodeStrict(b, "services description", &s); err != nil {
		return nil, err
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

var interfaces = []string{"public", "internal", "admin"}

func (s *Services) validate() error {
	switch {
	case s.Schema != ServicesSchemaVersion:
		return fmt.Errorf("keystonetest: services description schema %d, want %d", s.Schema, ServicesSchemaVersion)
	case s.KeystoneAdminID == "":
		return errors.New("keystonetest: services description does not name its Keystone")
	case len(s.Instances) == 0:
		return errors.New("keystonetest: services description has no instances")
	}
	for _, in := range s.Instances {
		if in.Name == "" || in.Region == "" || in.ServiceType == "" || in.PID <= 0 {
			return fmt.Errorf("keystonetest: services description has an incomplete instance %q", in.Name)
		}
		for _, iface := range interfaces {
			url := in.Endpoints[iface]
			if url == "" {
				return fmt.Errorf("keystonetest: instance %s has no %s endpoint", in.Name, iface)
			}
			if got := s.Endpoints[in.Region][in.ServiceType][iface]; got != url {
				return fmt.Errorf("keystonetest: instance %s's %s endpoint differs from endpoints[%s][%s]", in.Name, iface, in.Region, in.ServiceType)
			}
		}
		if in.ServiceType == "image" && len(s.Images[in.Region]) == 0 {
			return fmt.Errorf("keystonetest: services description has no images for %s", in.Name)
		}
	}
	return nil
}

// Instance returns the instance called name, e.g. "glance-SJC1".
func (s *Services) Instance(name string) (ServiceInstance, bool) {
	for _, in := range s.Instances {
		if in.Name == name {
			return in, true
		}
	}
	return ServiceInstance{}, false
}

// Regions returns the regions where a service of serviceType runs, in the
// order of Instances.
func (s *Services) Regions(serviceType string) []string {
	var rs []string
	for _, in := range s.Instances {
		if in.ServiceType == serviceType {
			rs = append(rs, in.Region)
		}
	}
	return rs
}

// Endpoint returns the catalog URL of serviceType in region for iface
// ("public", "internal", "admin"), or "" where no real service runs. A
// volumev3 URL still holds the "$(project_id)s" template.
func (s *Services) Endpoint(region, serviceType, iface string) string {
	return s.Endpoints[region][serviceType][iface]
}

// ImagesNamed returns the images seeded in region under name. Names are not
// unique: "ubuntu-22.04" is both the operator's public image and a member's
// forged community image.
func (s *Services) ImagesNamed(region, name string) []Image {
	var out []Image
	for _, im := range s.Images[region] {
		if im.Name == name {
			out = append(out, im)
		}
	}
	return out
}

// Flavor returns the seeded flavor called name.
func (s *Services) Flavor(name string) (Flavor, bool) {
	for _, f := range s.Flavors {
		if f.Name == name {
			return f, true
		}
	}
	return Flavor{}, false
}

// VolumeType returns the volume type called name.
func (s *Services) VolumeType(name string) (VolumeType, bool) {
	for _, v := range s.VolumeTypes {
		if v.Name == name {
			return v, true
		}
	}
	return VolumeType{}, false
}
