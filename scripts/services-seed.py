#!/usr/bin/python3
"""Point the catalog at the real Glance, Cinder and Nova APIs, seed them; write services.json.

Run by scripts/services-up.sh with /usr/bin/python3 (where the services and their clients
are installed), once the four APIs answer. Credentials come from keystone.json.

The catalog: the image, volumev3 and compute endpoints (public, internal, admin) that
keystone-seed.py registered in a region where services-up.sh runs that service are
updated to the running service; every other endpoint is left as it is (a placeholder on
a closed port).

The seeded world (the same images in both Glance regions, with different ids):
  images        operator's public images (owner: project admin): Default ones without
                domain_id, each product domain's with its prefix and domain_id, one with
                a prefix but no domain_id, one with a domain_id but no prefix, and
                FILLER public images spread over Default, gnc and zjp so that a
                listing with a small page size crosses pages;
                members' images (gncu00000001 on gnct00000001, zjpu00000001 on
                zjpt00000001): private ones, one with the other domain's prefix and
                domain_id, a shared one accepted by the other domain's project, a shared
                one left pending, an own community one, and community images with
                forged names and domain_ids (gnc_centos_planted by zjp with gnc's id,
                zjp_ubuntu_planted by gnc with zjp's id, ubuntu-22.04 by zjp);
  flavors       (Nova, TYO1) public unprefixed and prefixed ones; private ones with
                access for one domain's project; one private unprefixed flavor for gnc;
                one private flavor nobody has access to;
  volume types  (Cinder, TYO1) likewise, next to Cinder's own __DEFAULT__.
Each seeded item has a "kind" saying what it stands for (see scripts/README.md).
"""

import argparse
import concurrent.futures
import io
import json
import os
import sys

from cinderclient import client as cinder_client
from glanceclient import client as glance_client
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3 as ks_v3
from keystoneclient.v3 import client as ks_client
from novaclient import client as nova_client

SCHEMA = 1
INTERFACES = ["public", "internal", "admin"]
# Instance kind → catalog service type and the path after /<region>/<interface>.
SERVICE = {
    "glance": ("image", "image"),
    "cinder": ("volumev3", "volume/v3/$(project_id)s"),
    "nova": ("compute", "compute/v2.1"),
}
# Path of the version document under /<region>/public, which answers without a token.
VERSION_PATH = {"glance": "image/", "cinder": "volume/", "nova": "compute/"}
CATALOG_TYPES = ["compute", "image", "network", "volumev3"]
FILLER = 30
IMAGE_BYTES = 4096


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--keystone-json", required=True)
    ap.add_argument("--workers", type=int, required=True)
    ap.add_argument("--version", action="append", required=True, help="SERVICE=VERSION")
    ap.add_argument("--instance", action="append", required=True, help="NAME=PORT, NAME is <service>-<region>")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.keystone_json) as f:
        ks_env = json.load(f)
    location_of = {r: loc for loc, regions in ks_env["regions"].items() for r in regions}
    svc_dir = os.path.join(args.state, "services")

    admin = ks_env["admin"]
    admin_sess = session(ks_env, admin)
    ks = ks_client.Client(session=admin_sess, interface="public", region_name=ks_env["primary"])

    # --- Catalog ---------------------------------------------------------------------
    instances = []
    endpoints = {}
    services = {s.type: s for s in ks.services.list()}
    for spec in args.instance:
        name, port = spec.split("=", 1)
        kind, region = name.split("-", 1)
        stype, path = SERVICE[kind]
        base = f"http://127.0.0.1:{port}/{region}"
        urls = {iface: f"{base}/{iface}/{path}" for iface in INTERFACES}
        svc = services[stype]
        for iface, url in urls.items():
            found = ks.endpoints.list(service=svc, region=region, interface=iface)
            if len(found) > 1:
                sys.exit(f"{len(found)} {stype} {iface} endpoints in {region}, want at most 1")
            if found:
                ks.endpoints.update(found[0], url=url)
            else:
                ks.endpoints.create(service=svc, url=url, interface=iface, region=region)
        endpoints.setdefault(region, {})[stype] = urls
        run = os.path.join(svc_dir, "run")
        instances.append(
            {
                "name": name,
                "service": kind,
                "service_type": stype,
                "region": region,
                "location": location_of[region],
                "port": int(port),
                "endpoints": urls,
                "version_url": f"{base}/public/{VERSION_PATH[kind]}",
                "auth_url": ks_env["auth_urls"][location_of[region]],
                "pid": int(read(os.path.join(run, f"{name}.pid"))),
                "worker_pids": [int(p) for p in read(os.path.join(run, f"{name}.children")).split()],
                "config": os.path.join(svc_dir, name, config_name(kind)),
                "log": os.path.join(svc_dir, "log", f"{name}.log"),
            }
        )
    # The admin's token holds the catalog as it was; the next request takes a new one.
    admin_sess.invalidate()
    placeholders = {}
    for r in location_of:
        left = [t for t in CATALOG_TYPES if t not in endpoints.get(r, {})]
        if left:
            placeholders[r] = left

    # --- Users -----------------------------------------------------------------------
    gnc, zjp = domain(ks_env, "gnc"), domain(ks_env, "zjp")
    actors = {
        "admin": (admin, {"id": admin["project_id"], "name": admin["project_name"]}),
        gnc["member"]["name"]: (gnc["member"], gnc["project"]),
        zjp["member"]["name"]: (zjp["member"], zjp["project"]),
    }
    sessions = {n: session(ks_env, u) for n, (u, _) in actors.items()}
    sessions["admin"] = admin_sess

    # --- Images in both Glance regions, flavors and volume types, side by side --------
    specs = image_specs(gnc, zjp)
    images, flavors, volume_types = {}, [], []
    with concurrent.futures.ThreadPoolExecutor(len(instances)) as pool:
        futures = {}
        for inst in instances:
            r = inst["region"]
            if inst["service"] == "glance":
                futures[inst["name"]] = pool.submit(seed_images, r, specs, sessions, actors)
            elif inst["service"] == "nova":
                futures[inst["name"]] = pool.submit(seed_flavors, admin_sess, r, gnc, zjp)
            else:
                futures[inst["name"]] = pool.submit(seed_volume_types, admin_sess, r, gnc, zjp)
        for inst in instances:
            result = futures[inst["name"]].result()
            if inst["service"] == "glance":
                images[inst["region"]] = result
            elif inst["service"] == "nova":
                flavors = result
            else:
                volume_types = result

    env = {
        "schema": SCHEMA,
        "keystone_admin_id": admin["id"],
        "versions": dict(v.split("=", 1) for v in args.version),
        "workers": args.workers,
        "instances": instances,
        "endpoints": endpoints,
        "placeholders": placeholders,
        "images": images,
        "flavors": flavors,
        "volume_types": volume_types,
        "state_dir": args.state,
        "scripts_dir": os.path.dirname(os.path.abspath(__file__)),
    }
    tmp = args.out + ".tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        json.dump(env, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, args.out)


