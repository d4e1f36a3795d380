/* SPDX-License-Identifier: Apache-2.0 */
/* worker/events.c: task events as reports on the engine's link (shimvisord) or Events/Forward
 * (containerd). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "common/log.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "report.pb.h"
#include "task.pb.h"
#include "worker.h"

#define FWD_BACKOFF_MIN_MS 250
#define FWD_BACKOFF_MAX_MS 4000

void wev_init(struct worker *w, int link_fd)
{
	struct events *e = &w->ev;
	const char *a;

	memset(e, 0, sizeof(*e));
	e->report_mode = link_fd >= 0;
	e->fwd_fd = -1;
	e->fwd_next = 1;
	e->backoff_ms = FWD_BACKOFF_MIN_MS;
	if (e->report_mode) {
		struct wconn *c = wconn_add(w, link_fd);

		if (!c)
			sv_die(-ENOMEM, "the engine's link");
		e->link_cid = c->cid;
		return;
	}
	a = getenv("TTRPC_ADDRESS");
	if (a && strncmp(a, "unix://", 7) == 0)
		a += 7;
	if (a && *a && strlen(a) < sizeof(((struct sockaddr_un *)0)->sun_path))
		e->ttrpc_path = strdup(a);
}

/* One Report, queued on the link behind the replies already there: the engine reads both
 * in the order they happened. Numbered even when the link is gone. */
static void report_send(struct worker *w, sv_Report *rep)
{
	struct events *e = &w->ev;
	struct wconn *c;
	uint8_t *buf = NULL;
	size_t len = 0;
	int err;

	rep->seq = ++e->seq;
	if (!e->link_cid || !(c = wconn_find(w, e->link_cid)))
		return;
	err = sv_pb_encode(sv_Report_fields, rep, &buf, &len);
	if (err == 0 && len > SV_REPORT_MAX)
		err = -EMSGSIZE;
	if (err == 0)
		err = sv_outq_frame(&c->out, SV_REPORT_STREAM, SV_TTRPC_TYPE_DATA, buf, len);
	free(buf);
	if (err < 0)
		sv_warn_err(err, "report %llu", (unsigned long long)rep->seq);
}

void wev_hello(struct worker *w)
{
	sv_Report rep;

	if (!w->ev.report_mode)
		return;
	memset(&rep, 0, sizeof(rep));
	rep.which_kind = sv_Report_hello_tag;
	rep.kind.hello.version = (char *)SV_VERSION;
	rep.kind.hello.worker_pid = (uint32_t)getpid();
	report_send(w, &rep);
}

/* ---- Forward to containerd ---- */

static void fwd_close(struct events *e)
{
	if (e->fwd_fd >= 0)
		close(e->fwd_fd);
	e->fwd_fd = -1;
	e->fwd_connecting = false;
	e->fwd_stream = 0;
	ttrpc_reader_free(&e->fwd_rd);
	memset(&e->fwd_rd, 0, sizeof(e->fwd_rd));
	sv_outq_free(&e->fwd_out);
	memset(&e->fwd_out, 0, sizeof(e->fwd_out));
}

static void fwd_pop(struct events *e)
{
	struct evq_item *it = e->head;

	if (!it)
		return;
	e->head = it->next;
	if (!e->head)
		e->tail = NULL;
	e->count--;
	free(it->buf);
	free(it);
}

static void fwd_fail(struct events *e, const char *why)
{
	sv_debug("forward: %s", why);
	fwd_close(e);
	/* never dropped: containerd may be restarting; retry, in order, with back-off */
	if (e->head && ++e->head->tries % 8 == 0)
		sv_warn("forward: %d attempts so far (%s); still retrying", e->head->tries, why);
	e->fwd_deadline_ms = sv_now_ms() + e->backoff_ms;
	if (e->backoff_ms < FWD_BACKOFF_MAX_MS)
		e->backoff_ms *= 2;
}

static void fwd_flush(struct events *e)
{
	if (sv_outq_flush(&e->fwd_out, e->fwd_fd) < 0)
		fwd_fail(e, "write");
}

static void fwd_kick(struct events *e)
{
	int r;

	if (!e->ttrpc_path || !e->head || e->fwd_stream || e->fwd_deadline_ms)
		return;
	if (e->fwd_fd < 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, e->ttrpc_path);     /* length checked in wev_init */
		e->fwd_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (e->fwd_fd < 0) {
			fwd_fail(e, "socket");
			return;
		}
		if (connect(e->fwd_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (errno != EINPROGRESS) {
				fwd_fail(e, "connect");
				return;
			}
			e->fwd_connecting = true;
		}
	}
	r = sv_outq_frame(&e->fwd_out, e->fwd_next, SV_TTRPC_TYPE_REQUEST, e->head->buf, e->head->len);
	if (r < 0) {
		fwd_fail(e, "queue");
		return;
	}
	e->fwd_stream = e->fwd_next;
	e->fwd_next += 2;
	if (e->fwd_next < 3)
		e->fwd_next = 1;    /* wrapped */
	e->fwd_deadline_ms = sv_now_ms() + W_FWD_TIMEOUT_MS;
	if (!e->fwd_connecting)
		fwd_flush(e);
}

int wev_poll_fd(struct worker *w, short *events)
{
	struct events *e = &w->ev;

	if (e->fwd_fd < 0)
		return -1;
	*events = POLLIN;
	if (e->fwd_connecting || sv_outq_pending(&e->fwd_out))
		*events |= POLLOUT;
	return e->fwd_fd;
}

