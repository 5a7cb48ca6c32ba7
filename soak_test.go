package geostack_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/blockstorage/v3/volumetypes"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"

	"github.com/geostack/geostack"
	"github.com/geostack/geostack/clock"
	"github.com/geostack/geostack/domain"
	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/identity/authtoken"
	"github.com/geostack/geostack/internal/testserver"
	"github.com/geostack/geostack/region"
	"github.com/geostack/geostack/tokencache"
)

// The soak's world and the library rules its bounds derive from. The
// library's own values are its documented defaults, which the soak does
// not change.
const (
	soakTokenLife = time.Hour        // the fake's token lifetime
	soakLag       = time.Minute      // the fake's replication lag
	soakAttempt   = 4 * time.Second  // AttemptTimeout of every resolver (real time): 4 times the slowest answer seen on a loaded machine
	soakCallLimit = 30 * time.Second // a caller's own deadline (real time); never reached
	soakWorkers   = 50               // goroutines making calls
	soakVWorkers  = 14               // of which send incoming tokens to the Validator
	soakLWorkers  = 6                // of which make domain-filtered listings
	soakStepCalls = 60               // calls between two moves of the fake clock
	soakMaxJump   = 25 * time.Minute // the longest single move of the fake clock
	soakRetryMax  = 30 * time.Second // the longest Retry-After injected
	soakPassword  = "soak-password"  // the password of the users registered during the soak

	soakRejectWindow = 30 * time.Second // tokencache: no second token dropped within 30 s
	soakBackoffMax   = time.Minute      // tokencache: the longest a failure is remembered
	soakExpiryMargin = 30 * time.Second // tokencache: a token is not served in its last 30 s
	soakCoolDown     = 30 * time.Second // region: how long an open circuit skips its auth_url
	soakCacheTTL     = 5 * time.Minute  // authtoken: how long a validated token is trusted
	soakNegativeTTL  = 10 * time.Second // authtoken: how long an unknown token is remembered
	// soakPerFetch is the most Keystone requests one token fetch or one
	// validation makes: one per location (3), then one replication-lag
	// retry at the primary (region: "retried once at the primary").
	soakPerFetch = 4
	// soakPerFailedFlight is the most a validation that ends in 503
	// makes: one per location, and no lag retry, which follows only an
	// answer.
	soakPerFailedFlight = 3
)

// soakMinLife is the least fake-clock time between two tokens of one
// identity that no rejection caused: a token's refresh window opens
// RefreshShare (¼) of its lifetime before expiry, at least RefreshFloor
// (2 min) and at most half the lifetime, widened by up to Jitter (10%).
var soakMinLife = soakTokenLife - min(max(soakTokenLife/4, 2*time.Minute), soakTokenLife/2)*11/10

// TestSoak runs the library against the fake cloud (internal/testserver)
// for a while under random faults, and checks that it keeps its promises.
//
// GEOSTACK_SOAK sets how long (default 3 s, 1 s with -short; CI runs 20 s;
// run 10m by hand with -timeout 30m). GEOSTACK_SOAK_SEED replays a fault
// schedule: the seed is printed at the start. The schedule (which fault,
// where, how long, how far the fake clock moves) depends on the seed alone;
// how the 50 goroutines interleave with it does not. The duration is a
// budget of wall time: no check depends on it, or on how fast the machine
// is (the fake clock moves every 60 calls, however long they take).
//
// Workload: 50 goroutines. 30 make gophercloud calls (flavors, images,
// networks, volume types) through Client.ServiceClient in the four regions
// as one of four clients: gncu00000001 twice on one shared cache (home SG),
// zjpu00000001 (home JP) on the same cache, zsgu00000001 (home US) on its
// own; and, during replication-lag faults, users created a moment ago.
// 6 make domain-filtered listings. 14 send incoming tokens to an
// authtoken.Validator (domain gnc, home SG, a replica) in front of a
// handler: valid, just registered, expired, revoked, of another domain,
// Fernet-shaped garbage (old and recent) and malformed.
//
// Faults, one episode at a time, each for a few clock steps: a Keystone
// answering 5xx, timing out (latency beyond the attempt timeout, or
// hanging) or merely slow; a location down (listener closed) and back;
// one service endpoint answering 401 to every token; users registered at
// the primary that the replicas do not know yet; a Keystone answering 429
// with Retry-After; the fake clock jumping through refresh windows and
// expiries (alone or beside a failing Keystone); every Keystone down
// (sometimes across an expiry). Every 60 calls the fake clock moves, by
// 1 s to 25 min.
//
// Invariants:
//
//   - No call fails while a valid token exists somewhere. Every failure is
//     classified by its cause from the fault history: the endpoint it
//     called was under a fault (down, 401, a user too new for that
//     replica), or no token was cached and no Keystone could give one (all
//     down, or a 429, which by design is not failed over), possibly
//     remembered for the documented backoff. Any other failure, a cached
//     valid token given up without a rejection, a wrong listing, an
//     accepted bad token or a rejected good one fails the test.
//   - Keystone requests stay within bounds derived from the documented
//     rules, whatever the call rate. Per identity (soak.bounds): tokens ≤
//     1 + life/43.5 min (the earliest a refresh window opens) + rejected
//     tokens, which are ≤ 2 + ⌊duration/30 s⌋ per 401 fault (one token
//     dropped per 30 s) and 4 for a user the replicas do not know yet;
//     failed fetches ≤ one per clock step under a Keystone fault, plus one
//     per such fault; each fetch ≤ 4 requests (3 locations and the lag
//     retry).
//     Per incoming token (soak.book): validations that get an answer ≤ one
//     per clock step it was presented in and one per cache lifetime (5 min
//     if valid, 10 s if not), each ≤ 1 request, +1 per location the
//     Validator may fail over from (a Keystone under a fault then, or a
//     cool-down before), +1 if the token shows an issue time within the
//     lag window; plus ≤ 3 per validation answered 503
//     (outages are not remembered: this term follows the call rate).
//     Checked per fault episode (plus what was in flight when it began)
//     and for the whole run.
//   - After Close, goroutines are back to the baseline (polled with
//     runtime.Gosched, no sleep), no timer is left on the fake clock, and
//     the live heap is within 4 MiB of the baseline.
//   - No race: it runs under -race.
func TestSoak(t *testing.T) {
	dur := soakDuration(t)
	seed := soakSeed(t)
	t.Logf("soak: %s, seed %d (GEOSTACK_SOAK_SEED=%d replays the fault schedule)", dur, seed, seed)

	heap0, g0 := soakSettle(-1)
	// A subtest, so that the cleanups it registers (the fake cloud's
	// Close, holding all it has seen) have run when the heap is weighed.
	t.Run("run", func(t *testing.T) { runSoak(t, dur, seed) })
	heap1, g1 := soakSettle(g0)
	t.Logf("soak: goroutines %d before, %d after Close; live heap %.1f MiB before, %.1f MiB after",
		g0, g1, soakMiB(heap0), soakMiB(heap1))
	if g1 > g0 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", g1, g0, buf[:runtime.Stack(buf, true)])
	}
	const heapMargin = 4 << 20
	if heap1 > heap0+heapMargin {
		t.Errorf("live heap %.1f MiB after Close, %.1f MiB before: more than %d MiB left", soakMiB(heap1), soakMiB(heap0), heapMargin>>20)
	}
}

func soakMiB(b uint64) float64 { return float64(b) / (1 << 20) }

// soakDuration reads GEOSTACK_SOAK.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	s := os.Getenv("GEOSTACK_SOAK")
	if s == "" {
		if testing.Short() {
			return time.Second
		}
		return 3 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("GEOSTACK_SOAK=%q: want a positive duration such as 20s or 10m", s)
	}
	return d
}

// soakSeed reads GEOSTACK_SOAK_SEED, or draws a seed.
func soakSeed(t *testing.T) uint64 {
	t.Helper()
	s := os.Getenv("GEOSTACK_SOAK_SEED")
	if s == "" {
		return rand.Uint64()
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatalf("GEOSTACK_SOAK_SEED=%q: want an unsigned integer", s)
	}
	return n
}

// soakSettle returns the live heap and the goroutine count after a GC.
// With want ≥ 0 it first lets goroutines that are ending (closed
// connections' readers) finish: it yields, bounded, until at most want
// are left.
func soakSettle(want int) (uint64, int) {
	for i := 0; want >= 0 && i < 2000 && runtime.NumGoroutine() > want; i++ {
		if i%20 == 0 {
			runtime.GC()
		}
		runtime.Gosched()
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, runtime.NumGoroutine()
}

// ---------------------------------------------------------------------
// Fault history

// soakFaults is the set of faults in effect; immutable once published.
type soakFaults map[testserver.Target]testserver.Fault

// soakBlocked reports whether f keeps a Keystone from answering: down,
// failing, hanging or slower than the attempt timeout. A 429 is an answer.
func soakBlocked(f testserver.Fault) bool {
	return f.Down || f.Hang || f.Status >= 500 || f.Latency >= soakAttempt
}

func (fs soakFaults) keystoneBlocked(loc string) bool {
	return soakBlocked(fs[testserver.Keystone(loc)]) || soakBlocked(fs[testserver.AtLocation(loc)])
}

func (fs soakFaults) rateLimited() bool {
	for t, f := range fs {
		if t.Service == "identity" && f.Status == http.StatusTooManyRequests {
			return true
		}
	}
	return false
}

// rejecting reports whether some service endpoint answers 401.
func (fs soakFaults) rejecting() bool {
	for t, f := range fs {
		if t.Region != "" && f.Status == http.StatusUnauthorized {
			return true
		}
	}
	return false
}

// keystoneTouched returns the locations (bits, in the order of locs)
// whose Keystone is under any fault.
func (fs soakFaults) keystoneTouched(locs []string) uint {
	var m uint
	for i, l := range locs {
		if fs[testserver.Keystone(l)] != (testserver.Fault{}) || fs[testserver.AtLocation(l)] != (testserver.Fault{}) {
			m |= 1 << i
		}
	}
	return m
}

// keystoneFault reports whether a token fetch may fail: some Keystone is
// blocked or rate limiting.
func (fs soakFaults) keystoneFault(locs []string) bool {
	for _, l := range locs {
		if fs.keystoneBlocked(l) {
			return true
		}
	}
	return fs.rateLimited()
}

// soakEpoch is a stretch of time with one set of faults and one reading
// of the fake clock; a new one begins at every fault change and clock move.
type soakEpoch struct {
	at     time.Time // the fake clock when it began
	wall   time.Time // the wall clock when it began
	faults soakFaults
}

type soakHistory struct {
	mu     sync.RWMutex
	epochs []soakEpoch
	cur    atomic.Int64
}

func (h *soakHistory) publish(e soakEpoch) {
	e.wall = time.Now()
	h.mu.Lock()
	h.epochs = append(h.epochs, e)
	n := len(h.epochs) - 1
	h.mu.Unlock()
	h.cur.Store(int64(n))
}

func (h *soakHistory) now() int { return int(h.cur.Load()) }

func (h *soakHistory) last() soakEpoch {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.epochs[len(h.epochs)-1]
}

// span returns the epochs that a call from epoch first to epoch last may
// have met, reaching back to the epoch running at from on the fake clock:
// a fault is published just after it is set, so the epoch after last is
// included.
func (h *soakHistory) span(first, last int, from time.Time) []soakEpoch {
	return h.spanHeld(first, last, from, 0)
}

// spanHeld is span reaching further back, by held of wall time from the
// epoch running at from: what a Keystone fault does in real time (a
// request held until its attempt timeout, and the requests queued behind
// it for one of the Validator's connections) outlasts the fault by real
// seconds, in which the fake clock may move minutes.
func (h *soakHistory) spanHeld(first, last int, from time.Time, held time.Duration) []soakEpoch {
	lo := h.reachHeld(first, from, held)
	h.mu.RLock()
	defer h.mu.RUnlock()
	hi := min(last+1, len(h.epochs)-1)
	return h.epochs[lo : hi+1]
}

// reach returns the epoch running at from on the fake clock, or first if
// that is earlier.
func (h *soakHistory) reach(first int, from time.Time) int {
	return h.reachHeld(first, from, 0)
}

// reachHeld is reach, then back by held of wall time.
func (h *soakHistory) reachHeld(first int, from time.Time, held time.Duration) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	lo := first
	for lo > 0 && !h.epochs[lo].at.Before(from) {
		lo--
	}
	wallFrom := h.epochs[lo].wall.Add(-held)
	for lo > 0 && !h.epochs[lo].wall.Before(wallFrom) {
		lo--
	}
	return lo
}

