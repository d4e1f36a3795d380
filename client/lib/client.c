/* SPDX-License-Identifier: Apache-2.0 */
/* client/lib/client.c: libshimvisor's connection: connect, namespace, errors, one ttrpc call. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client/lib/client_impl.h"
#include "common/ids.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "wire/ttrpc.h"
#include "ttrpc.pb.h"

const char *sv_default_address(void)
{
	const char *a = getenv(SV_ENV_ADDRESS);

	return a && *a ? a : SV_DEFAULT_ADDRESS;
}

int sv_errno_from_code(int code)
{
	switch (code) {
	case SV_OK:                  return 0;
	case SV_NOT_FOUND:           return -ENOENT;
	case SV_ALREADY_EXISTS:      return -EEXIST;
	case SV_INVALID_ARGUMENT:    return -EINVAL;
	case SV_FAILED_PRECONDITION: return -EBUSY;
	case SV_UNIMPLEMENTED:       return -ENOSYS;
	case SV_UNAVAILABLE:         return -ECONNREFUSED;
	case SV_DEADLINE_EXCEEDED:   return -ETIMEDOUT;
	default:                     return -EIO;
	}
}

int sv_client_fail(struct sv_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	c->last_code = SV_OK;
	va_start(ap, fmt);
	vsnprintf(c->last_err, sizeof(c->last_err), fmt, ap);
	va_end(ap);
	return err;
}

int sv_client_check_id(struct sv_client *c, const char *id)
{
	if (!id || !sv_id_valid(id))
		return sv_client_fail(c, -EINVAL, "invalid id: must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
	return 0;
}

static int connect_path(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		if (err == -EINTR)
			continue;
		close(fd);
		return err;
	}
	return fd;
}

int sv_client_reconnect(struct sv_client *c)
{
	int fd = connect_path(c->address);

	if (fd < 0)
		return fd;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	c->wait_stream = c->sub_stream = 0;
	return 0;
}

int sv_connect(const char *address, struct sv_client **out)
{
	struct sv_client *c;
	const char *ns = getenv(SV_ENV_NAMESPACE);
	size_t n;

	*out = NULL;
	if (!address || !*address)
		address = sv_default_address();
	if (strncmp(address, "unix://", 7) == 0)
		address += 7;
	n = strlen(address);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(c->address))
		return -ENAMETOOLONG;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next_stream = 1;
	c->timeout_ms = SV_CALL_TIMEOUT_MS;
	snprintf(c->ns, sizeof(c->ns), "%s", SV_DEFAULT_NS);
	if (ns && *ns && sv_set_namespace(c, ns) < 0) {
		free(c);
		return -EINVAL;
	}
	memcpy(c->address, address, n + 1);
	c->fd = connect_path(c->address);
	if (c->fd < 0) {
		int err = c->fd;

		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void sv_close(struct sv_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int sv_set_namespace(struct sv_client *c, const char *ns)
{
	if (!ns || !sv_id_valid(ns))
		return sv_client_fail(c, -EINVAL, "invalid namespace: must match [A-Za-z0-9][A-Za-z0-9_.-]{0,75}");
	snprintf(c->ns, sizeof(c->ns), "%s", ns);
	return 0;
}

const char *sv_namespace(const struct sv_client *c) { return c->ns; }
void sv_set_timeout(struct sv_client *c, int timeout_ms) { c->timeout_ms = timeout_ms; }
const char *sv_last_error(const struct sv_client *c) { return c->last_err; }
int sv_last_code(const struct sv_client *c) { return c->last_code; }
int sv_client_fd(const struct sv_client *c) { return c->fd; }

int sv_client_send(struct sv_client *c, const char *method, const pb_msgdesc_t *req_fields,
		   const void *req, uint32_t *stream)
{
	uint8_t *buf = NULL, hdr[SV_TTRPC_HEADER_LEN];
	size_t len = 0;
	struct ttrpc_hdr h;
	int err;

	c->last_code = SV_OK;
	c->last_err[0] = '\0';
	if (c->fd < 0)
		return sv_client_fail(c, -ENOTCONN, "not connected");
	if (c->next_stream > UINT32_MAX - 2)
		return sv_client_fail(c, -EOVERFLOW, "out of stream ids");
	err = ttrpc_encode_request(SV_CONTROL_SERVICE, method, c->ns, 0, req_fields, req, &buf, &len);
	if (err < 0)
		return sv_client_fail(c, err, "encode %s request: %s", method, strerror(-err));
	if (len > SV_TTRPC_MAX_BODY) {
		free(buf);
		return sv_client_fail(c, -EMSGSIZE, "%s request of %zu bytes is over the frame limit",
				      method, len);
	}
	h = (struct ttrpc_hdr){ .len = (uint32_t)len, .stream = c->next_stream,
				.type = SV_TTRPC_TYPE_REQUEST };
	ttrpc_hdr_pack(hdr, &h);
	err = sv_write_all(c->fd, hdr, sizeof(hdr));
	if (err == 0 && len)
		err = sv_write_all(c->fd, buf, len);
	free(buf);
	if (err < 0)
		return sv_client_fail(c, err, "send %s: %s", method, strerror(-err));
	*stream = c->next_stream;
	c->next_stream += 2;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int decode_response(struct sv_client *c, const uint8_t *body, size_t len,
			   const pb_msgdesc_t *resp_fields, void *resp)
{
	static const uint8_t empty[1];
	const uint8_t *p;
	size_t n;
	int code, err;

	/* by hand: a payload may be over nanopb's 64 KiB bytes field (`ls` of ~1000 tasks) */
	err = ttrpc_decode_response(body ? body : empty, len, &code, c->last_err,
				    sizeof(c->last_err), &p, &n);
	if (err < 0)
		return sv_client_fail(c, -EBADMSG, "bad response from shimvisord");
	if (code != SV_OK) {
		const char *cls = sv_code_class(code);

		c->last_code = code;
		if (!c->last_err[0])
			snprintf(c->last_err, sizeof(c->last_err), "%s", cls ? cls : "error from shimvisord");
		return sv_errno_from_code(code);
	}
	if (resp_fields && sv_pb_decode(resp_fields, resp, p ? p : empty, n) < 0)
		return sv_client_fail(c, -EBADMSG, "bad response payload from shimvisord");
	return 0;
}