def session(ks_env, user):
    """A keystoneauth session for user on its project, at the primary location."""
    return ks_session.Session(
        auth=ks_v3.Password(
            auth_url=ks_env["auth_urls"][ks_env["primary"]],
            user_id=user["id"],
            password=user["password"],
            project_id=user["project_id"],
        )
    )


def domain(ks_env, name):
    d = next(d for d in ks_env["domains"] if d["name"] == name)
    return {"id": d["id"], "name": d["name"], "project": d["projects"][0], "member": d["users"][0]}


def image_specs(gnc, zjp):
    """(kind, name, creator, visibility, properties, members) of every seeded image.

    members are (domain, status) pairs: the domain's project becomes a member and sets
    that status itself ("pending" is Glance's initial status).
    """
    G, Z = gnc["member"]["name"], zjp["member"]["name"]
    gid, zid = {"domain_id": gnc["id"]}, {"domain_id": zjp["id"]}
    specs = [
        # The operator's public images (publicize_image is admin-only).
        ("default-public", "ubuntu-22.04", "admin", "public", {}, []),
        ("default-public", "centos-stream-9", "admin", "public", {}, []),
        ("domain-public", "gnc_centos", "admin", "public", gid, []),
        ("domain-public", "gnc_windows", "admin", "public", gid, []),
        ("domain-public", "zjp_ubuntu", "admin", "public", zid, []),
        ("domain-public", "zjp_alma", "admin", "public", zid, []),
        ("prefix-only-public", "gnc_debian", "admin", "public", {}, []),
        ("domain-id-only-public", "legacy-image", "admin", "public", zid, []),
        # Members' images: only the owner project decides whose they are.
        ("member-private", "gnc_app_snapshot", G, "private", gid, []),
        ("member-private", "zjp_db_snapshot", Z, "private", zid, []),
        ("member-private-forged", "zjp_ubuntu_copy", G, "private", zid, []),
        ("member-shared-accepted", "gnc_shared_with_zjp", G, "shared", gid, [(zjp, "accepted")]),
        ("member-shared-pending", "zjp_shared_with_gnc", Z, "shared", zid, [(gnc, "pending")]),
        ("member-community", "gnc_tools", G, "community", gid, []),
        ("member-community-forged", "gnc_centos_planted", Z, "community", gid, []),
        ("member-community-forged", "zjp_ubuntu_planted", G, "community", zid, []),
        ("member-community-forged", "ubuntu-22.04", Z, "community", {}, []),
    ]
    for i in range(FILLER):
        owner = [(None, {}), (gnc, gid), (zjp, zid)][i % 3]
        name = f"filler-{i:02d}" if owner[0] is None else f"{owner[0]['name']}_filler_{i:02d}"
        specs.append(("filler", name, "admin", "public", owner[1], []))
    return specs


