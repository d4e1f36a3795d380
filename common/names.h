/* SPDX-License-Identifier: Apache-2.0 */
/* common/names.h: tables that hold their strings inline (char name[N]), not as pointers: a
 * pointer in static data is relocated at every exec of a static-pie binary, which makes its
 * page private and dirty in every process of that binary. */
#ifndef SV_COMMON_NAMES_H
#define SV_COMMON_NAMES_H

/* Around such a table: a string that fills its char array, and so silently loses its NUL
 * (C allows it; C++ does not, hence the warning's name), is a build error, as is a longer
 * one. (And so is an int given where the table wants an enum.) */
#define SV_NAMES_BEGIN \
	_Pragma("GCC diagnostic push") _Pragma("GCC diagnostic error \"-Wc++-compat\"")
#define SV_NAMES_END _Pragma("GCC diagnostic pop")

#endif
