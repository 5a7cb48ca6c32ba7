package testserver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
)

// Names and secrets of the seeded world built by DefaultWorld.
const (
	// DefaultDomainID is the id of Keystone's Default domain.
	DefaultDomainID = "default"
	// DefaultDomainName is the name of Keystone's Default domain.
	DefaultDomainName = "Default"

	// AdminUser is the cloud administrator in the Default domain. It has the
	// admin role on AdminProject, on the Default domain and on the system.
	AdminUser = "admin"
	// AdminPassword is AdminUser's password.
	AdminPassword = "admin-password"
	// AdminProject is the Default-domain project AdminUser administers.
	AdminProject = "admin"

	// ServiceProject is the Default-domain project of the service users.
	ServiceProject = "service"
	// ServicePassword is the password of every service user (ServiceUsers).
	ServicePassword = "service-password"

	// UserPassword is the password of every seeded domain user (gncu00000001, …).
	UserPassword = "user-password"

	// AppCredName is the name of the seeded application credential, owned by
	// AppCredUser and scoped to AppCredProject with the member role.
	AppCredName = "gnc-app"
	// AppCredSecret is the seeded application credential's secret.
	AppCredSecret = "app-credential-secret"
	// AppCredUser is the user owning the seeded application credential.
	AppCredUser = "gncu00000001"
	// AppCredProject is the project the seeded application credential is scoped to.
	AppCredProject = "gnct00000001"

	// PlantedImage is the name of a community image that zjp's first
	// project published with gnc's prefix and gnc's domain_id: a customer
	// can set both, so gnc users must never see it.
	PlantedImage = "gnc_centos_planted"

	// Role names seeded in every world.
	RoleAdmin   = "admin"
	RoleMember  = "member"
	RoleReader  = "reader"
	RoleService = "service"
)

// ServiceUsers returns the Default-domain service users seeded by
// DefaultWorld: nova, glance, cinder and neutron. Each has the service and
// admin roles on ServiceProject and the password ServicePassword.
func ServiceUsers() []string { return []string{"nova", "glance", "cinder", "neutron"} }

// ProductDomains returns the product domains seeded by DefaultWorld: gnc,
// zjp and zsg. Each one's name is also its prefix: users gncu00000001…,
// projects gnct00000001…, images gnc_centos…, flavors gnc_g-1gb…, volume
// types gnc_ssd….
func ProductDomains() []string { return []string{"gnc", "zjp", "zsg"} }

// UsersPerDomain is how many users (and projects) DefaultWorld seeds in each
// product domain.
const UsersPerDomain = 3

// Location is a place holding one Keystone and one or more regions.
type Location struct {
	Name    string   // "JP"; also a Keystone region, parent of Regions
	Regions []string // "TYO1", "OSA1"
}

// Domain is a Keystone domain.
type Domain struct {
	ID     string
	Name   string
	Prefix string // name prefix of the domain's users, projects, images, flavors, volume types
}

// User is a Keystone user.
type User struct {
	ID       string
	Name     string
	DomainID string
	Password string
	// Disabled users cannot authenticate and their tokens stop validating.
	Disabled bool
}

// Project is a Keystone project.
type Project struct {
	ID       string
	Name     string
	DomainID string
}

// RoleAssignment grants the role named Role to UserID on exactly one of
// ProjectID, DomainID or the system.
type RoleAssignment struct {
	UserID    string
	Role      string
	ProjectID string
	DomainID  string
	System    bool
}

// ApplicationCredential is a Keystone application credential: a secret that
// authenticates as UserID scoped to ProjectID with Roles.
type ApplicationCredential struct {
	ID        string
	Name      string
	UserID    string
	ProjectID string
	Secret    string
	Roles     []string
}