func soakAny(eps []soakEpoch, f func(soakFaults) bool) bool {
	return slices.ContainsFunc(eps, func(e soakEpoch) bool { return f(e.faults) })
}

// soakAllBlocked reports whether, in one epoch, no Keystone could answer.
func soakAllBlocked(eps []soakEpoch, locs []string) bool {
	return soakAny(eps, func(fs soakFaults) bool {
		for _, l := range locs {
			if !fs.keystoneBlocked(l) {
				return false
			}
		}
		return true
	})
}

// soakEachBlocked reports whether every Keystone was blocked at some time in
// eps, not necessarily at once: with open circuits, a resolver may skip a
// Keystone that has recovered until its cool-down ends.
func soakEachBlocked(eps []soakEpoch, locs []string) bool {
	for _, l := range locs {
		if !soakAny(eps, func(fs soakFaults) bool { return fs.keystoneBlocked(l) }) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------
// Episodes

// soakEpisode is one fault (or a quiet stretch) lasting a few clock steps.
type soakEpisode struct {
	kind, detail string
	steps, ran   int
	dt           func(*rand.Rand, int) time.Duration // the clock move after step i
	undo         func()                              // extra cleanup (lag clients)

	from, to   time.Time // fake clock
	faultSteps int       // steps under a Keystone fault
	rejecting  bool      // a service endpoint answers 401
	flights    int64     // the most validation requests the tokens presented in it allow (soakUse)
	// resent is what net/http may send twice: a Keystone that closes
	// connections without an answer (Down at a Keystone target) has read
	// the request on each idle connection, which the transport sends again
	// on a new one if it may (a GET). Once per idle connection of the
	// Validator's client (8 per Keystone); the clients' fetches are POSTs.
	resent int64

	calls, failures, v503 atomic.Int64

	// Counters at the start, for the deltas.
	req0, harness0, vsent0 int64
	issued0, failed0       map[*soakIdentity]int64

	requests, fetches, vsent int64
	slack                    int64 // what was in flight when the episode began
	tokens                   int64
}

func (e *soakEpisode) keystoneFaulty() bool { return e.faultSteps > 0 }

// bound is what the episode may ask of Keystone, besides what was in
// flight when it began: its fetches, the validations of the tokens
// presented in it, and its validations answered 503.
func (e *soakEpisode) bound() int64 {
	return soakPerFetch*e.fetches + e.flights + soakPerFailedFlight*e.v503.Load() + e.resent
}

// ---------------------------------------------------------------------
// Identities and clients

// soakIdentity is one user the library fetches tokens for.
type soakIdentity struct {
	name, userID string
	home         string
	lag          bool      // registered during the soak, at the primary
	created      time.Time // fake clock: when (lag users)
	from, to     time.Time // fake clock: its clients' life
	stats        func() tokencache.Stats
	harness      int64 // tokens the harness issued to this user itself
	// validUntil is the latest expiry (minus the margin) of a token that
	// a caller was handed, in Unix nanoseconds of the fake clock, and
	// validSince the epoch in which a caller was first handed that token:
	// a rejection of it can only come after.
	validUntil, validSince atomic.Int64
	service                bool // the Validator's own service user
}

func (id *soakIdentity) observe(tok *identity.Token, s *soak) {
	u := tok.Expiry.Add(-soakExpiryMargin).UnixNano()
	for {
		old := id.validUntil.Load()
		if u <= old {
			return
		}
		if id.validUntil.CompareAndSwap(old, u) {
			// A new token. (A caller handed it before this store is
			// after the epoch read here.)
			id.validSince.Store(int64(s.hist.now()))
			s.log.secret(tok.ID)
			return
		}
	}
}

type soakClient struct {
	c       *geostack.Client
	id      *soakIdentity
	project string
	inUse   sync.WaitGroup
}

// ---------------------------------------------------------------------
// Incoming tokens

type soakToken struct {
	id        string
	kind      string // valid, lag, expired, revoked, wrong-domain, garbage-old, garbage-recent, malformed
	userID    string
	expiry    time.Time // fake clock
	created   time.Time // lag: when the user was registered
	revokedAt time.Time
	fernet    bool
	// revoking is set, to the fake clock's Unix nanoseconds, just before
	// the harness revokes the token: shared by its valid and revoked
	// copies, so that a call that began with it valid knows.
	revoking *atomic.Int64
	use      *soakUse // each copy its own
}

// soakUse is when callers presented an incoming token.
type soakUse struct {
	callers   atomic.Int64 // calls in progress with it
	mu        sync.Mutex
	intervals map[int64]bool // the clock intervals that a call with it overlapped
}

func (u *soakUse) seen(first, last int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.intervals == nil {
		u.intervals = map[int64]bool{}
	}
	for i := first; i <= last; i++ {
		u.intervals[i] = true
	}
}

type soakPool struct {
	byKind map[string][]*soakToken
}

var soakTokenKinds = []struct {
	kind   string
	weight int
}{
	{"valid", 30}, {"lag", 10}, {"expired", 10}, {"revoked", 10}, {"wrong-domain", 8},
	{"garbage-old", 10}, {"garbage-recent", 6}, {"malformed", 10},
}

func (p *soakPool) pick(rng *rand.Rand) *soakToken {
	total := 0
	for _, k := range soakTokenKinds {
		total += k.weight
	}
	n := rng.IntN(total)
	for _, k := range soakTokenKinds {
		if n -= k.weight; n < 0 {
			if ts := p.byKind[k.kind]; len(ts) > 0 {
				return ts[rng.IntN(len(ts))]
			}
			break
		}
	}
	ts := p.byKind["valid"]
	return ts[rng.IntN(len(ts))]
}

// soakFernet returns a token shaped like a Fernet token issued at at,
// which no Keystone issued: the version byte, the time, then random bytes.
func soakFernet(rng *rand.Rand, at time.Time) string {
	var b [1 + 8 + 16 + 4*16 + 32]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	b[0] = 0x80
	binary.BigEndian.PutUint64(b[1:9], uint64(at.Unix()))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ---------------------------------------------------------------------
// Logs

// soakLog is the slog.Handler of every part of the library in the soak.
// It checks that no secret (password, token, or a token's first 16
// characters) reaches a line; keeps the reason of the last rejection of
// each watched token (valid ones), by fingerprint, for the report of a
// failure; and follows the circuits the resolvers report opening and
// closing, by auth_url.
type soakLog struct {
	mu       sync.Mutex
	secrets  map[string]bool // tokens and their 16-character prefixes
	watched  map[string]bool // fingerprints
	reasons  map[string]string
	circuits map[string][]soakCircuitEvent
	leaks    []string
	lines    int64
	password []string
	epoch    func() int
}

type soakCircuitEvent struct {
	epoch int
	open  bool
}

func newSoakLog(epoch func() int) *soakLog {
	return &soakLog{secrets: map[string]bool{}, watched: map[string]bool{}, reasons: map[string]string{},
		circuits: map[string][]soakCircuitEvent{}, epoch: epoch,
		password: []string{testserver.UserPassword, testserver.ServicePassword, testserver.AdminPassword, soakPassword}}
}

// circuitOpen reports whether the circuit of authURL was open at some
// time from epoch lo to hi: open when lo began, or changed within (which
// a close does only from open).
func (l *soakLog) circuitOpen(authURL string, lo, hi int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	open := false
	for _, e := range l.circuits[authURL] {
		switch {
		case e.epoch < lo:
			open = e.open
		case e.epoch <= hi:
			return true
		default:
			return open
		}
	}
	return open
}

// secret registers a token that must never be logged.
func (l *soakLog) secret(tok string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.secrets[tok] = true
	if len(tok) > 16 {
		l.secrets[tok[:16]] = true
	}
}

// watch keeps the reasons of tok's rejections.
func (l *soakLog) watch(tok string) {
	l.mu.Lock()
	l.watched[identity.TokenFingerprint(tok)] = true
	l.mu.Unlock()
}

func (l *soakLog) reason(tok string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reasons[identity.TokenFingerprint(tok)]
}

func (l *soakLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *soakLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *soakLog) WithGroup(string) slog.Handler            { return l }

func (l *soakLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	var errText, authURL string
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve().String()
		b.WriteString(" " + a.Key + "=" + v)
		switch a.Key {
		case "error":
			errText = v
		case "auth_url":
			authURL = v
		}
		return true
	})
	line := b.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines++
	leak := slices.ContainsFunc(l.password, func(p string) bool { return strings.Contains(line, p) })
	for _, run := range strings.FieldsFunc(line, func(c rune) bool {
		return !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
	}) {
		if len(run) >= 16 && (l.secrets[run] || l.secrets[run[:16]]) {
			leak = true
		}
	}
	if leak && len(l.leaks) < 5 {
		l.leaks = append(l.leaks, line)
	}
	if strings.HasPrefix(r.Message, "region: circuit ") && authURL != "" {
		l.circuits[authURL] = append(l.circuits[authURL], soakCircuitEvent{epoch: l.epoch(), open: !strings.HasSuffix(r.Message, " closed")})
	}
	if i := strings.Index(errText, "[token sha256:"); i >= 0 && len(errText) >= i+len("[token sha256:")+8 {
		if fp := errText[i+len("[token ") : i+len("[token sha256:")+8]; l.watched[fp] {
			l.reasons[fp] = errText
		}
	}
	return nil
}

// ---------------------------------------------------------------------
// Counting transport

// soakCounter counts the requests an HTTP client sends, by method.
type soakCounter struct {
	base                           http.RoundTripper
	post, get, other, sent, notHit atomic.Int64
}

func (c *soakCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.sent.Add(1)
	switch r.Method {
	case http.MethodPost:
		c.post.Add(1)
	case http.MethodGet, http.MethodHead:
		c.get.Add(1)
	default:
		c.other.Add(1)
	}
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "dial" {
			c.notHit.Add(1)
		}
	}
	return resp, err
}