int sv_client_recv(struct sv_client *c, uint32_t stream, int timeout_ms,
		   const pb_msgdesc_t *resp_fields, void *resp)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		struct ttrpc_hdr h;
		uint8_t *body = NULL;
		int left = -1, err;

		if (deadline >= 0) {
			int64_t d = deadline - now_ms();

			left = d < 0 ? 0 : (int)d;
		}
		err = ttrpc_read_frame(c->fd, &h, &body, left);
		if (err == -ETIMEDOUT)
			return sv_client_fail(c, err, "no answer from shimvisord in time");
		if (err == -ECONNRESET || err == -EPIPE)
			return sv_client_fail(c, -ECONNRESET, "connection closed by shimvisord");
		if (err < 0)
			return sv_client_fail(c, err, "read from shimvisord: %s", strerror(-err));
		if (h.type != SV_TTRPC_TYPE_RESPONSE || h.stream != stream) {
			free(body);      /* a stale answer (e.g. an abandoned wait): skip it */
			continue;
		}
		err = decode_response(c, body, h.len, resp_fields, resp);
		free(body);
		return err;
	}
}

int sv_client_call(struct sv_client *c, const char *method, int timeout_ms,
		   const pb_msgdesc_t *req_fields, const void *req,
		   const pb_msgdesc_t *resp_fields, void *resp)
{
	uint32_t stream;
	int err;

	if (c->sub_stream)
		return sv_client_fail(c, -EBUSY, "connection is subscribed to events");
	if (c->wait_stream)
		return sv_client_fail(c, -EBUSY, "a wait is pending on this connection");
	err = sv_client_send(c, method, req_fields, req, &stream);
	if (err < 0)
		return err;
	return sv_client_recv(c, stream, timeout_ms, resp_fields, resp);
}
