package domain

import (
	"errors"
	"iter"
	"testing"

	"github.com/geostack/geostack/internal/configerr"
)

// problemOf returns the one problem of a configuration error.
func problemOf(t *testing.T, err error) *configerr.Problem {
	t.Helper()
	var ce *configerr.Error
	if !errors.As(err, &ce) || !errors.Is(err, configerr.ErrInvalid) {
		t.Fatalf("error %T %v is not a config error", err, err)
	}
	if len(ce.Problems) != 1 {
		t.Fatalf("error has %d problems, want 1: %v", len(ce.Problems), err)
	}
	return ce.Problems[0]
}

// collect drains a listing; a failed page gives the error and no items.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// appendVisible appends the items of src that visible accepts to dst.
func appendVisible[T any](dst, src []T, visible func(*T) bool) []T {
	for i := range src {
		if visible(&src[i]) {
			dst = append(dst, src[i])
		}
	}
	return dst
}
