// Package keel binds libkeel, Linux containers as a C library, for Go.
//
// It links libkeel.so.1 through cgo (`#cgo pkg-config: keel`) and its stable,
// versioned ABI. Every method maps to one documented libkeel call; no C type
// appears in the API. A failed call returns a *Error carrying the library's
// errno and message; errors.Is(err, syscall.ENOENT) works on it.
//
//	c, err := keel.NewContainer("hello",
//		keel.WithLayers("/srv/images/busybox"),
//		keel.WithArgs("echo", "hello"),
//		keel.WithStdio(nil, w, os.Stderr))
//	if err != nil { ... }
//	defer c.Close()
//	if err := c.Run(); err != nil { ... }
//	status, err := c.Wait(ctx)
//	c.Delete(keel.DeleteForce)
//
// Handles are safe to use from several goroutines: each one serializes its
// calls with a mutex, and errors travel through the out-parameter of the
// call that failed, never through thread-local state. Close every handle.
package keel

/*
#cgo pkg-config: keel
#include <stdlib.h>
#include <keel.h>
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// RequiredVersion is the oldest libkeel this package was written for.
var RequiredVersion = [3]int{1, 0, 0}

// Version returns the loaded libkeel's version, "MAJOR.MINOR.PATCH" (keel_version).
func Version() string {
	return C.GoString(C.keel_version())
}

// VersionAtLeast reports whether the loaded libkeel is at least that version
// (keel_version_at_least).
func VersionAtLeast(major, minor, patch int) bool {
	return C.keel_version_at_least(C.int(major), C.int(minor), C.int(patch)) == 1
}

// CheckVersion returns an error when the loaded libkeel is older than
// RequiredVersion. The constructors of this package call it.
func CheckVersion() error {
	v := RequiredVersion
	if !VersionAtLeast(v[0], v[1], v[2]) {
		return fmt.Errorf("keel: loaded libkeel is %s; this package needs %d.%d.%d or newer",
			Version(), v[0], v[1], v[2])
	}
	return nil
}

// cstr returns a C copy of s for a `const char *` argument; free it with freeStr.
// An empty string stands for NULL (every optional string of libkeel is
// "NULL for the default").
func cstr(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func freeStr(p *C.char) {
	if p != nil {
		C.free(unsafe.Pointer(p))
	}
}

// takeString copies a malloc'd C string into Go and frees it.
func takeString(p *C.char) string {
	if p == nil {
		return ""
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p)
}

// goStrv copies a NULL-terminated char ** into a Go slice (it does not free it).
func goStrv(p **C.char) []string {
	out := []string{}
	if p == nil {
		return out
	}
	for i := 0; ; i++ {
		s := *(**C.char)(unsafe.Pointer(uintptr(unsafe.Pointer(p)) + uintptr(i)*unsafe.Sizeof(p)))
		if s == nil {
			return out
		}
		out = append(out, C.GoString(s))
	}
}

// cArgv returns a malloc'd NULL-terminated copy of args; free it with freeArgv.
func cArgv(args []string) **C.char {
	n := len(args) + 1
	arr := (*[1 << 20]*C.char)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))[:n:n]
	for i, a := range args {
		arr[i] = C.CString(a)
	}
	arr[n-1] = nil
	return &arr[0]
}

func freeArgv(p **C.char, n int) {
	arr := (*[1 << 20]*C.char)(unsafe.Pointer(p))[: n+1 : n+1]
	for _, s := range arr[:n] {
		C.free(unsafe.Pointer(s))
	}
	C.free(unsafe.Pointer(p))
}
