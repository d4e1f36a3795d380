/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/spec_options.h: the run options of a generated config.json (spec_options.c). */
#ifndef SV_SUP_SPEC_OPTIONS_H
#define SV_SUP_SPEC_OPTIONS_H
#include <stdbool.h>
#include <cjson/cJSON.h>
#include "control.pb.h"

/* "none", "host", "loopback" or an absolute path (a network namespace to join). */
bool spec_net_valid(const char *net);
/* rq's mounts (bind or tmpfs, options from a short list; nosuid,nodev added last) appended to
 * the mounts array. 0 or -EINVAL with err. */
int spec_add_mounts(cJSON *mounts, const sv_CtlCreateRequest *rq, char *err, size_t errsz);
/* process.capabilities: the default set, less cap_drop, plus cap_add. 0 or -EINVAL. */
int spec_set_caps(cJSON *process, const sv_CtlCreateRequest *rq, char *err, size_t errsz);
/* linux.seccomp as compact JSON: dflt (the daemon's; NULL: none), none ("unconfined"), or
 * rq's own profile (checked, malloc'd in *own for the caller to free). 0 or -EINVAL. */
int spec_seccomp_choice(const sv_CtlCreateRequest *rq, const char *dflt, char **own,
			const char **out, char *err, size_t errsz);
/* rq's labels into the annotations object (a later K replaces an earlier). 0 or -EINVAL. */
int spec_add_labels(cJSON *annotations, char **labels, pb_size_t n, char *err, size_t errsz);

#endif
