"""Echo WSGI application for geostack's keystonemiddleware parity test.

Started by scripts/ksm-up.sh under uwsgi, twice:

  GEOSTACK_KSM_MODE=ksm    behind keystonemiddleware's auth_token filter, one
                           filter per port: GEOSTACK_KSM_PORTS names each port's
                           oslo.config file ("PORT=FILE,PORT=FILE"), so one uwsgi
                           serves auth_token with delay_auth_decision off on one
                           port and on on another;
  GEOSTACK_KSM_MODE=plain  bare, for geostack's Go handler and a Go reverse proxy
                           to sit in front of.

Every request is answered 200 with a JSON object saying what the application
received:

  environ     every HTTP_X_* and HTTP_OPENSTACK_* key (a None value, which
              webob stores for a token attribute that is missing, is kept as
              null); the values of the token headers are replaced by their
              fingerprint ("sha256:" and 8 hex digits, like geostack's
              identity.TokenFingerprint), never echoed;
  keystone    whether the environ keys keystone.token_info and
              keystone.token_auth are present, and what the latter holds;
  oslo        oslo.context's RequestContext.from_environ(environ)
              .to_policy_values(): what a Python service's policy checks see;
  method, path  the request line as the application saw it.

It answers whatever auth_token lets through (with delay_auth_decision, also
unauthenticated requests); a 401 comes from auth_token itself.
"""

import hashlib
import json
import os

SECRET_HEADERS = {"HTTP_X_AUTH_TOKEN", "HTTP_X_STORAGE_TOKEN", "HTTP_X_SERVICE_TOKEN", "HTTP_X_SUBJECT_TOKEN"}


def fingerprint(value):
    if value is None or value == "":
        return value
    return "sha256:" + hashlib.sha256(value.encode("latin-1")).hexdigest()[:8]


def echo(environ, start_response):
    from oslo_context import context

    seen = {}
    for k, v in environ.items():
        if k.startswith("HTTP_X_") or k.startswith("HTTP_OPENSTACK_"):
            seen[k] = fingerprint(v) if k in SECRET_HEADERS else v
    auth = environ.get("keystone.token_auth")
    keystone = {
        "token_info": "keystone.token_info" in environ,
        "token_auth": "keystone.token_auth" in environ,
        "token_auth_user": bool(auth is not None and auth.has_user_token),
        "token_auth_service": bool(auth is not None and auth.has_service_token),
    }
    policy = dict(context.RequestContext.from_environ(environ).to_policy_values())
    body = {
        "environ": seen,
        "keystone": keystone,
        "oslo": policy,
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
    }
    data = json.dumps(body, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def build():
    mode = os.environ.get("GEOSTACK_KSM_MODE", "plain")
    if mode == "plain":
        return echo
    if mode != "ksm":
        raise SystemExit("ksm-app: GEOSTACK_KSM_MODE must be ksm or plain, not %r" % mode)
    from keystonemiddleware import auth_token

    filters = {}
    for item in os.environ["GEOSTACK_KSM_PORTS"].split(","):
        port, conf = item.split("=", 1)
        filters[port] = auth_token.AuthProtocol(
            echo, {"oslo_config_project": "geostack-ksm", "oslo_config_file": conf}
        )

    def by_port(environ, start_response):
        app = filters.get(environ.get("SERVER_PORT"))
        if app is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"ksm-app: no auth_token filter for this port\n"]
        return app(environ, start_response)

    return by_port


application = build()
