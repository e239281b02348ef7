# The parent cgroups that programs under test make on first use and keep:
# libkeel's default parent "keel" in the cgroup2 tree (keel-run), and
# podman's "libpod_parent" (with its "conmon" child) in every hierarchy.
# A script that runs them sources this, calls cg_parents_note NAME...
# (the parents its programs make) before its first container and
# cg_parents_drop at its end: what it made is removed again, what was
# there before stays. Only empty directories go (rmdir), so a cgroup
# still in use is never touched.

# every cgroup mount point, v1 and v2
cg_parents_mounts() { awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo; }

cg_parents_note() {
	cg_parents_names=$* cg_parents_had=
	for m in $(cg_parents_mounts); do
		for p in $cg_parents_names; do
			if [ -d "$m/$p" ]; then cg_parents_had="$cg_parents_had $m/$p"; fi
		done
	done
	return 0 # callable under set -e
}

cg_parents_drop() {
	for m in $(cg_parents_mounts); do
		for p in ${cg_parents_names:-}; do
			case " ${cg_parents_had:-} " in *" $m/$p "*) continue ;; esac
			if [ -d "$m/$p" ]; then find "$m/$p" -depth -type d -exec rmdir {} \; 2>/dev/null; fi
		done
	done
	return 0
}
