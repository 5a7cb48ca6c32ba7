//go:build integration

package tokencache_test

import (
	"bufio"
	"crypto/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/internal/keystonetest"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// tagTransport marks the token requests of one test with a query parameter
// Keystone ignores, so that they can be told apart in Keystone's request
// logs while other tests issue tokens at the same Keystones, and counts the
// tokens Keystone issued to them (201 answers) as they come back.
type tagTransport struct {
	base   http.RoundTripper
	tag    string
	issued *atomic.Int64
}

func (t tagTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/auth/tokens") {
		return t.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	q := r.URL.Query()
	q.Set("geostack-test", t.tag)
	r.URL.RawQuery = q.Encode()
	resp, err := t.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusCreated {
		t.issued.Add(1)
	}
	return resp, err
}

// tokenPOSTs counts, per location, the successful POST /v3/auth/tokens lines
// of Keystone's request logs, all of them and those carrying tag.
func tokenPOSTs(t *testing.T, env *keystonetest.Env, tag string) (all, tagged map[string]int) {
	t.Helper()
	all, tagged = map[string]int{}, map[string]int{}
	for loc, path := range env.Logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatalf("read Keystone log of %s: %v", loc, err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if !strings.Contains(line, "POST /v3/auth/tokens") || !strings.Contains(line, " 201)") {
				continue
			}
			all[loc]++
			if strings.Contains(line, "geostack-test="+tag+" ") || strings.Contains(line, "geostack-test="+tag+"&") {
				tagged[loc]++
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("read Keystone log of %s: %v", loc, err)
		}
	}
	return all, tagged
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestIntegrationOneToken is the workload the cache exists for: three
// clients, one at each location (three auth_urls), each making gophercloud
// ServiceClients for four services in the four regions from many goroutines
// and reading the token over and over, all with one identity and scope and
// one shared cache. Keystone issues exactly one token for all of them,
// counted in Keystone's 201 answers, its request logs and the cache's stats. The
// services themselves are not called: their endpoints point at a closed port.
func TestIntegrationOneToken(t *testing.T) {
	t.Parallel()
	env := keystonetest.Load(t)
	ctx := t.Context()
	user := env.MustUser(t, "zjpu00000001")
	tag := rand.Text()
	var issued atomic.Int64
	httpClient := &http.Client{Transport: tagTransport{base: http.DefaultTransport.(*http.Transport).Clone(), tag: tag, issued: &issued}}

	var locs []region.Location
	for _, loc := range []string{"JP", "US", "SG"} {
		locs = append(locs, region.Location{Name: loc, AuthURLs: []string{env.AuthURL(loc)}, Regions: env.Regions[loc]})
	}
	cache, err := tokencache.New(tokencache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cache.Close() })

	allBefore, _ := tokenPOSTs(t, env, tag)

	const (
		goroutinesPerClient = 8
		readsPerGoroutine   = 50
	)
	services := []string{"compute", "image", "block-storage", "volumev3", "network"}
	regions := []string{"TYO1", "OSA1", "SJC1", "SIN1"}
	var (
		mu      sync.Mutex
		ids     = map[string]bool{}
		clients []*geostack.Client
		wg      sync.WaitGroup
		scCount int
		reads   int
	)
	for _, home := range []string{"JP", "US", "SG"} {
		c, err := geostack.New(ctx, geostack.Config{
			Locations:  locs,
			Home:       home,
			Primary:    env.Primary,
			Credential: identity.Password{UserName: user.Name, DomainName: user.DomainName, Password: user.Password},
			Scope:      identity.Scope{ProjectName: user.ProjectName, ProjectDomainName: user.DomainName},
			Cache:      cache,
			HTTPClient: httpClient,
		})
		if err != nil {
			t.Fatalf("geostack.New at %s: %v", home, err)
		}
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
		for g := range goroutinesPerClient {
			wg.Go(func() {
				seen := map[string]bool{}
				made, served := 0, 0
				for i := range readsPerGoroutine {
					svc, rg := services[(g+i)%len(services)], regions[(g+i/len(services))%len(regions)]
					sc, err := c.ServiceClient(ctx, svc, rg)
					if err != nil {
						t.Errorf("%s: ServiceClient(%s, %s): %v", home, svc, rg, err)
						return
					}
					if !strings.Contains(sc.Endpoint, "/"+rg+"/") {
						t.Errorf("%s: ServiceClient(%s, %s).Endpoint = %q, not in the region", home, svc, rg, sc.Endpoint)
					}
					made++
					tok, err := c.Token(ctx)
					if err != nil {
						t.Errorf("%s: Token: %v", home, err)
						return
					}
					seen[tok.ID] = true
					served++
				}
				mu.Lock()
				defer mu.Unlock()
				scCount += made
				reads += served
				for id := range seen {
					ids[id] = true
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	allAfter, tagged := tokenPOSTs(t, env, tag)
	st := cache.Stats()
	t.Logf("workload: %d clients x %d goroutines, %d ServiceClient calls and as many token reads over %d regions and %d auth_urls",
		len(clients), goroutinesPerClient, scCount, len(regions), len(locs))
	// uwsgi writes a request's log line after it has sent the answer, so
	// the logs may not show the last POST yet: they are reported, and the
	// count asserted is of the tokens Keystone answered with.
	t.Logf("Keystone's logs so far: %d token POSTs of this workload (by location %v); all token POSTs meanwhile, other tests included: %d",
		sum(tagged), tagged, sum(allAfter)-sum(allBefore))
	t.Logf("cache stats: %+v", st)
	if len(ids) != 1 {
		t.Errorf("the clients saw %d distinct tokens, want 1", len(ids))
	}
	if n := issued.Load(); n != 1 {
		t.Errorf("Keystone issued %d tokens (201 answers to POST /v3/auth/tokens) for the workload, want 1", n)
	}
	if n := sum(tagged); n > 1 {
		t.Errorf("Keystone logged %d token POSTs for the workload, want at most 1 (by location: %v)", n, tagged)
	}
	if st.Issued != 1 || st.Failures != 0 {
		t.Errorf("cache stats %+v: want Issued 1, Failures 0", st)
	}
	// Every read was answered, and with one token issued every one of
	// them was served by the cache. (Reads are not counted by the cache: a
	// read is one atomic load.)
	if want := len(clients) * goroutinesPerClient * readsPerGoroutine; reads != want || scCount != want {
		t.Errorf("%d token reads and %d ServiceClient calls answered, want %d of each", reads, scCount, want)
	}
	var attempts uint64
	for _, c := range clients {
		attempts += c.Stats().Region.Attempts
	}
	// Each client has its own resolver, but the cache entry is shared: only
	// the client whose fetch ran asked Keystone, once.
	if attempts != 1 {
		t.Errorf("region attempts summed over the clients = %d, want 1", attempts)
	}
}
