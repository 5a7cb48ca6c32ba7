// Package typednil tells a nil interface, and an interface holding a nil
// pointer, func, map, slice or channel, apart from a usable value: every
// constructor of the library checks its interface arguments with it, so
// that a typed nil gets a config error instead of a panic later.
package typednil

import "reflect"

// Is reports whether v is nil or holds a nil pointer, func, map, slice,
// channel or interface.
func Is(v any) bool {
	if v == nil {
		return true
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface:
		return r.IsNil()
	}
	return false
}
