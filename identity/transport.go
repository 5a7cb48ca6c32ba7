package identity

import (
	"fmt"
	"io"
	"net/http"
)

// defaultMaxBodyBytes is the cap on the bytes read from one Keystone
// response when Client.MaxBodyBytes is 0. A token with the catalog of a
// large multi-region cloud is well under 1 MiB.
const defaultMaxBodyBytes = 4 << 20

// bodyTooLargeError is the read error of a response body over the cap.
type bodyTooLargeError struct{ max int64 }

func (e *bodyTooLargeError) Error() string {
	return fmt.Sprintf("body over %d bytes", e.max)
}

// limitTransport caps the bytes read from every response body: a read past
// max fails with *bodyTooLargeError, so a huge or endless answer cannot
// exhaust memory. A response whose Content-Length already exceeds max fails
// on its first read.
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	lb := &limitedBody{rc: resp.Body, left: t.max, max: t.max}
	if resp.ContentLength > t.max {
		lb.left = -1
	}
	resp.Body = lb
	return resp, nil
}

// limitedBody reads at most max bytes of rc.
type limitedBody struct {
	rc   io.ReadCloser
	left int64 // bytes still allowed; -1: already known to be over
	max  int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &bodyTooLargeError{max: b.max}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.left == 0 {
		// The cap is reached: the body is within it only if it ends here.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			b.left = -1
			return 0, &bodyTooLargeError{max: b.max}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
