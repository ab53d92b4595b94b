#!/usr/bin/env python3
"""Read an OCI image layout (a directory, or a .tar/.tar.gz of one) for the CLI tests.

Independent of smith: it checks what smith wrote with Python's own tarfile,
json and hashlib, so a test never trusts smith to describe its own output.

  oci.py index IMAGE                 index.json
  oci.py manifest IMAGE [REF]        the image manifest tagged REF (default latest)
  oci.py config IMAGE [REF]          its config
  oci.py layers IMAGE [REF]          the layer digests, one a line, bottom first
  oci.py ls IMAGE [REF] [--all]      the top layer's entries (all layers with --all):
                                     TYPE MODE UID:GID MTIME PATH[ -> LINK]
  oci.py cat IMAGE PATH [REF]        a regular file's bytes from the topmost layer holding it
  oci.py blob IMAGE MEDIATYPE        the bytes of the index descriptor with that media type, or
                                     of the artifact of that artifactType referring to the image
                                     (the nested index annotated vnd.smith.referrers)
  oci.py referrers IMAGE             that nested index
  oci.py verify IMAGE                every descriptor's digest and size, every layer's diff_id,
                                     every referring artifact's manifest, blobs and subject
  oci.py grep IMAGE STRING           exit 0 if STRING occurs in any blob or uncompressed layer
  oci.py strings IMAGE               every string value in index.json and the JSON blobs
  oci.py add-referrers IMAGE OUT [REF] [--subject DIGEST] [--name NAME]
                                     OUT (.tar.gz): IMAGE with three OCI 1.1 artifacts
                                     (SPDX, CycloneDX, provenance documents) referring to its
                                     manifest REF (default latest), kept as smith keeps them:
                                     index.json's second entry, an index annotated
                                     vnd.smith.referrers=<manifest digest>, lists the artifact
                                     manifests; --subject makes the artifacts name DIGEST as
                                     their subject instead (hostile); --name puts NAME in the
                                     documents (other artifacts for the same image)
  oci.py strip-referrers IMAGE OUT   IMAGE without its nested index of artifacts
  oci.py artifacts IMAGE [REF]       the artifacts kept for manifest REF, each checked (digests,
                                     sizes, subject): "ARTIFACTTYPE MANIFEST-DIGEST BLOB-DIGEST..."
                                     one a line, in the nested index's order
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

REF = "org.opencontainers.image.ref.name"
MANIFEST = ("application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json")
OCI_MANIFEST = MANIFEST[0]
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY_MT = "application/vnd.oci.empty.v1+json"
REFERRERS = "vnd.smith.referrers"


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def dumps(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


def write_targz(path, files):
    """files: name -> bytes; written sorted, uid/gid 0, mtime 0."""
    with tarfile.open(path, "w:gz") as t:
        for d in ("blobs", "blobs/sha256"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            t.addfile(ti)
        for name in sorted(files):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mode = len(files[name]), 0o644
            t.addfile(ti, io.BytesIO(files[name]))


def add_referrers(lay, out, ref, subject_override, name):
    entry = None
    for d in lay.index()["manifests"]:
        if d.get("mediaType") in MANIFEST and d.get("annotations", {}).get(REF) == ref:
            entry = d
    if entry is None:
        raise SystemExit("no manifest tagged %r" % ref)
    subject = {"mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"]}
    if subject_override:
        subject["digest"] = subject_override
    files = dict(lay.files)

    def put(data):
        files["blobs/sha256/" + digest_of(data).split(":", 1)[1]] = data
        return digest_of(data)
    empty = b"{}"
    put(empty)
    docs = [
        ("application/spdx+json", {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT",
                                   "name": name, "packages": []}),
        ("application/vnd.cyclonedx+json", {"bomFormat": "CycloneDX", "specVersion": "1.5",
                                            "components": [], "name": name}),
        ("application/vnd.smith.provenance+json", {"name": name, "entries": [{"path": "/usr/bin/cat"}]}),
    ]
    listed = []
    for at, doc in docs:
        blob = json.dumps(doc, indent=1).encode()
        man = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": at,
            "config": {"mediaType": EMPTY_MT, "digest": put(empty), "size": len(empty)},
            "layers": [{"mediaType": at, "digest": put(blob), "size": len(blob)}],
            "subject": subject,
            "annotations": {"org.opencontainers.image.created": "1970-01-01T00:00:00Z"},
        }
        mb = dumps(man)
        listed.append({"mediaType": OCI_MANIFEST, "digest": put(mb), "size": len(mb),
                       "annotations": man["annotations"], "artifactType": at})
    nested = dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": listed})
    index = lay.index()
    # in place of the artifacts smith wrote, if any
    index["manifests"] = [d for d in index["manifests"]
                          if d.get("annotations", {}).get(REFERRERS) != entry["digest"]]
    index["manifests"].append({"mediaType": OCI_INDEX, "digest": put(nested), "size": len(nested),
                               "annotations": {REFERRERS: entry["digest"]}})
    files["index.json"] = dumps(index)
    write_targz(out, files)


def artifacts(lay, ref):
    entry = None
    for d in lay.index()["manifests"]:
        if d.get("mediaType") in MANIFEST and d.get("annotations", {}).get(REF) == ref:
            entry = d
    if entry is None:
        raise SystemExit("no manifest tagged %r" % ref)
    nested = [d for d in lay.index()["manifests"]
              if d.get("mediaType") == OCI_INDEX and d.get("annotations", {}).get(REFERRERS) == entry["digest"]]
    if len(nested) != 1:
        raise SystemExit("%d referrers indexes for %s" % (len(nested), entry["digest"]))

    def checked(desc):
        data = lay.blob(desc["digest"])
        if digest_of(data) != desc["digest"] or len(data) != desc["size"]:
            raise SystemExit("blob %s does not match its descriptor" % desc["digest"])
        return data
    idx = json.loads(checked(nested[0]))
    for d in idx["manifests"]:
        man = json.loads(checked(d))
        if man["subject"]["digest"] != entry["digest"]:
            raise SystemExit("artifact %s refers to %s" % (d["digest"], man["subject"]["digest"]))
        if d.get("artifactType") != man.get("artifactType"):
            raise SystemExit("artifact %s listed as %s" % (d["digest"], d.get("artifactType")))
        blobs = [man["config"]] + man["layers"]
        for b in blobs:
            checked(b)
        print(" ".join([man["artifactType"], d["digest"]] + [b["digest"] for b in blobs]))


INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = ("application/vnd.oci.empty.v1+json",
         "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", 2)


class Layout:
    def __init__(self, path):
        self.files = {}
        if os.path.isdir(path):
            for dirpath, _, names in os.walk(path):
                for n in names:
                    full = os.path.join(dirpath, n)
                    rel = os.path.relpath(full, path)
                    with open(full, "rb") as f:
                        self.files[rel] = f.read()
        else:
            with tarfile.open(path, "r:*") as t:
                for m in t.getmembers():
                    if m.isfile():
                        name = os.path.normpath(m.name)
                        self.files[name] = t.extractfile(m).read()
        for need in ("oci-layout", "index.json"):
            if need not in self.files:
                raise SystemExit("%s: no %s" % (path, need))

    def blob(self, digest):
        algo, hexd = digest.split(":", 1)
        name = "blobs/%s/%s" % (algo, hexd)
        if name not in self.files:
            raise SystemExit("missing blob %s" % digest)
        return self.files[name]

    def json(self, digest):
        return json.loads(self.blob(digest))

    def index(self):
        return json.loads(self.files["index.json"])

    def manifest(self, ref="latest"):
        for d in self.index()["manifests"]:
            if d.get("mediaType") in MANIFEST and d.get("annotations", {}).get(REF) == ref:
                return self.json(d["digest"])
        raise SystemExit("no manifest tagged %r" % ref)

    def referrers(self):
        """The nested index of the artifacts referring to an image, and that image's descriptor."""
        entries = self.index()["manifests"]
        for d in entries:
            subject = d.get("annotations", {}).get(REFERRERS)
            if subject is None:
                continue
            if d.get("mediaType") != INDEX:
                raise SystemExit("the %s entry is not an index" % REFERRERS)
            images = [e for e in entries if e.get("digest") == subject and e.get("mediaType") in MANIFEST]
            if not images:
                raise SystemExit("%s names %s, which index.json does not list" % (REFERRERS, subject))
            return self.json(d["digest"]), images[0]
        return None, None

    def artifact(self, desc, subject):
        """The blob of the artifact manifest desc, checked against the contract."""
        man = json.loads(check(self, desc))
        want = {"schemaVersion": 2, "mediaType": MANIFEST[0], "artifactType": desc.get("artifactType")}
        for k, v in want.items():
            if man.get(k) != v:
                raise SystemExit("artifact %s: %s is %r, not %r" % (desc["digest"], k, man.get(k), v))
        if man.get("annotations", {}) != desc.get("annotations", {}):
            raise SystemExit("artifact %s: annotations differ from its descriptor's" % desc["digest"])
        cfg = man["config"]
        if (cfg["mediaType"], cfg["digest"], cfg["size"]) != EMPTY or check(self, cfg) != b"{}":
            raise SystemExit("artifact %s: config is not the empty descriptor" % desc["digest"])
        sub = man.get("subject") or {}
        if (sub.get("mediaType"), sub.get("digest"), sub.get("size")) != \
                (subject["mediaType"], subject["digest"], subject["size"]):
            raise SystemExit("artifact %s: subject is not the image" % desc["digest"])
        if len(man["layers"]) != 1 or man["layers"][0]["mediaType"] != desc.get("artifactType"):
            raise SystemExit("artifact %s: not one layer of its artifactType" % desc["digest"])
        return check(self, man["layers"][0])

    def config(self, ref="latest"):
        return self.json(self.manifest(ref)["config"]["digest"])

    def layer_tar(self, desc):
        data = self.blob(desc["digest"])
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:4] == b"\x28\xb5\x2f\xfd":
            raise SystemExit("zstd layers are not readable by this helper")
        return data


