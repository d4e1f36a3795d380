/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/fuzz/replay.c: a fuzz target without libFuzzer, for make check: every file of its
 * corpus (selftest/fuzz/corpus/<name>/, or the directory given) through
 * LLVMFuzzerTestOneInput, one TAP line each. A crash is the process's death: prove says so. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int read_all(int dir, const char *name, uint8_t **buf, size_t *len)
{
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n = 0;

	if (fd < 0 || fstat(fd, &st) < 0 || !(*buf = malloc((size_t)st.st_size + 1))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (*len = 0; *len < (size_t)st.st_size; *len += (size_t)n)
		if ((n = read(fd, *buf + *len, (size_t)st.st_size - *len)) <= 0)
			break;
	close(fd);
	return n < 0 ? -1 : 0;
}

static int not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	char path[4096];
	struct dirent **ents;
	int n, dir, failed = 0;

	if (argc > 1)
		snprintf(path, sizeof(path), "%s", argv[1]);
	else    /* fuzz_<name> runs corpus/<name> */
		snprintf(path, sizeof(path), "%s/%s", SV_FUZZ_CORPUS,
			 strncmp(base, "fuzz_", 5) ? base : base + 5);
	if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (n = scandir(path, &ents, not_hidden, alphasort)) < 0) {
		printf("1..0 # SKIP no corpus at %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("1..%d\n", n);
	for (int i = 0; i < n; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;

		fflush(stdout);         /* a crash leaves the lines before it */
		if (read_all(dir, ents[i]->d_name, &buf, &len) < 0) {
			printf("not ok %d - %s: %s\n", i + 1, ents[i]->d_name, strerror(errno));
			failed++;
		} else {
			LLVMFuzzerTestOneInput(buf, len);
			printf("ok %d - %s (%zu bytes)\n", i + 1, ents[i]->d_name, len);
		}
		free(buf);
		free(ents[i]);
	}
	free(ents);
	close(dir);
	return failed ? 1 : 0;
}
