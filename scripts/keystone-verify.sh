#!/usr/bin/env bash
# keystone-verify.sh — check with curl that the Keystone from keystone-up.sh behaves
# like the multi-location cloud geostack is written for, and measure token latency.
#
# Usage: scripts/keystone-verify.sh [path/to/keystone.json]   (default: $GEOSTACK_KEYSTONE)
#
# Checks:
#   - a password token of gncu00000001 issued at US validates at SG (GET and HEAD
#     /v3/auth/tokens with a service user's token), and its catalog has the
#     $(project_id)s of the volumev3 endpoints substituted;
#   - after a revocation at JP, the token is 404 at US and SG;
#   - system scope (admin), domain scope (gncu00000002 on gnc), application
#     credential auth, and 401 on a wrong password;
# then prints the latency of issuing and validating tokens (curl, new connection each).
# Prints nothing secret. Exits non-zero on the first failed check.
set -euo pipefail

JSON=${1:-${GEOSTACK_KEYSTONE:-}}
[[ -n $JSON && -r $JSON ]] || { echo "usage: $0 path/to/keystone.json" >&2; exit 2; }
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "verify: FAIL: $*" >&2; exit 1; }

eval "$("$PY" - "$JSON" <<'EOF'
import json, shlex, sys
e = json.load(open(sys.argv[1]))
gnc = next(d for d in e["domains"] if d["name"] == "gnc")
v = {
    "URL_JP": e["auth_urls"]["JP"], "URL_US": e["auth_urls"]["US"], "URL_SG": e["auth_urls"]["SG"],
    "ADMIN_PW": e["admin"]["password"], "SVC_PW": e["service_password"],
    "USER_ID": gnc["users"][0]["id"], "USER_PW": gnc["users"][0]["password"],
    "PROJECT_ID": gnc["users"][0]["project_id"],
    "DADMIN_ID": gnc["users"][1]["id"], "GNC_ID": gnc["id"],
    "AC_ID": e["app_credential"]["id"], "AC_SECRET": e["app_credential"]["secret"],
}
for k, x in v.items():
    print(f"{k}={shlex.quote(x)}")
EOF
)"

# auth URL BODY: POST /auth/tokens; sets TOKEN, CODE, TIME; body in $TMP/body.
auth() {
	local out
	out=$(curl -sS --max-time 10 -o "$TMP/body" -D "$TMP/hdr" -w '%{http_code} %{time_total}' \
		-H 'Content-Type: application/json' -d "$2" "$1/auth/tokens")
	CODE=${out% *} TIME=${out#* }
	TOKEN=$(sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: *\([^[:space:]]*\).*/\1/p' "$TMP/hdr")
}
# validate METHOD URL SUBJECT: sets CODE, TIME; body in $TMP/body.
validate() {
	local out
	local method=(-X "$1")
	[[ $1 == HEAD ]] && method=(--head) # -X HEAD would wait for a body that never comes
	out=$(curl -sS --max-time 10 -o "$TMP/body" -w '%{http_code} %{time_total}' "${method[@]}" \
		-H "X-Auth-Token: $SERVICE_TOKEN" -H "X-Subject-Token: $3" "$2/auth/tokens")
	CODE=${out% *} TIME=${out#* }
}
password_body() { # user_id password scope_json
	printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"%s","password":"%s"}}},"scope":%s}}' "$1" "$2" "$3"
}
admin_body() { # scope_json
	printf '{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"id":"default"},"password":"%s"}}},"scope":%s}}' "$ADMIN_PW" "$1"
}
body_has() { "$PY" -c 'import json,sys; t=json.load(open(sys.argv[1]))["token"]; sys.exit(0 if eval(sys.argv[2]) else 1)' "$TMP/body" "$1"; }

# Service token: nova, project-scoped to "service", issued at the validating location.
auth "$URL_SG" "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"nova\",\"domain\":{\"id\":\"default\"},\"password\":\"$SVC_PW\"}}},\"scope\":{\"project\":{\"name\":\"service\",\"domain\":{\"id\":\"default\"}}}}}"
[[ $CODE == 201 ]] || fail "nova token at SG: HTTP $CODE"
SERVICE_TOKEN=$TOKEN

