//go:build unix

package standin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// lock takes the stand-in lock of a state directory, waiting while
// another process holds it (another stand-in is registered) until ctx is
// done. The lock goes with the process, so a stand-in that died leaves
// none.
func lock(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("standin: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("standin: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("standin: another stand-in is registered in this Keystone (lock %s is held): %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
