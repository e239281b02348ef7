#!/usr/bin/env python3
"""Validate an OCI image layout libkeel wrote against the image-spec's JSON
schemas: index.json, every manifest it lists, and every manifest's config.

  image-schema-check.py SCHEMA_DIR LAYOUT_DIR

The schemas' $ref URLs (https://opencontainers.org/schema/...) are resolved
to the files of SCHEMA_DIR by their base name: nothing is fetched."""
import json
import os
import sys

import jsonschema

schema_dir, layout = sys.argv[1], sys.argv[2]


def load_schema(name):
    with open(os.path.join(schema_dir, name)) as f:
        return json.load(f)


def by_basename(url):
    return load_schema(os.path.basename(url.split('#')[0]))


def check(schema_name, path):
    schema = load_schema(schema_name)
    resolver = jsonschema.RefResolver(base_uri='https://opencontainers.org/schema/image/',
                                      referrer=schema, handlers={'https': by_basename})
    with open(path) as f:
        doc = json.load(f)
    jsonschema.Draft4Validator(schema, resolver=resolver).validate(doc)
    return doc


def blob(digest):
    return os.path.join(layout, 'blobs', *digest.split(':', 1))


index = check('image-index-schema.json', os.path.join(layout, 'index.json'))
check('image-layout-schema.json', os.path.join(layout, 'oci-layout'))
for m in index['manifests']:
    manifest = check('image-manifest-schema.json', blob(m['digest']))
    check('config-schema.json', blob(manifest['config']['digest']))
print('valid: index, layout, %d manifest(s) and their configs' % len(index['manifests']))
