// Package tokencache shares one Keystone token per identity and scope
// between every client, service and region of a process.
//
// A token is valid in every location of the cloud, so the cache key is the
// identity and the scope (KeyOf), never the auth_url. A Handle is the cache
// entry of one key; clients keep it and read the token through it:
//
//	c := tokencache.New(tokencache.Options{})
//	h := c.Handle(tokencache.KeyOf(cred, scope), fetch)
//	provider := tokencache.NewProviderClient(h, nil) // every ServiceClient built on it carries the cached token
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
// and the like work.
//
// # Rejected tokens
//
// Invalidate(rejectedID) drops the entry only if it still holds that token,
// so any number of callers reporting the same rejected token cause one
// refetch. Handle.Transport does this on a 401: it invalidates exactly the
// token it sent, waits for the one coalesced refetch and retries the request
// once if its body can be replayed. It never loops.
//
// # Observing
//
// Stats counts tokens issued, reads served fresh or stale, refreshes,
// failures, coalesced waiters and invalidations. Reads are counted by
// Handle.Transport; plain Token calls only with Options.CountReads, which
// costs an atomic add per read. Options.Logger gets one record per failure
// episode and one per recovery; Options.OnEvent gets every Event.
//
// # Lifetime
//
// Every goroutine and timer the cache starts ends on Close. After Close,
// Token returns ErrClosed. A FetchFunc must honour its context, or Close
// waits for it.
package tokencache
