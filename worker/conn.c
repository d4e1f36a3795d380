/* SPDX-License-Identifier: Apache-2.0 */
/* worker/conn.c: client connections: accept, frame input, request decode and routing, replies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "common/log.h"
#include "wire/pbio.h"
#include "wire/status.h"
#include "worker.h"

struct wconn *wconn_add(struct worker *w, int fd)
{
	struct wconn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return NULL;
	}
	c->fd = fd;
	c->cid = ++w->next_cid;
	c->next = w->conns;
	w->conns = c;
	w->nconns++;
	return c;
}

void wconn_accept(struct worker *w)
{
	int k;

	for (k = 0; k < 16 && w->nconns < SV_CONN_MAX; k++) {
		int fd = accept4(w->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				sv_warn_err(-errno, "accept");
			return;
		}
		if (!wconn_add(w, fd))
			return;
	}
}

struct wconn *wconn_find(struct worker *w, uint64_t cid)
{
	struct wconn *c;

	for (c = w->conns; c; c = c->next)
		if (c->cid == cid)
			return c;
	return NULL;
}

void wconn_close(struct worker *w, struct wconn *c)
{
	struct wconn **pp;

	for (pp = &w->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	w->nconns--;
	if (c->cid == w->ev.link_cid) {
		sv_warn("the engine's link closed; events are dropped until the daemon re-attaches");
		w->ev.link_cid = 0;
	}
	wtask_forget_conn(w, c->cid);
	close(c->fd);
	ttrpc_reader_free(&c->rd);
	sv_outq_free(&c->out);
	free(c);
}

int wconn_output(struct worker *w, struct wconn *c)
{
	int r;

	(void)w;
	r = sv_outq_flush(&c->out, c->fd);
	if (r < 0)
		return r;
	if (!sv_outq_pending(&c->out) && c->out.cap > 65536) {
		sv_outq_free(&c->out);      /* give a burst's memory back */
		memset(&c->out, 0, sizeof(c->out));
	}
	return 0;
}

void w_reply(struct worker *w, uint64_t cid, uint32_t stream, int code, const char *msg,
	     const pb_msgdesc_t *fields, const void *payload)
{
	struct wconn *c = wconn_find(w, cid);
	int r;

	if (!c)
		return;
	r = ttrpc_queue_response(&c->out, stream, code, msg, code == SV_OK ? fields : NULL,
				 code == SV_OK ? payload : NULL);
	if (r < 0) {
		sv_warn_err(r, "reply on stream %u", stream);
		c->closing = true;
	}
}

void w_reply_pending(struct worker *w, struct pending *p, int code, const char *msg,
		     const pb_msgdesc_t *fields, const void *payload)
{
	if (!p->cid)
		return;
	w_reply(w, p->cid, p->stream, code, msg, fields, payload);
	p->cid = 0;
}

static void handle_frame(struct worker *w, struct wconn *c)
{
	struct ttrpc_hdr *h = &c->rd.hdr;
	sv_Request req;
	const char *ns;
	char msg[160];

	if (h->type != SV_TTRPC_TYPE_REQUEST)
		return;             /* servers ignore anything but requests */
	if ((h->stream & 1) == 0) {
		w_reply(w, c->cid, h->stream, SV_INVALID_ARGUMENT,
			"StreamID must be odd for client initiated streams", NULL, NULL);
		return;
	}
	if (sv_pb_decode(sv_Request_fields, &req, c->rd.body, h->len) < 0) {
		/* also a NUL byte in any string of it (the namespace header too) */
		w_reply(w, c->cid, h->stream, SV_INVALID_ARGUMENT,
			"unmarshal request error: invalid protobuf", NULL, NULL);
		return;
	}
	ns = ttrpc_request_ns(&req);
	if (ns && !*ns) {
		/* a namespace header sent empty: never taken for any namespace */
		w_reply(w, c->cid, h->stream, SV_INVALID_ARGUMENT,
			"namespace cannot be empty: invalid argument", NULL, NULL);
	} else if (!req.service || strcmp(req.service, SV_TASK_SERVICE) != 0) {
		snprintf(msg, sizeof(msg), "service %.100s", req.service ? req.service : "");
		w_reply(w, c->cid, h->stream, SV_UNIMPLEMENTED, msg, NULL, NULL);
	} else {
		wtask_dispatch(w, c, h->stream, req.method ? req.method : "",
			      req.payload ? req.payload->bytes : NULL, req.payload ? req.payload->size : 0);
	}
	sv_pb_free(sv_Request_fields, &req);
}

void wconn_input(struct worker *w, struct wconn *c)
{
	int k;

	/* Bounded per wake-up so one busy client cannot starve the others. */
	for (k = 0; k < 64 && !wtask_holds_conn(w, c->cid); k++) {
		int r = ttrpc_read(&c->rd, c->fd);

		if (r == 0)
			return;
		if (r == -EMSGSIZE) {
			char msg[96];

			snprintf(msg, sizeof(msg), "message length %u exceed maximum message size of %u",
				 c->rd.hdr.len, SV_TTRPC_MAX_BODY);
			w_reply(w, c->cid, c->rd.hdr.stream, SV_RESOURCE_EXHAUSTED, msg, NULL, NULL);
			c->closing = true;  /* the body cannot be skipped safely: flush, then close */
			return;
		}
		if (r < 0) {
			if (r != -ECONNRESET)
				sv_debug("connection %llu: %s", (unsigned long long)c->cid, strerror(-r));
			wconn_close(w, c);
			return;
		}
		handle_frame(w, c);
		ttrpc_reader_next(&c->rd);
		if (c->closing || w->exiting)
			return;
	}
}