static void fwd_response(struct events *e)
{
	sv_Response resp;
	int code;

	if (e->fwd_rd.hdr.type != SV_TTRPC_TYPE_RESPONSE || e->fwd_rd.hdr.stream != e->fwd_stream)
		return;
	if (sv_pb_decode(sv_Response_fields, &resp, e->fwd_rd.body, e->fwd_rd.hdr.len) < 0) {
		fwd_fail(e, "bad response");
		return;
	}
	code = resp.has_status ? resp.status.code : SV_OK;
	if (code == SV_UNAVAILABLE || code == SV_DEADLINE_EXCEEDED) {
		sv_pb_free(sv_Response_fields, &resp);
		e->fwd_stream = 0;
		fwd_fail(e, "unavailable");
		return;
	}
	if (code != SV_OK)
		sv_warn("forward: event refused: %d %s", code,
			resp.status.message ? resp.status.message : "");
	sv_pb_free(sv_Response_fields, &resp);
	fwd_pop(e);
	e->fwd_stream = 0;
	e->fwd_deadline_ms = 0;
	e->backoff_ms = FWD_BACKOFF_MIN_MS;
}

void wev_fwd_ready(struct worker *w, short revents)
{
	struct events *e = &w->ev;
	int k;

	if (e->fwd_fd < 0)
		return;
	if (e->fwd_connecting && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(e->fwd_fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			fwd_fail(e, "connect");
			return;
		}
		e->fwd_connecting = false;
	}
	if ((revents & POLLOUT) && sv_outq_pending(&e->fwd_out)) {
		fwd_flush(e);
		if (e->fwd_fd < 0)
			return;
	}
	for (k = 0; k < 16 && (revents & (POLLIN | POLLHUP | POLLERR)); k++) {
		int r = ttrpc_read(&e->fwd_rd, e->fwd_fd);

		if (r == 0)
			break;
		if (r < 0) {
			fwd_fail(e, "read");
			return;
		}
		fwd_response(e);
		if (e->fwd_fd < 0)
			return;
		ttrpc_reader_next(&e->fwd_rd);
	}
	fwd_kick(e);
}

void wev_timer(struct worker *w, int64_t now)
{
	struct events *e = &w->ev;

	(void)now;
	if (e->fwd_stream) {
		fwd_fail(e, "timed out");
		return;
	}
	e->fwd_deadline_ms = 0;
	fwd_kick(e);
}

bool wev_idle(const struct worker *w)
{
	const struct events *e = &w->ev;

	return !e->ttrpc_path || !e->head;
}

static void fwd_enqueue(struct worker *w, sv_Envelope *env)
{
	struct events *e = &w->ev;
	sv_ForwardRequest fr;
	struct evq_item *it;
	int err;

	if (!e->ttrpc_path)
		return;
	it = calloc(1, sizeof(*it));
	if (!it)
		return;
	memset(&fr, 0, sizeof(fr));
	fr.has_envelope = true;
	fr.envelope = *env;
	err = ttrpc_encode_request(SV_EVENTS_SERVICE, "Forward", w->o.ns,
				   (int64_t)W_FWD_TIMEOUT_MS * 1000000, sv_ForwardRequest_fields, &fr,
				   &it->buf, &it->len);
	if (err < 0) {
		free(it);
		sv_warn_err(err, "encode forward");
		return;
	}
	if (e->count >= W_EVQ_MAX) {
		/* drop the oldest that is not in flight */
		if (e->fwd_stream && e->head && e->head->next) {
			struct evq_item *d = e->head->next;

			e->head->next = d->next;
			if (e->tail == d)
				e->tail = e->head;
			free(d->buf);
			free(d);
			e->count--;
		} else if (!e->fwd_stream) {
			fwd_pop(e);
		}
		sv_warn("forward: queue full, oldest event dropped");
	}
	if (e->tail)
		e->tail->next = it;
	else
		e->head = it;
	e->tail = it;
	e->count++;
	fwd_kick(e);
}

void wev_publish(struct worker *w, const char *topic, const char *type,
		const pb_msgdesc_t *fields, const void *msg)
{
	sv_Envelope env;
	struct timespec now;
	uint8_t *val = NULL;
	size_t len = 0;
	pb_bytes_array_t *arr;

	if (!w->ev.report_mode && !w->ev.ttrpc_path) {
		sv_debug("event %s (no sink)", topic);
		return;
	}
	if (sv_pb_encode(fields, msg, &val, &len) < 0)
		return;
	arr = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(len));
	if (!arr) {
		free(val);
		return;
	}
	arr->size = (pb_size_t)len;
	if (len)
		memcpy(arr->bytes, val, len);
	free(val);

	clock_gettime(CLOCK_REALTIME, &now);
	memset(&env, 0, sizeof(env));
	env.has_timestamp = true;
	env.timestamp.seconds = now.tv_sec;
	env.timestamp.nanos = (int32_t)now.tv_nsec;
	strncpy(env.namespace, w->o.ns, sizeof(env.namespace) - 1);
	env.topic = (char *)topic;
	env.has_event = true;
	env.event.type_url = (char *)type;
	env.event.value = arr;
	sv_debug("event %s", topic);

	if (w->ev.report_mode) {
		sv_Report rep;

		memset(&rep, 0, sizeof(rep));
		rep.which_kind = sv_Report_event_tag;
		rep.kind.event = env;
		report_send(w, &rep);
	} else {
		fwd_enqueue(w, &env);
	}
	free(arr);
}
