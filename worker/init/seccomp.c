/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/seccomp.c: build the spec's seccomp filter with libseccomp before READY; load it
 * as the last step before exec. */
#include <errno.h>
#include <seccomp.h>

#include "worker/init/init.h"

static int add_rule(struct init *in, scmp_filter_ctx ctx, const struct spec_sc_rule *r,
		    const char *name)
{
	struct scmp_arg_cmp cmp[6];
	int nr = seccomp_syscall_resolve_name(name), rc;

	/* A syscall unknown to libseccomp or to these architectures is skipped, as runc does. */
	if (nr == __NR_SCMP_ERROR)
		return 0;
	for (size_t i = 0; i < r->nargs && i < 6; i++) {
		cmp[i].arg = r->args[i].index;
		cmp[i].op = (enum scmp_compare)r->args[i].op;
		cmp[i].datum_a = r->args[i].value;
		cmp[i].datum_b = r->args[i].value2;
	}
	rc = seccomp_rule_add_array(ctx, r->action, nr, (unsigned)r->nargs, cmp);
	if (rc == -EDOM || rc == -EOPNOTSUPP)
		return 0; /* not expressible on one of the architectures */
	if (rc)
		return init_fail(&in->err, rc, "linux.seccomp: rule for %s", name);
	return 0;
}

int sv_seccomp_prepare(struct init *in)
{
	const struct spec_seccomp *sc = in->spec.seccomp;
	scmp_filter_ctx ctx;
	int rc;

	if (!sc)
		return 0;
	ctx = seccomp_init(sc->default_action);
	if (!ctx)
		return init_failmsg(&in->err, -EINVAL, "linux.seccomp: bad defaultAction");
	in->seccomp = ctx;
	/* no_new_privs is set by caps.c when the spec asks for it, never implicitly. */
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)))
		return init_fail(&in->err, rc, "linux.seccomp: attribute");
	if (sc->flag_log && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1)))
		return init_fail(&in->err, rc, "linux.seccomp: SECCOMP_FILTER_FLAG_LOG");
	if (sc->flag_spec_allow && (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1)))
		return init_fail(&in->err, rc, "linux.seccomp: SECCOMP_FILTER_FLAG_SPEC_ALLOW");
	for (size_t i = 0; i < sc->narchs; i++) {
		rc = seccomp_arch_add(ctx, sc->archs[i]);
		if (rc && rc != -EEXIST)
			return init_fail(&in->err, rc, "linux.seccomp: architecture");
	}
	for (size_t i = 0; i < sc->nrules; i++) {
		const struct spec_sc_rule *r = &sc->rules[i];

		if (r->action == sc->default_action)
			continue;
		for (size_t n = 0; n < r->nnames; n++)
			if ((rc = add_rule(in, ctx, r, r->names[n])))
				return rc;
	}
	return 0;
}

int sv_seccomp_load(struct init *in)
{
	int rc;

	if (!in->seccomp || in->seccomp_loaded)
		return 0;
	rc = seccomp_load(in->seccomp);
	if (rc)
		return init_fail(&in->err, rc, "linux.seccomp: load");
	in->seccomp_loaded = 1;
	return 0;
}

void sv_seccomp_release(struct init *in)
{
	if (in->seccomp)
		seccomp_release(in->seccomp);
	in->seccomp = NULL;
}
