/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/tty.c: the CLI's side of a task's terminal: detach keys (docker's format), the
 * caller's terminal in raw mode and back, its window size, and a terminal's kept FIFOs. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "client/cli/cli.h"

/* One key: a printable character, or ctrl-X for X in a-z, @, [, \, ], ^, _. */
static int one_key(const char *k, size_t n, unsigned char *out)
{
	if (n == 1 && k[0] > ' ' && k[0] < 0x7f && k[0] != ',') {
		*out = (unsigned char)k[0];
		return 0;
	}
	if (n == 6 && strncmp(k, "ctrl-", 5) == 0) {
		char c = k[5];

		if (c >= 'a' && c <= 'z') {
			*out = (unsigned char)(c - 'a' + 1);
			return 0;
		}
		if (c == '@' || (c >= '[' && c <= '_')) {
			*out = (unsigned char)(c - '@');
			return 0;
		}
	}
	return -EINVAL;
}

int tty_parse_detach_keys(const char *s, struct tty_keys *k, char *err, size_t errsz)
{
	const char *p = s;

	memset(k, 0, sizeof(*k));
	for (;;) {
		size_t n = strcspn(p, ",");

		if (k->n == TTY_KEYS_MAX || one_key(p, n, &k->seq[k->n]) < 0) {
			snprintf(err, errsz, "invalid --detach-keys \"%.64s\": %s", s,
				 k->n == TTY_KEYS_MAX ? "at most 16 keys" :
				 "want keys such as ctrl-p,ctrl-q: a character or ctrl-X (X one of "
				 "a-z @ [ \\ ] ^ _), comma-separated");
			return -EINVAL;
		}
		k->n++;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

size_t tty_keys_scan(struct tty_keys *k, const char *in, size_t len, char *out, bool *detach)
{
	size_t o = 0;

	*detach = false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (k->n && c == k->seq[k->matched]) {
			if (++k->matched == k->n) {
				k->matched = 0;
				*detach = true;
				return o;       /* what follows the sequence is not sent */
			}
			continue;
		}
		/* not the sequence after all: what was held goes through, then this byte
		 * (which may start the sequence again) */
		memcpy(out + o, k->seq, k->matched);
		o += k->matched;
		k->matched = 0;
		if (k->n && c == k->seq[0])
			k->matched = 1;
		else
			out[o++] = (char)c;
	}
	return o;
}

int tty_raw(int fd, struct termios *saved)
{
	struct termios t;

	if (tcgetattr(fd, saved) < 0)
		return -errno;
	t = *saved;
	cfmakeraw(&t);
	/* output as it came: the task's own pty already turned its \n into \r\n */
	if (tcsetattr(fd, TCSADRAIN, &t) < 0)
		return -errno;
	return 0;
}

void tty_restore(int fd, const struct termios *saved)
{
	tcsetattr(fd, TCSADRAIN, saved);
}

int tty_size(int fd, uint32_t *width, uint32_t *height)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return -errno;
	*width = ws.ws_col;
	*height = ws.ws_row;
	return ws.ws_col && ws.ws_row ? 0 : -ENODATA;
}

int tty_fifos_forget(const char *stdin_path)
{
	char dir[sizeof(((struct run_io *)0)->path[0])], *slash;
	struct stat st;
	size_t plen = strlen(TTY_FIFO_PREFIX);

	if (!stdin_path || snprintf(dir, sizeof(dir), "%s", stdin_path) >= (int)sizeof(dir))
		return -ENOENT;
	slash = strrchr(dir, '/');
	if (!slash || strcmp(slash + 1, "stdin"))
		return -ENOENT;
	*slash = '\0';
	slash = strrchr(dir, '/');
	/* only a directory run_io_setup made, and only our own */
	if (!slash || strncmp(slash + 1, TTY_FIFO_PREFIX, plen) ||
	    strlen(slash + 1) != plen + 6 || lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid())
		return -ENOENT;
	for (int i = 0; i < 2; i++) {
		char p[sizeof(dir) + 16];

		snprintf(p, sizeof(p), "%s/%s", dir, i ? "stdout" : "stdin");
		unlink(p);
	}
	return rmdir(dir) < 0 ? -errno : 0;
}

bool tty_fifos_any(void)
{
	DIR *d = opendir(run_io_base());
	struct dirent *e;
	bool any = false;

	if (!d)
		return true;    /* cannot tell: ask */
	while (!any && (e = readdir(d)) != NULL)
		any = strncmp(e->d_name, TTY_FIFO_PREFIX, strlen(TTY_FIFO_PREFIX)) == 0;
	closedir(d);
	return any;
}
