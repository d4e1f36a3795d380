/* SPDX-License-Identifier: Apache-2.0 */
/* common/ratelimit.c: the one rate limit of log lines (GCRA): a burst, then one per interval. */
#include "ratelimit.h"

bool sv_rate_take(struct sv_rate *r, int64_t now_ms, int interval_ms, int burst)
{
	if (r->tat_ms < now_ms)
		r->tat_ms = now_ms;
	if (r->tat_ms - now_ms > (int64_t)(burst - 1) * interval_ms)
		return false;
	r->tat_ms += interval_ms;
	return true;
}