// ---------------------------------------------------------------------
// The soak

// soakFailure is a call that did not get what it should have, waiting for
// the fault history after it to be published before it is classified.
type soakFailure struct {
	op           string
	ep           *soakEpisode
	client       *soakClient // service calls
	target       testserver.Target
	loc          string
	tok          *soakToken // validations
	status       int
	err          error
	start, end   int
	t0, t1       time.Time
	validUntil   time.Time // the identity's token validity known before the call
	validSince   int       // the epoch from which that token was known
	serviceValid time.Time // the Validator's service token validity known before
}

type soak struct {
	t    *testing.T
	rng  *rand.Rand
	clk  *clock.Manual
	srv  *testserver.Server
	locs []string
	hist soakHistory

	cache     *tokencache.Cache
	fixed     []*soakClient
	lagMu     sync.RWMutex
	lag       []*soakClient
	ids       []*soakIdentity
	cfg       geostack.Config // A's, the template of the others
	gncProj   string
	lagSerial int

	v        *authtoken.Validator
	vHandler http.Handler
	vCount   *soakCounter
	vTr      *http.Transport
	vOrder   []string // the locations in the order the Validator tries them
	nova     *soakIdentity

	clock   soakClock
	harness soakHarness

	ep       atomic.Pointer[soakEpisode]
	episodes []*soakEpisode
	steps    int
	jumps    int
	poolMu   sync.RWMutex // guards pool, so that a token no longer offered has no new callers
	pool     *soakPool
	log      *soakLog
	retired  []*soakToken // tokens no longer offered, not yet booked
	flights  int64        // the most validation requests the booked tokens allowed
	interval atomic.Int64 // the clock interval now: len(clock.intervals)
	// touchedUntil is, per location (in the order of locs), the end of
	// the last clock interval in which its Keystone was under a fault.
	touchedUntil []time.Time

	stop     atomic.Bool
	gate     sync.RWMutex // held by every call, taken by a long clock jump
	wg       sync.WaitGroup
	calls    atomic.Int64
	progress chan struct{}

	refMu sync.Mutex
	refs  map[string]string

	pendMu  sync.Mutex
	pending []*soakFailure

	outMu     sync.Mutex
	outcomes  map[string]int64 // calls that went as they must, by outcome
	causes    map[string]int64 // explained failures by the kind of episode they ended in, and cause
	bad       []string         // unexplained failures, the first few
	badCauses map[string]int64 // unexplained failures by cause
	nbad      int
	v503      atomic.Int64
	fails     atomic.Int64
}

// soakHarness is the test's own Keystone client: it issues and revokes
// the incoming tokens. It runs on the driver goroutine only, and only
// against a Keystone under no fault, so that every request it sends is
// one the fake counts.
type soakHarness struct {
	ic                                                     *identity.Client
	count                                                  *soakCounter
	tr                                                     *http.Transport
	admin                                                  *identity.Token
	valid                                                  [2]*soakToken
	wrong                                                  *soakToken
	lag                                                    []*soakToken
	expiring                                               []*soakToken
	expired, revoked, garbageOld, garbageRecent, malformed []*soakToken
}

func runSoak(t *testing.T, dur time.Duration, seed uint64) {
	begin := time.Now()
	clk := clock.NewManual(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	srv, cfg := setup(t, testserver.Options{Clock: clk, TokenLifetime: soakTokenLife, ReplicationLag: soakLag}, "gnc", 1)
	s := &soak{
		t: t, rng: rand.New(rand.NewPCG(seed, 0)), clk: clk, srv: srv, locs: srv.Locations(), cfg: cfg,
		progress: make(chan struct{}, 1), refs: map[string]string{},
		outcomes: map[string]int64{}, causes: map[string]int64{}, badCauses: map[string]int64{},
	}
	s.touchedUntil = make([]time.Time, len(s.locs))
	s.log = newSoakLog(s.hist.now)
	s.cfg.Logger = slog.New(s.log)
	s.hist.publish(soakEpoch{at: clk.Now(), faults: soakFaults{}})
	_, gServer := soakSettle(-1)

	s.setUp()
	s.warmUp()
	heapOpen, _ := soakSettle(-1)

	// The run: episode after episode until the time is up.
	ep := s.startEpisode()
	s.startWorkers()
	for {
		if over := time.Since(begin) >= dur; over || ep.ran >= ep.steps {
			s.endEpisode(ep)
			if over {
				break
			}
			ep = s.startEpisode()
		}
		s.step(ep)
	}
	s.recover()
	s.stop.Store(true)
	s.wg.Wait()
	s.classify(true)
	for _, t := range s.retired {
		s.book(t)
	}
	for _, ts := range s.pool.byKind {
		for _, t := range ts {
			s.book(t)
		}
	}
	heapEnd, _ := soakSettle(-1)

	// Close everything the library holds; the fake cloud stays up, so
	// that connections the library left open would show.
	s.lagMu.Lock()
	for _, c := range s.lag {
		c.c.Close()
	}
	s.lag = nil
	s.lagMu.Unlock()
	for _, c := range s.fixed {
		c.c.Close()
	}
	s.v.Close()
	// Validator.Close leaves the idle connections of an HTTP client it
	// builds itself open (reported); the soak gives it one of its own,
	// which it closes here.
	s.vTr.CloseIdleConnections()
	s.cache.Close()
	s.harness.tr.CloseIdleConnections()
	if n := clk.Pending(); n != 0 {
		t.Errorf("%d timers left on the fake clock after Close", n)
	}
	if _, g := soakSettle(gServer); g > gServer {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after closing every client, the Validator and the cache, %d with the fake cloud alone:\n%s",
			g, gServer, buf[:runtime.Stack(buf, true)])
	}

	s.report(time.Since(begin), heapOpen, heapEnd)
	s.checkBounds()
	srv.Close()
}

// setUp makes the clients, the Validator and the harness.
func (s *soak) setUp() {
	t := s.t
	w := testserver.DefaultWorld()
	s.cache = newCache(t, tokencache.Options{Clock: s.clk, Logger: s.cfg.Logger})
	s.gncProj = w.Project("gnct00000001").ID

	mk := func(dom, user, project, home string, shared bool) *soakClient {
		cfg := s.cfg
		cfg.Domain, cfg.Home, cfg.AttemptTimeout = dom, home, soakAttempt
		cfg.Credential = identity.Password{UserID: w.User(user).ID, Password: testserver.UserPassword}
		cfg.Scope = identity.Scope{ProjectID: w.Project(project).ID}
		if shared {
			cfg.Cache = s.cache
		}
		c, err := geostack.New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		var id *soakIdentity
		for _, o := range s.ids {
			if o.name == user {
				id = o
			}
		}
		if id == nil {
			id = &soakIdentity{name: user, userID: w.User(user).ID, home: home, from: s.clk.Now(), stats: func() tokencache.Stats { return c.Stats().Cache }}
			s.ids = append(s.ids, id)
		}
		return &soakClient{c: c, id: id, project: cfg.Scope.ProjectID}
	}
	s.fixed = []*soakClient{
		mk("gnc", "gncu00000001", "gnct00000001", "SG", true),
		mk("gnc", "gncu00000001", "gnct00000001", "SG", true), // the same identity: one token
		mk("zjp", "zjpu00000001", "zjpt00000001", "JP", true),
		mk("zsg", "zsgu00000001", "zsgt00000001", "US", false), // a cache of its own
	}

	gnc, _ := s.cfg.Domains.ByName("gnc")
	eps := map[string]domain.Endpoints{}
	for l := range gnc.Endpoints {
		eps[l] = domain.Endpoints{UserAuthURL: s.srv.DomainAuthURL("gnc", l), AdminAuthURL: s.srv.DomainAdminAuthURL("gnc", l)}
	}
	gnc.Endpoints = eps
	// An HTTP client like the one a Validator builds for itself (8
	// connections per Keystone), counted.
	s.vTr = http.DefaultTransport.(*http.Transport).Clone()
	s.vTr.MaxConnsPerHost, s.vTr.MaxIdleConnsPerHost = 8, 8
	s.vCount = &soakCounter{base: s.vTr}
	v, err := authtoken.New(authtoken.Config{
		Domains: []domain.Domain{gnc}, Home: "SG", Primary: s.srv.Primary(),
		AttemptTimeout: soakAttempt, ReplicationLag: 2 * soakLag,
		Client:            &identity.Client{HTTPClient: &http.Client{Transport: s.vCount}},
		ServiceCredential: identity.Password{UserName: "nova", DomainID: testserver.DefaultDomainID, Password: testserver.ServicePassword},
		ServiceScope:      identity.Scope{ProjectName: testserver.ServiceProject, ProjectDomainID: testserver.DefaultDomainID},
		TokenCache:        s.cache, Clock: s.clk, Logger: s.cfg.Logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.v = v
	// Its resolver's locations are the domain's, by name: home first,
	// then the others in that order.
	for _, l := range s.locs {
		if l != "SG" {
			s.vOrder = append(s.vOrder, l)
		}
	}
	sort.Strings(s.vOrder)
	s.vOrder = append([]string{"SG"}, s.vOrder...)
	h := v.ServiceToken().(*tokencache.Handle)
	s.nova = &soakIdentity{name: "nova", userID: w.User("nova").ID, home: "SG", from: s.clk.Now(), service: true, stats: h.Stats}
	s.ids = append(s.ids, s.nova)
	s.vHandler = v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := authtoken.FromContext(r.Context())
		if !ok || !id.Confirmed() {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, id.Token.User.ID)
	}), authtoken.HandlerOptions{})

	s.harness.tr = http.DefaultTransport.(*http.Transport).Clone()
	s.harness.count = &soakCounter{base: s.harness.tr}
	s.harness.ic = &identity.Client{HTTPClient: &http.Client{Transport: s.harness.count}, Clock: s.clk}
	s.tend()
	if s.pool == nil || len(s.pool.byKind["valid"]) == 0 {
		t.Fatal("harness: no valid incoming token")
	}
}

// warmUp makes every call once with no fault, which must succeed, and
// records the listings the rest of the run must reproduce.
func (s *soak) warmUp() {
	for _, c := range s.fixed {
		for _, op := range soakOps {
			for _, r := range soakRegions {
				if err := s.callOnce(c, op, r); err != nil {
					s.t.Fatalf("warm-up: %s %s in %s: %v", c.id.name, op.name, r, err)
				}
			}
		}
	}
}

