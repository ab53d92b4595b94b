#!/usr/bin/python3
"""Check an SBOM smith wrote, independently of smith, for the CLI tests.

  sbom-check.py cyclonedx FILE   validate against CycloneDX's official JSON schema
                                 for 1.5 (tests/data/schemas/cyclonedx, offline)
                                 with python3-jsonschema, then check every bom-ref
                                 and dependency ref resolves
  sbom-check.py spdx FILE        check against SPDX 2.3 (see below)

Run it with Debian's /usr/bin/python3 (python3-jsonschema).

SPDX: no npm or Debian package ships the official SPDX 2.3 JSON schema
(spdx/spdx-spec schemas/spdx-schema.json), so this checks what that schema
and the 2.3 specification require of the fields smith writes, by hand:
required fields, no unknown fields, SPDXID and date patterns, enums,
hex checksums with the SHA1 every file needs, license expressions made of
SPDX license list ids (the list in CycloneDX's vendored spdx schema) or
declared LicenseRefs (an id WITH an exception), relationships between ids that exist, each package
verification code recomputed from its files' SHA1s, and no files in a
package with filesAnalyzed false.
"""
import hashlib
import json
import os
import re
import sys

import jsonschema

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "data", "schemas", "cyclonedx")
DATE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$")
SPDXID = re.compile(r"^SPDXRef-[a-zA-Z0-9.-]+$")
HEX = re.compile(r"^[0-9a-f]+$")
LICENSEREF = re.compile(r"^LicenseRef-[a-zA-Z0-9.-]+$")
CHECKSUM_ALGOS = {"SHA1", "BLAKE3", "SHA3-384", "SHA256", "SHA384", "BLAKE2b-512", "BLAKE2b-256", "SHA3-512",
                  "MD2", "ADLER32", "MD4", "SHA3-256", "BLAKE2b-384", "SHA512", "MD6", "MD5", "SHA224"}
PURPOSES = {"OTHER", "INSTALL", "ARCHIVE", "FIRMWARE", "APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER",
            "SOURCE", "DEVICE", "OPERATING-SYSTEM", "FILE"}
REF_CATEGORIES = {"OTHER", "PERSISTENT-ID", "PERSISTENT_ID", "SECURITY", "PACKAGE-MANAGER", "PACKAGE_MANAGER"}
RELATIONSHIPS = {"DESCRIBES", "DESCRIBED_BY", "CONTAINS", "CONTAINED_BY", "DEPENDS_ON", "DEPENDENCY_OF",
                 "DESCENDANT_OF", "ANCESTOR_OF", "GENERATED_FROM", "GENERATES", "OTHER"}

DOC_KEYS = ({"spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo"},
            {"$schema", "comment", "externalDocumentRefs", "hasExtractedLicensingInfos", "annotations",
             "documentDescribes", "packages", "files", "snippets", "relationships"})
PKG_KEYS = ({"SPDXID", "name", "downloadLocation"},
            {"annotations", "attributionTexts", "builtDate", "checksums", "comment", "copyrightText", "description",
             "externalRefs", "filesAnalyzed", "hasFiles", "homepage", "licenseComments", "licenseConcluded",
             "licenseDeclared", "licenseInfoFromFiles", "originator", "packageFileName", "packageVerificationCode",
             "primaryPackagePurpose", "releaseDate", "sourceInfo", "summary", "supplier", "validUntilDate",
             "versionInfo"})
FILE_KEYS = ({"SPDXID", "fileName", "checksums"},
             {"annotations", "artifactOfs", "attributionTexts", "comment", "copyrightText", "fileContributors",
              "fileDependencies", "fileTypes", "licenseComments", "licenseConcluded", "licenseInfoInFiles",
              "noticeText"})


def fail(msg):
    raise SystemExit("sbom-check: " + msg)


def keys(obj, spec, what):
    required, optional = spec
    if not isinstance(obj, dict):
        fail("%s is not an object" % what)
    missing = required - obj.keys()
    unknown = obj.keys() - required - optional
    if missing:
        fail("%s lacks %s" % (what, sorted(missing)))
    if unknown:
        fail("%s has unknown %s" % (what, sorted(unknown)))


def license_ids():
    with open(os.path.join(SCHEMAS, "spdx.SNAPSHOT.schema.json")) as f:
        return set(json.load(f)["enum"])


