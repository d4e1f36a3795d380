/* SPDX-License-Identifier: Apache-2.0 */
/* common/sanitize.c: a sanitized build's (make SANITIZE=...) runtime options, built into every
 * binary so that processes exec'd with an empty environment (the engine, shimvisor-init) still
 * fail on any report and log it where `make check` looks. Empty in a production build. */
#if defined(SV_SAN_ASAN) || defined(SV_SAN_UBSAN)
#include <sys/prctl.h>

const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
int __lsan_is_turned_off(void);
extern const int sv_san_linked;

const int sv_san_linked = 1;    /* the Makefile's -u: pulled into every binary */

#ifdef SV_SAN_ASAN
const char *__asan_default_options(void)
{
	return SV_SAN_ASAN;
}
#endif

#ifdef SV_SAN_UBSAN
const char *__ubsan_default_options(void)
{
	return SV_SAN_UBSAN;
}
#endif

#ifdef __SANITIZE_ADDRESS__
/* LeakSanitizer stops the process's threads with ptrace from a helper it clones: that fails in
 * a process made non-dumpable (the engine, and the monitor's children before exec), and under
 * the engine's seccomp allow-list, where prctl itself is refused. Such a process is not
 * leak-checked at exit; every other one is (DESIGN.md, "Sanitized builds"). */
int __lsan_is_turned_off(void)
{
	return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1;
}
#endif
#else
typedef int sv_sanitize_unused;   /* ISO C: a translation unit is not empty */
#endif
