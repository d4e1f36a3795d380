/* SPDX-License-Identifier: Apache-2.0 */
/* common/labels.h: a task's labels (run --label K=V), checked by the CLI and the engine. */
#ifndef SV_COMMON_LABELS_H
#define SV_COMMON_LABELS_H
#include <stddef.h>

/* Labels (run --label K=V): config.json annotations SV_LABEL_PREFIX "K": "V". */
#define SV_LABEL_PREFIX     "io.shimvisor.label."
#define SV_LABEL_KEY_MAX    128
#define SV_LABEL_VALUE_MAX  1024
/* NULL if kv is a label: K of 1 to SV_LABEL_KEY_MAX printable bytes without blanks (so
 * without '='), V of at most SV_LABEL_VALUE_MAX bytes without control characters; then
 * *keylen is K's length. Else why not. */
const char *sv_label_invalid(const char *kv, size_t *keylen);

#endif
