"""KeelError: a failed libkeel call, with the library's errno and message."""

import enum


class ErrorCode(enum.IntEnum):
    """What kind of failure an error is (``enum keel_error_code``)."""
    OK = 0
    SYSTEM = 1       #: a system call failed; ``errno`` says why
    INVALID = 2      #: the caller's input was wrong
    UNSUPPORTED = 3  #: this kernel or build lacks the feature
    STATE = 4        #: not allowed in the object's current state
    CHILD = 5        #: setup inside the new process failed before exec
    EXEC = 6         #: execve of the requested program failed
    NOT_FOUND = 7    #: the named object does not exist
    EXISTS = 8       #: the named object exists already


class KeelError(OSError):
    """A libkeel call failed.

    A subclass of OSError: ``errno`` is the positive errno the call
    returned (``errno.ENOENT`` ...), ``strerror`` and ``message`` are the
    library's message, which says what failed, on what, and why, for
    example ``container web: start: container is running (only a created
    container can be started)``. ``code`` is an :class:`ErrorCode`.
    """

    def __init__(self, errno, message, code=ErrorCode.SYSTEM):
        super().__init__(errno, message)
        self.message = message
        self.code = code

    def __str__(self):
        return self.message

    def __reduce__(self):
        return (type(self), (self.errno, self.message, self.code))