PROJECT_SCOPE="{\"project\":{\"id\":\"$PROJECT_ID\"}}"
auth "$URL_US" "$(password_body "$USER_ID" "$USER_PW" "$PROJECT_SCOPE")"
[[ $CODE == 201 ]] || fail "gncu00000001 token at US: HTTP $CODE"
USER_TOKEN=$TOKEN
validate GET "$URL_SG" "$USER_TOKEN"
[[ $CODE == 200 ]] || fail "US token validated at SG: HTTP $CODE"
body_has "t['project']['id'] == '$PROJECT_ID'" || fail "validated token has the wrong project"
body_has "[e['url'] for s in t['catalog'] if s['type'] == 'volumev3' for e in s['endpoints'] if '$PROJECT_ID' in e['url'] and '\$(' not in e['url']]" ||
	fail "volumev3 catalog URLs lack the substituted project id"
body_has "len(t['catalog']) == 5 and sorted({e['region_id'] for s in t['catalog'] for e in s['endpoints']}) == ['JP', 'OSA1', 'SG', 'SIN1', 'SJC1', 'TYO1', 'US']" ||
	fail "catalog services or regions differ from the seed"
validate HEAD "$URL_JP" "$USER_TOKEN"
[[ $CODE == 200 ]] || fail "HEAD validation at JP: HTTP $CODE"
echo "ok   token issued at US validates at SG (GET) and JP (HEAD); catalog: 5 services, 7 regions, \$(project_id)s substituted"

curl -sS -o /dev/null -w '%{http_code}' -X DELETE -H "X-Auth-Token: $SERVICE_TOKEN" \
	-H "X-Subject-Token: $USER_TOKEN" "$URL_JP/auth/tokens" >"$TMP/code"
[[ $(cat "$TMP/code") == 204 ]] || fail "revocation at JP: HTTP $(cat "$TMP/code")"
for url in "$URL_US" "$URL_SG"; do
	validate GET "$url" "$USER_TOKEN"
	[[ $CODE == 404 ]] || fail "revoked token at $url: HTTP $CODE, want 404"
done
echo "ok   revoked at JP: 404 at US and SG"

auth "$URL_SG" "$(admin_body '{"system":{"all":true}}')"
[[ $CODE == 201 ]] && body_has "t['system'] == {'all': True}" || fail "system-scoped admin token: HTTP $CODE"
auth "$URL_US" "$(password_body "$DADMIN_ID" "$USER_PW" "{\"domain\":{\"id\":\"$GNC_ID\"}}")"
[[ $CODE == 201 ]] && body_has "t['domain']['name'] == 'gnc' and 'admin' in [r['name'] for r in t['roles']]" ||
	fail "domain-scoped token of gncu00000002: HTTP $CODE"
auth "$URL_JP" "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":{\"id\":\"$AC_ID\",\"secret\":\"$AC_SECRET\"}}}}"
[[ $CODE == 201 ]] && body_has "t['project']['id'] == '$PROJECT_ID'" || fail "application credential token: HTTP $CODE"
auth "$URL_JP" "$(password_body "$USER_ID" "wrong-password" "$PROJECT_SCOPE")"
[[ $CODE == 401 ]] || fail "wrong password: HTTP $CODE, want 401"
echo "ok   system scope, domain scope, application credential; 401 on a wrong password"

# Latency, in ms. Each curl opens a new loopback connection (adds well under 1 ms).
N=${GEOSTACK_KEYSTONE_SAMPLES:-7}
issue=() valid=()
for ((i = 0; i < N; i++)); do
	auth "$URL_JP" "$(password_body "$USER_ID" "$USER_PW" "$PROJECT_SCOPE")"
	[[ $CODE == 201 ]] || fail "latency sample: HTTP $CODE"
	issue+=("$TIME")
	validate GET "$URL_SG" "$TOKEN"
	[[ $CODE == 200 ]] || fail "latency sample validation: HTTP $CODE"
	valid+=("$TIME")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 * 1000 } END { printf "min %.1f / median %.1f / max %.1f ms (n=%d)", a[1], a[int((NR + 1) / 2)], a[NR], NR }'; }
echo "lat  issue password token (JP): $(stats "${issue[@]}")"
echo "lat  validate token, GET with catalog (SG): $(stats "${valid[@]}")"