// Image is a glance v2 image, seeded active with its data. The i-th image
// of a World was created a second after the one before it, so that
// Glance's default order, newest first, is the reverse of the World's.
type Image struct {
	ID         string
	Name       string
	Owner      string // project id
	Visibility string // public, private, shared, community
	// Properties are extra image properties such as "domain_id"; they are
	// served as top-level image attributes and can be filtered on.
	Properties map[string]string
	// Members maps a project id to its membership status ("accepted",
	// "pending", "rejected") for shared images.
	Members map[string]string

	// Region is the only region whose Glance holds the image; "" seeds it,
	// with the same id, in every region.
	Region string
	// DiskFormat and ContainerFormat default to "raw" and "bare", as the
	// real seed's images have.
	DiskFormat, ContainerFormat string
	// MinDisk (GiB) and MinRAM (MiB) are the boot requirements.
	MinDisk, MinRAM int
	// Data is the image's content. Nil means 4 KiB generated from the id,
	// as much as each image of the real seed holds.
	Data *ImageData
}

// Flavor is a nova flavor. Nova lists a private one (IsPublic false) and
// finds it by id only for the projects in Access (flavor access), and for
// admins.
type Flavor struct {
	ID       string
	Name     string
	VCPUs    int
	RAM      int // MiB
	Disk     int // GiB
	IsPublic bool
	Access   []string // project ids
}

// VolumeType is a cinder volume type. Cinder lists a private one and finds
// it by id only for the projects in Access (type access), and for admins.
// An empty Description is served as null. The type named "__DEFAULT__" is
// Cinder's own default type, which GET /types/default also answers.
type VolumeType struct {
	ID          string
	Name        string
	Description string
	IsPublic    bool
	Access      []string // project ids
}

// Network is a neutron network.
type Network struct {
	ID        string
	Name      string
	ProjectID string
	Shared    bool
	External  bool
}

// World is the content of the fake cloud: its locations, identities and
// service resources. New copies it, so changing a World after New has no
// effect on a running Server.
type World struct {
	// Locations lists the locations; each gets its own listener serving its
	// Keystone and its regions' services.
	Locations []Location
	// Primary is the name of the only location that accepts writes.
	Primary string

	Domains     []Domain
	Users       []User
	Projects    []Project
	Assignments []RoleAssignment
	AppCreds    []ApplicationCredential
	Images      []Image
	Flavors     []Flavor
	VolumeTypes []VolumeType
	Networks    []Network
}

// SeedID returns the deterministic 32-hex-digit id DefaultWorld gives the
// object of the given kind and name; New's generated ids look the same.
func SeedID(kind, name string) string {
	sum := sha256.Sum256([]byte(kind + ":" + name))
	return hex.EncodeToString(sum[:16])
}

