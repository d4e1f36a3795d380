/* SPDX-License-Identifier: Apache-2.0 */
/* wire/status.c: gRPC status codes: containerd's error-class names and the errno mapping. */
#include <errno.h>
#include <stddef.h>

#include "status.h"

const char *sv_code_class(int code)
{
	switch (code) {
	case SV_INVALID_ARGUMENT:	return "invalid argument";
	case SV_NOT_FOUND:		return "not found";
	case SV_ALREADY_EXISTS:		return "already exists";
	case SV_FAILED_PRECONDITION:	return "failed precondition";
	case SV_UNIMPLEMENTED:		return "not implemented";
	case SV_UNAVAILABLE:		return "unavailable";
	default:			return NULL;
	}
}

int sv_code_from_errno(int neg_errno)
{
	int e = neg_errno < 0 ? -neg_errno : neg_errno;

	switch (e) {
	case 0:			return SV_OK;
	case ENOENT:
	case ESRCH:		return SV_NOT_FOUND;
	case EEXIST:		return SV_ALREADY_EXISTS;
	case EINVAL:		return SV_INVALID_ARGUMENT;
	case EBUSY:
	case EALREADY:		return SV_FAILED_PRECONDITION;
	case ENOSYS:
	case EOPNOTSUPP:	return SV_UNIMPLEMENTED;
	case ETIMEDOUT:		return SV_DEADLINE_EXCEEDED;
	case EMSGSIZE:
	case ENOMEM:		return SV_RESOURCE_EXHAUSTED;
	case EPERM:
	case EACCES:		return SV_PERMISSION_DENIED;
	case ECONNREFUSED:
	case EPIPE:
	case ECONNRESET:	return SV_UNAVAILABLE;
	default:		return SV_UNKNOWN;
	}
}
