package testserver

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// ImageData is generated image content: Size bytes that depend only on
// Seed, made as they are read, so that an image of gigabytes costs no
// memory to seed or to serve.
type ImageData struct {
	Size int64
	Seed string
}

// Reader returns a reader of the content, from its first byte. Each call
// returns a new reader of the same bytes.
func (d ImageData) Reader() io.Reader {
	return &generated{table: patternTable(d.Seed), left: d.Size}
}

// The content is made of 4 KiB blocks cut from a 256 KiB pseudo-random
// table at offsets that step by a prime, so that no block repeats within
// the first gigabyte; reading is a copy from the table.
const (
	patternTableSize = 256 << 10
	patternBlock     = 4 << 10
	patternStep      = 1031
)

func patternTable(seed string) []byte {
	key := sha256.Sum256([]byte("testserver image data:" + seed))
	t := make([]byte, patternTableSize)
	rand.NewChaCha8(key).Read(t)
	return t
}

type generated struct {
	table []byte
	off   int64 // bytes read so far
	left  int64
}

func (g *generated) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.left > 0 {
		block := g.off / patternBlock
		in := g.off % patternBlock
		start := (block * patternStep) % (patternTableSize - patternBlock)
		c := copy(p[n:], g.table[start+in:start+patternBlock])
		c = int(min(int64(c), g.left))
		n += c
		g.off += int64(c)
		g.left -= int64(c)
	}
	return n, nil
}

// newHash returns a hash of Glance's hashing_algorithm names (Python's
// hashlib names), or nil for one this fake does not offer.
func newHash(algo string) hash.Hash {
	switch algo {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	case "sha3_256":
		return sha3.New256()
	case "sha3_512":
		return sha3.New512()
	}
	return nil
}

// digest is what Glance computes over image data: its size, MD5 checksum
// and os_hash_value.
type digest struct {
	algo     string
	n        int64
	md5, sum hash.Hash
}

func newDigest(algo string) *digest {
	return &digest{algo: algo, md5: md5.New(), sum: newHash(algo)}
}

func (d *digest) Write(p []byte) (int, error) {
	d.md5.Write(p)
	d.sum.Write(p)
	d.n += int64(len(p))
	return len(p), nil
}

func (d *digest) md5Hex() string  { return hex.EncodeToString(d.md5.Sum(nil)) }
func (d *digest) hashHex() string { return hex.EncodeToString(d.sum.Sum(nil)) }

// dataBuffer is the size of the buffer the fake reads and writes image data
// with.
const dataBuffer = 64 << 10

// maxImageData bounds the data the fake keeps of one image uploaded or
// imported through the API, in memory; Options.DiscardImageData keeps none
// and so has no bound.
const maxImageData = 64 << 20

// errImageTooLarge is the end of an upload or import whose data would pass
// maxImageData.
var errImageTooLarge = errors.New("testserver: the fake keeps at most 64 MiB of an image's data (Options.DiscardImageData keeps none)")

// capped is a buffer that refuses to grow past maxImageData.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > maxImageData {
		return 0, errImageTooLarge
	}
	return c.Buffer.Write(p)
}

// receive reads image data from r into a digest (and a copy, unless data
// is discarded) until EOF, or until limit bytes when limit ≥ 0. It returns
// what it read; errImageTooLarge when the copy would pass maxImageData.
func (g *glance) receive(region string, r io.Reader, limit int64) (*digest, []byte, error) {
	d := newDigest(g.algo(region))
	var kept capped
	sink := io.Writer(d)
	if !g.discard {
		sink = io.MultiWriter(d, &kept)
	}
	if limit >= 0 {
		r = io.LimitReader(r, limit)
	}
	_, err := io.CopyBuffer(sink, r, make([]byte, dataBuffer))
	return d, kept.Bytes(), err
}

// commit makes im active with the data d describes. Called with g.mu held.
func (g *glance) commit(im *glanceImage, d *digest, kept []byte, now time.Time) {
	im.status, im.hasData, im.updated = "active", true, now
	im.size, im.checksum, im.hashAlgo, im.hashValue = d.n, d.md5Hex(), d.algo, d.hashHex()
	im.data = nil
	if !g.discard {
		im.data = func() io.Reader { return bytes.NewReader(kept) }
	}
}

