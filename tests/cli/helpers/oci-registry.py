#!/usr/bin/python3
"""A minimal OCI distribution 1.1 registry with the referrers API, for the tests.

    oci-registry.py --listen HOST:PORT --data DIR --log FILE [--page-size N [--next-base URL] [--link-loop]]

Debian's docker-registry (distribution 2.8) has no referrers API; this one
has, and nothing more than `smith upload` and `smith download` use:

  GET  /v2/                                   200
  HEAD/GET /v2/<name>/blobs/<digest>          the blob, or 404
  POST /v2/<name>/blobs/uploads/[?mount=..]   202, Location of a session (never mounts)
  PUT  <session>?digest=D                     the whole blob (monolithic), checked, 201
  PUT  /v2/<name>/manifests/<tag or digest>   stored by digest; a manifest with a
                                              subject answers OCI-Subject: <its digest>
  HEAD/GET /v2/<name>/manifests/<ref>         by tag or digest, Content-Type its mediaType
  GET  /v2/<name>/referrers/<digest>          an OCI index of the manifests whose subject
                                              is digest, in the order they were PUT
                                              (mediaType, digest, size, annotations,
                                              artifactType); ?artifactType= filters;
                                              with --page-size N, N a page (or ?n=),
                                              the next page after ?last=<digest> named
                                              by Link: <...>; rel="next" (relative, or on
                                              --next-base ORIGIN; --link-loop: the first page)

Everything lives in DIR, so a test can look and tamper: DIR/blobs/<hex>,
DIR/manifests/<hex> (the bytes served, read anew on every GET), DIR/tags/<name
with / as _>/<tag> (a digest), and DIR/override/<hex>: when that file exists,
GET /referrers/sha256:<hex> answers its bytes instead (the hostile tests).
Every request is logged to FILE as "METHOD PATH STATUS".
"""
import argparse
import hashlib
import json
import os
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NAME = r"(?P<name>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
DIGEST = r"(?P<digest>sha256:[0-9a-f]{64})"
BLOB_RE = re.compile(r"^/v2/%s/blobs/%s$" % (NAME, DIGEST))
UPLOAD_RE = re.compile(r"^/v2/%s/blobs/uploads/(?P<id>[0-9a-f-]*)$" % NAME)
MANIFEST_RE = re.compile(r"^/v2/%s/manifests/(?P<ref>[A-Za-z0-9_.:-]+)$" % NAME)
REFERRERS_RE = re.compile(r"^/v2/%s/referrers/%s$" % (NAME, DIGEST))
INDEX = "application/vnd.oci.image.index.v1+json"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--page-size", type=int, default=0, help="referrers answered in pages of this many")
    ap.add_argument("--next-base", default="", help="the next page's Link is absolute, on this origin")
    ap.add_argument("--link-loop", action="store_true", help="every next link leads to the first page")
    a = ap.parse_args()
    for d in ("blobs", "manifests", "tags", "override"):
        os.makedirs(os.path.join(a.data, d), exist_ok=True)
    lock = threading.Lock()
    subjects = []  # (subject digest, manifest digest), in PUT order

    def path_of(kind, digest):
        return os.path.join(a.data, kind, digest.split(":", 1)[1])

    def tag_path(name, tag):
        return os.path.join(a.data, "tags", name.replace("/", "_"), tag)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body=b"", headers=None, head=False):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and not head:
                self.wfile.write(body)
            with lock, open(a.log, "a") as f:
                f.write("%s %s %d\n" % (self.command, self.path, status))

        def error(self, status, code):
            body = json.dumps({"errors": [{"code": code, "message": code.lower().replace("_", " ")}]})
            self.answer(status, body.encode(), {"Content-Type": "application/json"})

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def resolve(self, name, ref):
            if ref.startswith("sha256:"):
                return ref
            try:
                with open(tag_path(name, ref)) as f:
                    return f.read().strip()
            except FileNotFoundError:
                return None

        def do_GET(self, head=False):
            url = urlsplit(self.path)
            p = url.path
            if p == "/v2/":
                return self.answer(200, b"{}", {"Content-Type": "application/json"}, head)
            m = BLOB_RE.match(p)
            if m:
                try:
                    with open(path_of("blobs", m["digest"]), "rb") as f:
                        data = f.read()
                except FileNotFoundError:
                    return self.error(404, "BLOB_UNKNOWN")
                return self.answer(200, data, {"Content-Type": "application/octet-stream",
                                               "Docker-Content-Digest": m["digest"]}, head)
            m = MANIFEST_RE.match(p)
            if m:
                d = self.resolve(m["name"], m["ref"])
                try:
                    with open(path_of("manifests", d or "sha256:0"), "rb") as f:
                        data = f.read()
                except (FileNotFoundError, IndexError):
                    return self.error(404, "MANIFEST_UNKNOWN")
                mt = json.loads(data).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
                return self.answer(200, data, {"Content-Type": mt, "Docker-Content-Digest": d}, head)
            m = REFERRERS_RE.match(p)
            if m:
                query = parse_qs(url.query)
                over = path_of("override", m["digest"])
                if os.path.exists(over):
                    with open(over, "rb") as f:
                        data = f.read()
                    if not a.page_size:
                        return self.answer(200, data, {"Content-Type": INDEX}, head)
                    return self.page(p, query, json.loads(data)["manifests"], head)
                want = query.get("artifactType", [None])[0]
                out = []
                with lock:
                    listed = [md for s, md in subjects if s == m["digest"]]
                for md in listed:
                    with open(path_of("manifests", md), "rb") as f:
                        data = f.read()
                    doc = json.loads(data)
                    at = doc.get("artifactType") or doc.get("config", {}).get("mediaType")
                    if want and at != want:
                        continue
                    d = {"mediaType": doc.get("mediaType"), "digest": md, "size": len(data)}
                    if doc.get("annotations"):
                        d["annotations"] = doc["annotations"]
                    d["artifactType"] = at
                    out.append(d)
                if a.page_size:
                    return self.page(p, query, out, head)
                body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": out}).encode()
                return self.answer(200, body, {"Content-Type": INDEX}, head)
            return self.error(404, "NAME_UNKNOWN")

        def page(self, path, query, entries, head):
            """One page of a referrers answer: n entries (default --page-size)
            after the digest `last`, and a Link to the next page when more
            remain (relative, or on --next-base; --link-loop: the first page)."""
            n = int(query.get("n", [a.page_size])[0])
            last = query.get("last", [None])[0]
            start = 0
            if last:
                digests = [e["digest"] for e in entries]
                start = digests.index(last) + 1 if last in digests else len(entries)
            part = entries[start:start + n]
            headers = {"Content-Type": INDEX}
            if start + n < len(entries):
                nxt = path if a.link_loop else "%s?n=%d&last=%s" % (path, n, part[-1]["digest"])
                headers["Link"] = '<%s%s>; rel="next"' % (a.next_base or "", nxt)
            body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": part}).encode()
            return self.answer(200, body, headers, head)

        def do_HEAD(self):
            return self.do_GET(head=True)

        def do_POST(self):
            m = UPLOAD_RE.match(urlsplit(self.path).path)
            self.body()
            if not m or m["id"]:
                return self.error(404, "NAME_UNKNOWN")
            loc = "/v2/%s/blobs/uploads/%s" % (m["name"], uuid.uuid4())
            return self.answer(202, b"", {"Location": loc, "Range": "0-0"})

        def do_PUT(self):
            url = urlsplit(self.path)
            data = self.body()
            m = UPLOAD_RE.match(url.path)
            if m and m["id"]:
                want = parse_qs(url.query).get("digest", [""])[0]
                got = "sha256:" + hashlib.sha256(data).hexdigest()
                if got != want:
                    return self.error(400, "DIGEST_INVALID")
                with open(path_of("blobs", got), "wb") as f:
                    f.write(data)
                return self.answer(201, b"", {"Location": "/v2/%s/blobs/%s" % (m["name"], got),
                                              "Docker-Content-Digest": got})
            m = MANIFEST_RE.match(url.path)
            if not m:
                return self.error(404, "NAME_UNKNOWN")
            got = "sha256:" + hashlib.sha256(data).hexdigest()
            ref = m["ref"]
            if ref.startswith("sha256:") and ref != got:
                return self.error(400, "DIGEST_INVALID")
            try:
                doc = json.loads(data)
            except ValueError:
                return self.error(400, "MANIFEST_INVALID")
            for d in [doc.get("config")] + doc.get("layers", []):
                if d and not os.path.exists(path_of("blobs", d["digest"])):
                    return self.error(400, "MANIFEST_BLOB_UNKNOWN")
            with open(path_of("manifests", got), "wb") as f:
                f.write(data)
            if not ref.startswith("sha256:"):
                os.makedirs(os.path.dirname(tag_path(m["name"], ref)), exist_ok=True)
                with open(tag_path(m["name"], ref), "w") as f:
                    f.write(got)
            headers = {"Location": "/v2/%s/manifests/%s" % (m["name"], got), "Docker-Content-Digest": got}
            subject = doc.get("subject")
            if subject:
                with lock:
                    if (subject["digest"], got) not in subjects:
                        subjects.append((subject["digest"], got))
                headers["OCI-Subject"] = subject["digest"]
            return self.answer(201, b"", headers)

    host, port = a.listen.rsplit(":", 1)
    ThreadingHTTPServer((host, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
