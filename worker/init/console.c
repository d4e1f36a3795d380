/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/console.c: process.terminal: a pty from the container's own devpts (its
 * /dev/ptmx), the master sent to the worker as INIT_CONSOLE, the slave kept for the process:
 * its controlling terminal and fds 0-2. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>

#include "init.pb.h"
#include "wire/fdchan.h"
#include "wire/limits.h"
#include "worker/init/init.h"

/* Whether path names /dev/pts (repeated or trailing slashes allowed). */
static int is_dev_pts(const char *p)
{
	static const char *const parts[] = { "dev", "pts" };

	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(parts[i]);

		p += strspn(p, "/");
		if (strncmp(p, parts[i], l) || (p[l] && p[l] != '/'))
			return 0;
		p += l;
	}
	return !p[strspn(p, "/")];
}

/* Whether the spec mounts a devpts on /dev/pts (what /dev/ptmx -> pts/ptmx needs). */
static int spec_has_devpts(const struct spec *s)
{
	for (size_t i = 0; i < s->nmounts; i++)
		if (!strcmp(s->mounts[i].type, "devpts") && is_dev_pts(s->mounts[i].dest))
			return 1;
	return 0;
}

/* The slave of a new pty on the root's /dev/ptmx, owned by the process's uid and of
 * process.consoleSize's size; the master in *master. */
static int open_pty(struct init *in, int *master)
{
	struct statfs sf;
	int m, s, unlock = 0;

	m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return init_fail(&in->err, -errno, "terminal: open /dev/ptmx");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0) {
		int rc = -errno;

		close(m);
		return init_fail(&in->err, rc, "terminal: unlock the pty");
	}
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		int rc = -errno;

		close(m);
		return init_fail(&in->err, rc, "terminal: open the pty slave");
	}
	if (fstatfs(s, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) {
		close(s);
		close(m);
		return init_failmsg(&in->err, -ENOTTY, "terminal: /dev/ptmx is not a devpts ptmx");
	}
	/* The group stays the one devpts gives (its gid= option, tty in ctr's spec). */
	if (fchown(s, in->spec.process.uid, (gid_t)-1) < 0) {
		int rc = -errno;

		close(s);
		close(m);
		return init_fail(&in->err, rc, "terminal: chown the pty slave");
	}
	/* process.consoleSize: the size the process sees from its first instruction */
	if (in->spec.process.console_w || in->spec.process.console_h) {
		struct winsize ws = { .ws_row = in->spec.process.console_h,
				      .ws_col = in->spec.process.console_w };

		if (ioctl(m, TIOCSWINSZ, &ws) < 0) {
			int rc = -errno;

			close(s);
			close(m);
			return init_fail(&in->err, rc, "terminal: set the size (consoleSize)");
		}
	}
	*master = m;
	return s;
}

int console_setup(struct init *in)
{
	sv_InitSync msg = sv_InitSync_init_zero;
	int master = -1, slave, rc;

	if (!in->spec.process.terminal)
		return 0;
	if (!spec_has_devpts(&in->spec))
		return init_failmsg(&in->err, -EINVAL,
				    "process.terminal: needs a devpts mount on /dev/pts in mounts");
	slave = open_pty(in, &master);
	if (slave < 0)
		return slave;
	/* Above the fixed fds (3..7): process_stdio puts it on 0-2 and closes the rest. */
	in->console_slave = fcntl(slave, F_DUPFD_CLOEXEC, SV_INIT_FD_STDIO + 3);
	rc = in->console_slave < 0 ? -errno : 0;
	close(slave);
	if (rc) {
		close(master);
		return init_fail(&in->err, rc, "terminal: pty slave fd");
	}
	msg.type = sv_InitSyncType_INIT_CONSOLE;
	rc = fdchan_send(in->sync_fd, sv_InitSync_fields, &msg, &master, 1);
	close(master);
	return rc ? init_fail(&in->err, rc, "sync: send the console") : 0;
}

int console_attach(struct init *in)
{
	int s = in->console_slave;

	if (s < 0)
		return init_failmsg(&in->err, -EBADF, "terminal: no pty");
	if (setsid() < 0)
		return init_fail(&in->err, -errno, "terminal: setsid");
	if (ioctl(s, TIOCSCTTY, 0) < 0)
		return init_fail(&in->err, -errno, "terminal: set controlling tty");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(s, fd) < 0)
			return init_fail(&in->err, -errno, "terminal: stdio fd %d", fd);
	return 0;
}

int console_agree(struct init *in, int requested)
{
	int spec = in->spec.process.terminal;

	if (requested < 0 || requested == spec)
		return 0;
	/* runc refuses both ways round, naming its console socket: ours names both terminals */
	return init_failmsg(&in->err, -EINVAL, "terminal: the request's is %s and "
			    "process.terminal %s: they must agree", requested ? "true" : "false",
			    spec ? "true" : "false");
}
