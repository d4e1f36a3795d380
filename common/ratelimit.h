/* SPDX-License-Identifier: Apache-2.0 */
/* common/ratelimit.h: the one rate limit of log lines (GCRA): a burst, then one per interval. */
#ifndef SV_COMMON_RATELIMIT_H
#define SV_COMMON_RATELIMIT_H
#include <stdbool.h>
#include <stdint.h>

struct sv_rate {
	int64_t tat_ms;           /* the theoretical arrival time of the next line */
};
/* true: the line may go at now_ms (and is counted); false: over the limit. */
bool sv_rate_take(struct sv_rate *r, int64_t now_ms, int interval_ms, int burst);

#endif
