#!/usr/bin/env python3
"""Validate config.json documents against the OCI runtime-spec's own JSON
schema (Debian's golang-github-opencontainers-specs-dev ships it), with
python3-jsonschema. Usage: check-spec.py SCHEMA_DIR FILE...

Exit 0 when every file is valid, 1 when one is not (the errors printed),
77 when the schema or jsonschema is missing (the SKIP: line says which)."""
import json
import warnings
import os
import sys


def main():
    warnings.simplefilter("ignore", DeprecationWarning)
    if len(sys.argv) < 3:
        print("usage: check-spec.py SCHEMA_DIR FILE...", file=sys.stderr)
        return 2
    schema_dir = sys.argv[1]
    top = os.path.join(schema_dir, "config-schema.json")
    try:
        import jsonschema
    except ImportError:
        print("SKIP: oci/spec-schema: python3-jsonschema is not installed")
        return 77
    if not os.path.exists(top):
        print("SKIP: oci/spec-schema: no %s (golang-github-opencontainers-specs-dev)" % top)
        return 77
    with open(top) as f:
        schema = json.load(f)
    # The schema's $refs are relative file names ("defs.json#/...").
    resolver = jsonschema.RefResolver(base_uri="file://" + os.path.abspath(schema_dir) + "/", referrer=schema)
    validator = jsonschema.Draft4Validator(schema, resolver=resolver)
    bad = 0
    for path in sys.argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            print("%s: %s: %s" % (path, "/".join(str(p) for p in e.path) or "(top)", e.message))
        bad += len(errors)
        if not errors:
            print("%s: valid" % path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