// seedUUID returns a deterministic UUID-formatted id, as glance, nova,
// cinder and neutron use.
func seedUUID(kind, name string) string {
	h := SeedID(kind, name)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// DefaultWorld returns the seeded world described in the package
// documentation. Each call returns a fresh copy.
func DefaultWorld() *World {
	w := &World{
		Locations: []Location{
			{Name: "JP", Regions: []string{"TYO1", "OSA1"}},
			{Name: "US", Regions: []string{"SJC1"}},
			{Name: "SG", Regions: []string{"SIN1"}},
		},
		Primary: "JP",
	}
	w.Domains = append(w.Domains, Domain{ID: DefaultDomainID, Name: DefaultDomainName})
	adminProject := Project{ID: SeedID("project", AdminProject), Name: AdminProject, DomainID: DefaultDomainID}
	serviceProject := Project{ID: SeedID("project", ServiceProject), Name: ServiceProject, DomainID: DefaultDomainID}
	w.Projects = append(w.Projects, adminProject, serviceProject)
	admin := User{ID: SeedID("user", AdminUser), Name: AdminUser, DomainID: DefaultDomainID, Password: AdminPassword}
	w.Users = append(w.Users, admin)
	w.Assignments = append(w.Assignments,
		RoleAssignment{UserID: admin.ID, Role: RoleAdmin, ProjectID: adminProject.ID},
		RoleAssignment{UserID: admin.ID, Role: RoleAdmin, DomainID: DefaultDomainID},
		RoleAssignment{UserID: admin.ID, Role: RoleAdmin, System: true},
	)
	for _, name := range ServiceUsers() {
		u := User{ID: SeedID("user", name), Name: name, DomainID: DefaultDomainID, Password: ServicePassword}
		w.Users = append(w.Users, u)
		w.Assignments = append(w.Assignments,
			RoleAssignment{UserID: u.ID, Role: RoleService, ProjectID: serviceProject.ID},
			RoleAssignment{UserID: u.ID, Role: RoleAdmin, ProjectID: serviceProject.ID},
		)
	}
	w.Images = append(w.Images,
		Image{ID: seedUUID("image", "centos-stream-9"), Name: "centos-stream-9", Owner: adminProject.ID, Visibility: "public"},
		Image{ID: seedUUID("image", "ubuntu-24.04"), Name: "ubuntu-24.04", Owner: adminProject.ID, Visibility: "public"},
		Image{ID: seedUUID("image", "debian-12"), Name: "debian-12", Owner: adminProject.ID, Visibility: "public"},
	)
	w.Flavors = append(w.Flavors,
		Flavor{ID: seedUUID("flavor", "m1.small"), Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20, IsPublic: true},
		Flavor{ID: seedUUID("flavor", "m1.medium"), Name: "m1.medium", VCPUs: 2, RAM: 4096, Disk: 40, IsPublic: true},
		Flavor{ID: seedUUID("flavor", "m1.large"), Name: "m1.large", VCPUs: 4, RAM: 8192, Disk: 80, IsPublic: true},
	)
	w.VolumeTypes = append(w.VolumeTypes, VolumeType{ID: seedUUID("volumetype", cinderDefaultType), Name: cinderDefaultType, Description: "Default Volume Type", IsPublic: true})
	w.Networks = append(w.Networks, Network{ID: seedUUID("network", "ext-net"), Name: "ext-net", ProjectID: adminProject.ID, Shared: true, External: true})

	for _, d := range ProductDomains() {
		dom := Domain{ID: SeedID("domain", d), Name: d, Prefix: d}
		w.Domains = append(w.Domains, dom)
		var firstProject string
		for i := 1; i <= UsersPerDomain; i++ {
			uname := fmt.Sprintf("%su%08d", d, i)
			pname := fmt.Sprintf("%st%08d", d, i)
			u := User{ID: SeedID("user", uname), Name: uname, DomainID: dom.ID, Password: UserPassword}
			p := Project{ID: SeedID("project", pname), Name: pname, DomainID: dom.ID}
			if firstProject == "" {
				firstProject = p.ID
			}
			w.Users = append(w.Users, u)
			w.Projects = append(w.Projects, p)
			w.Assignments = append(w.Assignments, RoleAssignment{UserID: u.ID, Role: RoleMember, ProjectID: p.ID})
			if i == 2 {
				// As scripts/keystone-seed.py seeds the real one: the
				// second user administers the domain.
				w.Assignments = append(w.Assignments, RoleAssignment{UserID: u.ID, Role: RoleAdmin, DomainID: dom.ID})
			}
			w.Images = append(w.Images, Image{ID: seedUUID("image", pname+"-backup"), Name: pname + "-backup", Owner: p.ID, Visibility: "private"})
			w.Networks = append(w.Networks, Network{ID: seedUUID("network", "net-"+pname), Name: "net-" + pname, ProjectID: p.ID})
		}
		for _, os := range []string{"centos", "ubuntu"} {
			name := d + "_" + os
			w.Images = append(w.Images, Image{
				ID: seedUUID("image", name), Name: name, Owner: adminProject.ID, Visibility: "public",
				Properties: map[string]string{"domain_id": dom.ID},
			})
		}
		for i, size := range []int{1, 2, 4} {
			name := fmt.Sprintf("%s_g-%dgb", d, size)
			w.Flavors = append(w.Flavors, Flavor{ID: seedUUID("flavor", name), Name: name, VCPUs: i + 1, RAM: size * 1024, Disk: 100, IsPublic: true})
		}
		for _, vt := range []string{"ssd", "hdd"} {
			name := d + "_" + vt
			w.VolumeTypes = append(w.VolumeTypes, VolumeType{ID: seedUUID("volumetype", name), Name: name, Description: d + " " + vt, IsPublic: true})
		}
	}
	// A hostile customer image: zjp's first project publishes a community
	// image that claims to be gnc's, by name and by domain_id. Glance lets
	// any member do that; gnc users must never be shown it.
	w.Images = append(w.Images, Image{
		ID: seedUUID("image", PlantedImage), Name: PlantedImage, Owner: w.Project("zjpt00000001").ID, Visibility: "community",
		Properties: map[string]string{"domain_id": w.Domain("gnc").ID},
	})
	appUser := w.User(AppCredUser)
	w.AppCreds = append(w.AppCreds, ApplicationCredential{
		ID: SeedID("appcred", AppCredName), Name: AppCredName, UserID: appUser.ID,
		ProjectID: w.Project(AppCredProject).ID, Secret: AppCredSecret, Roles: []string{RoleMember},
	})
	return w
}

// Domain returns the domain with the given name or id, or the zero Domain.
func (w *World) Domain(nameOrID string) Domain {
	for _, d := range w.Domains {
		if d.Name == nameOrID || d.ID == nameOrID {
			return d
		}
	}
	return Domain{}
}

// User returns the first user with the given name or id, or the zero User.
func (w *World) User(nameOrID string) User {
	for _, u := range w.Users {
		if u.Name == nameOrID || u.ID == nameOrID {
			return u
		}
	}
	return User{}
}

// Project returns the first project with the given name or id, or the zero Project.
func (w *World) Project(nameOrID string) Project {
	for _, p := range w.Projects {
		if p.Name == nameOrID || p.ID == nameOrID {
			return p
		}
	}
	return Project{}
}

// Image returns the first image with the given name or id, or the zero Image.
func (w *World) Image(nameOrID string) Image {
	for _, im := range w.Images {
		if im.Name == nameOrID || im.ID == nameOrID {
			return im
		}
	}
	return Image{}
}

// Flavor returns the flavor with the given name or id, or the zero Flavor.
func (w *World) Flavor(nameOrID string) Flavor {
	for _, f := range w.Flavors {
		if f.Name == nameOrID || f.ID == nameOrID {
			return f
		}
	}
	return Flavor{}
}

// Regions returns every region of every location, in World order.
func (w *World) Regions() []string {
	var out []string
	for _, l := range w.Locations {
		out = append(out, l.Regions...)
	}
	return out
}

// clone returns a deep copy of w.
func (w *World) clone() *World {
	c := *w
	c.Locations = nil
	for _, l := range w.Locations {
		c.Locations = append(c.Locations, Location{Name: l.Name, Regions: slices.Clone(l.Regions)})
	}
	c.Domains = slices.Clone(w.Domains)
	c.Users = slices.Clone(w.Users)
	c.Projects = slices.Clone(w.Projects)
	c.Assignments = slices.Clone(w.Assignments)
	c.AppCreds = nil
	for _, a := range w.AppCreds {
		a.Roles = slices.Clone(a.Roles)
		c.AppCreds = append(c.AppCreds, a)
	}
	c.Images = nil
	for _, im := range w.Images {
		im.Properties = cloneMap(im.Properties)
		im.Members = cloneMap(im.Members)
		if im.Data != nil {
			d := *im.Data
			im.Data = &d
		}
		c.Images = append(c.Images, im)
	}
	c.Flavors = nil
	for _, f := range w.Flavors {
		f.Access = slices.Clone(f.Access)
		c.Flavors = append(c.Flavors, f)
	}
	c.VolumeTypes = nil
	for _, v := range w.VolumeTypes {
		v.Access = slices.Clone(v.Access)
		c.VolumeTypes = append(c.VolumeTypes, v)
	}
	c.Networks = slices.Clone(w.Networks)
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Network returns the first network with the given name or id, or the zero Network.
func (w *World) Network(nameOrID string) Network {
	for _, n := range w.Networks {
		if n.Name == nameOrID || n.ID == nameOrID {
			return n
		}
	}
	return Network{}
}