// startWorkers starts the 50 goroutines that make calls.
func (s *soak) startWorkers() {
	for i := range soakWorkers {
		role := "service"
		switch {
		case i < soakVWorkers:
			role = "validate"
		case i < soakVWorkers+soakLWorkers:
			role = "listing"
		}
		s.wg.Add(1)
		go s.worker(i, role, rand.New(rand.NewPCG(s.rng.Uint64(), uint64(i))))
	}
}

// callOnce is one call, outside the workers: it fails on any error.
func (s *soak) callOnce(c *soakClient, op soakOp, region string) error {
	ctx, cancel := context.WithTimeout(context.Background(), soakCallLimit)
	defer cancel()
	sig, err := op.run(ctx, c, region)
	if err != nil {
		return err
	}
	return s.checkRef(c, op, region, sig)
}

func (s *soak) checkRef(c *soakClient, op soakOp, region, sig string) error {
	k := c.project + " " + op.name + " " + region
	s.refMu.Lock()
	defer s.refMu.Unlock()
	want, ok := s.refs[k]
	if !ok {
		s.refs[k] = sig
		return nil
	}
	if want != sig {
		return &soakWrongResult{want: want, got: sig}
	}
	return nil
}

type soakWrongResult struct{ want, got string }

func (e *soakWrongResult) Error() string {
	return fmt.Sprintf("listing differs from the first one: want %q, got %q", e.want, e.got)
}

var soakRegions = []string{"TYO1", "OSA1", "SJC1", "SIN1"}

// soakOp is a call a worker makes for a client in a region; target is
// the testserver's name of the service it reaches.
type soakOp struct {
	name, target string
	listing      bool
	run          func(ctx context.Context, c *soakClient, region string) (string, error)
}

func soakNames[T any](items []T, name func(T) string) string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = name(it)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

var soakOps = []soakOp{
	{name: "flavors", target: "compute", run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		sc, err := c.c.ServiceClient(ctx, "compute", region)
		if err != nil {
			return "", err
		}
		pages, err := flavors.ListDetail(sc, nil).AllPages(ctx)
		if err != nil {
			return "", err
		}
		fl, err := flavors.ExtractFlavors(pages)
		return soakNames(fl, func(f flavors.Flavor) string { return f.Name }), err
	}},
	{name: "images", target: "image", run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		sc, err := c.c.ServiceClient(ctx, "image", region)
		if err != nil {
			return "", err
		}
		pages, err := images.List(sc, nil).AllPages(ctx)
		if err != nil {
			return "", err
		}
		im, err := images.ExtractImages(pages)
		return soakNames(im, func(i images.Image) string { return i.Name }), err
	}},
	{name: "networks", target: "network", run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		sc, err := c.c.ServiceClient(ctx, "network", region)
		if err != nil {
			return "", err
		}
		pages, err := networks.List(sc, nil).AllPages(ctx)
		if err != nil {
			return "", err
		}
		ns, err := networks.ExtractNetworks(pages)
		return soakNames(ns, func(n networks.Network) string { return n.Name }), err
	}},
	{name: "volume-types", target: "volumev3", run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		sc, err := c.c.ServiceClient(ctx, "volumev3", region)
		if err != nil {
			return "", err
		}
		pages, err := volumetypes.List(sc, nil).AllPages(ctx)
		if err != nil {
			return "", err
		}
		vt, err := volumetypes.ExtractVolumeTypes(pages)
		return soakNames(vt, func(v volumetypes.VolumeType) string { return v.Name }), err
	}},
	{name: "domain-flavors", target: "compute", listing: true, run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		fl, err := collect(c.c.Flavors(ctx, region, nil))
		return soakNames(fl, func(f flavors.Flavor) string { return f.Name }), err
	}},
	{name: "domain-images", target: "image", listing: true, run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		im, err := collect(c.c.Images(ctx, region, nil))
		return soakNames(im, func(i images.Image) string { return i.Name }), err
	}},
	{name: "domain-volume-types", target: "volumev3", listing: true, run: func(ctx context.Context, c *soakClient, region string) (string, error) {
		vt, err := collect(c.c.VolumeTypes(ctx, region, nil))
		return soakNames(vt, func(v volumetypes.VolumeType) string { return v.Name }), err
	}},
}

// soakCallOps and soakListOps are the gophercloud calls and the
// domain-filtered listings.
var soakCallOps, soakListOps = func() (calls, lists []soakOp) {
	for _, op := range soakOps {
		if op.listing {
			lists = append(lists, op)
		} else {
			calls = append(calls, op)
		}
	}
	return calls, lists
}()

// ---------------------------------------------------------------------
// Workers

func (s *soak) worker(i int, role string, rng *rand.Rand) {
	defer s.wg.Done()
	for !s.stop.Load() {
		ep := s.ep.Load()
		s.gate.RLock()
		switch role {
		case "validate":
			s.validateCall(rng, i == 0)
		case "listing":
			s.serviceCall(rng, true)
		default:
			s.serviceCall(rng, false)
		}
		s.gate.RUnlock()
		s.calls.Add(1)
		ep.calls.Add(1)
		select {
		case s.progress <- struct{}{}:
		default:
		}
	}
}

// pickClient returns a client, mostly a fixed one, marked in use.
func (s *soak) pickClient(rng *rand.Rand) *soakClient {
	s.lagMu.RLock()
	defer s.lagMu.RUnlock()
	c := s.fixed[rng.IntN(len(s.fixed))]
	if len(s.lag) > 0 && rng.IntN(3) == 0 {
		c = s.lag[rng.IntN(len(s.lag))]
	}
	c.inUse.Add(1)
	return c
}

func (s *soak) serviceCall(rng *rand.Rand, listing bool) {
	c := s.pickClient(rng)
	defer c.inUse.Done()
	ops := soakCallOps
	if listing {
		ops = soakListOps
	}
	op := ops[rng.IntN(len(ops))]
	region := soakRegions[rng.IntN(len(soakRegions))]
	ctx, cancel := context.WithTimeout(context.Background(), soakCallLimit)
	defer cancel()
	// The token the call is about to use, if one is cached: a read, or
	// the fetch the call would make anyway.
	if tok, err := c.c.Token(ctx); err == nil {
		c.id.observe(tok, s)
	}
	f := &soakFailure{op: op.name, client: c, target: testserver.Service(op.target, region), loc: s.srv.LocationOf(region),
		validSince: int(c.id.validSince.Load()), validUntil: time.Unix(0, c.id.validUntil.Load())}
	f.start, f.t0 = s.hist.now(), s.clk.Now()
	sig, err := op.run(ctx, c, region)
	if err == nil {
		err = s.checkRef(c, op, region, sig)
	}
	f.end, f.t1 = s.hist.now(), s.clk.Now()
	if err != nil {
		f.err = err
		s.fail(f, s.ep.Load())
		return
	}
	s.count("call ok")
}

func (s *soak) validateCall(rng *rand.Rand, observer bool) {
	s.poolMu.RLock()
	tok := s.pool.pick(rng)
	tok.use.callers.Add(1)
	s.poolMu.RUnlock()
	defer tok.use.callers.Add(-1)
	ctx, cancel := context.WithTimeout(context.Background(), soakCallLimit)
	defer cancel()
	if observer {
		// How long the Validator's own service token is good for, as far
		// as its callers can tell.
		if st, err := s.v.ServiceToken().Token(ctx); err == nil {
			s.nova.observe(st, s)
		}
	}
	f := &soakFailure{op: "validate " + tok.kind, tok: tok, serviceValid: time.Unix(0, s.nova.validUntil.Load())}
	f.start, f.t0 = s.hist.now(), s.clk.Now()
	first := s.interval.Load()
	req := httptest.NewRequest(http.MethodGet, "/mailbox", nil).WithContext(ctx)
	req.Header.Set("X-Auth-Token", tok.id)
	rec := httptest.NewRecorder()
	s.vHandler.ServeHTTP(rec, req)
	tok.use.seen(first, s.interval.Load())
	f.end, f.t1 = s.hist.now(), s.clk.Now()
	f.status = rec.Code
	ep := s.ep.Load() // failures are booked to the episode they end in
	if rec.Code == http.StatusServiceUnavailable {
		s.v503.Add(1)
		ep.v503.Add(1)
	}
	if outcome, ok := s.expected(f, rec.Body.String()); ok {
		s.count(outcome)
		return
	}
	s.fail(f, ep)
}

// expected reports whether a validation answered as it must, and names
// the outcome.
func (s *soak) expected(f *soakFailure, body string) (string, bool) {
	tok, code := f.tok, f.status
	name := fmt.Sprintf("validate %s %d", tok.kind, code)
	switch tok.kind {
	case "valid", "lag":
		switch {
		case code == http.StatusOK && body == tok.userID:
			return name, true
		case code == http.StatusOK:
			f.err = fmt.Errorf("the handler saw user %q, the token is %q's", body, tok.userID)
		case code == http.StatusUnauthorized && !f.t1.Before(tok.expiry):
			return name + " (expired meanwhile)", true
		case code == http.StatusUnauthorized && tok.revoking.Load() != 0:
			return name + " (revoked meanwhile)", true
		}
		return name, false
	case "revoked":
		if code == http.StatusOK && f.t0.Before(tok.revokedAt.Add(soakCacheTTL+soakMaxJump)) {
			// Validated before the revocation and trusted for CacheTTL, as
			// documented.
			return name + " (cached before the revocation)", true
		}
	}
	return name, code == http.StatusUnauthorized
}

func (s *soak) count(outcome string) {
	s.outMu.Lock()
	s.outcomes[outcome]++
	s.outMu.Unlock()
}

func (s *soak) fail(f *soakFailure, ep *soakEpisode) {
	s.fails.Add(1)
	ep.failures.Add(1)
	f.ep = ep
	s.pendMu.Lock()
	s.pending = append(s.pending, f)
	s.pendMu.Unlock()
}

// ---------------------------------------------------------------------
// The driver

// waitCalls waits for the workers to make soakStepCalls more calls. The
// timer only catches a hang; nothing waits on it otherwise.
func (s *soak) waitCalls() {
	target := s.calls.Load() + soakStepCalls
	guard := time.NewTimer(2 * time.Minute)
	defer guard.Stop()
	for s.calls.Load() < target {
		select {
		case <-s.progress:
		case <-guard.C:
			s.stop.Store(true)
			s.t.Fatalf("no progress: the workers made fewer than %d calls in 2 minutes", soakStepCalls)
		}
	}
}

// soakInterval is the time between two clock moves.
type soakInterval struct {
	from, to time.Time
	faulty   bool // a Keystone was blocked or rate limiting at some time in it
	failover int  // the Validator may fail over this many times in it (soak.failovers)
	ep       *soakEpisode
}

type soakClock struct {
	intervals []soakInterval
	faulty    bool // the current interval so far
	touched   uint // the current interval so far: the locations (bits, in the order of locs) whose Keystone was under a fault
}