def seed_images(region, specs, sessions, actors):
    """Create specs in region's Glance, a few at a time; return them in specs' order."""
    gcs = {n: glance_client.Client("2", session=s, region_name=region, interface="public") for n, s in sessions.items()}
    # Each image costs 3 requests or more. Glance's eventlet worker serves them
    # concurrently and spends most of each waiting, so 4 at a time take a third of
    # the time of one at a time on 2 cores.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda spec: seed_image(region, spec, gcs, actors), specs))


def seed_image(region, spec, gcs, actors):
    kind, name, creator, visibility, props, members = spec
    gc = gcs[creator]
    img = gc.images.create(name=name, visibility=visibility, disk_format="raw", container_format="bare", **props)
    data = image_data(region, name, creator)
    gc.images.upload(img["id"], io.BytesIO(data), image_size=len(data))
    member_list = []
    for dom, status in members:
        gc.image_members.create(img["id"], dom["project"]["id"])
        if status != "pending":
            gcs[dom["member"]["name"]].image_members.update(img["id"], dom["project"]["id"], status)
        member_list.append({"project_id": dom["project"]["id"], "project_name": dom["project"]["name"], "status": status})
    img = gc.images.get(img["id"])
    if img["status"] != "active" or img["size"] != len(data):
        raise RuntimeError(f"image {name} in {region}: status {img['status']}, size {img['size']}, want active, {len(data)}")
    owner = actors[creator][1]
    if img["owner"] != owner["id"]:
        raise RuntimeError(f"image {name} in {region}: owner {img['owner']}, want {owner['id']}")
    return {
        "id": img["id"],
        "name": name,
        "kind": kind,
        "visibility": img["visibility"],
        "owner": img["owner"],
        "owner_name": owner["name"],
        "created_by": creator,
        "status": img["status"],
        "size": img["size"],
        "checksum": img["checksum"],
        "os_hash_algo": img["os_hash_algo"],
        "os_hash_value": img["os_hash_value"],
        "properties": {k: img[k] for k in props},
        "members": member_list,
    }


def image_data(region, name, creator):
    head = f"geostack seed image {name} in {region} by {creator}\n".encode()
    return (head * (IMAGE_BYTES // len(head) + 1))[:IMAGE_BYTES]


def seed_flavors(sess, region, gnc, zjp):
    nc = nova_client.Client("2.1", session=sess, region_name=region, endpoint_type="public")
    specs = [
        # kind, name, ram MiB, vcpus, disk GiB, access (None: public)
        ("public-shared", "m1.tiny", 512, 1, 1, None),
        ("public-shared", "m1.small", 2048, 1, 20, None),
        ("public-prefixed", "gnc_g1.small", 1024, 1, 20, None),
        ("public-prefixed", "zjp_z1.small", 1024, 1, 20, None),
        ("private-domain", "gnc_g1.large", 8192, 4, 100, [gnc]),
        ("private-domain", "zjp_z1.large", 8192, 4, 100, [zjp]),
        ("private-unprefixed", "m1.dedicated", 16384, 8, 200, [gnc]),
        ("private-unshared", "ops.reserved", 32768, 16, 400, []),
    ]
    out = []
    for kind, name, ram, vcpus, disk, access in specs:
        fl = nc.flavors.create(name, ram, vcpus, disk, is_public=access is None)
        for dom in access or []:
            nc.flavor_access.add_tenant_access(fl, dom["project"]["id"])
        out.append(
            {
                "id": fl.id,
                "name": name,
                "kind": kind,
                "is_public": access is None,
                "access": [d["project"]["id"] for d in access or []],
                "ram": ram,
                "vcpus": vcpus,
                "disk": disk,
            }
        )
    return out


def seed_volume_types(sess, region, gnc, zjp):
    cc = cinder_client.Client("3", session=sess, region_name=region, endpoint_type="public")
    out = []
    for vt in cc.volume_types.list(is_public=None):
        # Cinder's database sync creates __DEFAULT__.
        out.append({"id": vt.id, "name": vt.name, "kind": "builtin", "is_public": vt.is_public, "access": []})
    specs = [
        ("public-shared", "standard", None),
        ("public-prefixed", "gnc_ssd", None),
        ("public-prefixed", "zjp_ssd", None),
        ("private-domain", "gnc_nvme", [gnc]),
        ("private-domain", "zjp_nvme", [zjp]),
        ("private-unprefixed", "dedicated", [gnc]),
        ("private-unshared", "ops_reserved", []),
    ]
    for kind, name, access in specs:
        vt = cc.volume_types.create(name, is_public=access is None)
        for dom in access or []:
            cc.volume_type_access.add_project_access(vt, dom["project"]["id"])
        out.append(
            {
                "id": vt.id,
                "name": name,
                "kind": kind,
                "is_public": access is None,
                "access": [d["project"]["id"] for d in access or []],
            }
        )
    return out


def config_name(kind):
    return {"glance": "glance-api.conf", "cinder": "cinder.conf", "nova": "nova.conf"}[kind]


def read(path):
    with open(path) as f:
        return f.read().strip()


if __name__ == "__main__":
    sys.exit(main())
