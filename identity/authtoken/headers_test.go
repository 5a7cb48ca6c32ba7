package authtoken

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKindOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want headerKind
	}{
		{"X-User-Id", headerIdentity},
		{"X_User_Id", headerIdentity},
		{"X_user_id", headerIdentity},
		{"x_USER-id", headerIdentity},
		{"X-SERVICE-PROJECT-DOMAIN-NAME", headerIdentity},
		{"OpenStack-System-Scope", headerIdentity},
		{"openstack_system_scope", headerIdentity},
		{"X-System-Scope", headerIdentity},
		{"X-User", headerIdentity},
		{"X_Tenant", headerIdentity},
		{"X-Service-Catalog", headerIdentity},
		{"X-Auth-Token", headerToken},
		{"X_Auth_Token", headerToken},
		{"x-storage-token", headerToken},
		{"X-Service-Token", headerToken},
		{"X-Users", headerOther},
		{"X-User-Ids", headerOther},
		{"X-Forwarded-For", headerOther},
		{"X-Subject-Token", headerOther},
		{"Openstack-Api-Version", headerOther},
		{"X-Openstack-Request-Id", headerOther},
		{"Content-Type", headerOther},
		{"X", headerOther},
		{"", headerOther},
		{"X-Service-Project-Domain-Name-And-More-Than-Thirty-Two", headerOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := kindOf(tt.name); got != tt.want {
				t.Errorf("kindOf(%q) = %d, want %d", tt.name, got, tt.want)
			}
		})
	}
}

func TestNeedsRewrite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    http.Header
		want bool
	}{
		{"none", http.Header{"Accept": {"*/*"}}, false},
		{"token", http.Header{"X-Auth-Token": {"t"}, "X-Service-Token": {"s"}}, false},
		{"keep-alive", http.Header{"Connection": {"keep-alive"}}, false},
		{"identity header", http.Header{"X-Roles": {"admin"}}, true},
		{"underscore identity header", http.Header{"X_roles": {"admin"}}, true},
		{"token in another spelling", http.Header{"X_auth_token": {"t"}}, true},
		{"two token values", http.Header{"X-Auth-Token": {"t", "u"}}, true},
		{"Connection naming an identity header", http.Header{"Connection": {"keep-alive, x_is_admin_project"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := needsRewrite(tt.h); got != tt.want {
				t.Errorf("needsRewrite = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHeaderWriter(t *testing.T) {
	t.Parallel()
	src := http.Header{
		"Accept":          {"a", "b"},
		"X-Roles":         {"admin"},
		"X_roles":         {"admin"},
		"X-Auth-Token":    {"t1", "t2"},
		"X_auth_token":    {"t3"},
		"Connection":      {"keep-alive, X-Is-Admin-Project", "X_Roles", "Upgrade"},
		"X-Forwarded-For": {"203.0.113.7"},
	}
	w := newHeaderWriter(src, 1)
	w.set("X-Roles", "member")
	want := http.Header{
		"Accept":          {"a", "b"},
		"X-Auth-Token":    {"t1"},
		"Connection":      {"keep-alive", "Upgrade"},
		"X-Forwarded-For": {"203.0.113.7"},
		"X-Roles":         {"member"},
	}
	if diff := cmp.Diff(want, w.h); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Values are copies: appending to one does not reach the next.
	w.h["Accept"] = append(w.h["Accept"], "c")
	if diff := cmp.Diff(want["X-Auth-Token"], w.h["X-Auth-Token"]); diff != "" {
		t.Errorf("X-Auth-Token after append to Accept (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a", "b"}, src["Accept"]); diff != "" {
		t.Errorf("source modified (-want +got):\n%s", diff)
	}
}
