/* SPDX-License-Identifier: Apache-2.0 */
/* client/lib/client_impl.h: the inside of struct sv_client, shared by libshimvisor's files. */
#ifndef SV_CLIENT_IMPL_H
#define SV_CLIENT_IMPL_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/un.h>
#include <pb.h>
#include "client/shimvisor.h"
#include "common/ids.h"
#include "wire/limits.h"

struct sv_client {
	int fd;
	struct sockaddr_un sa;       /* the daemon: connected again if it closed an idle fd */
	char ns[SV_ID_MAX + 1];
	uint32_t next_stream;        /* odd, +2 per request */
	int timeout_ms;              /* per call, -1 none */
	int last_code;               /* ttrpc status of the last call (SV_OK for local errors) */
	char last_err[512];
	uint32_t wait_stream;        /* pending sv_wait_send, 0 = none */
	uint32_t sub_stream;         /* subscribed: events arrive on this stream, 0 = not */
	char address[108];           /* where it connected: to ask why, if it is cut */
	long long connected_ms;      /* when (CLOCK_REALTIME, ms) */
	bool probe;                  /* it is that asking: never asks in turn */
};

/* Connect again to the same address (the old connection is closed): 0 or -errno. */
int sv_client_reconnect(struct sv_client *c);
/* Record a local error (code SV_OK) and return err. */
int sv_client_fail(struct sv_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Refuse a bad id before anything is sent. */
int sv_client_check_id(struct sv_client *c, const char *id);
/* One unary call of shimvisor.v1.Control with the client's namespace and timeout. */
int sv_client_call(struct sv_client *c, const char *method, int timeout_ms,
		   const pb_msgdesc_t *req_fields, const void *req,
		   const pb_msgdesc_t *resp_fields, void *resp);
/* Send one request frame and return its stream id in *stream. */
int sv_client_send(struct sv_client *c, const char *method, const pb_msgdesc_t *req_fields,
		   const void *req, uint32_t *stream);
/* Read one frame on `stream` (others are skipped), decode a Response, map its status and
 * decode its payload into resp. -ETIMEDOUT, -ECONNRESET at EOF. */
int sv_client_recv(struct sv_client *c, uint32_t stream, int timeout_ms,
		   const pb_msgdesc_t *resp_fields, void *resp);

#endif
