/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/main.c: shimvisord: options, single-instance lock, control socket, then the
 * split into the root monitor (this process) and the engine (its child, exec'd as this
 * binary with --engine: supervisor/engine_start.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/fsutil.h"
#include "common/log.h"
#include "common/procfs.h"
#include "common/unixsock.h"
#include "config.h"
#include "config_reload.h"
#include "engine.h"
#include "monitor.h"
#include "wire/limits.h"

_Noreturn static void usage(int code)
{
	fprintf(code ? stderr : stdout,
		"usage: shimvisord [-c FILE] [--state DIR] [--address SOCK] [-F]\n"
		"                  [--pidfile FILE] [--worker PATH] [--cgroup-parent PATH]\n"
		"                  [--task-cgroups always|limits] [--ready-fd N] [-D] [--version]\n");
	exit(code);
}

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state", required_argument, NULL, 's' },
	{ "address", required_argument, NULL, 'a' },
	{ "foreground", no_argument, NULL, 'F' },
	{ "pidfile", required_argument, NULL, 'p' },
	{ "worker", required_argument, NULL, 'w' },
	{ "ready-fd", required_argument, NULL, 'R' },
	{ "cgroup-parent", required_argument, NULL, 'G' },
	{ "task-cgroups", required_argument, NULL, 'T' },
	{ "debug", no_argument, NULL, 'D' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* An option that sets the setting name: kept in rl, so that a reload applies it again. */
static void set_path(struct sv_reload *rl, const char *name, const char *v, const char *what,
		     size_t sz)
{
	if (v[0] != '/' || strlen(v) >= sz || sv_override(&rl->ov, rl->cfg, name, v) < 0)
		sv_die(0, "%s: want an absolute path shorter than %zu bytes", what, sz);
}

/* The config file, then the options over it; rl keeps both for a reload (config_reload.c). */
static void parse_options(int argc, char **argv, struct sv_reload *rl)
{
	struct sv_config *cfg = rl->cfg;
	char err[1024] = "";
	int o;

	/* first pass: the config file, so that options override it; kept as an absolute path
	 * for the reloads (the log names it) */
	snprintf(rl->file, sizeof(rl->file), "%s", SV_DEFAULT_CONFIG);
	opterr = 0;
	while ((o = getopt_long(argc, argv, "c:FDh", longopts, NULL)) != -1) {
		char cwd[PATH_MAX] = "";
		if (o != 'c')
			continue;
		if (optarg[0] != '/' && !getcwd(cwd, sizeof(cwd)))
			sv_die(-errno, "-c %s: the current directory", optarg);
		if ((size_t)snprintf(rl->file, sizeof(rl->file), "%s%s%s", cwd, cwd[0] ? "/" : "",
				     optarg) >= sizeof(rl->file))
			sv_die(0, "-c %s: too long a path", optarg);
		rl->must_exist = true;
	}
	if (sv_config_load(cfg, rl->file, rl->must_exist, err, sizeof(err)) < 0)
		sv_die(0, "config: %s", err);
	opterr = 1;
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:FDh", longopts, NULL)) != -1) {
		switch (o) {
		case 'c':
			break;
		case 's':
			set_path(rl, "state", optarg, "--state", sizeof(cfg->state));
			break;
		case 'a':
			set_path(rl, "address", optarg, "--address", sizeof(cfg->address));
			break;
		case 'F':
			cfg->foreground = true;
			break;
		case 'p':
			set_path(rl, "pidfile", optarg, "--pidfile", sizeof(cfg->pidfile));
			break;
		case 'w':
			set_path(rl, "worker", optarg, "--worker", sizeof(cfg->worker));
			break;
		case 'G':
			if (sv_override(&rl->ov, cfg, "cgroup_parent", optarg) < 0)
				sv_die(0, "--cgroup-parent %s: want \"\" or an absolute cgroup path "
				       "without . or ..", optarg);
			break;
		case 'T':
			if (sv_override(&rl->ov, cfg, "task_cgroups", optarg) < 0)
				sv_die(0, "--task-cgroups %s: want always or limits", optarg);
			break;
		case 'R':
			cfg->ready_fd = atoi(optarg);
			if (cfg->ready_fd < 3 || fcntl(cfg->ready_fd, F_GETFD) < 0)
				sv_die(0, "--ready-fd %s: not an open descriptor", optarg);
			break;
		case 'D':
			(void)sv_override(&rl->ov, cfg, "log_level", "debug");
			break;
		case 'V':
			printf("shimvisord %s\n", SV_VERSION);
			exit(0);
		case 'h':
			usage(0);
			break;
		default:
			usage(2);
		}
	}
	if (optind != argc)
		usage(2);
}

/* 0660 root:<group>, or 0600 without a group; each client is checked again by the engine
 * against allow_uids and allow_gids. */
static int bind_control(const struct sv_config *cfg)
{
	char dir[PATH_MAX];
	bool g = cfg->group[0];
	int fd;

	snprintf(dir, sizeof(dir), "%s", cfg->address);
	*strrchr(dir, '/') = 0;
	if (dir[0] && sv_mkdir_p(dir, 0711) < 0)
		sv_die(-errno, "mkdir %s", dir);
	/* we hold the instance lock: any socket there is stale */
	fd = sv_unix_listen(cfg->address, g ? 0660 : 0600, 128);
	if (fd < 0)
		sv_die(fd, "listen %s", cfg->address);
	if (g && chown(cfg->address, 0, cfg->group_gid) < 0)
		sv_die(-errno, "chown %s to group %s", cfg->address, cfg->group);
	return fd;
}

/* Without -F: the parent returns once the daemon serves (or failed), like s6 readiness. */
static void daemonize(struct sv_config *cfg)
{
	int p[2], null;
	char c;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		sv_die(-errno, "pipe");
	pid = fork();
	if (pid < 0)
		sv_die(-errno, "fork");
	if (pid > 0) {
		close(p[1]);
		_exit(read(p[0], &c, 1) == 1 ? 0 : 1);
	}
	close(p[0]);
	setsid();
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);          /* lines go to syslog (monitor_log.c) */
		close(null);
	}
	cfg->ready_fd = p[1];
}

