/* SPDX-License-Identifier: Apache-2.0 */
/* common/spawn.h: start a helper binary as posix_spawn would (vfork semantics: the parent's
 * pages and page tables are not copied; nor is its fd table beyond the fds the child needs)
 * and a fixed fd contract. Monitor and worker use it for every child they exec. */
#ifndef SV_COMMON_SPAWN_H
#define SV_COMMON_SPAWN_H
#include <stdbool.h>
#include <sys/types.h>

struct sv_spawn {
	const int *fds;         /* fds[i] goes on SV_FD_FIRST (3) + i (-1: closed) */
	int nfds;               /* at most 6; nothing above 2 + nfds stays open */
	bool std_null;          /* 0 on /dev/null, 1 on out, 2 on err (-1: /dev/null); else 0-2 kept */
	int out, err;
	int dirfd;              /* the child's cwd: dirfd, or "/" when -1 and chdir_root */
	bool chdir_root;
	bool setsid;
	bool newpid;            /* the child is pid 1 of a new pid namespace (where unshare allows) */
	const int *exe_fd;      /* set: exec the file *exe_fd names (O_PATH will do: execveat),
				 * path then only names it; NULL: exec path */
};

/* Start path with argv and envp as o says; no signal blocked, SIGPIPE at its default. An exec
 * that fails is reported here (-errno), not as an exit status of the child. */
int sv_spawn(const char *path, char *const argv[], char *const envp[], const struct sv_spawn *o,
	     pid_t *pid);

/* An O_PATH fd of the file at path (links followed), seen through a read-only (nosuid,
 * nodev) bind mount of that file alone, attached nowhere and already dissolved: whatever
 * runs from it shows it as its /proc/PID/exe (which reads "/"), an open of that for writing
 * fails (EROFS, or ETXTBSY while it runs) whoever asks, no mount table shows it and nothing
 * can make it writable again. -errno: -ENOSYS or -EPERM where the kernel or our privileges
 * allow no such mount. */
int sv_exe_pin(const char *path);
#endif
