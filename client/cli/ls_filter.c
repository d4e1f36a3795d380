/* SPDX-License-Identifier: Apache-2.0 */
/* client/cli/ls_filter.c: ls --filter (label=K[=V], status=S, id=ID), as docker ps: labels
 * must all match; statuses and ids are alternatives; different keys must all match. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/cli/cli.h"

static const char *const statuses[] = { "unknown", "created", "running", "stopped", "paused",
					"pausing" };   /* sv_TaskStatus order */

int ls_filter_add(struct ls_filter *f, const char *arg, char *err, size_t errsz)
{
	const char *v = strchr(arg, '=');
	size_t klen = v ? (size_t)(v - arg) : 0;

	if (!v || !v[1]) {
		snprintf(err, errsz, "ls: --filter \"%.64s\": want label=K[=V], status=S or id=ID", arg);
		return -EINVAL;
	}
	v++;
	if (f->nlabel + f->nstatus + f->nid >= CLI_FILTERS_MAX) {
		snprintf(err, errsz, "ls: more than %d filters", CLI_FILTERS_MAX);
		return -EINVAL;
	}
	if (klen == 5 && !strncmp(arg, "label", 5) && v[0] != '=') {
		f->label[f->nlabel++] = v;
		return 0;
	}
	if (klen == 2 && !strncmp(arg, "id", 2)) {
		f->id[f->nid++] = v;
		return 0;
	}
	if (klen == 6 && !strncmp(arg, "status", 6)) {
		for (uint32_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			if (!strcmp(v, statuses[i])) {
				f->status[f->nstatus++] = i;
				return 0;
			}
		snprintf(err, errsz, "ls: --filter status=\"%.32s\": want created, running, stopped, "
			 "paused, pausing or unknown", v);
		return -EINVAL;
	}
	snprintf(err, errsz, "ls: --filter \"%.64s\": want label=K[=V], status=S or id=ID", arg);
	return -EINVAL;
}

/* want "K" (the label is there) or "K=V" (with that value) among t's "K=V" labels. */
static bool has_label(const sv_CtlTask *t, const char *want)
{
	const char *eq = strchr(want, '=');
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);

	for (pb_size_t i = 0; i < t->labels_count; i++) {
		const char *l = t->labels[i];

		if (strncmp(l, want, klen) || (l[klen] != '=' && l[klen] != 0))
			continue;
		if (!eq || !strcmp(l[klen] ? l + klen + 1 : "", eq + 1))
			return true;
	}
	return false;
}

bool ls_filter_match(const struct ls_filter *f, const sv_CtlTask *t)
{
	bool ok = f->nstatus == 0;

	for (size_t i = 0; i < f->nlabel; i++)
		if (!has_label(t, f->label[i]))
			return false;
	for (size_t i = 0; i < f->nstatus && !ok; i++)
		ok = t->status == f->status[i];
	if (!ok)
		return false;
	ok = f->nid == 0;
	for (size_t i = 0; i < f->nid && !ok; i++)
		ok = !strncmp(t->id, f->id[i], strlen(f->id[i]));
	return ok;
}

void ls_filter_apply(const struct ls_filter *f, sv_CtlListResponse *l)
{
	pb_size_t n = 0;

	for (pb_size_t i = 0; i < l->tasks_count; i++) {
		if (!ls_filter_match(f, &l->tasks[i])) {
			/* released here; the response's own release covers those kept */
			sv_pb_free(sv_CtlTask_fields, &l->tasks[i]);
			continue;
		}
		if (n != i)
			l->tasks[n] = l->tasks[i];
		n++;
	}
	l->tasks_count = n;
}
