package keel

/*
#include <keel.h>
*/
import "C"

import (
	"syscall"
)

// ErrorCode says what kind of failure an Error is (enum keel_error_code).
type ErrorCode int

// The kinds of failure. Values are those of the C library and never change.
const (
	ErrorOK          ErrorCode = 0 // no error
	ErrorSystem      ErrorCode = 1 // a system call failed; Errno says why
	ErrorInvalid     ErrorCode = 2 // the caller's input was wrong
	ErrorUnsupported ErrorCode = 3 // this kernel or build lacks the feature
	ErrorState       ErrorCode = 4 // not allowed in the object's current state
	ErrorChild       ErrorCode = 5 // setup inside the new process failed before exec
	ErrorExec        ErrorCode = 6 // execve of the requested program failed
	ErrorNotFound    ErrorCode = 7 // the named object does not exist
	ErrorExists      ErrorCode = 8 // the named object exists already
)

// Error is a failed libkeel call: the errno it returned, the kind of
// failure, and the library's message, which says what failed, on what and
// why ("container web: start: container is running (only a created
// container can be started)").
//
// It unwraps to its syscall.Errno, so errors.Is(err, syscall.EEXIST) and
// errors.Is(err, fs.ErrNotExist) work.
type Error struct {
	Code    ErrorCode
	Errno   syscall.Errno
	Message string
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the errno, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Errno }

// takeError turns a failed call's negative return and keel_error into an
// *Error, and frees the keel_error.
func takeError(ret C.int, cerr *C.keel_error) error {
	if cerr == nil {
		eno := syscall.Errno(-ret)
		return &Error{Code: ErrorSystem, Errno: eno, Message: eno.Error()}
	}
	defer C.keel_error_free(cerr)
	eno := syscall.Errno(C.keel_error_errno(cerr))
	if eno == 0 {
		eno = syscall.Errno(-ret)
	}
	return &Error{
		Code:    ErrorCode(C.keel_error_code(cerr)),
		Errno:   eno,
		Message: C.GoString(C.keel_error_message(cerr)),
	}
}

// check is the common tail of a fallible call: nil for ret >= 0. It takes
// the address of the error variable so that the variable is read after the
// call filled it (Go does not order a plain variable operand after a call
// in the same argument list).
func check(ret C.int, cerr **C.keel_error) error {
	if ret >= 0 {
		return nil
	}
	return takeError(ret, *cerr)
}
