/* SPDX-License-Identifier: Apache-2.0 */
/* common/clock.h: the one monotonic clock every deadline and timeout of shimvisor is taken on. */
#ifndef SV_COMMON_CLOCK_H
#define SV_COMMON_CLOCK_H
#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (never jumps with the wall clock; its origin is arbitrary:
 * only differences mean anything). */
int64_t sv_now_ms(void);

#endif
