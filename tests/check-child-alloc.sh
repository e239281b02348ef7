#!/bin/sh
# The code that runs between clone and execve (libkeel-child.la: src/child/,
# util/child.c, util/vfork.c) may call only system calls and
# async-signal-safe helpers: the child of a multithreaded caller must never
# touch a lock another thread may hold (malloc's, stdio's, the dynamic
# loader's). This lists what each of its objects leaves undefined (nm -u)
# and fails on anything not allowed below. Symbols the library itself
# defines are allowed only if defined inside libkeel-child, or named in
# ALLOWED_KEEL with the reason.
#
# To allow a new libc function, it must be a system call wrapper or on
# signal-safety(7)'s list (or, like strchrnul, a pure function of its
# arguments): add it to ALLOWED_LIBC with nothing else.
set -eu
lib=${KEEL_TOP_BUILDDIR:-.}/.libs/libkeel-child.a
nm=${NM:-nm}
[ -f "$lib" ] || { echo "check-child-alloc: $lib not built"; exit 1; }

# System calls (or their thin libc wrappers, which only set errno), and
# async-signal-safe or pure functions.
ALLOWED_LIBC='
__errno_location _exit chdir chroot close dup2 execve fchdir fchown fchownat fcntl
fstat fstatat fstatfs getrlimit ioctl mkdirat mknodat mmap mount mprotect
munmap open openat prctl read recvmsg removexattr sendmsg setdomainname
sethostname setns setsid setxattr sigaction sigemptyset sigfillset
sigprocmask socket stat symlinkat syscall umask umount2 unshare write
memcpy memmove memset memcmp strlen strchr strchrnul strcmp strncmp strrchr
__stack_chk_fail
'
# Functions of the library outside libkeel-child that the child calls, and
# why each is safe there.
#   keel_ns_index, keel_ns_type_name (src/ns.c): a loop over a constant
#   table; no allocation, no state.
ALLOWED_KEEL='keel_ns_index keel_ns_type_name'

defined=$($nm --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u)
fail=0
# The entry points of each child-side file must be in the archive, or the
# check would pass on an empty or misbuilt one.
for sym in child_main keel_mount_plan_apply keel_security_plan_apply_late keel_report_fail keel_clone3_vfork; do
	echo "$defined" | grep -qx "$sym" || { echo "check-child-alloc: $sym is not defined in $lib"; fail=1; }
done
member=
# nm -A: "archive:member: U symbol", one line each.
for line in $($nm -A -u "$lib" | awk '{print $1 "|" $NF}'); do
	member=${line%%|*}
	member=${member#*:}
	member=${member%:}
	sym=${line#*|}
	case " $(echo $ALLOWED_LIBC) " in *" $sym "*) continue ;; esac
	case " $ALLOWED_KEEL " in *" $sym "*) continue ;; esac
	if echo "$defined" | grep -qx "$sym"; then
		continue
	fi
	case $sym in
	__asan_* | __ubsan_* | __sanitizer_* | __lsan_*)
		continue ;; # --enable-sanitizers: instrumentation, not calls of ours
	_GLOBAL_OFFSET_TABLE_)
		continue ;; # the linker's table, referenced by PIC code (seen under ASan): no call
	malloc | free | realloc | calloc | reallocarray | strdup | strndup | posix_memalign | aligned_alloc | *asprintf)
		why="allocates (malloc's lock)" ;;
	*printf* | fopen | fclose | fdopen | fputs | fputc | fwrite | fread | fgets | fflush | puts | putchar | getline | perror | *scanf*)
		why="stdio or printf (locks, locale, may allocate)" ;;
	pthread_*)
		why="a pthread call (locks other threads may hold)" ;;
	dl*)
		why="the dynamic loader (its lock, allocates)" ;;
	exit | atexit | abort | syslog | strerror* | getenv | setenv | getpwnam* | getgrnam* | qsort | time | localtime*)
		why="not async-signal-safe" ;;
	*)
		why="not known to be async-signal-safe (add it to ALLOWED_LIBC only if it is)" ;;
	esac
	echo "check-child-alloc: $member calls $sym: $why"
	fail=1
done
[ "$fail" = 0 ] && echo "check-child-alloc: libkeel-child calls only system calls and async-signal-safe functions"
exit $fail