// uploadImage answers PUT /v2/images/{id}/file: the image goes from queued
// to saving while the body streams in, then to active with its size and
// hashes. When the upload fails (the client goes away, the body is cut, a
// fault answers 5xx) the image goes back to queued, as Glance restores it.
func (s *Server) uploadImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	if ct := r.Header.Get("Content-Type"); mediaType(ct) != "application/octet-stream" {
		glanceError(w, http.StatusUnsupportedMediaType, "The request media type "+ct+" is not supported by this server.")
		return
	}
	g := s.glance
	g.mu.Lock()
	im, ok := g.regions[sr.region][id]
	switch {
	case !ok || !im.readable(sr.tok.projectID, sr.admin):
		g.mu.Unlock()
		glanceError(w, http.StatusNotFound, "No image found with ID "+id)
		return
	case !im.mayModify(sr):
		g.mu.Unlock()
		glanceError(w, http.StatusForbidden, "You are not permitted to upload data to image "+id+".")
		return
	case im.diskFormat == "" || im.contFormat == "":
		g.mu.Unlock()
		glanceError(w, http.StatusBadRequest, "Properties disk_format, container_format must be set prior to saving data.")
		return
	case im.status != "queued":
		from := im.status
		g.mu.Unlock()
		glanceError(w, http.StatusConflict, "Image status transition from "+from+" to saving is not allowed")
		return
	}
	im.status = "saving"
	g.mu.Unlock()

	f := s.effectiveFault(Service("image", sr.region), s.regionLoc[sr.region])
	limit := int64(-1)
	if f.UploadStatus != 0 {
		limit = max(f.UploadStatusAfter, 0)
	}
	body := io.Reader(r.Body)
	if f.CorruptUploadAfter > 0 {
		body = &corrupter{r: body, at: f.CorruptUploadAfter}
	}
	d, kept, err := g.receive(sr.region, body, limit)
	if (f.UploadStatus != 0 && err == nil) || errors.Is(err, errImageTooLarge) {
		// Read the rest, so that the client sees the answer.
		if _, derr := io.CopyBuffer(io.Discard, body, make([]byte, dataBuffer)); err == nil {
			err = derr
		}
	}

	g.mu.Lock()
	defer g.mu.Unlock()
	if g.regions[sr.region][id] != im {
		glanceError(w, http.StatusGone, "Image "+id+" could not be found after upload. The image may have been deleted during the upload.")
		return
	}
	switch {
	case f.UploadStatus != 0:
		im.status = "queued"
		glanceError(w, f.UploadStatus, "Injected fault at "+Service("image", sr.region).String()+" after "+strconv.FormatInt(d.n, 10)+" bytes of upload.")
	case errors.Is(err, errImageTooLarge):
		im.status = "queued"
		glanceError(w, http.StatusRequestEntityTooLarge, "Image exceeds the storage quota of the fake: "+err.Error())
	case err != nil:
		im.status = "queued"
		glanceError(w, http.StatusBadRequest, "Error reading the image data: "+err.Error())
	default:
		g.commit(im, d, kept, s.clock.Now().UTC().Truncate(time.Second))
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNoContent)
	}
}

// snapshot is what serving an image's data needs, read under the lock.
type snapshot struct {
	status   string
	size     int64
	checksum string
	data     func() io.Reader
	hasData  bool
}

func (g *glance) snapshotOf(region, id string, visible func(*glanceImage) bool) (snapshot, bool) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	im, ok := g.regions[region][id]
	if !ok || !visible(im) {
		return snapshot{}, false
	}
	return snapshot{status: im.status, size: im.size, checksum: im.checksum, data: im.data, hasData: im.hasData}, true
}

// downloadImage answers GET /v2/images/{id}/file: the data of an active
// image, or 204 for an image that has none yet.
func (s *Server) downloadImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	snap, ok := s.glance.snapshotOf(sr.region, id, func(im *glanceImage) bool {
		return im.readable(sr.tok.projectID, sr.admin)
	})
	switch {
	case !ok:
		glanceError(w, http.StatusNotFound, "No image found with ID "+id)
	case snap.status == "deactivated" && !sr.admin:
		glanceError(w, http.StatusForbidden, "The requested image has been deactivated. Image data download is forbidden.")
	case snap.status != "active" || !snap.hasData:
		w.WriteHeader(http.StatusNoContent)
	default:
		s.serveData(w, r, sr.region, id, snap)
	}
}

// serveImageShare answers GET /{REGION}/image-share/{id}: the data of an
// active image without a token, as an operator's web share of the store
// serves it to the other regions' Glance (web-download).
func (s *Server) serveImageShare(w http.ResponseWriter, r *http.Request, region, id string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	snap, ok := s.glance.snapshotOf(region, id, func(im *glanceImage) bool { return im.status == "active" })
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.serveData(w, r, region, id, snap)
}

