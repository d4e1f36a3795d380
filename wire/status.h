/* SPDX-License-Identifier: Apache-2.0 */
/* wire/status.h: gRPC status codes as carried in ttrpc responses (PROTOCOL.md §2.4). */
#ifndef SV_WIRE_STATUS_H
#define SV_WIRE_STATUS_H

enum sv_code {
	SV_OK = 0, SV_CANCELLED = 1, SV_UNKNOWN = 2, SV_INVALID_ARGUMENT = 3,
	SV_DEADLINE_EXCEEDED = 4, SV_NOT_FOUND = 5, SV_ALREADY_EXISTS = 6,
	SV_PERMISSION_DENIED = 7, SV_RESOURCE_EXHAUSTED = 8, SV_FAILED_PRECONDITION = 9,
	SV_ABORTED = 10, SV_OUT_OF_RANGE = 11, SV_UNIMPLEMENTED = 12, SV_INTERNAL = 13,
	SV_UNAVAILABLE = 14, SV_DATA_LOSS = 15, SV_UNAUTHENTICATED = 16,
};

/* The containerd error-class suffix for a code ("not found", ...), or NULL. */
const char *sv_code_class(int code);
/* The gRPC code that best describes a negative errno. */
int sv_code_from_errno(int neg_errno);

#endif
