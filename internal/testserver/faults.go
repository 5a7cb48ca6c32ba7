package testserver

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Target names where a Fault applies and what Requests counts: a whole
// location (AtLocation), one location's Keystone (Keystone) or one service
// in one region (Service). Compare Targets with ==.
type Target struct {
	// Location is set for location-wide and Keystone targets.
	Location string
	// Service is "" for a whole location, "identity" for Keystone, or a
	// catalog service type: "compute", "image", "volumev3", "network".
	Service string
	// Region is set for service targets.
	Region string
}

// AtLocation targets everything a location's listener serves.
func AtLocation(location string) Target { return Target{Location: location} }

// Keystone targets a location's Keystone (all its identity base paths).
func Keystone(location string) Target { return Target{Location: location, Service: "identity"} }

// Service targets one service type ("compute", "image", "volumev3",
// "network") in one region.
func Service(serviceType, region string) Target {
	return Target{Service: serviceType, Region: region}
}

// String returns "JP", "identity@JP" or "compute@TYO1".
func (t Target) String() string {
	switch {
	case t.Service == "":
		return t.Location
	case t.Region != "":
		return t.Service + "@" + t.Region
	default:
		return t.Service + "@" + t.Location
	}
}

// Fault is what goes wrong at a Target. The zero Fault is no fault. When a
// location-wide Fault and an endpoint Fault both apply, flags combine,
// latencies add up, and the endpoint's Status, RetryAfter, OversizedBody,
// ClockSkew and image data faults win when set.
type Fault struct {
	// Down makes the target unreachable. For a location target the listener
	// is really closed, so clients get "connection refused", and reopened on
	// the same port when the fault is cleared. For an endpoint target the
	// connection is closed without a response.
	Down bool
	// Status, if non-zero, answers every request with this status (e.g.
	// 503) and a Keystone-style error body.
	Status int
	// RetryAfter, with Status, sends a Retry-After header of this many
	// (whole) seconds, as a rate limiter's 429 does.
	RetryAfter time.Duration
	// Latency delays each response by this much real time (not Clock time,
	// so client timeouts are exercised); a request whose context ends first
	// gets no response.
	Latency time.Duration
	// Hang holds each request until its context ends or the Server closes.
	Hang bool
	// MalformedJSON truncates each response body in the middle.
	MalformedJSON bool
	// OversizedBody, if positive, pads each response body with this many
	// bytes of JSON whitespace (the body stays valid JSON).
	OversizedBody int
	// NoCatalog makes Keystone omit the catalog from token responses, as
	// with ?nocatalog. Keystone targets only.
	NoCatalog bool
	// ClockSkew shifts the location Keystone's clock: issued_at and
	// expires_at of tokens it issues, and the "now" it validates expiry
	// against. Keystone targets only.
	ClockSkew time.Duration

	// The image data faults apply to Service("image", region) targets, in
	// the middle of a stream: what a location-wide Fault cannot express.

	// DropDownloadAfter, if positive, closes the connection of each image
	// data download (GET /v2/images/{id}/file, and the web share) after
	// this many bytes of the body.
	DropDownloadAfter int64
	// CorruptDownloadAfter, if positive, flips the bits of the byte that
	// follows the first CorruptDownloadAfter bytes of each image data
	// download.
	CorruptDownloadAfter int64
	// UploadStatus, if non-zero, fails each image data upload (PUT
	// /v2/images/{id}/file) after UploadStatusAfter bytes: the rest of the
	// body is read and dropped, then the upload is answered with this
	// status in Glance's error body, and the image goes back to queued, as
	// Glance restores it after a failed upload. (Reading to the end lets
	// the client see the answer rather than a connection reset.)
	UploadStatus      int
	UploadStatusAfter int64
	// CorruptUploadAfter, if positive, flips the bits of the byte that
	// follows the first CorruptUploadAfter bytes of each image data upload
	// as it is received: the image becomes active with hashes of data
	// other than those sent.
	CorruptUploadAfter int64
}

