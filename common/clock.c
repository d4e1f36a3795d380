/* SPDX-License-Identifier: Apache-2.0 */
/* common/clock.c: sv_now_ms, alone in its object so a binary links nothing else for it. */
#include <time.h>

#include "clock.h"

int64_t sv_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