// book adds what tok allowed the Validator to ask Keystone to the
// episodes it was presented in and to the run. In each episode: at most
// one flight that gets an answer per clock interval in which a caller
// presented it (the answer is cached; the clock stands still within an
// interval), and one per cache lifetime over the time it was presented
// (CacheTTL for a token Keystone validates, NegativeTTL for one it does
// not know: each answer is cached from its arrival until the next flight
// may start). Each flight: one request at
// home, two more if a Keystone was under a fault then or a cool-down
// before (failover), and one lag retry at the primary if the token shows
// an issue time within the Validator's ReplicationLag.
func (s *soak) book(tok *soakToken) {
	if !tok.fernet {
		return // malformed: never sent to Keystone
	}
	issued, _ := identity.TokenIssuedAt(tok.id)
	ttl, positive := soakNegativeTTL, soakPositive(tok.kind)
	if positive {
		ttl = soakCacheTTL
	}
	type group struct {
		n        int64
		from, to time.Time
		failover int
	}
	groups := map[*soakEpisode]*group{}
	tok.use.mu.Lock()
	for i := range tok.use.intervals {
		if i >= int64(len(s.clock.intervals)) {
			continue // the interval still open at the end: none
		}
		iv := s.clock.intervals[i]
		g := groups[iv.ep]
		if g == nil {
			g = &group{from: iv.from, to: iv.to}
			groups[iv.ep] = g
		}
		g.n++
		g.failover = max(g.failover, iv.failover)
		if iv.from.Before(g.from) {
			g.from = iv.from
		}
		if iv.to.After(g.to) {
			g.to = iv.to
		}
	}
	tok.use.mu.Unlock()
	for ep, g := range groups {
		perFlight := 1 + int64(g.failover)
		if g.from.Sub(issued) < 2*soakLag {
			perFlight++
		}
		n := min(g.n, 1+int64(g.to.Sub(g.from)/ttl)) * perFlight
		ep.flights += n
		s.flights += n
	}
}

// failovers is how many times the Validator (home SG, then the
// configured order) may fail over when the locations in suspect (bits, in
// the order of locs) are under a fault or just were: once per suspect
// location at the head of its order, at most twice.
func (s *soak) failovers(suspect uint) int {
	n := 0
	for _, l := range s.vOrder {
		if suspect&(1<<slices.Index(s.locs, l)) == 0 || n == len(s.locs)-1 {
			break
		}
		n++
	}
	return n
}

func soakPositive(kind string) bool { return kind == "valid" || kind == "wrong-domain" }

// noteFaults records a published fault set in the current interval.
func (s *soak) noteFaults(fs soakFaults) {
	s.clock.faulty = s.clock.faulty || fs.keystoneFault(s.locs)
	s.clock.touched |= fs.keystoneTouched(s.locs)
}

// advance moves the fake clock, ending an interval. A jump longer than
// the expiry margin waits for the calls in progress, and holds new ones
// until it is made: a request cannot take that long in earnest, and one
// in flight across it would take the jump for the time Keystone took to
// answer (a validated token's local expiry is reckoned from Keystone's
// Date header, and would come out early by the jump).
func (s *soak) advance(ep *soakEpisode, dt time.Duration) {
	from := s.clk.Now()
	if dt > soakExpiryMargin {
		s.gate.Lock()
		s.clk.Advance(dt)
		s.gate.Unlock()
	} else {
		s.clk.Advance(dt)
	}
	fs := s.hist.last().faults
	s.hist.publish(soakEpoch{at: s.clk.Now(), faults: fs})
	s.closeInterval(ep, from, dt)
	if dt > soakExpiryMargin {
		s.jumps++
	}
	s.steps++
}

// closeInterval books the clock interval that began at from and ended
// with a move of dt (0 at the end of the run).
func (s *soak) closeInterval(ep *soakEpisode, from time.Time, dt time.Duration) {
	to := s.clk.Now()
	// The Validator fails over past a location whose Keystone was under
	// a fault in this interval (a slow one may pass the attempt timeout
	// on a loaded machine), or in the cool-down before it (its circuit
	// may be open).
	var suspect uint
	for i := range s.locs {
		if s.clock.touched&(1<<i) != 0 {
			s.touchedUntil[i] = to
		}
		if !s.touchedUntil[i].IsZero() && from.Sub(s.touchedUntil[i]) < soakCoolDown {
			suspect |= 1 << i
		}
	}
	s.clock.intervals = append(s.clock.intervals, soakInterval{from: from, to: to, faulty: s.clock.faulty,
		failover: s.failovers(suspect), ep: ep})
	s.interval.Store(int64(len(s.clock.intervals)))
	if s.clock.faulty {
		ep.faultSteps++
	}
	// Tokens no longer offered, and no longer in a call, are done with.
	s.retired = slices.DeleteFunc(s.retired, func(t *soakToken) bool {
		if t.use.callers.Load() > 0 {
			return false
		}
		s.book(t)
		return true
	})
	s.clock.faulty = s.hist.last().faults.keystoneFault(s.locs)
	s.clock.touched = s.hist.last().faults.keystoneTouched(s.locs)
}

func (s *soak) step(ep *soakEpisode) {
	s.tend()
	s.waitCalls()
	s.advance(ep, ep.dt(s.rng, ep.ran))
	ep.ran++
	s.classify(false)
}

func (s *soak) setFaults(fs soakFaults) {
	for t, f := range fs {
		s.srv.SetFault(t, f)
	}
	s.hist.publish(soakEpoch{at: s.clk.Now(), faults: fs})
	s.noteFaults(fs)
}

// keystoneRequests is what every location's Keystone received.
func (s *soak) keystoneRequests() int64 {
	var n int64
	for _, l := range s.locs {
		n += s.srv.Requests(testserver.Keystone(l))
	}
	return n
}

// issued is the tokens Keystone issued to id's user by the library.
func (s *soak) issued(id *soakIdentity) int64 { return s.srv.TokensIssued(id.userID, "") - id.harness }

var soakKinds = []struct {
	kind   string
	weight int
}{
	{"keystone-5xx", 3}, {"keystone-timeout", 2}, {"keystone-slow", 1}, {"location-down", 2},
	{"endpoint-401", 2}, {"replication-lag", 2}, {"rate-limit", 2}, {"rollover", 2}, {"all-keystones-down", 1},
}

func soakSeconds(lo, hi int) func(*rand.Rand, int) time.Duration {
	return func(r *rand.Rand, _ int) time.Duration { return time.Duration(lo+r.IntN(hi-lo+1)) * time.Second }
}

// newEpisode begins the books of an episode.
func (s *soak) newEpisode(kind string, dt func(*rand.Rand, int) time.Duration) *soakEpisode {
	ep := &soakEpisode{kind: kind, from: s.clk.Now(), dt: dt, issued0: map[*soakIdentity]int64{}, failed0: map[*soakIdentity]int64{},
		req0: s.keystoneRequests(), harness0: s.harness.count.sent.Load(), vsent0: s.vCount.sent.Load()}
	for _, id := range s.ids {
		ep.issued0[id], ep.failed0[id] = s.issued(id), int64(id.stats().Failures)
	}
	return ep
}

// startEpisode draws the next episode and sets its faults.
func (s *soak) startEpisode() *soakEpisode {
	rng := s.rng
	ep := s.newEpisode("none", soakSeconds(1, 15))
	steps := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	homeish := func() string { return []string{"SG", "SG", "JP", "US"}[rng.IntN(4)] } // SG is the home of most
	fs := soakFaults{}
	last := len(s.episodes) > 0 && s.episodes[len(s.episodes)-1].kind != "none"
	if last && rng.IntN(2) == 0 {
		ep.steps = steps(1, 4)
	} else {
		total := 0
		for _, k := range soakKinds {
			total += k.weight
		}
		n := rng.IntN(total)
		for _, k := range soakKinds {
			if n -= k.weight; n < 0 {
				ep.kind = k.kind
				break
			}
		}
		switch ep.kind {
		case "keystone-5xx":
			loc, status := homeish(), []int{500, 502, 503}[rng.IntN(3)]
			fs[testserver.Keystone(loc)] = testserver.Fault{Status: status}
			ep.detail, ep.steps = fmt.Sprintf("%d at %s", status, loc), steps(2, 8)
		case "keystone-timeout":
			loc := homeish()
			f := testserver.Fault{Latency: soakAttempt + time.Second}
			ep.detail = fmt.Sprintf("%s late at %s", f.Latency, loc)
			if rng.IntN(2) == 0 {
				f, ep.detail = testserver.Fault{Hang: true}, "hang at "+loc
			}
			fs[testserver.Keystone(loc)] = f
			ep.steps = steps(2, 4)
		case "keystone-slow":
			loc := homeish()
			fs[testserver.Keystone(loc)] = testserver.Fault{Latency: 300 * time.Millisecond}
			ep.detail, ep.steps = "300ms late at "+loc, steps(2, 4)
		case "location-down":
			loc := s.locs[rng.IntN(len(s.locs))]
			fs[testserver.AtLocation(loc)] = testserver.Fault{Down: true}
			ep.detail, ep.steps = loc+" down", steps(2, 6)
		case "endpoint-401":
			svc, r := []string{"compute", "image", "network", "volumev3"}[rng.IntN(4)], soakRegions[rng.IntN(len(soakRegions))]
			fs[testserver.Service(svc, r)] = testserver.Fault{Status: http.StatusUnauthorized}
			ep.detail, ep.steps, ep.rejecting = svc+"@"+r+" answers 401", steps(2, 8), true
		case "replication-lag":
			n := 1 + rng.IntN(2)
			ep.detail, ep.steps, ep.dt = fmt.Sprintf("%d users registered at the primary", n), steps(3, 10), soakSeconds(1, 10)
			ep.undo = s.registerUsers(n)
		case "rate-limit":
			loc, after := homeish(), time.Duration(5+rng.IntN(26))*time.Second
			fs[testserver.Keystone(loc)] = testserver.Fault{Status: http.StatusTooManyRequests, RetryAfter: after}
			ep.detail, ep.steps = fmt.Sprintf("429 at %s, Retry-After %s", loc, after), steps(2, 6)
		case "rollover":
			ep.steps, ep.dt = steps(2, 6), func(r *rand.Rand, _ int) time.Duration {
				return time.Duration(5+r.IntN(21)) * time.Minute
			}
			ep.detail = "clock jumps of 5 to 25 min"
			if rng.IntN(2) == 0 {
				loc := homeish()
				fs[testserver.Keystone(loc)] = testserver.Fault{Status: http.StatusServiceUnavailable}
				ep.detail += ", 503 at " + loc
			}
		case "all-keystones-down":
			f, how := testserver.Fault{Down: true}, "connection closed"
			if rng.IntN(2) == 0 {
				f, how = testserver.Fault{Status: http.StatusServiceUnavailable}, "503"
			}
			for _, l := range s.locs {
				fs[testserver.Keystone(l)] = f
				if f.Down {
					ep.resent += 8
				}
			}
			ep.detail, ep.steps = "every Keystone: "+how, steps(2, 5)
			if rng.IntN(3) == 0 {
				jumpAt, jump := rng.IntN(ep.steps), time.Duration(20+rng.IntN(6))*time.Minute
				ep.detail += fmt.Sprintf(", a %s clock jump", jump)
				normal := ep.dt
				ep.dt = func(r *rand.Rand, i int) time.Duration {
					if i == jumpAt {
						return jump
					}
					return normal(r, i)
				}
			}
		}
	}
	s.setFaults(fs)
	s.ep.Store(ep)
	return ep
}