// serveData streams an image's data with the download faults of region.
func (s *Server) serveData(w http.ResponseWriter, r *http.Request, region, id string, snap snapshot) {
	if snap.data == nil {
		glanceError(w, http.StatusGone, "testserver: the data of image "+id+" was not kept (Options.DiscardImageData)")
		return
	}
	f := s.effectiveFault(Service("image", region), s.regionLoc[region])
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Md5", snap.checksum)
	h.Set("Content-Length", strconv.FormatInt(snap.size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	src := snap.data()
	if f.CorruptDownloadAfter > 0 {
		src = &corrupter{r: src, at: f.CorruptDownloadAfter}
	}
	if f.DropDownloadAfter > 0 {
		io.CopyBuffer(w, io.LimitReader(src, f.DropDownloadAfter), make([]byte, dataBuffer))
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // closes the connection mid-body
	}
	io.CopyBuffer(w, src, make([]byte, dataBuffer))
}

// corrupter flips the bits of the byte at offset at of what r reads.
type corrupter struct {
	r   io.Reader
	off int64
	at  int64
}

func (c *corrupter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.at >= c.off && c.at < c.off+int64(n) {
		p[c.at-c.off] ^= 0xff
	}
	c.off += int64(n)
	return n, err
}

// importImage answers POST /v2/images/{id}/import. web-download is carried
// out: the fake fetches the URI itself in the background, as Glance's
// import task does, and the image goes queued → importing → active, or
// back to queued if the fetch fails. glance-direct and copy-image are
// refused as Glance refuses them for an image that is not staged or not
// active; this fake has neither staging nor several stores.
func (s *Server) importImage(w http.ResponseWriter, r *http.Request, sr *serviceReq, id string) {
	var body struct {
		Method *struct {
			Name string `json:"name"`
			URI  string `json:"uri"`
		} `json:"method"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil || body.Method == nil {
		glanceError(w, http.StatusBadRequest, "Body must name an import method.")
		return
	}
	method := body.Method.Name
	if !slices.Contains(knownImportMethods, method) {
		glanceError(w, http.StatusBadRequest, "Unknown import method name '"+method+"'.")
		return
	}
	g := s.glance
	if !slices.Contains(g.importMethods(sr.region), method) {
		glanceError(w, http.StatusBadRequest, "Import method "+method+" is not enabled at this site.")
		return
	}
	g.mu.Lock()
	im, ok := g.regions[sr.region][id]
	var status int
	var msg string
	switch {
	case !ok || !im.readable(sr.tok.projectID, sr.admin):
		status, msg = http.StatusNotFound, "No image found with ID "+id
	case im.status == "active" && method != "copy-image":
		status, msg = http.StatusConflict, "Image with status active cannot be target for import"
	case im.status != "active" && method == "copy-image":
		status, msg = http.StatusConflict, "Only images with status active can be targeted for copying"
	case im.status != "queued" && method == "web-download":
		status, msg = http.StatusConflict, "Image needs to be in 'queued' state to use 'web-download' method"
	case method == "glance-direct" || method == "glance-download":
		status, msg = http.StatusConflict, "Image needs to be staged before '"+method+"' method can be used"
	case im.contFormat == "":
		status, msg = http.StatusConflict, "'container_format' needs to be set before import"
	case im.diskFormat == "":
		status, msg = http.StatusConflict, "'disk_format' needs to be set before import"
	case !im.mayModify(sr):
		status, msg = http.StatusForbidden, "You are not permitted to modify image "+id+"."
	case im.props["os_glance_import_task"] != "":
		status, msg = http.StatusConflict, "Image has active task"
	case method == "copy-image":
		status, msg = http.StatusConflict, "Image is already present at store 'file'"
	case !allowedImportURI(body.Method.URI):
		status, msg = http.StatusBadRequest, "URI for web-download does not pass filtering: "+body.Method.URI
	}
	if status != 0 {
		g.mu.Unlock()
		glanceError(w, status, msg)
		return
	}
	if !g.imports.start() {
		g.mu.Unlock()
		glanceError(w, http.StatusServiceUnavailable, "testserver: closing")
		return
	}
	task := seedUUID("task", newID())
	im.props["os_glance_import_task"] = task
	g.mu.Unlock()
	go g.webDownload(s, sr.region, im, task, body.Method.URI)
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusAccepted)
}

// allowedImportURI is the fake's import filter: http and https URLs with a
// host. (The real Glance in CI allows loopback on any port.)
func allowedImportURI(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// webDownload is the import task: it fetches uri into im unless the image
// is deleted or the Server closes meanwhile.
func (g *glance) webDownload(s *Server, region string, im *glanceImage, task, uri string) {
	defer g.imports.done()
	current := func() bool { return g.regions[region][im.id] == im && im.props["os_glance_import_task"] == task }
	g.mu.Lock()
	if !current() {
		g.mu.Unlock()
		return
	}
	im.status = "importing"
	g.mu.Unlock()

	d, kept, err := g.fetchData(region, uri)

	g.mu.Lock()
	defer g.mu.Unlock()
	if !current() {
		return
	}
	delete(im.props, "os_glance_import_task")
	im.props["os_glance_importing_to_stores"] = ""
	im.props["os_glance_failed_import"] = ""
	now := s.clock.Now().UTC().Truncate(time.Second)
	if err != nil {
		im.status, im.updated = "queued", now
		return
	}
	g.commit(im, d, kept, now)
}

func (g *glance) fetchData(region, uri string) (*digest, []byte, error) {
	req, err := http.NewRequestWithContext(g.ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := g.fetch.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("web-download of %s: status %d", uri, resp.StatusCode)
	}
	d, kept, err := g.receive(region, resp.Body, -1)
	if err == nil && resp.ContentLength >= 0 && d.n != resp.ContentLength {
		err = errors.New("web-download: body shorter than its Content-Length")
	}
	return d, kept, err
}
