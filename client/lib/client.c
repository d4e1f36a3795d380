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
#include "common/clock.h"
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
		return sv_client_fail(c, -EINVAL, "invalid id: must match " SV_ID_RULE);
	return 0;
}

static long long wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A new connection to c->sa in c->fd. 0 or -errno. */
static int dial(struct sv_client *c)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&c->sa, sizeof(c->sa)) < 0) {
		int err = -errno;

		if (err == -EINTR)
			continue;
		close(fd);
		return err;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	c->next_stream = 1;     /* a refusal's reason comes on stream 1 */
	c->connected_ms = wall_ms();
	return 0;
}

/* The daemon closes a connection idle for client_idle_ms (nothing in flight): one found
 * at EOF before a request, with nothing pending on it, is made again. */
static int redial_if_closed(struct sv_client *c)
{
	char b;
	ssize_t n;

	if (c->wait_stream || c->sub_stream)
		return 0;
	n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return dial(c);
	return 0;
}

int sv_client_reconnect(struct sv_client *c)
{
	int err = dial(c);

	if (err == 0)
		c->wait_stream = c->sub_stream = 0;
	return err;
}

int sv_connect(const char *address, struct sv_client **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sv_client *c;
	const char *ns = getenv(SV_ENV_NAMESPACE);
	size_t n;
	int err;

	*out = NULL;
	if (!address || !*address)
		address = sv_default_address();
	if (strncmp(address, "unix://", 7) == 0)
		address += 7;
	n = strlen(address);
	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, address, n + 1);

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout_ms = SV_CALL_TIMEOUT_MS;
	snprintf(c->ns, sizeof(c->ns), "%s", SV_DEFAULT_NS);
	if (ns && *ns && sv_set_namespace(c, ns) < 0) {
		free(c);
		return -EINVAL;
	}
	c->sa = sa;
	c->fd = -1;
	err = dial(c);
	if (err < 0) {
		free(c);
		return err;
	}
	memcpy(c->address, sa.sun_path, n + 1);
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
		return sv_client_fail(c, -EINVAL, "invalid namespace: must match " SV_ID_RULE);
	snprintf(c->ns, sizeof(c->ns), "%s", ns);
	return 0;
}

const char *sv_namespace(const struct sv_client *c) { return c->ns; }
void sv_set_timeout(struct sv_client *c, int timeout_ms) { c->timeout_ms = timeout_ms; }
const char *sv_last_error(const struct sv_client *c) { return c->last_err; }
int sv_last_code(const struct sv_client *c) { return c->last_code; }
int sv_client_fd(const struct sv_client *c) { return c->fd; }

/* The daemon closed the connection as it was made (too many clients): its reason, an error
 * response, may be waiting. Its status (last_code, last_err set), or err. */
static int refusal(struct sv_client *c, int err)
{
	struct ttrpc_hdr h;
	uint8_t *body = NULL;
	const uint8_t *p;
	size_t n;
	int code;

	if (ttrpc_read_frame(c->fd, &h, &body, 0) == 0 && h.type == SV_TTRPC_TYPE_RESPONSE &&
	    ttrpc_decode_response(body, h.len, &code, c->last_err, sizeof(c->last_err), &p, &n) == 0 &&
	    code != SV_OK) {
		c->last_code = code;
		err = sv_errno_from_code(code);
	}
	free(body);
	return err;
}

/* How long the question below waits for the daemon's engine: past its first backoffs. */
#define LOST_PROBE_MS 5000

/* The daemon closed our connection with a call in flight: ask it, on a new connection, whether
 * its engine restarted since we connected (then the call may or may not have been carried
 * out), else it was the engine's own choice (a refused client). -ECONNRESET. */
static int connection_lost(struct sv_client *c)
{
	static const char closed[] = "connection closed by shimvisord";
	sv_CtlVersionResponse v;
	struct sv_client *p;
	int err;

	if (c->probe || !c->address[0] || sv_connect(c->address, &p) < 0)
		return sv_client_fail(c, -ECONNRESET, "%s", closed);
	p->probe = true;
	sv_set_timeout(p, LOST_PROBE_MS);
	err = sv_version(p, &v);
	sv_close(p);
	if (err == -ETIMEDOUT)
		return sv_client_fail(c, -ECONNRESET, "%s during the call, and its engine does not "
				      "answer yet (it may be restarting: see the daemon's log)", closed);
	if (err < 0)
		return sv_client_fail(c, -ECONNRESET, "%s", closed);
	if (v.engine_started_ms >= c->connected_ms)
		err = sv_client_fail(c, -ECONNRESET, "%s: the daemon's engine restarted during the "
				     "call (the engine %s; restart %u): the call may or may not have "
				     "been carried out", closed,
				     v.last_engine_end && *v.last_engine_end ? v.last_engine_end :
				     "ended", v.engine_restarts);
	else
		err = sv_client_fail(c, -ECONNRESET, "%s", closed);
	sv_pb_free(sv_CtlVersionResponse_fields, &v);
	return err;
}

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
	err = redial_if_closed(c);
	if (err < 0)
		return sv_client_fail(c, err, "connect again to shimvisord: %s", strerror(-err));
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
	if (err == -EPIPE || err == -ECONNRESET) {
		/* a refusal says why; else the daemon cut us, perhaps as its engine restarted */
		err = refusal(c, err);
		return c->last_code == SV_OK ? connection_lost(c) : err;
	}
	if (err < 0)
		return sv_client_fail(c, err, "send %s: %s", method, strerror(-err));
	*stream = c->next_stream;
	c->next_stream += 2;
	return 0;
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
	int64_t deadline = timeout_ms < 0 ? -1 : sv_now_ms() + timeout_ms;

	for (;;) {
		struct ttrpc_hdr h;
		uint8_t *body = NULL;
		int left = -1, err;

		if (deadline >= 0) {
			int64_t d = deadline - sv_now_ms();

			left = d < 0 ? 0 : (int)d;
		}
		err = ttrpc_read_frame(c->fd, &h, &body, left);
		if (err == -ETIMEDOUT)
			return sv_client_fail(c, err, "no answer from shimvisord in time");
		if (err == -ECONNRESET || err == -EPIPE)
			return connection_lost(c);
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
