#!/usr/bin/python3
"""Seed a freshly bootstrapped Keystone with geostack's test world; write keystone.json.

Run by scripts/keystone-up.sh with /usr/bin/python3 (Keystone's own interpreter, where
keystoneauth1 and keystoneclient are installed). One process does every call, so the
interpreter and the clients start once.

Passwords come from the environment (GEOSTACK_ADMIN_PASSWORD, GEOSTACK_SERVICE_PASSWORD,
GEOSTACK_USER_PASSWORD) rather than the command line, where `ps` would show them.

The world:
  regions     JP, US, SG (one per location); TYO1, OSA1 (parent JP), SJC1 (parent US),
              SIN1 (parent SG)
  services    identity (public/internal/admin in JP, US, SG: each location's own
              Keystone); compute, image, volumev3 (URL with $(project_id)s) and network
              with public/internal/admin endpoints in TYO1, OSA1, SJC1 and SIN1. Those
              URLs point at a closed loopback port: they are for catalog tests only.
  roles       admin, member, reader (bootstrap), service
  Default     project "admin" with user "admin" (admin on the project and on the system);
              project "service" with users nova, glance, cinder, neutron (service, admin)
  gnc, zjp    domains, each with project <p>t00000001, user <p>u00000001 (member on that
              project), user <p>u00000002 (admin on the domain) and user <p>u00000003
              (member on the project), whom only wrong-password tests name: a wrong
              password sets a user's failed_auth_count, and on sqlite the next logins'
              concurrent resets of it fail with "database is locked"
  app cred    one application credential of gncu00000001 on gnct00000001
"""

import argparse
import json
import os
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3
from keystoneclient.v3 import client as ks_client

