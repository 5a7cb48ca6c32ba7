package proxy

import (
	"encoding/json"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/geostack/geostack/domain"
)

// kind is a domain-scoped collection: how its documents look, and how an
// item is judged, by gophercloud's own decoding and domain.Filter's rules,
// the client's.
type kind struct {
	name string // "image", "flavor", "volume type"
	// list is the key of the list in a list document: "images".
	list string
	// item is the key of the item in an item document ("flavor"); "" when
	// the document is the item (Glance).
	item string
	// links is the key of the links holding the next page
	// ("flavors_links"); "" when the document has a "next" path (Glance).
	links string
	// judge decodes one item and says whether the domain may see it.
	judge func(f *domain.Filter, raw []byte) (id string, visible bool, err error)
	// notFound answers as the service answers for an item that does not
	// exist.
	notFound func(w http.ResponseWriter, from http.Header, id string)
	// badMarker answers as the service answers a list request whose
	// marker does not exist; nil when the service ignores such a marker
	// (Cinder), and so the proxy drops it.
	badMarker func(w http.ResponseWriter, from http.Header, id string)
}

var imageKind = &kind{
	name: "image", list: "images",
	judge: func(f *domain.Filter, raw []byte) (string, bool, error) {
		var img images.Image
		if err := json.Unmarshal(raw, &img); err != nil {
			return "", false, err
		}
		return img.ID, f.VisibleImage(&img), nil
	},
	notFound: func(w http.ResponseWriter, from http.Header, id string) {
		writeGlanceError(w, from, http.StatusNotFound, "No image found with ID "+id)
	},
	badMarker: func(w http.ResponseWriter, from http.Header, id string) {
		writeGlanceError(w, from, http.StatusBadRequest, "No image found with ID "+id)
	},
}

var flavorKind = &kind{
	name: "flavor", list: "flavors", item: "flavor", links: "flavors_links",
	judge: func(f *domain.Filter, raw []byte) (string, bool, error) {
		var fl flavors.Flavor
		if err := json.Unmarshal(raw, &fl); err != nil {
			return "", false, err
		}
		return fl.ID, f.VisibleFlavor(&fl), nil
	},
	notFound: func(w http.ResponseWriter, from http.Header, id string) {
		writeFault(w, from, http.StatusNotFound, "Flavor "+id+" could not be found.", "application/json; charset=UTF-8")
	},
	badMarker: func(w http.ResponseWriter, from http.Header, id string) {
		writeFault(w, from, http.StatusBadRequest, "marker ["+id+"] not found", "application/json; charset=UTF-8")
	},
}

var volumeTypeKind = &kind{
	name: "volume type", list: "volume_types", item: "volume_type", links: "volume_type_links",
	judge: func(f *domain.Filter, raw []byte) (string, bool, error) {
		var vt volumetypes.VolumeType
		if err := json.Unmarshal(raw, &vt); err != nil {
			return "", false, err
		}
		return vt.ID, f.VisibleVolumeType(&vt), nil
	},
	notFound: func(w http.ResponseWriter, from http.Header, id string) {
		writeFault(w, from, http.StatusNotFound, "Volume type "+id+" could not be found.", "application/json")
	},
}

// judgeDocument judges the item of an item document.
func (k *kind) judgeDocument(f *domain.Filter, doc []byte) (visible bool, err error) {
	raw := doc
	if k.item != "" {
		var d map[string]json.RawMessage
		if err := json.Unmarshal(doc, &d); err != nil {
			return false, err
		}
		raw = d[k.item]
	}
	_, visible, err = k.judge(f, raw)
	return visible, err
}