// endEpisode clears the episode's faults and books what it cost.
func (s *soak) endEpisode(ep *soakEpisode) {
	if ep == nil {
		return
	}
	s.srv.ClearFaults()
	s.hist.publish(soakEpoch{at: s.clk.Now(), faults: soakFaults{}})
	if ep.undo != nil {
		ep.undo()
	}
	ep.to = s.clk.Now()
	ep.requests = s.keystoneRequests() - ep.req0 - (s.harness.count.sent.Load() - ep.harness0)
	ep.vsent = s.vCount.sent.Load() - ep.vsent0
	// The bound (soakEpisode.bound): each identity's fetches (the tokens
	// it got and the failures it counts, which are bounded on their own),
	// each at most soakPerFetch requests; the validations (soak.book, booked
	// when a token is no longer offered, and soakPerFailedFlight per 503).
	// The slack covers what was in flight when the episode began: a fetch
	// per identity and a flight per validating worker.
	var fetches int64
	alive := 0
	for _, id := range s.ids {
		if !id.from.After(ep.to) && (id.to.IsZero() || !id.to.Before(ep.from)) {
			alive++
			d := s.issued(id) - ep.issued0[id]
			ep.tokens += d
			fetches += d + int64(id.stats().Failures) - ep.failed0[id]
		}
	}
	ep.fetches = fetches
	ep.slack = soakPerFetch * int64(soakVWorkers+alive)
	s.episodes = append(s.episodes, ep)
}

// registerUsers creates n users at the primary, each with a client at
// home SG, which does not know them yet, and a token for the Validator
// issued at the primary. It returns what ends the episode: the clients
// are closed.
func (s *soak) registerUsers(n int) func() {
	w := testserver.DefaultWorld()
	var mine []*soakClient
	for range n {
		s.lagSerial++
		name := fmt.Sprintf("gncu7%07d", s.lagSerial)
		const pw = soakPassword
		u, err := s.srv.CreateUser(testserver.User{Name: name, DomainID: w.Domain("gnc").ID, Password: pw})
		if err != nil {
			s.t.Fatal(err)
		}
		if err := s.srv.AssignRole(testserver.RoleAssignment{UserID: u.ID, Role: testserver.RoleMember, ProjectID: s.gncProj}); err != nil {
			s.t.Fatal(err)
		}
		cfg := s.cfg
		cfg.Cache, cfg.AttemptTimeout = s.cache, soakAttempt
		cfg.Credential, cfg.Scope = identity.Password{UserID: u.ID, Password: pw}, identity.Scope{ProjectID: s.gncProj}
		c, err := geostack.New(s.t.Context(), cfg)
		if err != nil {
			s.t.Fatal(err)
		}
		id := &soakIdentity{name: name, userID: u.ID, home: "SG", lag: true, created: s.clk.Now(), from: s.clk.Now(),
			stats: func() tokencache.Stats { return c.Stats().Cache }}
		s.ids = append(s.ids, id)
		sc := &soakClient{c: c, id: id, project: s.gncProj}
		mine = append(mine, sc)
		if s.healthy(s.srv.Primary()) {
			if tok := s.harnessIssue(s.srv.Primary(), identity.Password{UserID: u.ID, Password: pw}, identity.Scope{ProjectID: s.gncProj}, "lag", u.ID); tok != nil {
				tok.created = id.created
				id.harness++
				s.harness.lag = append(s.harness.lag, tok)
			}
		}
	}
	s.lagMu.Lock()
	s.lag = append(s.lag, mine...)
	s.lagMu.Unlock()
	return func() {
		s.lagMu.Lock()
		s.lag = slices.DeleteFunc(s.lag, func(c *soakClient) bool { return slices.Contains(mine, c) })
		s.lagMu.Unlock()
		for _, c := range mine {
			c.inUse.Wait()
			c.c.Close()
			c.id.to = s.clk.Now()
		}
	}
}

// recover ends the run: no fault, the clock past every backoff,
// cool-down and negative entry; then every client, in every region, and
// every valid incoming token must work.
func (s *soak) recover() {
	ep := s.newEpisode("recovery", func(*rand.Rand, int) time.Duration { return 2 * time.Minute })
	ep.steps = 1
	s.ep.Store(ep)
	s.step(ep)
	s.stop.Store(true)
	s.wg.Wait()
	for _, c := range s.fixed {
		for _, op := range soakOps {
			for _, r := range soakRegions {
				if err := s.callOnce(c, op, r); err != nil {
					s.t.Errorf("after the faults: %s %s in %s: %v", c.id.name, op.name, r, err)
				}
			}
		}
	}
	for _, tok := range s.pool.byKind["valid"] {
		req := httptest.NewRequest(http.MethodGet, "/mailbox", nil)
		req.Header.Set("X-Auth-Token", tok.id)
		rec := httptest.NewRecorder()
		s.vHandler.ServeHTTP(rec, req)
		tok.use.seen(s.interval.Load(), s.interval.Load())
		if rec.Code != http.StatusOK {
			s.t.Errorf("after the faults: a valid incoming token answered %d", rec.Code)
		}
	}
	s.closeInterval(ep, s.clk.Now(), 0)
	s.endEpisode(ep)
}

// ---------------------------------------------------------------------
// The harness

// healthy reports whether loc's Keystone is under no fault at all.
func (s *soak) healthy(loc string) bool {
	fs := s.hist.last().faults
	_, k := fs[testserver.Keystone(loc)]
	_, l := fs[testserver.AtLocation(loc)]
	return !k && !l
}

func (s *soak) healthyLocation() string {
	for _, l := range s.locs { // the primary first
		if s.healthy(l) {
			return l
		}
	}
	return ""
}

func (s *soak) harnessIssue(loc string, cred identity.Credential, scope identity.Scope, kind, userID string) *soakToken {
	ctx, cancel := context.WithTimeout(context.Background(), soakCallLimit)
	defer cancel()
	tok, err := s.harness.ic.Issue(ctx, s.srv.AuthURL(loc), cred, scope)
	if err != nil {
		s.t.Errorf("harness: issue a %s token at %s: %v", kind, loc, err)
		return nil
	}
	s.log.secret(tok.ID)
	if kind == "valid" || kind == "lag" {
		s.log.watch(tok.ID)
	}
	return &soakToken{id: tok.ID, kind: kind, userID: userID, expiry: tok.Expiry, fernet: true, revoking: new(atomic.Int64), use: &soakUse{}}
}

// tend keeps the incoming tokens: two valid ones and one of another
// domain, renewed 30 min before expiry (more than a clock jump), the
// renewed ones offered as expired once they are, a revocation now and
// then, and fresh garbage every step.
func (s *soak) tend() {
	h := &s.harness
	w := testserver.DefaultWorld()
	now := s.clk.Now()
	loc := s.healthyLocation()
	renew := func(tp **soakToken, user, project, kind string, keep bool) {
		if loc == "" {
			return
		}
		if *tp != nil && (*tp).expiry.Sub(now) < 30*time.Minute {
			if keep {
				h.expiring = append(h.expiring, *tp)
			}
			*tp = nil
		}
		if *tp == nil {
			u := w.User(user)
			*tp = s.harnessIssue(loc, identity.Password{UserID: u.ID, Password: testserver.UserPassword},
				identity.Scope{ProjectID: w.Project(project).ID}, kind, u.ID)
		}
	}
	if loc != "" && (h.admin == nil || h.admin.Expiry.Sub(now) < 30*time.Minute) {
		ctx, cancel := context.WithTimeout(context.Background(), soakCallLimit)
		a, err := h.ic.Issue(ctx, s.srv.AuthURL(loc),
			identity.Password{UserName: testserver.AdminUser, DomainID: testserver.DefaultDomainID, Password: testserver.AdminPassword},
			identity.Scope{ProjectName: testserver.AdminProject, ProjectDomainID: testserver.DefaultDomainID})
		cancel()
		if err != nil {
			s.t.Errorf("harness: admin token at %s: %v", loc, err)
		} else {
			h.admin = a
			s.log.secret(a.ID)
		}
	}
	if loc != "" && h.admin != nil && s.rng.IntN(30) == 0 {
		i := s.rng.IntN(len(h.valid))
		if v := h.valid[i]; v != nil {
			ctx, cancel := context.WithTimeout(context.Background(), soakCallLimit)
			v.revoking.Store(now.UnixNano())
			err := h.ic.Revoke(ctx, s.srv.AuthURL(loc), h.admin.ID, v.id)
			cancel()
			if err != nil {
				s.t.Errorf("harness: revoke at %s: %v", loc, err)
			} else {
				r := *v
				r.kind, r.revokedAt, r.use = "revoked", now, &soakUse{}
				h.revoked = soakRing(h.revoked, &r, 3)
				h.valid[i] = nil
			}
		}
	}
	renew(&h.valid[0], "gncu00000002", "gnct00000002", "valid", true)
	renew(&h.valid[1], "gncu00000003", "gnct00000003", "valid", true)
	renew(&h.wrong, "zjpu00000002", "zjpt00000002", "wrong-domain", false)
	h.lag = slices.DeleteFunc(h.lag, func(t *soakToken) bool { return t.expiry.Sub(now) < 30*time.Minute })
	if len(h.lag) > 4 {
		h.lag = h.lag[len(h.lag)-4:]
	}
	h.expiring = slices.DeleteFunc(h.expiring, func(t *soakToken) bool {
		if now.Before(t.expiry) {
			return false
		}
		e := *t
		e.kind, e.use = "expired", &soakUse{}
		h.expired = soakRing(h.expired, &e, 3)
		return true
	})
	h.garbageOld = soakRing(h.garbageOld, &soakToken{kind: "garbage-old", fernet: true, use: &soakUse{},
		id: soakFernet(s.rng, now.Add(-time.Duration(1+s.rng.IntN(30*24))*time.Hour))}, 4)
	h.garbageRecent = soakRing(h.garbageRecent, &soakToken{kind: "garbage-recent", fernet: true, use: &soakUse{},
		id: soakFernet(s.rng, now.Add(-time.Duration(s.rng.IntN(30))*time.Second))}, 4)
	h.malformed = soakRing(h.malformed, &soakToken{kind: "malformed", id: fmt.Sprintf("not-a-token-%016x", s.rng.Uint64()), use: &soakUse{}}, 4)
	for _, t := range []*soakToken{h.garbageOld[len(h.garbageOld)-1], h.garbageRecent[len(h.garbageRecent)-1], h.malformed[len(h.malformed)-1]} {
		s.log.secret(t.id)
	}

	p := &soakPool{byKind: map[string][]*soakToken{}}
	add := func(ts ...*soakToken) {
		for _, t := range ts {
			if t != nil {
				p.byKind[t.kind] = append(p.byKind[t.kind], t)
			}
		}
	}
	add(h.valid[:]...)
	add(h.wrong)
	add(h.lag...)
	add(h.expired...)
	add(h.revoked...)
	add(h.garbageOld...)
	add(h.garbageRecent...)
	add(h.malformed...)
	if len(p.byKind["valid"]) == 0 && s.pool != nil { // no Keystone to renew them: keep the old ones
		p.byKind["valid"] = s.pool.byKind["valid"]
	}
	s.poolMu.Lock()
	old := s.pool
	s.pool = p
	s.poolMu.Unlock()
	if old != nil {
		for _, ts := range old.byKind {
			for _, t := range ts {
				if !slices.Contains(p.byKind[t.kind], t) {
					s.retired = append(s.retired, t)
				}
			}
		}
	}
}

