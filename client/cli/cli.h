/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/cli.h: the shimvisor CLI's internal interfaces (parsing, formatting, commands). */
#ifndef SV_CLI_H
#define SV_CLI_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "client/shimvisor.h"
#include "common/restart_policy.h"

/* Exit codes of the CLI's own failures (a task's status is passed through as is). */
#define CLI_EXIT_FAIL   1       /* the daemon or the system said no */
#define CLI_EXIT_USAGE  2       /* bad command line */

#define CLI_ERR_MAX     512

/* Global options. */
struct cli {
	const char *address;        /* -a, $SHIMVISOR_ADDRESS, default socket */
	const char *ns;             /* -n, $SHIMVISOR_NAMESPACE, "default" */
};

/* Print "shimvisor: <fmt>" as one line on stderr; returns CLI_EXIT_FAIL. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Connect and set the namespace, printing the error; NULL on failure. */
struct sv_client *cli_connect(const struct cli *g);
/* Print "shimvisor: <what>: <daemon's message>" for a failed call; returns CLI_EXIT_FAIL. */
int cli_call_error(struct sv_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- opts.c: a small getopt with long options, no global state ---- */
/* The name inline (common/names.h says why); a name of all 16 bytes has no NUL, and a longer
 * one does not compile. */
struct opt_def {
	char lng[16];               /* "rm" for --rm, or "" */
	char shrt;                  /* 'd' for -d, or 0 */
	bool arg;                   /* takes a value */
	int key;                    /* returned by opt_next (> 0) */
};
struct opt_scan {
	int argc;
	char **argv;
	int i;                      /* next argv index; the first operand once opt_next gives 0 */
	int sub;                    /* position in a cluster of short options */
	const char *cmd;            /* for messages */
	bool permute;               /* options may follow operands (all but run/create) */
	char **ops;                 /* permute: the operands met, in order */
	int nops;
	char err[CLI_ERR_MAX];
};
/* Options stop at the first operand (run ID CMD...). */
void opt_init(struct opt_scan *s, int argc, char **argv, const char *cmd);
/* Options anywhere, as GNU getopt (state ID --format json); -ENOMEM. Free with opt_free. */
int opt_init_permute(struct opt_scan *s, int argc, char **argv, const char *cmd);
void opt_free(struct opt_scan *s);
/* The next option's key (> 0) and *arg; 0 when options are over (the first operand, or
 * "--", or the end); -1 on a bad option (s->err holds "cmd: why"). */
int opt_next(struct opt_scan *s, const struct opt_def *defs, const char **arg);
/* The operands once opt_next gave 0: *ops and the count. */
int opt_operands(const struct opt_scan *s, char ***ops);

/* Parsers: 0 or -EINVAL with a "what: why" message in err. */
int cli_parse_signal(const char *s, uint32_t *sig, char *err, size_t errsz);
int cli_parse_user(const char *s, uint32_t *uid, uint32_t *gid, bool *has_gid,
		   char *err, size_t errsz);
int cli_parse_u32(const char *s, uint32_t *v);
/* "invalid id "x": must match ..." unless valid; what is "id" or "namespace". */
int cli_check_id(const char *what, const char *id, char *err, size_t errsz);

/* Cgroup limits: run/create and update's --memory, --pids, --cpus. 0 = not given. */
#define CLI_CPUS_MAX 1024u
struct cli_limits {
	int64_t memory;             /* bytes */
	int64_t pids;
	uint32_t cpus_milli;        /* CPU time per wall time, in 1/1000 CPU */
};
/* --memory: a whole number of bytes > 0, or with a k, m or g suffix (any case, powers of
 * 1024: 64m = 67108864), at most INT64_MAX. Error messages: "invalid --memory "S": why". */
int cli_parse_bytes(const char *s, int64_t *v, char *err, size_t errsz);
/* --pids: a whole number > 0, at most INT64_MAX. */
int cli_parse_pids(const char *s, int64_t *v, char *err, size_t errsz);
/* --cpus: a decimal > 0 with at most 3 decimals (0.5, 1, 1.25), at most CLI_CPUS_MAX; in
 * 1/1000 CPU, computed without floating point. */
int cli_parse_cpus(const char *s, uint32_t *milli, char *err, size_t errsz);

/* ---- passwd.c: -u USER[:GROUP] looked up in the task's own files ---- */
#define CLI_USER_MAX_GIDS 256
struct cli_user {
	uint32_t uid, gid;
	uint32_t *gids;             /* supplementary groups: those of /etc/group naming the user */
	size_t ngids;
};
/* spec "USER[:GROUP]" (each a name or a number) resolved in root ("/" for the host-root
 * view): root/etc/passwd and root/etc/group, opened with openat2 RESOLVE_IN_ROOT (no symlink
 * or ".." leads out of root), never through NSS. As runc: a name must be in the file; a
 * number it lacks is taken as it is (gid 0 unless GROUP). 0, or -errno with err. */
int cli_lookup_user(const char *root, const char *spec, struct cli_user *u, char *err,
		    size_t errsz);
void cli_user_free(struct cli_user *u);
/* uid's name in passwd (an open passwd file, e.g. the host's /etc/passwd: the static CLI
 * has no NSS), else the number; NULL passwd: the number. */
void cli_uid_name(FILE *passwd, uint32_t uid, char *out, size_t size);

/* ---- run_opts.c: run/create/exec command lines and the Create request they make ---- */
struct run_opts {
	bool create;                /* the create command: never started, always detached */
	bool rm, detach;
	const char *rootfs, *bundle, *cwd, *hostname, *net;
	bool set_user, has_gid;
	uint32_t uid, gid;
	const char *user_name;      /* run -u with a name: looked up by run_opts_request */
	bool exec;                  /* the exec command: -u takes numbers only */
	char **env;                 /* strdup'ed "K=V" */
	size_t env_count;
	char **file_env;            /* --env-file's, before -e's (docker's order) */
	size_t file_env_count;
	/* mounts and the task's confinement (run_mounts.c) */
	sv_CtlMount *mounts;        /* -v, --mount, --tmpfs: all strings malloc'd */
	size_t mounts_count;
	bool read_only;
	char **cap_add, **cap_drop; /* strdup'ed "CAP_X" or "ALL" */
	size_t cap_add_count, cap_drop_count;
	const char *seccomp;        /* --security-opt seccomp=: NULL, "unconfined", "profile" */
	pb_bytes_array_t *seccomp_profile;
	const char **labels;        /* "K=V", into argv */
	size_t labels_count;
	const char *entrypoint;
	const char *id;
	char **args;                /* into argv; none = /bin/sh (exec: required) */
	size_t args_count;
	struct cli_limits limits;   /* --memory, --pids, --cpus */
	struct sv_restart restart;  /* --restart, parsed (sent as given: restart_arg) */
	const char *restart_arg;
	bool tty, interactive;      /* -t, -i */
	const char *detach_keys;    /* --detach-keys, NULL = ctrl-p,ctrl-q */
	const char *exec_id;        /* exec: --exec-id, else exec_id_buf ("exec-<our pid>") */
	char exec_id_buf[32];
	/* filled by run_opts_request: */
	char *bundle_abs;
	char *rootfs_abs;
	pb_bytes_array_t *bundle_config;
	char **req_env, **req_args; /* file_env + env; entrypoint + args */
	struct cli_user user;
};
/* argv[0] is the command name. 0, -EINVAL (usage), with
 * the whole message (after "shimvisor: ") in err. */
int cli_parse_run(int argc, char **argv, bool create, struct run_opts *o, char *err, size_t errsz);
/* exec [-d|-t [-i] [--detach-keys K]] [--exec-id E] [-e K=V]... [--cwd DIR] [-u UID[:GID]]
 * ID CMD...: into o's detach, tty, interactive, detach_keys, exec_id, env, cwd,
 * set_user/uid/gid (gid 0 without :GID), id and args. 0 or -EINVAL (usage), with the message
 * in err as cli_parse_run's. */
#define CLI_EXEC_USAGE "exec [-d] [-t [-i]] [--exec-id E] [-e K=V]... [--cwd DIR] [-u UID[:GID]] ID CMD..."
int cli_parse_exec(int argc, char **argv, struct run_opts *o, char *err, size_t errsz);
/* run_mounts.c: -v SRC:DST[:ro|:rw], --mount type=bind|tmpfs,..., --tmpfs DST[:OPTS] into
 * o->mounts; "what: why" in err. */
int cli_add_volume(struct run_opts *o, const char *arg, char *err, size_t errsz);
int cli_add_mount(struct run_opts *o, const char *arg, char *err, size_t errsz);
int cli_add_tmpfs(struct run_opts *o, const char *arg, char *err, size_t errsz);
void cli_mounts_free(struct run_opts *o);
/* Fill req (pointers into o); reads the bundle's config.json, looks -u's names up in the
 * task's root. 0 or -errno with err set. */
int run_opts_request(struct run_opts *o, sv_CtlCreateRequest *req, char *err, size_t errsz);
void run_opts_free(struct run_opts *o);

/* ---- sbuf.c: a growable output buffer ---- */
struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};
void sb_putc(struct sbuf *b, char ch);
void sb_put(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *sb_str(struct sbuf *b);                 /* NUL-terminated ("" when empty) */
void sb_free(struct sbuf *b);
/* Write it all to fd; 0 or -errno. */
int sb_flush_fd(struct sbuf *b, int fd);

/* ---- json.c: a small JSON writer (valid UTF-8 out, whatever bytes come in) ---- */
#define JW_DEPTH 8
struct jw {
	struct sbuf *b;
	int depth;
	bool comma[JW_DEPTH];       /* a value was written at this level */
	bool after_key;
};
void jw_init(struct jw *w, struct sbuf *b);
void jw_obj(struct jw *w);
void jw_obj_end(struct jw *w);
void jw_arr(struct jw *w);
void jw_arr_end(struct jw *w);
void jw_key(struct jw *w, const char *k);
void jw_keyn(struct jw *w, const char *k, size_t n);    /* the first n bytes of k */
void jw_str(struct jw *w, const char *s);           /* NULL writes "" */
void jw_u64(struct jw *w, uint64_t v);
void jw_i64(struct jw *w, int64_t v);
void jw_bool(struct jw *w, bool v);
/* Append s as a JSON string literal with quotes (escapes, invalid UTF-8 -> U+FFFD). */
void json_escape(struct sbuf *b, const char *s, size_t n);

/* ---- format.c: what the commands print ---- */
/* RFC 3339, UTC, nanoseconds: "2006-01-02T15:04:05.000000000Z". An absent or all-zero
 * timestamp prints as Go's zero time, 0001-01-01T00:00:00.000000000Z. */
#define CLI_TIME_MAX 48
void cli_fmt_time(char buf[CLI_TIME_MAX], bool has, const sv_Timestamp *ts);
struct task_view {
	const char *ns;             /* NULL: no "namespace" key */
	const char *id;
	uint32_t status, pid, exit_status;
	bool has_exited_at;
	sv_Timestamp exited_at;
	const char *bundle;
	uint32_t restart_count;
	const char *restart;        /* its restart policy; NULL or "": "no" */
};
void task_view_json(struct jw *w, const struct task_view *t);
/* The same keys, into an object the caller opened. */
void task_view_keys(struct jw *w, const struct task_view *t);
void task_view_text(struct sbuf *b, const struct task_view *t);    /* "key: value" lines */
/* Tables like ctr's tabwriter (minwidth 4, padding 4): each column as wide as its widest
 * cell plus CLI_TABLE_PAD spaces, the last one unpadded. cli_table_widen grows width[] (start
 * it at 0) to fit a row; cli_table_row writes one. */
#define CLI_TABLE_PAD 4
void cli_table_widen(size_t *width, int ncols, const char *const *cell);
void cli_table_row(struct sbuf *b, int ncols, const char *const *cell, const size_t *width);
void cli_ls_table(struct sbuf *b, const sv_CtlListResponse *l, bool quiet);
void cli_ls_json(struct sbuf *b, const sv_CtlListResponse *l);
/* "labels": {K: V, ...} of "K=V" strings (one without '=' has the value ""). */
void cli_labels_json(struct jw *w, char *const *labels, size_t n);
/* inspect's JSON object of one task: ns, its state's keys and its summary's (inspect.c). */
void cli_inspect_json(struct jw *w, const char *ns, const char *id, const sv_CtlInspectResponse *r);

/* ---- ls_filter.c: ls --filter KEY=VALUE ---- */
#define CLI_FILTERS_MAX 32
struct ls_filter {
	const char *label[CLI_FILTERS_MAX];     /* "K" or "K=V": every one must match */
	size_t nlabel;
	uint32_t status[CLI_FILTERS_MAX];       /* sv_TaskStatus: any one */
	size_t nstatus;
	const char *id[CLI_FILTERS_MAX];        /* an id or its beginning: any one */
	size_t nid;
};
/* One --filter: label=K[=V], status=created|running|stopped|paused|pausing|unknown,
 * id=ID. 0 or -EINVAL with "why" in err. */
int ls_filter_add(struct ls_filter *f, const char *arg, char *err, size_t errsz);
bool ls_filter_match(const struct ls_filter *f, const sv_CtlTask *t);
/* Keep the tasks that match, in order. */
void ls_filter_apply(const struct ls_filter *f, sv_CtlListResponse *l);
/* One line (with '\n') for an event, as JSON or as "TIMESTAMP TOPIC ID FIELDS". */
void cli_event_json(struct sbuf *b, const sv_Envelope *env);
void cli_event_text(struct sbuf *b, const sv_Envelope *env);

/* ---- stats.c: what stats prints, from a StatsResponse's cgroup metrics ---- */
struct stats_view {
	const char *id;
	const char *cgroup;         /* "v1", "v2", or "none" (source "proc") */
	const char *source;         /* "cgroup", or "proc": a task without a cgroup of its own */
	uint64_t cpu_ns;            /* CPU time used, all CPUs */
	uint64_t mem_usage, mem_limit;      /* bytes; limit 0 = none */
	uint64_t pids, pids_limit;          /* limit 0 = none */
};
/* Decode r's metrics by their type_url (io.containerd.cgroups.v1.Metrics or .v2.Metrics, or
 * io.shimvisor.proc.v1.Metrics: a v1 message of what /proc shows)
 * into v (v->id = id). 0; -ENODATA (no metrics), -EPROTONOSUPPORT (another type_url) or
 * -EBADMSG (undecodable), with a "why" message in err. */
int cli_stats_view(struct stats_view *v, const char *id, const sv_StatsResponse *r,
		   char *err, size_t errsz);
/* A heading and one row: ID CPU-NS MEMORY MEMORY-LIMIT PIDS PIDS-LIMIT SOURCE; limit 0 =
 * "max". */
void cli_stats_table(struct sbuf *b, const struct stats_view *v);
/* One JSON object and '\n': id, cpu_usage_ns, memory_usage_bytes, memory_limit_bytes, pids,
 * pids_limit (0 = none), cgroup, source. */
void cli_stats_json(struct sbuf *b, const struct stats_view *v);

/* ---- cmd_task.c: the option scan of the task commands ---- */
/* Scan the command's options (anywhere on the line), handing each to on() (which returns 0
 * or an exit code); errors printed. On 0 the caller owns s (cli_one_id or opt_free). */
int cli_scan(struct opt_scan *s, const struct opt_def *defs, int argc, char **argv,
	     int (*on)(int key, const char *arg, void *ctx), void *ctx);
/* Exactly one valid ID among s's operands (else the usage error printed); frees s. */
int cli_one_id(struct opt_scan *s, const char *usage, const char **id);
/* --format json|text|table: *(bool *)ctx = json. */
int cli_format_opt(int key, const char *arg, void *ctx);
/* Write b to stdout and free it; 0 or the exit code (the error printed). */
int cli_flush_out(struct sbuf *b, const char *cmd);
/* ps and top --format json: {"id": id, "processes": [ ... ]}; open, then a jw_obj per
 * process, then close (with '\n'). */
void cli_procs_json_open(struct jw *w, struct sbuf *b, const char *id);
void cli_procs_json_close(struct jw *w);

/* ---- commands (argv[0] is the command's name); each returns the exit code ---- */
int cmd_run(const struct cli *g, int argc, char **argv);
int cmd_create(const struct cli *g, int argc, char **argv);
int cmd_start(const struct cli *g, int argc, char **argv);
int cmd_kill(const struct cli *g, int argc, char **argv);
int cmd_wait(const struct cli *g, int argc, char **argv);
int cmd_delete(const struct cli *g, int argc, char **argv);
int cmd_state(const struct cli *g, int argc, char **argv);
int cmd_ps(const struct cli *g, int argc, char **argv);
int cmd_pause(const struct cli *g, int argc, char **argv);
int cmd_resume(const struct cli *g, int argc, char **argv);
int cmd_stats(const struct cli *g, int argc, char **argv);
int cmd_update(const struct cli *g, int argc, char **argv);
int cmd_ls(const struct cli *g, int argc, char **argv);
int cmd_events(const struct cli *g, int argc, char **argv);
int cmd_version(const struct cli *g, int argc, char **argv);
int cmd_exec(const struct cli *g, int argc, char **argv);
/* cmd_stop.c: stop [-t SECS] ID... (SIGTERM, SIGKILL after the grace period, in parallel)
 * and restart [-t SECS] ID... (stopped, then the Restart method). */
#define CLI_STOP_GRACE_S 10
int cmd_stop(const struct cli *g, int argc, char **argv);
int cmd_restart(const struct cli *g, int argc, char **argv);
/* cmd_top.c: top ID [--format json]: PID USER TIME CMD of its processes, from /proc. */
int cmd_top(const struct cli *g, int argc, char **argv);
/* cmd_prune.c: prune [-f]: delete every stopped task of the namespace (never asks). */
int cmd_prune(const struct cli *g, int argc, char **argv);
int cmd_inspect(const struct cli *g, int argc, char **argv);
/* cmd_attach.c: attach [--exec-id E] [--detach-keys K] ID, and start -a's copy. */
int cmd_attach(const struct cli *g, int argc, char **argv);
/* start -a: start the task and copy its terminal, or follow its log until it exits. */
int cli_start_attach(const struct cli *g, const char *id, const char *detach_keys);
/* cmd_selftest.c: a few real tasks against the daemon, TAP and "N passed, N failed". */
int cmd_selftest(const struct cli *g, int argc, char **argv);

/* ---- tty.c: the caller's terminal and a task's pty ---- */
#define TTY_KEYS_MAX 16
#define TTY_DEFAULT_KEYS "ctrl-p,ctrl-q"
struct tty_keys {
	unsigned char seq[TTY_KEYS_MAX];
	size_t n;                   /* 0: no detaching */
	size_t matched;             /* how much of seq the input has matched (held back) */
};
/* Docker's --detach-keys: comma-separated keys, each a printable character or ctrl-X (X in
 * a-z @ [ \ ] ^ _). 0 or -EINVAL with "invalid --detach-keys ...: why" in err. */
int tty_parse_detach_keys(const char *s, struct tty_keys *k, char *err, size_t errsz);
/* Copy in to out (room for len + TTY_KEYS_MAX bytes), holding back a partial match of the
 * sequence across calls; *detach once it is complete (the bytes after it are dropped).
 * Returns the bytes written to out. */
size_t tty_keys_scan(struct tty_keys *k, const char *in, size_t len, char *out, bool *detach);
struct termios;
/* fd's mode saved and set raw; tty_restore puts it back. 0 or -errno. */
int tty_raw(int fd, struct termios *saved);
void tty_restore(int fd, const struct termios *saved);
/* fd's window size; -ENODATA when 0x0 (not set), -ENOTTY when not a terminal. */
int tty_size(int fd, uint32_t *width, uint32_t *height);
/* A terminal's FIFOs outlive the CLI that made them (attach finds them with Process): the
 * directory <base>/shimvisor-tty.XXXXXX, 0700, of the user who made them. Remove it when
 * stdin_path is its stdin and it is ours; 0 or -errno (-ENOENT: not such a directory). */
#define TTY_FIFO_PREFIX "shimvisor-tty."
int tty_fifos_forget(const char *stdin_path);
/* Whether run_io_base() holds any such directory of ours (else a delete need not ask). */
bool tty_fifos_any(void);

/* ---- run_io.c: the FIFOs of an attached run and the copy loop ---- */
struct run_io {
	char dir[256];              /* private mkdtemp dir, "" when none */
	char path[3][300];          /* stdin, stdout, stderr FIFOs (tty: no stderr, "") */
	int in_rdwr;                /* O_RDWR stdin FIFO held until Start */
	int in_w;                   /* O_WRONLY stdin FIFO after Start */
	int out, err;               /* O_RDONLY|O_NONBLOCK stdout/stderr FIFOs */
	bool tty;                   /* a terminal: its FIFOs are kept after a detach */
	bool fwd_in;                /* copy our stdin (tty: -i; always otherwise) */
	struct tty_keys keys;       /* tty with fwd_in: the detach keys */
	bool detached;              /* set by run_io_loop: the keys were typed */
	uint32_t width, height;     /* tty: our terminal's size at the start (0 = unknown) */
};
/* Where FIFOs go: $XDG_RUNTIME_DIR, $TMPDIR, /dev/shm (a writable tmpfs), else /tmp. */
const char *run_io_base(void);
/* Make the dir and FIFOs and open them (before Create); tty: stdin and stdout only, in a
 * TTY_FIFO_PREFIX dir. 0 or -errno. */
int run_io_setup(struct run_io *io, bool tty);
/* After Start: switch stdin to a write-only end. */
int run_io_started(struct run_io *io);
/* A running terminal process's FIFOs (attach): open stdout to read, stdin to write; each
 * must be a FIFO. 0 or -errno. */
int run_io_open(struct run_io *io, const char *in, const char *out);
/* Close our ends and forget the dir without removing it (a tty task's kept FIFOs). */
void run_io_release(struct run_io *io);
/* Copy stdin -> process, its stdout/stderr -> 1/2, forward signals with Kill on ctl (to the
 * exec exec_id, or the task's init when NULL), and take the Wait answer from waiter
 * (sv_wait_exec_send already done). Returns 0 with *status, or -errno (the message printed). */
int run_io_loop(struct run_io *io, struct sv_client *ctl, struct sv_client *waiter,
		const char *id, const char *exec_id, uint32_t *status);
void run_io_cleanup(struct run_io *io);
/* A run or an exec, its command line parsed. */
struct run_attach {
	const char *cmd;            /* "run" or "exec", for messages */
	const char *id;
	const char *exec_id;        /* NULL: the task's init */
	/* Start the process with io's FIFOs as its stdio, or detached when io is NULL: 0, or
	 * the exit code (the error printed). */
	int (*start)(struct sv_client *c, const struct run_io *io, void *ctx);
	/* Attached, once it has exited: remove what should go (errors printed). */
	void (*finish)(struct sv_client *c, void *ctx);
	void *ctx;
	bool tty, fwd_in;           /* -t, and -i with it */
	const char *detach_keys;    /* NULL: TTY_DEFAULT_KEYS */
};
/* The copy of an attached terminal process, from its FIFOs (open in io) to its exit or our
 * detach: raw mode while stdin is copied, its size now and on SIGWINCH, its Wait on a second
 * connection. 0 with *status (or io->detached), or the exit code. */
int run_io_tty_copy(const struct cli *g, struct sv_client *c, const struct run_attach *a,
		    struct run_io *io, uint32_t *status);
/* Before connecting: the signals the copy loop forwards (and SIGWINCH with tty) wait for it. */
void run_io_block_signals(bool tty);
/* "shimvisor: ID: detached (...)" on stderr, saying how to attach again. */
void run_io_detached_note(const struct cli *g, const struct run_attach *a);
/* Connect and start the process. Detached, that is all (0 or the exit code). Attached, block
 * the forwarded signals first, make the FIFOs, start it, send its Wait on a second
 * connection, copy with run_io_loop (waiting again on a fresh connection if that Wait broke),
 * finish, and return its status (128+N for signal N, at most 255) or the exit code of a
 * failure (the error printed). */
int run_io_command(const struct cli *g, const struct run_attach *a, bool detach);

/* logs.c: a detached task's log files in its bundle directory (dirfd). */
struct log_follow {
	int fd;                         /* "log" as we opened it, or -1 */
	ino_t ino;
};
/* Print log.N .. log.1 and log, oldest first; f then follows log. */
int logs_dump(int dirfd, int out, struct log_follow *f);
/* Print what was written since, across rotations. */
int logs_follow_step(int dirfd, int out, struct log_follow *f);
void logs_close(struct log_follow *f);
/* logs -f's follow (cmd_task.c): the log until the task exits; *status its exit status. */
int cli_logs_follow(const struct cli *g, const char *id, int dirfd, struct log_follow *f,
		    uint32_t *status);
int cmd_logs(const struct cli *g, int argc, char **argv);

#endif
