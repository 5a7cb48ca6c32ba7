package tokencache

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// tokenServer answers 200 with the request body to requests whose token
// it accepts and 401 to the others; it records what it saw.
type tokenServer struct {
	mu       sync.Mutex
	accept   func(token string) bool
	seen     []string // "token body"
	statuses []int
}

func (s *tokenServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	tok := r.Header.Get(authHeader)
	s.mu.Lock()
	ok := s.accept(tok)
	s.seen = append(s.seen, tok+" "+string(body))
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Write(body)
}

func TestTransport(t *testing.T) {
	t.Parallel()
	// opaque hides bytes.Reader from http.NewRequest, so that the request
	// has no GetBody and cannot be replayed.
	type opaque struct{ io.Reader }
	tests := []struct {
		name       string
		accept     func(string) bool
		body       func() io.Reader
		wantStatus int
		wantSeen   []string
		wantFetch  int
	}{
		{
			name:       "accepted",
			accept:     func(string) bool { return true },
			wantStatus: 200, wantSeen: []string{"tok-1 "}, wantFetch: 1,
		},
		{
			name:       "401 then retry without body",
			accept:     func(tok string) bool { return tok != "tok-1" },
			wantStatus: 200, wantSeen: []string{"tok-1 ", "tok-2 "}, wantFetch: 2,
		},
		{
			name:       "401 then retry with replayed body",
			accept:     func(tok string) bool { return tok != "tok-1" },
			body:       func() io.Reader { return strings.NewReader("payload") },
			wantStatus: 200, wantSeen: []string{"tok-1 payload", "tok-2 payload"}, wantFetch: 2,
		},
		{
			name:       "401 with a body that cannot be replayed",
			accept:     func(tok string) bool { return tok != "tok-1" },
			body:       func() io.Reader { return opaque{bytes.NewReader([]byte("payload"))} },
			wantStatus: 401, wantSeen: []string{"tok-1 payload"}, wantFetch: 1,
		},
		{
			name:       "401 twice: one retry, no loop",
			accept:     func(string) bool { return false },
			wantStatus: 401, wantSeen: []string{"tok-1 ", "tok-2 "}, wantFetch: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := &tokenServer{accept: tt.accept}
			srv := httptest.NewServer(ts)
			defer srv.Close()
			clk := newClock()
			c := mustNew(t, Options{Clock: clk})
			f := &fetcher{clock: clk, life: time.Hour}
			h := mustHandle(t, c, testKey("u1"), f)
			client := &http.Client{Transport: h.Transport(nil)}

			var body io.Reader
			if tt.body != nil {
				body = tt.body()
			}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set(authHeader, "caller-set")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantSeen, ts.seen); diff != "" {
				t.Errorf("requests the server saw (-want +got):\n%s", diff)
			}
			if f.Calls() != tt.wantFetch {
				t.Errorf("%d fetches, want %d", f.Calls(), tt.wantFetch)
			}
			if req.Header.Get(authHeader) != "caller-set" {
				t.Error("the transport modified the caller's request")
			}
		})
	}
}

// TestTransportNextRequestWorks checks that after a 401 that could not be
// retried, the next request carries the new token.
func TestTransportNextRequestWorks(t *testing.T) {
	t.Parallel()
	ts := &tokenServer{accept: func(tok string) bool { return tok != "tok-1" }}
	srv := httptest.NewServer(ts)
	defer srv.Close()
	clk := newClock()
	c := mustNew(t, Options{Clock: clk})
	f := &fetcher{clock: clk, life: time.Hour}
	pc := NewProviderClient(mustHandle(t, c, testKey("u1"), f), nil)
	for i, want := range []int{401, 200} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPut, srv.URL, io.MultiReader(strings.NewReader("x")))
		resp, err := pc.HTTPClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("request %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
	if pc.Token() != "" || pc.ReauthFunc != nil {
		t.Error("the ProviderClient has a token or a ReauthFunc of its own")
	}
}

func TestTransportWrapTwice(t *testing.T) {
	t.Parallel()
	clk := newClock()
	c := mustNew(t, Options{Clock: clk})
	h := mustHandle(t, c, testKey("u1"), &fetcher{clock: clk, life: time.Hour})
	once := h.Transport(nil)
	if twice := h.Transport(once); twice != once {
		t.Error("wrapping a Handle's Transport again added a layer")
	}
	tests := []struct {
		name string
		key  Key
	}{
		{"another Handle of the key", testKey("u1")},
		{"a Handle of another key", testKey("other")},
	}
	for _, tt := range tests {
		if other := mustHandle(t, c, tt.key, &fetcher{clock: clk, life: time.Hour}).Transport(once); other == once {
			t.Errorf("%s: its Transport did not wrap", tt.name)
		}
	}
}
