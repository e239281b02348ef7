/*
 * Private: what the two sides of a spawn share (src/spawn.c, the parent;
 * src/child/spawn.c, the child).
 *
 * The parent fills a struct plan (plan_prepare() in src/spawn.c) before
 * the clone; the child reads its copy of it (child_main() in
 * src/child/spawn.c) and never writes anything the parent reads, except,
 * for a child that shares the parent's memory, its FAIL report (vm_msg).
 * The messages of the protocol described at the top of src/spawn.c go
 * over the plan's socketpair as struct spawn_msg.
 */
#ifndef KEEL_CHILD_SPAWN_PLAN_H
#define KEEL_CHILD_SPAWN_PLAN_H

#include <sys/types.h>
#include <keel/ns.h>
#include <keel/spawn.h>

#include "ns.h"
#include "util/child.h"

struct keel_spawn_attr {
	const keel_ns *ns;            /* borrowed */
	const keel_rootfs *rootfs;    /* borrowed */
	int cgroup_fd;                /* borrowed, or == owned_cgroup_fd */
	int owned_cgroup_fd;
	keel_spawn_hook hook;
	void *hook_data;
	char *start_fifo;
	char *label;
	int legacy_clone;
	int loopback_up;
};

enum msg_kind {
	MSG_STAGE1 = 1,  /* child -> parent: namespaces entered; pid of the grandchild, if any */
	MSG_GO = 2,      /* parent -> child: maps written, hook done, go on */
	MSG_FAIL = 3,    /* child -> parent: a step failed, see rep */
	MSG_NOTIFY_FD = 4, /* child -> parent: the seccomp listener, as SCM_RIGHTS */
	MSG_READY = 5,   /* child -> parent: waiting on the start FIFO */
	MSG_TTY_FD = 6   /* child -> parent: the pty master it opened, as SCM_RIGHTS */
};

struct spawn_msg {
	int kind;
	pid_t pid;
	struct keel_child_report rep;
};

/* Everything the child needs, prepared by the parent before the clone. */
struct plan {
	/* what to run */
	char *const *argv;            /* borrowed from the keel_process */
	char **envp;
	char **exec_paths;            /* candidates for execve, NULL-terminated */
	int path_search;              /* argv[0] is a name searched in PATH */
	const char *cwd;
	int has_user;
	uid_t uid;
	gid_t gid;
	int set_groups;               /* call setgroups(n_groups, groups) */
	const gid_t *groups;
	size_t n_groups;
	int has_umask;
	mode_t umask;
	unsigned preserve_fds;        /* keep 3 .. 3+n-1 open across the exec */
	int stdio[3];                 /* fds for 0, 1, 2; -1 keeps the caller's */
	int devnull_fd;
	int tty_master, tty_slave;    /* opened by the parent, or -1 */
	int tty_inside;               /* the child opens the pty (after the mounts) */
	struct keel_security_plan *sec;
	struct keel_mount_plan *mnt;

	/* namespaces */
	unsigned long clone_ns;       /* CLONE_NEW* given to clone */
	unsigned long unshare_ns;     /* CLONE_NEW* unshared after the joins */
	int join_fd[KEEL_NS_NTYPES];  /* borrowed from the keel_ns */
	int double_fork;
	int new_time;
	char time_offsets[160];
	int new_user;
	char *uid_map, *gid_map;      /* "inside outside count\n" lines */
	int uid_helper, gid_helper;   /* write them with newuidmap/newgidmap */
	int deny_setgroups;

	/* the protocol */
	int sock[2];                  /* [0] the parent's end, [1] the child's */
	int fifo_fd;
	int cgroup_fd;                /* borrowed */
	int legacy_clone;
	int share_vm;                 /* cloned with CLONE_VM | CLONE_VFORK: no STAGE1/GO */
	struct spawn_msg *vm_msg;     /* share_vm without a socket: where the child leaves
				       * its FAIL report, in the sleeping parent's memory */
	int loopback_up;              /* bring lo up in the new network namespace */
	const char *label;
	const keel_spawn_attr *attr;
};

/* Both sides, async-signal-safe (src/child/spawn.c). */

/* Send m (and fd, if >= 0, as SCM_RIGHTS): 0, or -1 with errno. */
int send_msg(int sock, const struct spawn_msg *m, int fd);
/* Receive one message: 1 with *m (and *fd, or -1), 0 on EOF, -errno on error. */
int recv_msg(int sock, struct spawn_msg *m, int *fd);
/* clone3, or clone(2) where it is missing or legacy is set, fork-like. */
pid_t do_clone(unsigned long flags, int cgroup_fd, int legacy, int *pidfd, int *used_clone3);
/* write(2) all of s: 0 or -errno (-EIO when short). */
int write_all_fd(int fd, const char *s);

/* Does the new process join namespaces that exist already? */
int child_joins(const struct plan *pl);

/* The child: its whole life up to execve; never returns.
 * cgroup_by_parent: the clone did not put it into the plan's cgroup. */
__attribute__((noreturn)) void child_main(const struct plan *pl, int cgroup_by_parent);
/* child_main() as the entry of a child on its own stack (keel_clone3_vfork). */
int child_entry(void *arg);

#endif