def check_expression(expr, known, refs, what):
    if expr in ("NOASSERTION", "NONE"):
        return
    tokens = re.findall(r"\(|\)|[^\s()]+", expr)
    depth, want_id, want_exception = 0, True, False
    for t in tokens:
        if want_exception:
            # license-id WITH exception-id (the list has both kinds in one enum)
            if t in ("(", ")", "AND", "OR", "WITH") or t not in known:
                fail("%s: %r after WITH in %r" % (what, t, expr))
            want_exception = False
        elif t == "WITH":
            if want_id:
                fail("%s: WITH where an id belongs in %r" % (what, expr))
            want_exception = True
        elif t == "(":
            if not want_id:
                fail("%s: '(' after an id in %r" % (what, expr))
            depth += 1
        elif t == ")":
            if want_id or depth == 0:
                fail("%s: misplaced ')' in %r" % (what, expr))
            depth -= 1
        elif t in ("AND", "OR"):
            if want_id:
                fail("%s: operator where an id belongs in %r" % (what, expr))
            want_id = True
        else:
            if not want_id:
                fail("%s: two ids in a row in %r" % (what, expr))
            if LICENSEREF.match(t):
                if t not in refs:
                    fail("%s: %s is not in hasExtractedLicensingInfos" % (what, t))
            elif t.rstrip("+") not in known:
                fail("%s: %s is not on the SPDX license list" % (what, t))
            want_id = False
    if want_id or want_exception or depth:
        fail("%s: incomplete expression %r" % (what, expr))


