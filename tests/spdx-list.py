#!/usr/bin/env python3
"""src/lib/pipeline/spdx-license.c holds the SPDX license list as two C
tables (licenses, then exceptions), made from the CycloneDX library's
spdx.SNAPSHOT.schema.json vendored in tests/data/schemas/cyclonedx, whose
enum lists the licenses and then the exceptions.  This check fails when the
two drift apart: every id of the schema in exactly one table, nothing else,
and each table sorted the way spdx-license.c's bsearch() expects
(strcasecmp order).  Run from the source root."""
import json
import re
import sys

SCHEMA = "tests/data/schemas/cyclonedx/spdx.SNAPSHOT.schema.json"
TABLES = "src/lib/pipeline/spdx-license.c"


def table(text, name):
    m = re.search(r"static const char \*const %s\[\] = \{(.*?)\n\};" % name, text, re.S)
    if not m:
        sys.exit(f"spdx-list: no table '{name}' in {TABLES}")
    return re.findall(r'"([^"]+)"', m.group(1))


def main():
    ids = json.load(open(SCHEMA, encoding="utf-8"))["enum"]
    text = open(TABLES, encoding="utf-8").read()
    licenses, exceptions = table(text, "licenses"), table(text, "exceptions")
    errors = []
    if sorted(licenses + exceptions) != sorted(ids):
        missing = set(ids) - set(licenses + exceptions)
        extra = set(licenses + exceptions) - set(ids)
        errors.append(f"tables and schema differ: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}")
    if set(licenses) & set(exceptions):
        errors.append("an id in both tables")
    if set(ids[: len(licenses)]) != set(licenses):
        errors.append("'licenses' is not the schema's first ids (the licenses before the exceptions)")
    for name, t in (("licenses", licenses), ("exceptions", exceptions)):
        if t != sorted(t, key=str.lower):
            errors.append(f"'{name}' is not in strcasecmp order")
    for e in errors:
        print(f"spdx-list: {e}", file=sys.stderr)
    if errors:
        return 1
    print(f"spdx-list: {len(licenses)} licenses and {len(exceptions)} exceptions, as the schema lists them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