LOCATION_REGIONS = {"JP": ["TYO1", "OSA1"], "US": ["SJC1"], "SG": ["SIN1"]}
PRIMARY = "JP"
# Closed loopback port (TCP "discard"): catalog entries that nothing serves.
DUMMY = "http://127.0.0.1:9"
SERVICES = [
    # type, name, URL path after the region and interface
    ("compute", "nova", "/compute/v2.1"),
    ("image", "glance", "/image"),
    ("volumev3", "cinderv3", "/volume/v3/$(project_id)s"),
    ("network", "neutron", "/network"),
]
INTERFACES = ["public", "internal", "admin"]
SERVICE_USERS = ["nova", "glance", "cinder", "neutron"]
PRODUCT_DOMAINS = ["gnc", "zjp"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--keystone-version", required=True)
    ap.add_argument("--auth-url", action="append", required=True, help="LOC=URL")
    ap.add_argument("--memcached", required=True)
    ap.add_argument("--keystone-memcached", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    auth_urls = dict(a.split("=", 1) for a in args.auth_url)
    admin_password = os.environ["GEOSTACK_ADMIN_PASSWORD"]
    service_password = os.environ["GEOSTACK_SERVICE_PASSWORD"]
    user_password = os.environ["GEOSTACK_USER_PASSWORD"]
    primary_url = auth_urls[PRIMARY]

    # Writes go to the primary location, as the library's users must do.
    admin_auth = ks_v3.Password(
        auth_url=primary_url,
        username="admin",
        password=admin_password,
        user_domain_id="default",
        project_name="admin",
        project_domain_id="default",
    )
    sess = ks_session.Session(auth=admin_auth)
    ks = ks_client.Client(session=sess, interface="public", region_name=PRIMARY)

    # Regions.
    for loc in ("US", "SG"):  # JP comes from bootstrap
        ks.regions.create(id=loc, description=f"location {loc}")
    for loc, regions in LOCATION_REGIONS.items():
        for r in regions:
            ks.regions.create(id=r, parent_region=loc, description=f"region {r} in {loc}")

    # Identity endpoints at the other locations (bootstrap made JP's).
    identity = ks.services.list(type="identity")[0]
    for loc in ("US", "SG"):
        for iface in INTERFACES:
            ks.endpoints.create(service=identity, url=auth_urls[loc], interface=iface, region=loc)

    # Service endpoints in every region.
    for stype, sname, path in SERVICES:
        svc = ks.services.create(name=sname, type=stype, description=f"{stype} (dummy endpoints)")
        for regions in LOCATION_REGIONS.values():
            for r in regions:
                for iface in INTERFACES:
                    url = f"{DUMMY}/{r}/{iface}{path}"
                    ks.endpoints.create(service=svc, url=url, interface=iface, region=r)

    # Roles.
    roles = {r.name: r for r in ks.roles.list()}
    for name in ("admin", "member", "reader", "service"):
        if name not in roles:
            roles[name] = ks.roles.create(name=name)

    # Default domain: admin (system scope too), service project and users.
    admin_user = ks.users.list(name="admin", domain="default")[0]
    admin_project = ks.projects.list(name="admin", domain="default")[0]
    ks.roles.grant(roles["admin"], user=admin_user, system="all")
    service_project = ks.projects.create(
        name="service", domain="default", description="OpenStack service users"
    )
    service_users = []
    for name in SERVICE_USERS:
        u = ks.users.create(
            name=name, domain="default", password=service_password, default_project=service_project
        )
        for role in ("service", "admin"):
            ks.roles.grant(roles[role], user=u, project=service_project)
        service_users.append(
            user_json(u, "Default", "default", service_password, service_project, ["service", "admin"])
        )

    # Product domains.
    domains = []
    for prefix in PRODUCT_DOMAINS:
        d = ks.domains.create(name=prefix, description=f"product domain {prefix}")
        p = ks.projects.create(name=f"{prefix}t00000001", domain=d)
        member = ks.users.create(
            name=f"{prefix}u00000001", domain=d, password=user_password, default_project=p
        )
        ks.roles.grant(roles["member"], user=member, project=p)
        dadmin = ks.users.create(name=f"{prefix}u00000002", domain=d, password=user_password)
        ks.roles.grant(roles["admin"], user=dadmin, domain=d)
        badlogin = ks.users.create(
            name=f"{prefix}u00000003", domain=d, password=user_password, default_project=p
        )
        ks.roles.grant(roles["member"], user=badlogin, project=p)
        domains.append(
            {
                "id": d.id,
                "name": d.name,
                "prefix": prefix,
                "projects": [{"id": p.id, "name": p.name, "domain_id": d.id}],
                "users": [
                    user_json(member, d.name, d.id, user_password, p, ["member"]),
                    dict(
                        user_json(dadmin, d.name, d.id, user_password, None, []),
                        domain_roles=["admin"],
                    ),
                    user_json(badlogin, d.name, d.id, user_password, p, ["member"]),
                ],
            }
        )

    # Application credential of gncu00000001, created by the user itself.
    gnc = domains[0]
    owner = gnc["users"][0]
    user_sess = ks_session.Session(
        auth=ks_v3.Password(
            auth_url=primary_url,
            user_id=owner["id"],
            password=user_password,
            project_id=owner["project_id"],
        )
    )
    ks_user = ks_client.Client(session=user_sess, interface="public", region_name=PRIMARY)
    ac = ks_user.application_credentials.create(
        name="geostack-ci", user=owner["id"], description="geostack integration tests"
    )

    env = {
        "schema": 1,
        "keystone_version": args.keystone_version,
        "password_hash_rounds": 4,
        "primary": PRIMARY,
        "auth_urls": auth_urls,
        "regions": LOCATION_REGIONS,
        "admin": user_json(admin_user, "Default", "default", admin_password, admin_project, ["admin"]),
        "service_project": {"id": service_project.id, "name": "service", "domain_id": "default"},
        "service_password": service_password,
        "service_users": service_users,
        "domains": domains,
        "app_credential": {
            "id": ac.id,
            "name": ac.name,
            "secret": ac.secret,
            "user_id": owner["id"],
            "user_name": owner["name"],
            "project_id": owner["project_id"],
        },
        "memcached": args.memcached,
        "keystone_memcached": args.keystone_memcached,
        "pids": read_pids(args.state),
        "state_dir": args.state,
        "scripts_dir": os.path.dirname(os.path.abspath(__file__)),
        "logs": {loc: os.path.join(args.state, "log", f"{loc}.log") for loc in auth_urls},
    }
    tmp = args.out + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(env, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)


def user_json(u, domain_name, domain_id, password, project, roles):
    j = {
        "id": u.id,
        "name": u.name,
        "password": password,
        "domain_id": domain_id,
        "domain_name": domain_name,
    }
    if project is not None:
        j["project_id"] = project.id
        j["project_name"] = project.name
        j["roles"] = roles
    return j


def read_pids(state):
    pids = {}
    for name in ("JP", "US", "SG", "memcached-keystone", "memcached-tests"):
        with open(os.path.join(state, "run", f"{name}.pid")) as f:
            pids[name] = int(f.read().strip())
    return pids


if __name__ == "__main__":
    sys.exit(main())