def check(lay, desc):
    data = lay.blob(desc["digest"])
    algo, hexd = desc["digest"].split(":", 1)
    got = hashlib.new(algo, data).hexdigest()
    if got != hexd:
        raise SystemExit("blob %s has digest %s" % (desc["digest"], got))
    if desc.get("size") != len(data):
        raise SystemExit("blob %s: size %s in descriptor, %d on disk"
                         % (desc["digest"], desc.get("size"), len(data)))
    return data


def entry_line(m):
    kind = {tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f", tarfile.DIRTYPE: "d",
            tarfile.SYMTYPE: "l", tarfile.LNKTYPE: "h", tarfile.CHRTYPE: "c",
            tarfile.BLKTYPE: "b", tarfile.FIFOTYPE: "p"}.get(m.type, "?")
    line = "%s %04o %d:%d %d %s" % (kind, m.mode & 0o7777, m.uid, m.gid, int(m.mtime),
                                  m.name.rstrip("/"))
    if m.issym() or m.islnk():
        line += " -> " + m.linkname
    return line


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    cmd, lay = argv[1], Layout(argv[2])
    rest = [a for a in argv[3:] if not a.startswith("--")]
    flags = [a for a in argv[3:] if a.startswith("--")]
    out = sys.stdout
    if cmd == "index":
        json.dump(lay.index(), out, indent=1)
    elif cmd == "manifest":
        json.dump(lay.manifest(*rest[:1]), out, indent=1)
    elif cmd == "config":
        json.dump(lay.config(*rest[:1]), out, indent=1)
    elif cmd == "layers":
        for d in lay.manifest(*rest[:1])["layers"]:
            print(d["digest"])
    elif cmd == "ls":
        layers = lay.manifest(*rest[:1])["layers"]
        if "--all" not in flags:
            layers = layers[-1:]
        for d in layers:
            with tarfile.open(fileobj=io.BytesIO(lay.layer_tar(d))) as t:
                for m in t.getmembers():
                    print(entry_line(m))
    elif cmd == "cat":
        want = rest[0].lstrip("/")
        for d in reversed(lay.manifest(*rest[1:2])["layers"]):
            with tarfile.open(fileobj=io.BytesIO(lay.layer_tar(d))) as t:
                for m in t.getmembers():
                    if os.path.normpath(m.name).lstrip("/") == want and m.isfile():
                        sys.stdout.buffer.write(t.extractfile(m).read())
                        return 0
        raise SystemExit("no file %s in the image" % rest[0])
    elif cmd == "blob":
        for d in lay.index()["manifests"]:
            if d.get("mediaType") == rest[0]:
                sys.stdout.buffer.write(lay.blob(d["digest"]))
                return 0
        refs, subject = lay.referrers()
        for d in (refs or {}).get("manifests", []):
            if d.get("artifactType") == rest[0]:
                sys.stdout.buffer.write(lay.artifact(d, subject))
                return 0
        raise SystemExit("no blob of type %s in index.json" % rest[0])
    elif cmd == "referrers":
        refs, _ = lay.referrers()
        if refs is None:
            raise SystemExit("no %s index in index.json" % REFERRERS)
        json.dump(refs, out, indent=1)
    elif cmd == "verify":
        def check(desc):
            return globals()["check"](lay, desc)
        if json.loads(lay.files["oci-layout"]).get("imageLayoutVersion") != "1.0.0":
            raise SystemExit("oci-layout: bad imageLayoutVersion")
        n = 0
        for d in lay.index()["manifests"]:
            check(d)
            if d.get("mediaType") not in MANIFEST:
                continue
            man = json.loads(check(d))
            cfg = json.loads(check(man["config"]))
            diff_ids = cfg["rootfs"]["diff_ids"]
            if len(diff_ids) != len(man["layers"]):
                raise SystemExit("%d diff_ids for %d layers" % (len(diff_ids), len(man["layers"])))
            for layer, diff_id in zip(man["layers"], diff_ids):
                check(layer)
                got = "sha256:" + hashlib.sha256(lay.layer_tar(layer)).hexdigest()
                if got != diff_id:
                    raise SystemExit("layer %s: diff_id %s, content %s"
                                     % (layer["digest"], diff_id, got))
            n += 1
        if n == 0:
            raise SystemExit("index.json lists no image manifest")
        refs, subject = lay.referrers()
        for d in (refs or {}).get("manifests", []):
            lay.artifact(d, subject)
        print("ok: %d manifest(s)" % n)
    elif cmd == "strings":
        def walk(v):
            if isinstance(v, dict):
                for x in v.values():
                    yield from walk(x)
            elif isinstance(v, list):
                for x in v:
                    yield from walk(x)
            elif isinstance(v, str):
                yield v
        for name, data in sorted(lay.files.items()):
            try:
                doc = json.loads(data)
            except ValueError:
                continue
            for v in walk(doc):
                print(v.replace("\n", "\\n"))
    elif cmd == "add-referrers":
        opt = {"--subject": None, "--name": "smith-test"}
        for i, f in enumerate(argv):
            if f in opt:
                opt[f] = argv[i + 1]
        rest = [r for r in rest if r not in opt.values()]
        add_referrers(lay, rest[0], rest[1] if len(rest) > 1 else "latest", opt["--subject"], opt["--name"])
    elif cmd == "artifacts":
        artifacts(lay, rest[0] if rest else "latest")
    elif cmd == "strip-referrers":
        index = lay.index()
        index["manifests"] = [d for d in index["manifests"] if REFERRERS not in d.get("annotations", {})]
        files = dict(lay.files)
        files["index.json"] = dumps(index)
        write_targz(rest[0], files)
    elif cmd == "grep":
        needle = rest[0].encode()
        for name, data in lay.files.items():
            if data[:2] == b"\x1f\x8b":
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError):
                    pass
            if needle in data:
                print(name)
                return 0
        return 1
    else:
        raise SystemExit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
