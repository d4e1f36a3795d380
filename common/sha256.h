/* SPDX-License-Identifier: Apache-2.0 */
/* common/sha256.h: SHA-256 (FIPS 180-4), for shim socket names. */
#ifndef SV_COMMON_SHA256_H
#define SV_COMMON_SHA256_H
#include <stddef.h>
#include <stdint.h>

void sv_sha256(const void *data, size_t len, uint8_t out[32]);
/* First n bytes of the digest as 2n lowercase hex chars + NUL into hex. */
void sv_sha256_hex(const void *data, size_t len, char *hex, size_t n);

#endif
