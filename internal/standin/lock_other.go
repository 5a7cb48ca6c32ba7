//go:build !unix

package standin

import (
	"context"
	"errors"
)

// lock is unix-only: the project's real cloud runs on Debian.
func lock(context.Context, string) (func(), error) {
	return nil, errors.New("standin: needs a unix system (file locks)")
}
