package memcache

import (
	"errors"
	"net"
	"strconv"
	"testing"

	gomemcache "github.com/bradfitz/gomemcache/memcache"
	"github.com/google/go-cmp/cmp"
)

// TestNamedServersSpreadLikeServerList: with TLS the Store keeps its own
// server list; a key lands on the same server as with gomemcache's, so
// that processes of a fleet with and without TLS in front of the same
// servers agree on where an entry is.
func TestNamedServersSpreadLikeServerList(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 5} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			var addrs []string
			for i := range n {
				addrs = append(addrs, "127.0.0."+strconv.Itoa(i+1)+":11211")
			}
			var list gomemcache.ServerList
			if err := list.SetServers(addrs...); err != nil {
				t.Fatal(err)
			}
			named := newNamedServers(addrs)
			var want, got []string
			for i := range 1000 {
				key := "geostack:v1:" + strconv.Itoa(i*7919)
				a, err := list.PickServer(key)
				if err != nil {
					t.Fatal(err)
				}
				b, err := named.PickServer(key)
				if err != nil {
					t.Fatal(err)
				}
				want, got = append(want, a.String()), append(got, b.String())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("servers picked (-ServerList +namedServers):\n%s", diff)
			}
		})
	}
}

func TestNamedServersKeepNames(t *testing.T) {
	t.Parallel()
	s := newNamedServers([]string{"cache.sg.example.net:11211", "/run/memcached/memcached.sock"})
	var got [][2]string
	s.Each(func(a net.Addr) error { got = append(got, [2]string{a.Network(), a.String()}); return nil })
	want := [][2]string{{"tcp", "cache.sg.example.net:11211"}, {"unix", "/run/memcached/memcached.sock"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	if _, err := newNamedServers(nil).PickServer("k"); !errors.Is(err, gomemcache.ErrNoServers) {
		t.Errorf("PickServer with no servers = %v; want ErrNoServers", err)
	}
}
