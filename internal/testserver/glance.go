package testserver

import (
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxImageData bounds the data of one image created through the API: the
// fake keeps it in memory.
const maxImageData = 64 << 20

// imageBlob is the data of an image created through the API, with the
// status Glance would report for it.
type imageBlob struct {
	status   string // "queued" until the data is uploaded, then "active"
	size     int64
	checksum string // MD5, as Glance's checksum
	hash     string // SHA-512, as Glance's os_hash_value
	data     []byte
}

// imageList returns the current images. The slice is never changed in
// place: writers replace it.
func (st *store) imageList() []Image {
	st.imgMu.RLock()
	defer st.imgMu.RUnlock()
	return st.images
}

// imageIndex returns the position of image id in the store, which orders
// the seeded images' times; -1 if there is none.
func (st *store) imageIndex(id string) int {
	return slices.IndexFunc(st.imageList(), func(im Image) bool { return im.ID == id })
}

// imageData returns what the fake knows of an API-created image's data.
func (st *store) imageData(id string) (imageBlob, bool) {
	st.imgMu.RLock()
	defer st.imgMu.RUnlock()
	d, ok := st.data[id]
	if !ok {
		return imageBlob{}, false
	}
	return *d, true
}

// visibleImage returns the image id if the caller may see it, as Glance's
// GET /v2/images/{id} decides.
func (s *Server) visibleImage(sr *serviceReq, id string) (Image, bool) {
	for _, im := range s.st.imageList() {
		if im.ID == id && imageReadable(im, sr.tok.projectID, sr.admin) {
			return im, true
		}
	}
	return Image{}, false
}

func glanceNotFound(w http.ResponseWriter, id string) {
	glanceError(w, http.StatusNotFound, "No image found with ID "+id)
}

// glanceCore are the image attributes that are not custom properties.
var glanceCore = map[string]bool{
	"id": true, "name": true, "visibility": true, "disk_format": true, "container_format": true,
	"tags": true, "min_disk": true, "min_ram": true, "protected": true, "os_hidden": true,
}

// glanceReadOnly are the attributes Glance sets itself; a create or patch
// naming one is refused.
var glanceReadOnly = map[string]bool{
	"owner": true, "status": true, "size": true, "virtual_size": true, "checksum": true,
	"os_hash_algo": true, "os_hash_value": true, "created_at": true, "updated_at": true,
	"self": true, "file": true, "schema": true, "direct_url": true, "locations": true,
}

// createImage is POST /v2/images: an image record in status queued, owned
// by the caller's project, with the custom properties given (string values
// only, as Glance requires).
func (s *Server) createImage(w http.ResponseWriter, r *http.Request, sr *serviceReq) {
	var body map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body == nil {
		glanceError(w, http.StatusBadRequest, "Malformed JSON in request body.")
		return
	}
	im := Image{ID: seedUUID("image", newID()), Owner: sr.tok.projectID, Visibility: "shared", Properties: map[string]string{}}
	for k, raw := range body {
		var str string
		isString := json.Unmarshal(raw, &str) == nil
		switch {
		case glanceReadOnly[k]:
			glanceError(w, http.StatusForbidden, "Attribute '"+k+"' is read-only.")
			return
		case k == "id" || k == "name" || k == "visibility" || k == "disk_format" || k == "container_format":
			if !isString {
				glanceError(w, http.StatusBadRequest, "Invalid value for "+k+".")
				return
			}
			switch k {
			case "id":
				im.ID = str
			case "name":
				im.Name = str
			case "visibility":
				im.Visibility = str
			case "disk_format":
				im.DiskFormat = str
			case "container_format":
				im.ContainerFormat = str
			}
		case glanceCore[k]:
			// Accepted and not kept: the fake serves fixed values.
		case !isString:
			glanceError(w, http.StatusBadRequest, "Provided object does not match schema 'image': property "+k+" must be a string.")
			return
		default:
			im.Properties[k] = str
		}
	}
	switch im.Visibility {
	case "public":
		if !sr.admin {
			glanceError(w, http.StatusForbidden, "You are not authorized to complete publicize_image action.")
			return
		}
	case "private", "shared", "community":
	default:
		glanceError(w, http.StatusBadRequest, "Invalid visibility value: "+im.Visibility)
		return
	}
	s.st.imgMu.Lock()
	if slices.ContainsFunc(s.st.images, func(o Image) bool { return o.ID == im.ID }) {
		s.st.imgMu.Unlock()
		glanceError(w, http.StatusConflict, "Image with identifier "+im.ID+" already exists!")
		return
	}
	s.st.images = append(slices.Clip(s.st.images), im)
	s.st.data[im.ID] = &imageBlob{status: "queued"}
	s.st.imgMu.Unlock()
	w.Header().Set("Location", sr.base+"/v2/images/"+im.ID)
	writeJSON(w, http.StatusCreated, s.imageJSON(im, s.st.imageIndex(im.ID)))
}

// writable returns the image id if the caller may change it: its owner or
// an admin. An image the caller cannot see is absent (404); one it sees
// but does not own is forbidden (403), as with Glance.
func (s *Server) writable(w http.ResponseWriter, sr *serviceReq, id string) (Image, bool) {
	im, ok := s.visibleImage(sr, id)
	if !ok {
		glanceNotFound(w, id)
		return Image{}, false
	}
	if im.Owner != sr.tok.projectID && !sr.admin {
		glanceError(w, http.StatusForbidden, "You are not permitted to modify image "+id+".")
		return Image{}, false
	}
	return im, true
}

// replaceImage stores im in place of the image with its id.
func (st *store) replaceImage(im Image) {
	st.imgMu.Lock()
	defer st.imgMu.Unlock()
	imgs := slices.Clone(st.images)
	for i := range imgs {
		if imgs[i].ID == im.ID {
			imgs[i] = im
		}
	}
	st.images = imgs
}

// patchImage is PATCH /v2/images/{id} with a JSON patch
// (application/openstack-images-v2.1-json-patch) of add, replace and
// remove operations on the name and custom properties.
func (s *Server) patchImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/openstack-images-v2.1-json-patch") {
		glanceError(w, http.StatusUnsupportedMediaType, "Unsupported Content-Type")
		return
	}
	im, ok := s.writable(w, sr, id)
	if !ok {
		return
	}
	var ops []struct {
		Op    string          `json:"op"`
		Path  string          `json:"path"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ops); err != nil {
		glanceError(w, http.StatusBadRequest, "Malformed JSON in request body.")
		return
	}
	im.Properties = cloneMap(im.Properties)
	if im.Properties == nil {
		im.Properties = map[string]string{}
	}
	for _, op := range ops {
		key := strings.TrimPrefix(op.Path, "/")
		var str string
		if op.Op != "remove" && json.Unmarshal(op.Value, &str) != nil {
			glanceError(w, http.StatusBadRequest, "Invalid value for "+key+".")
			return
		}
		switch {
		case glanceReadOnly[key]:
			glanceError(w, http.StatusForbidden, "Attribute '"+key+"' is read-only.")
			return
		case key == "name" && op.Op != "remove":
			im.Name = str
		case glanceCore[key]:
			glanceError(w, http.StatusForbidden, "Attribute '"+key+"' cannot be changed by the fake.")
			return
		case op.Op == "remove":
			if _, ok := im.Properties[key]; !ok {
				glanceError(w, http.StatusConflict, "Property "+key+" does not exist.")
				return
			}
			delete(im.Properties, key)
		case op.Op == "add" || op.Op == "replace":
			im.Properties[key] = str
		default:
			glanceError(w, http.StatusBadRequest, "Invalid operation: "+op.Op)
			return
		}
	}
	s.st.replaceImage(im)
	writeJSON(w, http.StatusOK, s.imageJSON(im, s.st.imageIndex(im.ID)))
}

// deleteImage is DELETE /v2/images/{id}.
func (s *Server) deleteImage(w http.ResponseWriter, sr *serviceReq, id string) {
	if _, ok := s.writable(w, sr, id); !ok {
		return
	}
	s.st.imgMu.Lock()
	s.st.images = slices.DeleteFunc(slices.Clone(s.st.images), func(im Image) bool { return im.ID == id })
	delete(s.st.data, id)
	s.st.imgMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// uploadImage is PUT /v2/images/{id}/file: the data of a queued image,
// read as it streams, after which the image is active.
func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		glanceError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/octet-stream")
		return
	}
	if _, ok := s.writable(w, sr, id); !ok {
		return
	}
	if d, ok := s.st.imageData(id); !ok || d.status != "queued" {
		glanceError(w, http.StatusConflict, "Image status transition from active to saving is not allowed")
		return
	}
	md, sh := md5.New(), sha512.New()
	var buf strings.Builder
	n, err := io.Copy(io.MultiWriter(&buf, md, sh), io.LimitReader(r.Body, maxImageData+1))
	if err != nil {
		glanceError(w, http.StatusBadRequest, "Error reading the image data.")
		return
	}
	if n > maxImageData {
		glanceError(w, http.StatusRequestEntityTooLarge, "Image exceeds the storage quota of the fake.")
		return
	}
	s.st.imgMu.Lock()
	if d, ok := s.st.data[id]; ok && d.status == "queued" {
		s.st.data[id] = &imageBlob{status: "active", size: n, checksum: hex.EncodeToString(md.Sum(nil)),
			hash: hex.EncodeToString(sh.Sum(nil)), data: []byte(buf.String())}
	}
	s.st.imgMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// downloadImage is GET /v2/images/{id}/file: the data, with Glance's
// Content-MD5; 204 for an image without data.
func (s *Server) downloadImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	if _, ok := s.visibleImage(sr, id); !ok {
		glanceNotFound(w, id)
		return
	}
	d, ok := s.st.imageData(id)
	if !ok || d.status != "active" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", strconv.FormatInt(d.size, 10))
	h.Set("Content-Md5", d.checksum)
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(d.data)
	}
}
