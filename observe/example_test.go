package observe_test

import (
	"context"
	"fmt"
	"log"
	"sync/atomic"
	"time"

	"github.com/geostack/geostack/identity"
	"github.com/geostack/geostack/observe"
	"github.com/geostack/geostack/tokencache"
)

// An Observer of one's own: here it counts the token cache's fetches.
// However many Handles share the entry, its one fetch is seen once.
func Example() {
	var fetches atomic.Int64
	obs := observe.Func(func(ctx context.Context, op observe.Operation) (context.Context, func(observe.Result)) {
		return ctx, func(r observe.Result) {
			if op.Kind == observe.Fetch && r.Err == nil {
				fetches.Add(1)
			}
		}
	})
	cache, err := tokencache.New(tokencache.Options{Observer: obs})
	if err != nil {
		log.Fatal(err)
	}
	defer cache.Close()
	src := identity.TokenSourceFunc(func(context.Context) (*identity.Token, error) {
		now := time.Now()
		return &identity.Token{ID: "t", IssuedAt: now, ExpiresAt: now.Add(time.Hour), Expiry: now.Add(time.Hour)}, nil
	})
	key := tokencache.Key{Credential: identity.Password{UserName: "gncu00000001", DomainName: "gnc", Password: "pw"}}
	for range 3 {
		h, err := cache.Handle(key, src)
		if err != nil {
			log.Fatal(err)
		}
		defer h.Release()
		if _, err := h.Token(context.Background()); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("fetches:", fetches.Load())
	// Output:
	// fetches: 1
}
