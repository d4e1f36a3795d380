/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/main.c: shimvisor-init, the task's first stage: read config.json, build the
 * namespaces, root and process the spec asks for, wait for START, exec the task. With
 * --exec, the same for an exec process that joins a running task. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <limits.h>
#include <stdio.h>
#include "init.pb.h"
#include "wire/fdchan.h"
#include "wire/limits.h"
#include "wire/pbio.h"
#include "worker/init/cgroups.h"
#include "worker/init/init.h"

/* PID of --exec: a positive decimal number. */
static int parse_pid(const char *s, pid_t *out)
{
	char *end;
	long v;

	if (*s < '1' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > INT_MAX)
		return -EINVAL;
	*out = (pid_t)v;
	return 0;
}

/* TERMINAL of a task's init or --exec (the request's): "tty" or "notty". */
static int parse_tty(const char *s, int *out)
{
	if (strcmp(s, "tty") && strcmp(s, "notty"))
		return -EINVAL;
	*out = !strcmp(s, "tty");
	return 0;
}

/* KEYRING: the session keyring's name, not empty, shorter than SV_KEYRING_NAME_MAX. */
static int parse_keyring(const char *s, const char **out)
{
	if (!*s || strlen(s) >= SV_KEYRING_NAME_MAX)
		return -EINVAL;
	*out = s;
	return 0;
}

/* Namespaces through pivot_root and the read-only root. */
static int setup_root(struct init *in)
{
	int made_dev = 0, rc;

	if ((rc = ns_enter(in)))
		return rc;
	if (!in->new_mntns && !spec_find_ns(&in->spec, CLONE_NEWNS))
		return init_failmsg(&in->err, -EINVAL,
				    "linux.namespaces: a mount namespace is required");
	if (in->new_mntns) {
		if ((rc = rootfs_prepare(in)) || (rc = mounts_default_dev(in, &made_dev)) ||
		    (rc = mounts_apply(in)))
			return rc;
		if ((made_dev || mounts_dev_is_tmpfs(&in->spec)) && (rc = devices_setup(in)))
			return rc;
		if ((rc = rootfs_pivot(in)))
			return rc;
	}
	if (in->new_netns && !in->spec.lo_down && (rc = netlink_lo_up()))
		return init_fail(&in->err, rc, "network: bring lo up");
	if ((rc = process_hostname(in)) || (rc = process_sysctl(in)))
		return rc;
	if (in->new_mntns && (rc = rootfs_finish(in)))
		return rc;
	return 0;
}

/* Limits, the seccomp filter (built now, loaded last) and the privilege drop. */
static int setup_process(struct init *in)
{
	const struct spec_process *p = &in->spec.process;
	int rc;

	if ((rc = process_limits(in)))
		return rc;
	/* Without no_new_privs, only CAP_SYS_ADMIN may load a filter: when the task will not
	 * hold it, load before dropping privileges (the filter must allow the rest). */
	if (in->seccomp_bpf && !p->no_new_privs && !caps_keep_sys_admin(in) &&
	    (rc = sv_seccomp_load(in)))
		return rc;
	if ((rc = process_stdio_owner(in)))
		return rc;
	if ((rc = caps_apply(in)) || (rc = process_cwd(in)))
		return rc;
	return 0;
}

/* Warm mode: exec'd before the task is known, with only the sync socket. Wait for CONFIG
 * (the bundle dir, the request's terminal, the keyring, and config.json + stdio as fds),
 * put the fds on 3 and 5..7, go on. */
static int warm_wait(struct init *in, int *tty)
{
	static char bundle[PATH_MAX], keyring[SV_KEYRING_NAME_MAX];
	static const int to[4] = { SV_INIT_FD_CONFIG, SV_INIT_FD_STDIO, SV_INIT_FD_STDIO + 1,
				   SV_INIT_FD_STDIO + 2 };
	int fds[FDCHAN_MAX_FDS], tmp[4], n = 0, i, rc;
	sv_InitSync m;

	rc = fdchan_recv(in->sync_fd, sv_InitSync_fields, &m, fds, &n, 0);
	if (rc == -ECONNRESET)
		_exit(0);               /* the worker went away before it needed us */
	if (rc != 1)
		return init_fail(&in->err, rc < 0 ? rc : -EPROTO, "sync: waiting for CONFIG");
	rc = 0;
	if (m.type != sv_InitSyncType_INIT_CONFIG || n != 4 || !m.message || m.message[0] != '/' ||
	    strlen(m.message) >= sizeof(bundle))
		rc = init_failmsg(&in->err, -EPROTO, "sync: a warm init wants CONFIG with 4 fds");
	else if (m.keyring && *m.keyring && strlen(m.keyring) >= sizeof(keyring))
		rc = init_failmsg(&in->err, -EPROTO, "sync: CONFIG's keyring name is too long");
	else
		snprintf(bundle, sizeof(bundle), "%s", m.message);
	if (!rc && m.keyring && *m.keyring) {
		snprintf(keyring, sizeof(keyring), "%s", m.keyring);
		in->keyring = keyring;
	}
	*tty = m.terminal;
	sv_pb_free(sv_InitSync_fields, &m);
	for (i = 0; i < n && !rc; i++) {
		tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16);
		if (tmp[i] < 0)
			rc = init_fail(&in->err, -errno, "sync: CONFIG fds");
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	for (i = 0; i < 4 && !rc; i++)
		if (dup2(tmp[i], to[i]) < 0)
			rc = init_fail(&in->err, -errno, "sync: CONFIG fds");
	if (rc)
		return rc;
	for (i = 0; i < 4; i++)
		close(tmp[i]);
	in->bundle = bundle;
	return 0;
}