int main(int argc, char **argv)
{
	/* zero-initialised, so in .bss (paid for only where touched), not 37 KiB of .data */
	static struct sv_config cfg;
	static struct sv_reload reload;
	struct monitor m = { .cfg = &cfg, .reload = &reload, .idle_fd = -1, .engine_fd = -1 };
	char pid[32], err[512];
	int lock, r;
	sigset_t set;

	sv_log_init("shimvisord");
	if (argc == 2 && !strcmp(argv[1], SV_ENGINE_ARG))
		return engine_main();
	reload.cfg = &cfg;
	sv_config_defaults(&cfg);
	parse_options(argc, argv, &reload);
	r = sv_fd_hygiene(cfg.ready_fd);
	if (r < 0)
		sv_die(r, "fds 0-2 or the inherited ones");
	sv_log_set_level(cfg.log_level);
	if (geteuid() != 0)
		sv_die(0, "must run as root (the monitor creates namespaces and mounts)");
	if (sv_config_resolve(&cfg, err, sizeof(err)) < 0)
		sv_die(0, "config: %s", err);
	/* before any child: the engine inherits it; a worker sets its own back to 0 */
	r = sv_oom_score_adj_set(0, cfg.oom_score_adj);
	if (r < 0)
		sv_warn_err(r, "oom_score_adj %d: kept the inherited one", cfg.oom_score_adj);
	/* what the engine reads too: a reload tells a changed profile by it (NULL when it cannot
	 * be read: the engine then says why, and ends) */
	(void)spec_seccomp_profile(cfg.seccomp_profile, &reload.seccomp, err, sizeof(err));
	umask(077);
	if (sv_mkdir_p(cfg.state, 0711) < 0)
		sv_die(-errno, "state %s", cfg.state);
	m.state_fd = open(cfg.state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m.state_fd < 0)
		sv_die(-errno, "open state %s", cfg.state);
	m.sock_dir_fd = sv_mkdir_open(m.state_fd, ".s", 0700);
	if (m.sock_dir_fd < 0)
		sv_die(m.sock_dir_fd, "%s/.s", cfg.state);
	lock = openat(m.state_fd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0)
		sv_die(lock < 0 ? -errno : 0, "another shimvisord serves %s", cfg.state);
	r = monitor_find_worker(&cfg, m.worker_path, sizeof(m.worker_path));
	if (r < 0)
		sv_die(r, "shimvisor-worker not found (next to shimvisord, on PATH, or worker=)");

	if (!cfg.foreground)
		daemonize(&cfg);
	/* from here every line, ours and the engine's and workers', goes to syslog (or, with -F,
	 * to stderr) */
	r = mon_log_open(&m);
	if (r < 0)
		sv_die(r, "log relay");
	if (cfg.pidfile[0]) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", cfg.pidfile);
		*strrchr(dir, '/') = 0;
		int dfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
		if (dfd < 0 || sv_write_atomic(dfd, strrchr(cfg.pidfile, '/') + 1, pid, strlen(pid), 0644) < 0)
			sv_warn("pidfile %s: cannot write", cfg.pidfile);
		if (dfd >= 0)
			close(dfd);
	}
	m.ctl_fd = bind_control(&cfg);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	m.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m.sig_fd < 0)
		sv_die(-errno, "signalfd");
	fdchan_q_init(&m.out);
	/* the engine: it serves clients; it holds no lock, no monitor end, no dirs, and no
	 * privilege: the monitor connects its worker links and walks <state>. One that ends
	 * (it died, or sent a request outside the monitor's table and was killed) is replaced
	 * by the monitor's loop after a backoff (monitor_engine.c): the listening socket stays
	 * with the monitor meanwhile, clients wait in its backlog, the new engine's scan
	 * re-attaches every worker; tasks run on throughout. */
	r = mon_engine_start(&m);
	if (r < 0)
		sv_die(r, "start the engine");
	sv_notice("version %s: serving %s, state %s", SV_VERSION, cfg.address, cfg.state);
	if (cfg.ready_fd >= 0) {
		close(cfg.ready_fd);        /* readiness is the first engine's to signal */
		cfg.ready_fd = -1;
	}
	r = monitor_run(&m);
	monitor_free(&m);
	/* a clean stop leaves workers and tasks running; only our own files go */
	unlink(cfg.address);
	if (cfg.pidfile[0])
		unlink(cfg.pidfile);
	if (r == 0)
		sv_notice("stopped; tasks left running");
	return r;
}