func soakRing(ts []*soakToken, t *soakToken, n int) []*soakToken {
	ts = append(ts, t)
	if len(ts) > n {
		ts = slices.Clone(ts[len(ts)-n:])
	}
	return ts
}

// ---------------------------------------------------------------------
// Classification

// classify explains the failures whose fault history is complete: the
// epoch after their last has been published (or, when final, all).
func (s *soak) classify(final bool) {
	s.pendMu.Lock()
	var ready []*soakFailure
	now := s.hist.now()
	s.pending = slices.DeleteFunc(s.pending, func(f *soakFailure) bool {
		if final || f.end < now {
			ready = append(ready, f)
			return true
		}
		return false
	})
	s.pendMu.Unlock()
	for _, f := range ready {
		var cause string
		var ok bool
		if f.tok != nil {
			cause, ok = s.explainValidation(f)
		} else {
			cause, ok = s.explainCall(f)
		}
		if ok {
			s.causes[f.ep.kind+": "+cause]++
			continue
		}
		s.nbad++
		s.badCauses[cause]++
		if len(s.bad) < 20 {
			who, what := "validator", ""
			if f.client != nil {
				who = f.client.id.name
				what = fmt.Sprintf(" at %s", f.target)
			}
			if f.tok != nil {
				what = fmt.Sprintf(" answered %d", f.status)
			}
			d := fmt.Sprintf("%s: %s by %s%s, epochs %d–%d, fake clock %s–%s",
				cause, f.op, who, what, f.start, f.end, f.t0.Format(time.TimeOnly), f.t1.Format(time.TimeOnly))
			if f.err != nil {
				d += ": " + f.err.Error()
			}
			if f.tok != nil {
				if r := s.log.reason(f.tok.id); r != "" {
					d += "; the Validator's last word on it: " + r
				}
			}
			d += "; faults from a minute before: " + s.describeFaults(s.hist.span(f.start, f.end, f.t0.Add(-time.Minute)))
			s.bad = append(s.bad, d)
		}
	}
}