int main(int argc, char **argv)
{
	struct init in;
	pid_t exec_pid = 0;
	int exec_tty = -1, task_tty = -1, rc;

	memset(&in, 0, sizeof(in));
	in.sync_fd = SV_INIT_FD_SYNC;
	in.rootfd = -1;
	in.console_slave = -1;
	in.host_ns[0] = in.host_ns[1] = in.host_ns[2] = -1;
	if (fcntl(in.sync_fd, F_SETFD, FD_CLOEXEC) < 0)
		_exit(127);     /* no sync fd: nobody to tell */
	/* Until the task's program replaces us (execve makes it dumpable again), nothing in
	 * the container may ptrace us or open our /proc/PID/exe, the host's binary. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		_exit(127);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--update") == 0)
		cgroups_update_main(&in, argv[2], argc == 4 ? argv[3] : NULL);
	if (argc == 2 && strcmp(argv[1], "--warm") == 0) {
		ns_prepare_warm(&in);
		if (warm_wait(&in, &task_tty))
			init_abort(&in);
	} else if (argc >= 4 && argc <= 6 && strcmp(argv[1], "--exec") == 0 &&
		   argv[2][0] == '/' && parse_pid(argv[3], &exec_pid) == 0 &&
		   (argc == 4 || parse_tty(argv[4], &exec_tty) == 0) &&
		   (argc < 6 || parse_keyring(argv[5], &in.keyring) == 0)) {
		in.bundle = argv[2];
	} else if (argc < 2 || argc > 4 || argv[1][0] != '/' ||
		   (argc >= 3 && parse_tty(argv[2], &task_tty)) ||
		   (argc == 4 && parse_keyring(argv[3], &in.keyring))) {
		init_failmsg(&in.err, -EINVAL, "usage: shimvisor-init BUNDLE_DIR [tty|notty "
			     "[KEYRING]] | --warm | --exec BUNDLE_DIR PID [tty|notty [KEYRING]] "
			     "(directories absolute) | --update PID [BUNDLE_DIR]");
		init_abort(&in);
	} else {
		in.bundle = argv[1];
	}
	if (exec_pid) {
		if (config_read_exec(&in))
			init_abort(&in);
		/* the worker's word (ExecProcessRequest.terminal) over the Process's, as runc-v2 */
		if (exec_tty >= 0)
			in.spec.process.terminal = exec_tty;
		if (sv_seccomp_prepare(&in) || exec_join(&in, exec_pid) ||
		    keyring_join(&in, 0) ||
		    console_setup(&in) || setup_process(&in))
			init_abort(&in);
	} else {
		in.pre_pidns = getpid() == 1;   /* the worker started us in a new pid namespace */
		if (config_read_task(&in))
			init_abort(&in);
		if (console_agree(&in, task_tty))
			init_abort(&in);
		ns_check_pre_pidns(&in);
		/* the seccomp filter while the host's /run (its cache) is in view */
		if (sv_seccomp_prepare(&in))
			init_abort(&in);
		/* cgroups first: what follows (and the pid-namespace child) runs inside them */
		if (cgroups_setup(&in) || setup_root(&in) ||
		    keyring_join(&in, 1) ||
		    console_setup(&in) || setup_process(&in))
			init_abort(&in);
		/* as runc: a missing executable fails the create, not the start */
		if (process_lookpath(&in))
			init_abort(&in);
	}
	if ((rc = sync_send_ready(in.sync_fd, !exec_pid))) {
		cgroups_abandon(&in);
		_exit(127);
	}
	rc = sync_wait_start(in.sync_fd);
	if (rc == -EPIPE) {
		cgroups_abandon(&in);
		_exit(127);     /* the worker gave up on us */
	}
	if (rc) {
		init_fail(&in.err, rc, "sync: waiting for START");
		init_abort(&in);
	}
	cgroups_release(&in);   /* started: the cgroups are the worker's to remove */
	if (process_stdio(&in) || sv_seccomp_load(&in))
		init_abort(&in);
	process_exec(&in);
	init_abort(&in);
}
