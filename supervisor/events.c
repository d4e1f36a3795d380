/* SPDX-License-Identifier: Apache-2.0 */
/* supervisor/events.c: event envelopes and their fan-out to subscribed clients. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/log.h"
#include "engine.h"
#include "wire/bytes.h"
#include "wire/pbio.h"
#include "wire/status.h"

void publish_envelope(struct engine *e, const sv_Envelope *env)
{
	uint8_t *body = NULL;
	size_t len = 0;

	if (ttrpc_encode_response(SV_OK, NULL, sv_Envelope_fields, env, &body, &len) < 0)
		return;
	for (struct sv_dlink *n = e->subs.head, *next; n; n = next) {
		struct conn *c = sv_container_of(n, struct conn, sub_link);

		next = n->next;         /* a subscriber cut below leaves the list */
		if (c->closing)
			continue;
		conn_dirty(e, c);
		if (sv_outq_frame(&c->out, c->sub_stream, SV_TTRPC_TYPE_RESPONSE, body, len) < 0) {
			c->closing = true;
			continue;
		}
		if (c->out.frames <= (size_t)e->cfg->event_queue_max)
			continue;
		/* a burst within one round: a subscriber that reads takes it now */
		if (sv_outq_flush(&c->out, c->fd) < 0) {
			c->closing = true;
			sv_outq_free(&c->out);
		} else if (c->out.frames > (size_t)e->cfg->event_queue_max) {
			client_cut_subscriber(e, c);
		}
	}
	free(body);
}

void publish(struct engine *e, const char *ns, const char *topic, const char *type,
	     const pb_msgdesc_t *fields, const void *msg)
{
	char type_url[96], topic_buf[64];
	sv_Envelope env = { 0 };
	struct timespec now;
	uint8_t *val = NULL;
	size_t len = 0;
	pb_bytes_array_t *value;

	if (sv_pb_encode(fields, msg, &val, &len) < 0)
		return;
	value = sv_bytes_new(val, len);
	free(val);
	if (!value)
		return;
	snprintf(type_url, sizeof(type_url), "containerd.events.%s", type);
	snprintf(topic_buf, sizeof(topic_buf), "%s", topic);
	clock_gettime(CLOCK_REALTIME, &now);
	env.has_timestamp = true;
	env.timestamp.seconds = now.tv_sec;
	env.timestamp.nanos = (int32_t)now.tv_nsec;
	snprintf(env.namespace, sizeof(env.namespace), "%s", ns);
	env.topic = topic_buf;
	env.has_event = true;
	env.event.type_url = type_url;
	env.event.value = value;
	publish_envelope(e, &env);
	free(value);
}