def check_spdx(doc):
    keys(doc, DOC_KEYS, "the document")
    if doc["spdxVersion"] != "SPDX-2.3" or doc["dataLicense"] != "CC0-1.0" or doc["SPDXID"] != "SPDXRef-DOCUMENT":
        fail("spdxVersion, dataLicense or SPDXID is wrong")
    ns = doc["documentNamespace"]
    if not re.match(r"^[a-z][a-z0-9+.-]*://[^\s#]+$", ns):
        fail("documentNamespace %r is not an absolute URI without '#'" % ns)
    ci = doc["creationInfo"]
    keys(ci, ({"created", "creators"}, {"comment", "licenseListVersion"}), "creationInfo")
    if not DATE.match(ci["created"]):
        fail("created %r" % ci["created"])
    if not ci["creators"] or not all(re.match(r"^(Tool|Person|Organization): \S", c) for c in ci["creators"]):
        fail("creators %r" % ci["creators"])
    refs = set()
    for e in doc.get("hasExtractedLicensingInfos", []):
        keys(e, ({"licenseId", "extractedText"}, {"comment", "crossRefs", "name", "seeAlsos"}), "extracted license")
        if not LICENSEREF.match(e["licenseId"]) or e["licenseId"] in refs:
            fail("licenseId %r" % e["licenseId"])
        refs.add(e["licenseId"])
    known = license_ids()
    ids = {"SPDXRef-DOCUMENT"}

    def new_id(i, what):
        if not isinstance(i, str) or not SPDXID.match(i) or i in ids:
            fail("%s: SPDXID %r is not a new SPDXRef-[a-zA-Z0-9.-]+" % (what, i))
        ids.add(i)

    def checksums(sums, what):
        if not isinstance(sums, list) or not sums:
            fail("%s: no checksums" % what)
        for c in sums:
            keys(c, ({"algorithm", "checksumValue"}, set()), what + " checksum")
            if c["algorithm"] not in CHECKSUM_ALGOS or not HEX.match(c["checksumValue"]):
                fail("%s: checksum %r" % (what, c))
        return {c["algorithm"]: c["checksumValue"] for c in sums}

    pkgs = {}
    for p in doc.get("packages", []):
        what = "package %r" % p.get("name")
        keys(p, PKG_KEYS, what)
        new_id(p["SPDXID"], what)
        pkgs[p["SPDXID"]] = p
        if not p["downloadLocation"] or re.search(r"\s", p["downloadLocation"]):
            fail("%s: downloadLocation" % what)
        if "filesAnalyzed" in p and not isinstance(p["filesAnalyzed"], bool):
            fail("%s: filesAnalyzed is not a boolean" % what)
        if "primaryPackagePurpose" in p and p["primaryPackagePurpose"] not in PURPOSES:
            fail("%s: primaryPackagePurpose" % what)
        for k in ("licenseConcluded", "licenseDeclared"):
            if k in p:
                check_expression(p[k], known, refs, "%s %s" % (what, k))
        for r in p.get("externalRefs", []):
            keys(r, ({"referenceCategory", "referenceType", "referenceLocator"}, {"comment"}), what + " externalRef")
            if r["referenceCategory"] not in REF_CATEGORIES or re.search(r"\s", r["referenceLocator"]):
                fail("%s: externalRef %r" % (what, r))
            if r["referenceType"] == "purl" and not re.match(r"^pkg:[a-z.+-]+/.+", r["referenceLocator"]):
                fail("%s: purl %r" % (what, r["referenceLocator"]))
        if "packageVerificationCode" in p:
            keys(p["packageVerificationCode"], ({"packageVerificationCodeValue"},
                                                {"packageVerificationCodeExcludedFiles"}), what + " verification code")
        if "checksums" in p:
            checksums(p["checksums"], what)
    files = {}
    for f in doc.get("files", []):
        what = "file %r" % f.get("fileName")
        keys(f, FILE_KEYS, what)
        new_id(f["SPDXID"], what)
        sums = checksums(f["checksums"], what)
        if not re.match(r"^[0-9a-f]{40}$", sums.get("SHA1", "")):
            fail("%s: no SHA1 checksum (SPDX 2.3 8.4 requires one)" % what)
        files[f["SPDXID"]] = sums
        if "licenseConcluded" in f:
            check_expression(f["licenseConcluded"], known, refs, what + " licenseConcluded")
    contains = {}
    describes = False
    for r in doc.get("relationships", []):
        keys(r, ({"spdxElementId", "relationshipType", "relatedSpdxElement"}, {"comment"}), "relationship")
        if r["relationshipType"] not in RELATIONSHIPS:
            fail("relationship type %r" % r["relationshipType"])
        for k in ("spdxElementId", "relatedSpdxElement"):
            if r[k] not in ids:
                fail("relationship %r names an unknown element" % r)
        if r["relationshipType"] == "DESCRIBES" and r["spdxElementId"] == "SPDXRef-DOCUMENT":
            describes = True
        if r["relationshipType"] == "CONTAINS" and r["relatedSpdxElement"] in files:
            contains.setdefault(r["spdxElementId"], []).append(r["relatedSpdxElement"])
    if not describes:
        fail("the document DESCRIBES nothing")
    for i, p in pkgs.items():
        inside = contains.get(i, [])
        if p.get("filesAnalyzed") is False and inside:
            fail("package %r has filesAnalyzed false but contains files" % p["name"])
        if "packageVerificationCode" in p:
            want = hashlib.sha1("".join(sorted(files[f]["SHA1"] for f in inside)).encode()).hexdigest()
            if p["packageVerificationCode"]["packageVerificationCodeValue"] != want:
                fail("package %r: verification code is not that of its files" % p["name"])


def check_cyclonedx(doc):
    store = {}
    for name in ("bom-1.5.SNAPSHOT.schema.json", "spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json"):
        with open(os.path.join(SCHEMAS, name)) as f:
            schema = json.load(f)
        store[schema["$id"]] = schema
        store["http://cyclonedx.org/schema/" + name] = schema
    bom = store["http://cyclonedx.org/schema/bom-1.5.schema.json"]
    resolver = jsonschema.RefResolver.from_schema(bom, store=store)
    validator = jsonschema.Draft7Validator(bom, resolver=resolver, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        fail("; ".join("%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:5]))
    refs = set()

    def walk(components):
        for c in components:
            if "bom-ref" in c:
                if c["bom-ref"] in refs:
                    fail("bom-ref %r twice" % c["bom-ref"])
                refs.add(c["bom-ref"])
            walk(c.get("components", []))
    walk([doc["metadata"]["component"]] + doc.get("components", []))
    for d in doc.get("dependencies", []):
        for r in [d["ref"]] + d.get("dependsOn", []):
            if r not in refs:
                fail("dependency ref %r names no component" % r)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("spdx", "cyclonedx"):
        raise SystemExit(__doc__)
    with open(argv[2], "rb") as f:
        doc = json.loads(f.read())
    (check_spdx if argv[1] == "spdx" else check_cyclonedx)(doc)
    print("ok")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