// describeFaults lists the faults in eps, each once, in the order they
// appear.
func (s *soak) describeFaults(eps []soakEpoch) string {
	var out []string
	for _, e := range eps {
		for t, f := range e.faults {
			d := t.String() + " " + soakFaultString(f)
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

func soakFaultString(f testserver.Fault) string {
	switch {
	case f.Down:
		return "down"
	case f.Hang:
		return "hang"
	case f.Latency > 0:
		return f.Latency.String() + " late"
	}
	return strconv.Itoa(f.Status)
}

// soakStatusErr is an HTTP answer of a service, as gophercloud reports it.
type soakStatusErr interface {
	error
	GetStatusCode() int
}

// soakTokenLevel reports whether err says no token could be had.
func soakTokenLevel(err error) bool {
	_, fe := errors.AsType[*tokencache.FetchError](err)
	_, af := errors.AsType[*region.AllFailedError](err)
	_, we := errors.AsType[*tokencache.WaitError](err)
	return fe || af || we || errors.Is(err, tokencache.ErrClosed) || errors.Is(err, geostack.ErrClosed)
}

// explainCall finds the cause of a failed service call or listing.
func (s *soak) explainCall(f *soakFailure) (string, bool) {
	err, id, primary := f.err, f.client.id, s.srv.Primary()
	// A remembered failure is at most a backoff (or a Retry-After) old;
	// a circuit opened by a fault skips its auth_url for a cool-down more.
	remembered := soakBackoffMax + soakRetryMax
	win := s.hist.span(f.start, f.end, f.t0)
	const held = 2 * soakAttempt // the real-time reach of a Keystone fault
	back := s.hist.spanHeld(f.start, f.end, f.t0.Add(-remembered), held)
	stale := s.hist.spanHeld(f.start, f.end, f.t0.Add(-remembered-soakCoolDown), held)
	if _, ok := errors.AsType[*soakWrongResult](err); ok {
		return "wrong listing", false
	}
	if _, ok := errors.AsType[*tokencache.RejectedError](err); ok {
		return s.explainRejected(f, win, "rejected again within 30 s")
	}
	if soakTokenLevel(err) {
		switch _, wait := errors.AsType[*tokencache.WaitError](err); {
		case errors.Is(err, tokencache.ErrClosed) || errors.Is(err, geostack.ErrClosed):
			return "client closed while in use", false
		case wait:
			return "the caller's own deadline passed waiting for a token", false
		case f.t1.Before(f.validUntil) && !s.rejectionPossible(id, s.hist.span(f.validSince, f.end, f.t0), f.t0):
			return fmt.Sprintf("a cached token valid until %s was given up without a rejection since epoch %d",
				f.validUntil.Format(time.TimeOnly), f.validSince), false
		case errors.Is(err, identity.ErrRateLimited):
			if soakAny(back, soakFaults.rateLimited) {
				return "no token cached; Keystone answered 429 (not failed over, remembered until Retry-After)", true
			}
		case id.lag && errors.Is(err, identity.ErrUnauthorized):
			if f.t0.Before(id.created.Add(soakLag+remembered)) && soakAny(stale, func(fs soakFaults) bool { return fs.keystoneBlocked(primary) }) {
				return "no token; a new user unknown at home, and the primary unreachable or its circuit open", true
			}
		default:
			if soakAllBlocked(back, s.locs) {
				return "no token cached, and no Keystone reachable (or remembered so)", true
			}
			if soakEachBlocked(stale, s.locs) {
				return "no token cached; every Keystone faulted within a cool-down, its circuit still open [stale circuit]", true
			}
		}
		return "no token with a Keystone reachable", false
	}
	if se, ok := errors.AsType[soakStatusErr](err); ok {
		if se.GetStatusCode() == http.StatusUnauthorized {
			return s.explainRejected(f, win, "401")
		}
		if soakAny(win, func(fs soakFaults) bool {
			return fs[f.target] != (testserver.Fault{}) || fs[testserver.AtLocation(f.loc)] != (testserver.Fault{})
		}) {
			return "endpoint under a fault", true
		}
		return fmt.Sprintf("service answered %d with no fault there", se.GetStatusCode()), false
	}
	if _, ok := errors.AsType[*url.Error](err); ok {
		if soakAny(win, func(fs soakFaults) bool { return fs[testserver.AtLocation(f.loc)].Down }) {
			return "endpoint's location down", true
		}
		return "transport error with no fault there", false
	}
	return "unclassified error", false
}

// explainRejected finds the cause of a service's 401.
func (s *soak) explainRejected(f *soakFailure, win []soakEpoch, how string) (string, bool) {
	if soakAny(win, func(fs soakFaults) bool { return fs[f.target].Status == http.StatusUnauthorized }) {
		return "endpoint answers 401 to every token (" + how + ")", true
	}
	if id := f.client.id; id.lag && f.loc != s.srv.Primary() && f.t0.Before(id.created.Add(soakLag)) {
		return "a new user not yet replicated to the endpoint's location (" + how + ")", true
	}
	return "service rejected the token with no fault there (" + how + ")", false
}

// rejectionPossible reports whether id's token may have been dropped for
// a rejection in eps (since the token was handed out): a service
// answering 401, or, for a new user, a replica that does not know it.
func (s *soak) rejectionPossible(id *soakIdentity, eps []soakEpoch, t0 time.Time) bool {
	if id.lag && t0.Before(id.created.Add(soakLag+soakBackoffMax+soakRetryMax)) {
		return true
	}
	return soakAny(eps, soakFaults.rejecting)
}

// explainValidation finds the cause of a validation that did not answer
// as it should.
func (s *soak) explainValidation(f *soakFailure) (string, bool) {
	tok := f.tok
	from := f.t0
	if !f.t0.Before(f.serviceValid) {
		// The service token itself may have had to be fetched, and its
		// failure is remembered.
		from = f.t0.Add(-soakBackoffMax - soakRetryMax)
	}
	const held = 2 * soakAttempt // the real-time reach of a Keystone fault
	back := s.hist.spanHeld(f.start, f.end, from, held)
	stale := s.hist.spanHeld(f.start, f.end, from.Add(-soakCoolDown), held)
	switch {
	case f.err != nil:
		return "the handler saw another user", false
	case f.status == http.StatusServiceUnavailable && tok.kind != "malformed":
		if soakAllBlocked(back, s.locs) {
			return "validator: no Keystone reachable (503; outages are not remembered)", true
		}
		if soakAny(back, soakFaults.rateLimited) {
			return "validator: Keystone answered 429 (503)", true
		}
		lo := s.hist.reachHeld(f.start, from.Add(-soakCoolDown), held)
		if !slices.ContainsFunc(s.locs, func(l string) bool {
			return !soakAny(stale, func(fs soakFaults) bool { return fs.keystoneBlocked(l) }) &&
				!s.log.circuitOpen(s.srv.DomainAdminAuthURL("gnc", l), lo, f.end+1)
		}) {
			return "validator: every Keystone faulted or its circuit still open after it recovered (503) [stale circuit]", true
		}
		return "validator answered 503 with a Keystone reachable", false
	case f.status == http.StatusUnauthorized && tok.kind == "lag":
		// The answer is remembered for NegativeTTL; the primary's circuit
		// may stay open for a cool-down after its fault.
		neg := s.hist.spanHeld(f.start, f.end, f.t0.Add(-soakNegativeTTL-soakCoolDown), held)
		if f.t0.Before(tok.created.Add(soakLag + soakNegativeTTL)) {
			if soakAny(neg, func(fs soakFaults) bool { return fs.keystoneBlocked(s.srv.Primary()) }) {
				return "validator: a new user's token unknown at home, and the primary unreachable (401, remembered 10 s)", true
			}
			if s.log.circuitOpen(s.srv.DomainAdminAuthURL("gnc", s.srv.Primary()), s.hist.reach(f.start, f.t0.Add(-soakNegativeTTL)), f.end+1) {
				return "validator: a new user's token unknown at home, and the primary's circuit still open after it recovered (401, remembered 10 s) [stale circuit]", true
			}
		}
		return "a new user's valid token rejected", false
	case f.status == http.StatusOK:
		return tok.kind + " token accepted", false
	}
	return fmt.Sprintf("%s token answered %d", tok.kind, f.status), false
}

// ---------------------------------------------------------------------
// Bounds and report

// soakLife is what the bounds of one identity count over its life.
type soakLife struct {
	tokens, inv, fails        int64
	faultSteps, faultEpisodes int64
}

// bounds computes, from the fault history, what the documented rules let
// id cost Keystone over its life.
func (s *soak) bounds(id *soakIdentity) soakLife {
	to := id.to
	if to.IsZero() {
		to = s.clk.Now()
	}
	var l soakLife
	for _, iv := range s.clock.intervals {
		if iv.faulty && !iv.to.Before(id.from) && !iv.from.After(to) {
			l.faultSteps++
		}
	}
	for _, ep := range s.episodes {
		if ep.to.Before(id.from) || ep.from.After(to) {
			continue
		}
		if ep.keystoneFaulty() {
			l.faultEpisodes++
		}
		if ep.rejecting && !id.service {
			// One rejected token per 30 s, and one more still in flight
			// when the fault is cleared.
			end, start := ep.to, ep.from
			if to.Before(end) {
				end = to
			}
			if id.from.After(start) {
				start = id.from
			}
			span := end.Sub(start)
			l.inv += 2 + int64(span/soakRejectWindow)
		}
	}
	if id.lag {
		l.inv += 2 + int64(soakLag/soakRejectWindow)
	}
	l.tokens = 1 + int64(to.Sub(id.from)/soakMinLife) + l.inv
	l.fails = l.faultSteps + l.faultEpisodes
	return l
}

func (s *soak) report(wall time.Duration, heapOpen, heapEnd uint64) {
	t := s.t
	var b strings.Builder
	fake := s.clk.Now().Sub(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	calls := s.calls.Load()
	fmt.Fprintf(&b, "soak summary: %s of wall time, %d clock steps over %s of the fake clock (%d jumps over 30 s)\n",
		wall.Round(time.Millisecond), s.steps, fake.Round(time.Second), s.jumps)
	var stale int64
	for c, n := range s.causes {
		if strings.Contains(c, "[stale circuit]") {
			stale += n
		}
	}
	fmt.Fprintf(&b, "calls: %d (%.0f/s), %d failed: %d explained, %d unexplained; "+
		"%d of the explained only because a circuit stayed open after its Keystone recovered [stale circuit]\n",
		calls, float64(calls)/wall.Seconds(), s.fails.Load(), s.fails.Load()-int64(s.nbad), s.nbad, stale)
	s.outMu.Lock()
	keys := slices.Sorted(maps.Keys(s.outcomes))
	for _, k := range keys {
		fmt.Fprintf(&b, "  ok %-52s %8d\n", k, s.outcomes[k])
	}
	s.outMu.Unlock()
	for _, k := range slices.Sorted(maps.Keys(s.causes)) {
		fmt.Fprintf(&b, "  failed, explained, ending in %-100s %6d\n", k, s.causes[k])
	}
	fmt.Fprintf(&b, "faults (library Keystone requests per episode kind, against the bound; validator share in brackets):\n")
	fmt.Fprintf(&b, "  %-20s %4s %5s %8s %7s %5s %9s %9s %7s %6s\n", "kind", "eps", "steps", "calls", "failed", "503s", "requests", "bound", "req/st", "tokens")
	type agg struct {
		eps, steps             int
		calls, fails, v503     int64
		req, bound, vreq, toks int64
	}
	byKind := map[string]*agg{}
	for _, ep := range s.episodes {
		a := byKind[ep.kind]
		if a == nil {
			a = &agg{}
			byKind[ep.kind] = a
		}
		a.eps++
		a.steps += ep.ran
		a.calls += ep.calls.Load()
		a.fails += ep.failures.Load()
		a.v503 += ep.v503.Load()
		a.req += ep.requests
		a.bound += ep.bound()
		a.vreq += ep.vsent
		a.toks += ep.tokens
	}
	for _, k := range slices.Sorted(maps.Keys(byKind)) {
		a := byKind[k]
		fmt.Fprintf(&b, "  %-20s %4d %5d %8d %7d %5d %5d [%4d] %9d %7.1f %6d\n", k, a.eps, a.steps, a.calls, a.fails, a.v503,
			a.req, a.vreq, a.bound, float64(a.req)/float64(max(a.steps, 1)), a.toks)
	}
	fmt.Fprintf(&b, "tokens issued per identity (bound; rejections bound; failed fetches bound):\n")
	var lag soakLife
	var lagIssued, lagInv, lagFailed, lagRefused, lagMax int64
	lagUsers := 0
	for _, id := range s.ids {
		l := s.bounds(id)
		st := id.stats()
		if id.lag {
			lagUsers++
			lag.tokens, lag.inv, lag.fails = lag.tokens+l.tokens, lag.inv+l.inv, lag.fails+l.fails
			lagIssued, lagInv, lagFailed, lagRefused = lagIssued+s.issued(id), lagInv+int64(st.Invalidations), lagFailed+int64(st.Failures), lagRefused+int64(st.Refused)
			lagMax = max(lagMax, s.issued(id))
			continue
		}
		fmt.Fprintf(&b, "  %-14s %4d (≤ %4d)  invalidated %3d (≤ %3d), refused %4d  failed %4d (≤ %4d)\n",
			id.name, s.issued(id), l.tokens, st.Invalidations, l.inv, st.Refused, st.Failures, l.fails)
	}
	if lagUsers > 0 {
		fmt.Fprintf(&b, "  %d users registered during the run: %d tokens (≤ %d; at most %d for one), invalidated %d (≤ %d), refused %d, failed %d (≤ %d)\n",
			lagUsers, lagIssued, lag.tokens, lagMax, lagInv, lag.inv, lagRefused, lagFailed, lag.fails)
	}
	lib := s.keystoneRequests() - s.harness.count.sent.Load()
	var fetches int64
	for _, id := range s.ids {
		fetches += s.issued(id) + int64(id.stats().Failures)
	}
	fmt.Fprintf(&b, "Keystone: %d requests from the library, bound %d = %d fetches × %d + %d for validations that got an answer + %d × %d validations answered 503 + %d resent by net/http\n",
		lib, s.totalBound(), fetches, soakPerFetch, s.flights, soakPerFailedFlight, s.v503.Load(), s.resent())
	fmt.Fprintf(&b, "  the Validator sent %d (%d POST, %d GET; bound %d); the harness %d; Keystone answered %d validations with 200\n",
		s.vCount.sent.Load(), s.vCount.post.Load(), s.vCount.get.Load(), s.validatorBound(),
		s.harness.count.sent.Load(), s.srv.Validations(""))
	for _, c := range s.fixed {
		r := c.c.Stats().Region
		var opens uint64
		for _, a := range r.AuthURLs {
			opens += a.Opens
		}
		fmt.Fprintf(&b, "  region, %s (home %s): %d attempts, %d faults, %d failovers, %d lag retries, %d circuit opens\n",
			c.id.name, c.id.home, r.Attempts, r.Failures, r.Failovers, r.LagRetries, opens)
	}
	s.log.mu.Lock()
	fmt.Fprintf(&b, "log: %d lines from the library, %d with a secret\n", s.log.lines, len(s.log.leaks))
	s.log.mu.Unlock()
	fmt.Fprintf(&b, "live heap: %.1f MiB with everything open after the warm-up, %.1f MiB at the end of the run\n", soakMiB(heapOpen), soakMiB(heapEnd))
	t.Log(b.String())
}

// totalBound is what the library may ask of Keystone over the run: each
// identity's fetches, at most soakPerFetch requests each, and the Validator's
// flights.
func (s *soak) totalBound() int64 {
	var n int64
	for _, id := range s.ids {
		n += soakPerFetch * (s.issued(id) + int64(id.stats().Failures))
	}
	return n + s.flights + soakPerFailedFlight*s.v503.Load() + s.resent()
}

// validatorBound is the same for the Validator alone: its service token's
// fetches and its flights.
func (s *soak) validatorBound() int64 {
	return soakPerFetch*(s.issued(s.nova)+int64(s.nova.stats().Failures)) + s.flights + soakPerFailedFlight*s.v503.Load() + s.resent()
}

// resent is what net/http may have sent twice (soakEpisode.resent).
func (s *soak) resent() int64 {
	var n int64
	for _, ep := range s.episodes {
		n += ep.resent
	}
	return n
}

func (s *soak) checkBounds() {
	t := s.t
	s.log.mu.Lock()
	if len(s.log.leaks) > 0 {
		t.Errorf("a secret in a log line (of %d):\n  %s", s.log.lines, strings.Join(s.log.leaks, "\n  "))
	}
	s.log.mu.Unlock()
	if s.nbad > 0 {
		var by []string
		for _, c := range slices.Sorted(maps.Keys(s.badCauses)) {
			by = append(by, fmt.Sprintf("%d %s", s.badCauses[c], c))
		}
		t.Errorf("%d failures without a fault to explain them (%s); the first:\n  %s", s.nbad, strings.Join(by, "; "), strings.Join(s.bad, "\n  "))
	}
	for _, id := range s.ids {
		l := s.bounds(id)
		st := id.stats()
		if got := s.issued(id); got > l.tokens {
			t.Errorf("%s: %d tokens issued, bound %d (1 + %s/%s + %d rejections)", id.name, got, l.tokens,
				s.clk.Now().Sub(id.from).Round(time.Minute), soakMinLife, l.inv)
		}
		if int64(st.Invalidations) > l.inv {
			t.Errorf("%s: %d tokens dropped as rejected, bound %d", id.name, st.Invalidations, l.inv)
		}
		if int64(st.Failures) > l.fails {
			t.Errorf("%s: %d failed fetches, bound %d (one per clock step under a Keystone fault)", id.name, st.Failures, l.fails)
		}
	}
	for _, ep := range s.episodes {
		if ep.requests > ep.bound()+ep.slack {
			t.Errorf("episode %s (%s, %d steps): %d Keystone requests, bound %d + %d in flight", ep.kind, ep.detail, ep.ran, ep.requests, ep.bound(), ep.slack)
		}
	}
	if lib, b := s.keystoneRequests()-s.harness.count.sent.Load(), s.totalBound(); lib > b {
		t.Errorf("%d Keystone requests from the library, bound %d", lib, b)
	}
	if v, b := s.vCount.sent.Load(), s.validatorBound(); v > b {
		t.Errorf("%d Keystone requests from the Validator, bound %d", v, b)
	}
}
