package keel

/*
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"strings"
)

// Feature is something the kernel or the build may support (enum keel_feature).
type Feature int

// The features. Values are those of the C library and never change.
const (
	FeatureClone3         Feature = 1
	FeaturePidfd          Feature = 2
	FeatureCgroup2        Feature = 3
	FeatureOverlayfs      Feature = 4
	FeatureIdmappedMounts Feature = 5
	FeatureTimeNS         Feature = 6
	FeatureUserNS         Feature = 7
	FeatureSeccompNotify  Feature = 8
	FeatureOpenat2        Feature = 9
	FeatureCgroupKill     Feature = 10
	FeatureNewuidmap      Feature = 11
	FeatureApparmor       Feature = 12
	FeatureSelinux        Feature = 13
	FeatureCgroupNS       Feature = 14
)

// String is the library's name for the feature ("clone3" ...; keel_feature_name).
func (f Feature) String() string {
	s := C.keel_feature_name(C.keel_feature(f))
	if s == nil {
		return "unknown"
	}
	return C.GoString(s)
}

// Features is what this kernel and this build support, probed once.
type Features struct {
	// Has maps every known feature to whether it is available.
	Has map[Feature]bool
	// Cgroup2Path is where cgroup2 is mounted, "" when it is not.
	Cgroup2Path string
	// Cgroup2Controllers are the controllers the cgroup2 root offers.
	Cgroup2Controllers []string
}

// ProbeFeatures asks the running kernel (keel_features_probe) and copies
// the answers into Go; nothing needs to be freed.
func ProbeFeatures() (*Features, error) {
	var f *C.keel_features
	var cerr *C.keel_error
	if err := check(C.keel_features_probe(&f, &cerr), &cerr); err != nil {
		return nil, err
	}
	defer C.keel_features_free(f)
	out := &Features{Has: map[Feature]bool{}}
	for feat := FeatureClone3; feat <= FeatureCgroupNS; feat++ {
		out.Has[feat] = C.keel_features_has(f, C.keel_feature(feat)) == 1
	}
	if p := C.keel_features_cgroup2_path(f); p != nil {
		out.Cgroup2Path = C.GoString(p)
	}
	out.Cgroup2Controllers = strings.Fields(C.GoString(C.keel_features_cgroup2_controllers(f)))
	return out, nil
}
