/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/passwd.c: -u USER[:GROUP] by name, looked up in the task's own /etc/passwd and
 * /etc/group (opened inside its root, never through NSS: common/passwd.c), as runc does. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli/cli.h"
#include "common/passwd.h"

static int add_gid(struct cli_user *u, uint32_t g)
{
	uint32_t *n;

	for (size_t i = 0; i < u->ngids; i++)
		if (u->gids[i] == g)
			return 0;
	if (u->ngids >= CLI_USER_MAX_GIDS)
		return -E2BIG;
	n = realloc(u->gids, (u->ngids + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	u->gids = n;
	u->gids[u->ngids++] = g;
	return 0;
}

/* One pass over /etc/group: GROUP's gid (group named, by name), and the groups whose member
 * list holds user (user non-empty). 1 GROUP found (or none asked), 0 not, -errno. */
static int scan_groups(FILE *f, const char *group, uint32_t *gid, const char *user,
		       struct cli_user *u)
{
	struct group *gr;
	int found = !group;

	if (!f)
		return found;
	while ((gr = fgetgrent(f)) != NULL) {
		if (group && !found && !strcmp(gr->gr_name, group)) {
			*gid = gr->gr_gid;
			found = 1;
		}
		for (char **m = gr->gr_mem; user[0] && m && *m; m++)
			if (!strcmp(*m, user)) {
				int rc = add_gid(u, gr->gr_gid);
				if (rc < 0)
					return rc;
				break;
			}
	}
	return found;
}

int cli_lookup_user(const char *root, const char *spec, struct cli_user *u, char *err,
		    size_t errsz)
{
	char buf[256], name[256] = "";
	char *group;
	bool uid_num, gid_num = false;
	FILE *pf = NULL, *gf = NULL;
	int rootfd, rc = 0;

	memset(u, 0, sizeof(*u));
	if (strlen(spec) >= sizeof(buf) || !spec[0] || spec[0] == ':') {
		snprintf(err, errsz, "invalid user \"%.64s\": want USER[:GROUP] (names or numbers)", spec);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	group = strchr(buf, ':');
	if (group)
		*group++ = '\0';
	if (group && !group[0]) {
		snprintf(err, errsz, "invalid user \"%.64s\": an empty GROUP", spec);
		return -EINVAL;
	}
	uid_num = cli_parse_u32(buf, &u->uid) == 0;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		rc = -errno;
		snprintf(err, errsz, "user %.64s: root %.200s: %s", spec, root, strerror(-rc));
		return rc;
	}
	pf = sv_passwd_open(rootfd, "passwd");
	if (!pf && errno != ENOENT && errno != ENOTDIR) {
		rc = -errno;
		snprintf(err, errsz, "user %.64s: %.200s/etc/passwd: %s", spec, root, strerror(-rc));
		goto out;
	}
	/* a number the file lacks is taken as it is, with gid 0 (runc's) */
	if (sv_passwd_user(pf, uid_num ? NULL : buf, &u->uid, &u->gid, name, sizeof(name)) == 0 &&
	    !uid_num) {
		snprintf(err, errsz, "user \"%.64s\": no such user in %.200s/etc/passwd", buf, root);
		rc = -ENOENT;
		goto out;
	}
	if (group)
		gid_num = cli_parse_u32(group, &u->gid) == 0;
	gf = sv_passwd_open(rootfd, "group");
	if (!gf && errno != ENOENT && errno != ENOTDIR) {
		rc = -errno;
		snprintf(err, errsz, "user %.64s: %.200s/etc/group: %s", spec, root, strerror(-rc));
		goto out;
	}
	rc = scan_groups(gf, group && !gid_num ? group : NULL, &u->gid, name, u);
	if (rc == 0) {
		snprintf(err, errsz, "user %.64s: no such group \"%.64s\" in %.200s/etc/group", spec,
			 group, root);
		rc = -ENOENT;
	} else if (rc < 0) {
		snprintf(err, errsz, "user %.64s: %s", spec,
			 rc == -E2BIG ? "in too many groups" : strerror(-rc));
	} else {
		rc = 0;
	}
out:
	if (pf)
		fclose(pf);
	if (gf)
		fclose(gf);
	close(rootfd);
	if (rc < 0)
		cli_user_free(u);
	return rc;
}

void cli_uid_name(FILE *passwd, uint32_t uid, char *out, size_t size)
{
	uint32_t gid;

	snprintf(out, size, "%u", uid);
	if (passwd) {
		rewind(passwd);
		sv_passwd_user(passwd, NULL, &uid, &gid, out, size);
	}
}

void cli_user_free(struct cli_user *u)
{
	free(u->gids);
	u->gids = NULL;
	u->ngids = 0;
}
