/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/init.h: shimvisor-init's context and the steps main.c runs in order. */
#ifndef SV_INIT_INIT_H
#define SV_INIT_INIT_H
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "worker/init/spec.h"

/* The first failure: a negative errno and "what: why" (sent as INIT_ERROR). */
struct init_err {
	int rc;
	char msg[512];
};

/* Record "<what>: strerror(-rc)" (first failure wins) and return rc (negative errno). */
int init_fail(struct init_err *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record "<what>" verbatim and return rc. */
int init_failmsg(struct init_err *e, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct cg_state;

struct init {
	const char *bundle;             /* absolute BUNDLE_DIR */
	int sync_fd;                    /* SV_INIT_FD_SYNC */
	struct spec spec;
	char rootfs[PATH_MAX];          /* BUNDLE_DIR/rootfs: the new root before pivot */
	int rootfd;                     /* O_PATH fd of rootfs once bound, else -1 */
	int root_ro;                    /* the root bind is read-only already */
	int new_mntns, new_netns, new_utsns;
	int pre_flags;                  /* warm mode: namespaces made ahead of the spec */
	int pre_pidns;                  /* pid 1 of a pid namespace the worker made for us */
	int host_ns[3];                 /* warm mode: the ipc, uts, net namespaces we left */
	int console_slave;              /* process.terminal: the pty slave until exec, else -1 */
	const char *exec_file;          /* process.args[0] as process_lookpath found it */
	const char *keyring;            /* the session keyring to join (_ses.<id>), or NULL */
	void *seccomp_bpf;              /* the filter (struct sock_filter[]), not yet loaded */
	size_t seccomp_ninsns;
	int seccomp_loaded;
	struct cg_state *cg;            /* cgroups.c: what we made, undone on failure before START */
	struct init_err err;
};

/* sync.c: the InitSync exchange with the worker on in->sync_fd. */
int sync_send(int fd, int type, unsigned pid, int err, const char *msg);
/* READY; a task's init (with_bounding) adds its capability bounding set as applied. */
int sync_send_ready(int fd, int with_bounding);
int sync_wait_start(int fd);            /* 0 on START; -EPIPE on EOF; -EBADMSG */
/* The next message, which must be of type want (sv_InitSyncType): 0, -EPIPE, -EBADMSG. */
int sync_wait(int fd, int want);
struct _sv_InitSync;
int sync_send_msg(int fd, const struct _sv_InitSync *m);
_Noreturn void init_abort(struct init *in);  /* send INIT_ERROR with in->err; _exit(127) */

/* namespaces.c: join (path) and create the spec's namespaces, then send INIT_PID. With a
 * pid namespace this forks: the parent sends the child's pid and _exits; the child (pid 1
 * of the namespace) returns once the pid is sent. An init that is already pid 1 of a new
 * one (in->pre_pidns) does not fork. */
int ns_enter(struct init *in);
/* An init that is pid 1 of a new pid namespace (the worker starts a task's init so) serves
 * only a spec that wants a new one: for any other it sends INIT_COLD and exits 0, before
 * any set-up, and the worker starts another in its own. So does any init holding
 * namespaces made ahead (warm) when the spec has a user namespace. */
void ns_check_pre_pidns(struct init *in);
/* Fork so that a pid namespace (set for children) applies: the parent sends INIT_PID with
 * the child's host pid and _exits; the child returns once the pid is sent. */
int ns_fork_report(struct init *in);
/* Warm mode, before the spec is known: make new ipc, uts and network namespaces now (a
 * network namespace costs ~1 ms), keeping a way back; ns_enter keeps them when the spec
 * wants new ones, and otherwise joins the spec's or returns to the host's. */
void ns_prepare_warm(struct init *in);

/* userns.c: the spec's user namespace, first of all (the others are then owned by it):
 * joined by path, or unshared with its maps written by the worker (USERNS); then uid and
 * gid 0 in it. 0 when the spec names none. */
int userns_enter(struct init *in);

/* config.c: in->spec from fd SV_INIT_FD_CONFIG (closed): a task's config.json; or an exec's
 * bare Process, with the rest (seccomp, mounts) from in->bundle's config.json. */
int config_read_task(struct init *in);
int config_read_exec(struct init *in);
/* in->bundle's config.json (opened O_NOFOLLOW below the bundle) into in->spec. */
int config_read_bundle(struct init *in);
/* The whole of fd (at most SV_CONFIG_MAX bytes) into a new buffer. 0 or -errno. */
int config_read_fd(int fd, char **out, size_t *outlen);

/* exec_join.c: an exec process joins task pid's cgroups (under the host's cgroup mounts),
 * then every namespace of pid's that differs from ours (one setns on a pidfd), then forks
 * when the pid namespace changed; INIT_PID is sent as by ns_enter. */
int exec_join(struct init *in, pid_t pid);

/* console.c: process.terminal. console_setup, with the container's root in place and
 * before READY: a pty from its /dev/ptmx, the slave owned by the process's uid, the master
 * sent as INIT_CONSOLE. console_attach, after START: a new session, the slave as its
 * controlling terminal and fds 0-2. */
int console_setup(struct init *in);
/* The request's terminal (CreateTaskRequest.terminal; -1 not given) and process.terminal
 * agree, as runc-v2 requires of a Create; else the error, before any set-up. */
int console_agree(struct init *in, int requested);
int console_attach(struct init *in);

/* rootfs.c: propagation, the root bind, pivot_root, read-only root, masked/readonly paths. */
int rootfs_prepare(struct init *in);
int rootfs_pivot(struct init *in);
int rootfs_finish(struct init *in);

/* mounts.c: the spec's mounts under the new root, and safe target lookup. */
struct mount_opts {
	unsigned long flags;            /* MS_* to set */
	unsigned long clear;            /* MS_* explicitly cleared ("rw", "suid", ...) */
	unsigned long propagation;      /* MS_PRIVATE|MS_SHARED|MS_SLAVE|MS_UNBINDABLE, |MS_REC */
	int bind, rbind;
	char data[1024];                /* filesystem-specific options, comma separated */
};
int mount_opts_parse(char *const *options, size_t n, struct mount_opts *o);
/* Resolve path inside rootfd (never escaping it), creating missing directories, and the
 * last component as a file when as_file. An O_PATH fd in *fd. */
int mount_target(int rootfd, const char *path, int create, int as_file, int *fd);
int mounts_apply(struct init *in);
/* Mount a tmpfs on /dev when the spec has no /dev mount; *made = 1 then. */
int mounts_default_dev(struct init *in, int *made);
/* Whether the spec mounts a tmpfs on /dev. */
int mounts_dev_is_tmpfs(const struct spec *s);

/* devices.c: the minimal /dev (nodes, symlinks) under rootfs. */
int devices_setup(struct init *in);

/* netlink.c: bring the loopback interface up in the current net namespace. */
int netlink_lo_up(void);

/* process.c: hostname, sysctl, rlimits, oom score, cwd, stdio, exec. */
int process_hostname(struct init *in);
int process_sysctl(struct init *in);
int process_limits(struct init *in);
int process_cwd(struct init *in);
int process_stdio(struct init *in);
/* As runc before it drops to the process's user: each stdio fd (SV_INIT_FD_STDIO..+2) that
 * is a pipe given to process.user.uid, its group kept, so that the process can reopen
 * /dev/stdout; EPERM, EINVAL, EROFS ignored as runc does. Files are left alone; a
 * terminal's slave is the user's already (console.c). */
int process_stdio_owner(struct init *in);
/* runc's LookPath: args[0] as it is when it has a '/', else the first entry of the process's
 * PATH (SV_DEFAULT_PATH without one) holding a file with an execute bit, checked where the
 * process stands (its root, cwd, ids) into in->exec_file; else runc's error:
 * `exec: "NAME": executable file not found in $PATH` or `exec: "PATH": stat PATH: why`; found
 * through a relative PATH entry, Go's ErrDot: `exec: "NAME": cannot run executable found
 * relative to current directory`. */
int process_lookpath(struct init *in);
/* exec in->exec_file (looked up first if it was not); returns only on failure */
int process_exec(struct init *in);

/* keyring.c: join the session keyring named in->keyring (nothing when NULL), made the
 * first time; own: the task's init, which sets its permissions as runc does (the owner, or
 * in a user namespace anyone, may search it). ENOSYS (no keys in this kernel) is not an
 * error. Before seccomp: the default profile refuses keyctl. */
int keyring_join(struct init *in, int own);
/* The permissions (hex, the fourth field) of a KEYCTL_DESCRIBE answer
 * "type;uid;gid;perm;description". 0 or -EINVAL. */
int keyring_perm_parse(const char *desc, uint32_t *perm);

/* caps.c: capabilities, ids and no_new_privs, in the order bounding, ids, caps, nnp. */
int caps_apply(struct init *in);
/* Whether the final effective set keeps CAP_SYS_ADMIN (seccomp can then load late). */
int caps_keep_sys_admin(const struct init *in);

/* seccomp.c: the filter's BPF from the cache or libseccomp, made before the namespaces
 * (the cache is the host's); loaded last. */
int sv_seccomp_prepare(struct init *in);
/* The cache of compiled filters (root's alone, else unused) and a profile's file in it. */
#define SV_SECCOMP_CACHE "/run/shimvisor-init"
void sv_seccomp_cache_name(const struct spec_seccomp *sc, char *name, size_t sz);
int sv_seccomp_load(struct init *in);
void sv_seccomp_release(struct init *in);

#endif