// SetFault sets (replaces) the Fault at t. Setting a Fault with Down at a
// location target closes its listener; it panics if the listener cannot be
// reopened when the fault is later cleared or replaced.
func (s *Server) SetFault(t Target, f Fault) {
	s.setMu.Lock() // keeps listener state in step with the fault table
	defer s.setMu.Unlock()
	s.faultMu.Lock()
	prev := s.faults[t]
	if f == (Fault{}) {
		delete(s.faults, t)
	} else {
		s.faults[t] = f
	}
	s.faultMu.Unlock()
	if t.Service == "" && prev.Down != f.Down {
		if err := s.loc(t.Location).setDown(f.Down); err != nil {
			panic(err)
		}
	}
}

// ClearFault removes the Fault at t.
func (s *Server) ClearFault(t Target) { s.SetFault(t, Fault{}) }

// ClearFaults removes every Fault.
func (s *Server) ClearFaults() {
	s.faultMu.RLock()
	var ts []Target
	for t := range s.faults {
		ts = append(ts, t)
	}
	s.faultMu.RUnlock()
	for _, t := range ts {
		s.ClearFault(t)
	}
}

// effectiveFault merges the location-wide Fault with the endpoint's.
func (s *Server) effectiveFault(t Target, loc string) Fault {
	s.faultMu.RLock()
	defer s.faultMu.RUnlock()
	if len(s.faults) == 0 {
		return Fault{}
	}
	f := s.faults[AtLocation(loc)]
	if t.Service == "" {
		return f
	}
	e := s.faults[t]
	f.Down = f.Down || e.Down
	f.Hang = f.Hang || e.Hang
	f.MalformedJSON = f.MalformedJSON || e.MalformedJSON
	f.NoCatalog = f.NoCatalog || e.NoCatalog
	f.Latency += e.Latency
	if e.Status != 0 {
		f.Status = e.Status
	}
	if e.OversizedBody != 0 {
		f.OversizedBody = e.OversizedBody
	}
	if e.ClockSkew != 0 {
		f.ClockSkew = e.ClockSkew
	}
	if e.DropDownloadAfter != 0 {
		f.DropDownloadAfter = e.DropDownloadAfter
	}
	if e.CorruptDownloadAfter != 0 {
		f.CorruptDownloadAfter = e.CorruptDownloadAfter
	}
	if e.UploadStatus != 0 {
		f.UploadStatus, f.UploadStatusAfter = e.UploadStatus, e.UploadStatusAfter
	}
	if e.CorruptUploadAfter != 0 {
		f.CorruptUploadAfter = e.CorruptUploadAfter
	}
	if e.RetryAfter != 0 {
		f.RetryAfter = e.RetryAfter
	}
	return f
}

// withFaults applies the Fault at t and then, if the request survives, h.
func (s *Server) withFaults(w http.ResponseWriter, r *http.Request, t Target, loc string, h http.HandlerFunc) {
	f := s.effectiveFault(t, loc)
	if f.Down {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	if f.Latency > 0 {
		timer := time.NewTimer(f.Latency)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			return
		case <-s.done:
			timer.Stop()
			return
		}
	}
	if f.Hang {
		io.Copy(io.Discard, r.Body) // read to EOF, so that the server notices when the client gives up
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
		return
	}
	if f.Status != 0 {
		if f.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter/time.Second)))
		}
		keystoneError(w, f.Status, "Injected fault at "+t.String()+".")
		return
	}
	if !f.MalformedJSON && f.OversizedBody <= 0 {
		h(w, r)
		return
	}
	cw := &captureWriter{header: make(http.Header), status: http.StatusOK}
	h(cw, r)
	body := cw.buf.Bytes()
	if f.MalformedJSON {
		if len(body) < 2 {
			body = []byte("{")
		} else {
			body = body[:len(body)/2]
		}
	}
	if f.OversizedBody > 0 {
		body = append(bytes.Clone(body), bytes.Repeat([]byte(" "), f.OversizedBody)...)
	}
	for k, v := range cw.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(cw.status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// captureWriter buffers a response so a fault can rewrite it.
type captureWriter struct {
	header http.Header
	status int
	wrote  bool
	buf    bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(status int) {
	if !c.wrote {
		c.status, c.wrote = status, true
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.wrote = true
	return c.buf.Write(b)
}
