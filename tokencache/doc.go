// Package tokencache shares one Keystone token per identity and scope
// between every client, service and region of a process.
//
// A token is valid in every location of the cloud, so the cache key is the
// identity and the scope (Key), never the auth_url. The cache wraps a
// token source (an identity.TokenSource that issues tokens, usually through
// region.Resolver.Issue); each client holds a Handle on the entry of its
// Key and reads the token through it:
//
//	c, err := tokencache.New(tokencache.Options{})
//	h, err := c.Handle(tokencache.Key{Credential: cred, Scope: scope}, src)
//	defer h.Release()
//	provider := tokencache.NewProviderClient(h, nil) // every ServiceClient built on it carries the cached token
//
// Every Handle of one Key shares one token; the entry fetches through the
// source of its oldest Handle still held (see Cache.Handle). An entry no
// Handle holds any more is dropped when its token expires, so clients that
// come and go (one per tenant) do not grow the cache. A Handle is itself an
// identity.TokenSource, so wrapping one in another Cache is harmless: the
// outer cache fetches only when the inner one has a new token.
//
// Entries are named by an HMAC of the identity, its secret and the scope
// under a key of the Cache's own, random per process: no name, log line or
// error is an oracle for guessing a password. Logs and errors describe an
// entry by its user and scope (names or ids), never by anything derived
// from the secret.
//
// # Reads
//
// Handle.Token is an atomic load of an immutable entry: it takes no lock,
// reads no clock and makes no allocation while a token is usable. Freshness
// is driven from the other side: a timer from Options.Clock marks the entry
// stale when the refresh window opens and expired when the token expires,
// by publishing a new entry.
//
//   - Fresh: the token is returned.
//   - Stale (inside the refresh window): the token is returned at once, and
//     the first reader to see the stale entry starts the one background
//     refresh. Other readers keep being served while it runs.
//   - Expired or missing: callers wait for one coalesced fetch. The fetch
//     runs under context.WithoutCancel of the first caller's context,
//     bounded by Options.FetchTimeout and by Close; each caller waits on its
//     own context and, when that ends first, gets a *WaitError wrapping
//     ctx.Err().
//
// # Refresh window
//
// The window opens when the remaining lifetime falls below RefreshShare of
// the token's lifetime (default 0.25: 15 minutes of a 1-hour token), or
// RefreshFloor before expiry (default 2 minutes) if that is earlier, but
// never earlier than half the lifetime. Each token then draws its own
// jitter, opening its window up to Jitter (default 10%) of the window
// earlier, so that a fleet started in step does not refresh in step. A
// token stops being served ExpiryMargin (default 30 s, at most 10% of the
// lifetime) before it expires. Options says why these defaults.
//
// A refresh that fails while the token is still valid is kept quiet: the
// token keeps serving, the failure is logged once per failure episode (not
// once per request), and the next try waits an exponential, jittered
// backoff. A fetch that fails when no valid token is left returns a
// *FetchError wrapping the cause, so errors.Is(err, identity.ErrUnavailable)
// and the like work. That failure is remembered for the same jittered,
// growing backoff: every caller in the window gets it at once, with the
// time of the next attempt in FetchError.Retry, and no new fetch starts. A
// wrong password therefore costs Keystone one attempt per backoff window
// whatever the call rate, not one per call, and feeds Keystone's lockout
// counter accordingly.
//
// # Rejected tokens
//
// Invalidate(rejectedID) drops the entry only if it still holds that token,
// so any number of callers reporting the same rejected token cause one
// refetch. Handle.Transport does this on a 401: it invalidates exactly the
// token it sent, waits for the one coalesced refetch and retries the request
// once if its body can be replayed. It never loops.
//
// # Shared tier
//
// A fleet of processes (many hosts running one service) can share its
// tokens through memcached, so that the fleet, not each process, takes one
// token per identity and scope. A service writes:
//
//	store := memcache.New(memcache.Options{}, "10.1.0.5:11211") // package tokencache/memcache
//	shared, err := tokencache.NewShared(tokencache.SharedOptions{Store: store, Secrets: [][]byte{secret}})
//	cache := tokencache.New(tokencache.Options{Shared: shared})
//
// and passes the same Shared to authtoken.Config.Shared to share the
// validations of incoming tokens too.
//
// The shared tier is a second tier behind the in-process one; reads of a
// cached token never touch it. A fetch (cold, expired, invalidated, or a
// proactive refresh) first reads it, and takes a token another process
// put there instead of asking Keystone. Refreshes read it too: the first
// process whose window opens fetches and shares, and the others pick that
// token up when their own windows open. A token the Handle already holds,
// or has just invalidated, is passed over.
//
// A fetched token is shared until the earliest moment its refresh window
// can open in any process (the largest jitter draw), so no process takes a
// token that everyone is about to replace; processes sharing a tier should
// use the same refresh options. The entry's expiry is sealed inside it, so
// an entry is a miss from then on whatever memcached's own TTL says.
//
// Processes missing at once mostly fetch once: the first to take a short
// lock (memcached add, LockTTL 5 s) fetches, shares and unlocks; the
// others poll the Store for its entry (10 ms, doubling to 250 ms, on the
// Clock) for up to LockWait (3 s), then fetch themselves. The lock is only
// an optimisation: a dead holder delays the others by LockWait at most,
// and no outcome depends on it.
//
// Entries are sealed with keys derived from the configured secrets by
// HKDF-SHA256: Store keys are HMACs of the entry's name (no token, user or
// project appears in them) and values are AES-256-GCM with a random nonce
// and the entry's name as additional data. Several secrets may be given:
// the first seals, all open, so a secret is rotated without a cold fleet.
// An entry that is tampered with, truncated, copied to another key, sealed
// with an unknown secret or undecodable is a miss, counted in
// SharedStats.Rejected, never an error.
//
// memcached being down, slow or full never fails a call: each operation is
// bounded by SharedOptions.Timeout (25 ms by default, for a memcached in
// the same location), a failed read goes straight to Keystone without
// trying the lock or a write, and the failure is logged once per episode.
// Shared.Stats counts hits, misses, rejected entries, errors, writes and
// lock wins and waits; Stats.FromShared counts the tokens a Cache took
// from the tier.
//
// # Observing
//
// Stats counts tokens issued or taken from the shared tier, refreshes,
// failures, coalesced waiters and invalidations, per entry (Handle.Stats)
// or for the whole cache (Cache.Stats). Reads are not counted: a counter
// on the read path would cost more than the read (BenchmarkTokenRead).
// Options.Logger gets one record per failure episode and one per recovery.
//
// # Lifetime
//
// Every goroutine and timer the cache starts ends on Close. After Close,
// Token returns ErrClosed. A TokenSource must honour its context, or Close
// waits for it.
package tokencache
