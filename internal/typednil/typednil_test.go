package typednil

import "testing"

type source interface{ Token() string }

type src struct{}

func (*src) Token() string { return "" }

type fn func() string

func (f fn) Token() string { return f() }

func TestIs(t *testing.T) {
	t.Parallel()
	var nilSrc *src
	var nilFn fn
	tests := []struct {
		name string
		v    source
		want bool
	}{
		{"nil interface", nil, true},
		{"typed nil pointer", nilSrc, true},
		{"typed nil func", nilFn, true},
		{"pointer", &src{}, false},
		{"func", fn(func() string { return "" }), false},
	}
	for _, tt := range tests {
		var v any
		if tt.v != nil {
			v = tt.v
		}
		if got := Is(v); got != tt.want {
			t.Errorf("%s: Is = %v, want %v", tt.name, got, tt.want)
		}
	}
	if Is(struct{}{}) || Is(3) || Is("") {
		t.Error("Is reported a non-nillable value as nil")
	}
}
