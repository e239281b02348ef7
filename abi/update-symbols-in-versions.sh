#!/bin/sh
# update-symbols-in-versions.sh MAP FILE VERSION: add every symbol of the
# version script MAP that FILE does not list yet, as introduced in VERSION.
# Existing lines are never changed: a symbol's first version is history.
set -eu
map=$1 file=$2 version=$3
[ -f "$file" ] || printf '# symbol                                      introduced in\n' > "$file"
sed -e 's,/\*.*\*/,,g' "$map" | grep -oE '^[[:space:]]*keel_[a-z0-9_]+;' | tr -d ' \t;' |
while read -r sym; do
	grep -qE "^$sym[[:space:]]" "$file" || printf '%-45s %s\n' "$sym" "$version" >> "$file"
done
