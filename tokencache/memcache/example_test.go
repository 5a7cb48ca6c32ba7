package memcache_test

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/tokencache"
)

// Two processes of a fleet share one token through memcached. Here the
// in-memory tokencache.MemoryStore stands in for
//
//	store := memcache.New(memcache.Options{}, "10.1.0.5:11211")
//
// so that the example runs without a server.
func Example() {
	store := tokencache.NewMemoryStore(nil) // production: memcache.New(memcache.Options{}, addrs...)
	secret := []byte("32 random bytes from the secret store")

	var issued atomic.Int64
	fetch := identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
		issued.Add(1)
		now := time.Now()
		return &identity.Token{ID: "token", User: identity.User{ID: "u1"}, IssuedAt: now, ExpiresAt: now.Add(time.Hour), Expiry: now.Add(time.Hour)}, nil
	})
	key := tokencache.Key{
		Credential: identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "secret"},
		Scope:      identity.Scope{ProjectName: "gnct00000001", ProjectDomainName: "gnc"},
	}
	process := func() *tokencache.Cache {
		shared, err := tokencache.NewShared(tokencache.SharedOptions{Store: store, Secrets: [][]byte{secret}})
		if err != nil {
			log.Fatal(err)
		}
		c, err := tokencache.New(tokencache.Options{Shared: shared})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}
	a, b := process(), process()
	defer a.Close()
	defer b.Close()

	for _, c := range []*tokencache.Cache{a, b} {
		h, err := c.Handle(key, fetch)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := h.Token(context.Background()); err != nil {
			log.Fatal(err)
		}
		h.Release()
	}
	fmt.Println("tokens issued:", issued.Load())
	fmt.Println("b took it from the shared tier:", b.Stats().FromShared == 1)
	// Output:
	// tokens issued: 1
	// b took it from the shared tier: true
}
