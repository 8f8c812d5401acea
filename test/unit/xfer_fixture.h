/* xfer_fixture: what the unit tests of lazy-pages/xfer-conn.h (test_xfer_conn, test_xfer_auth)
 * share.
 *
 * Contract: xfx_setup() makes a fresh directory xfx_dir under /tmp for key files,
 * xfx_teardown() removes it. The server end of a test is a thread (srv_start(), srv_run(),
 * srv_join()) that waits up to 10 s for a client on a fresh listening socket (port 0), accepts
 * it within hs_timeout and runs an action on it (act_*), recording what xfer_accept() and the
 * action returned and the message of a failure; tests assert in their own thread, after
 * srv_join(). The helpers fail the running cmocka test on any error of their own machinery. */
#ifndef CRIU_LITE_TEST_XFER_FIXTURE_H
#define CRIU_LITE_TEST_XFER_FIXTURE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lazy-pages/xfer-conn.h"

#define BIG	   (4u << 20)
#define PG	   4096u
#define HS_TIMEOUT 5000

extern char xfx_dir[64];

struct srv {
	pthread_t th;
	int lsk;
	uint16_t port;
	const struct xfer_auth *a;
	int hs_timeout;
	int (*act)(struct srv *s, struct xfer_conn *c);
	int ret;     /* of xfer_accept() */
	int act_ret; /* of the action */
	char msg[600];
	double accept_secs;
	size_t n; /* the action's: bytes to send, bytes received */
	int stop[2];
};

int xfx_setup(void **state);
int xfx_teardown(void **state);

double xfx_now(void);
double xfx_cpu(void); /* of the process */
/* xfx_dir/name: bytes bytes from fill on, then mode */
void xfx_key_file(const char *name, char *path, size_t len, size_t bytes, uint8_t fill,
		  mode_t mode);
struct xfer_auth *xfx_key(uint8_t fill); /* from xfx_dir/key-<fill>, 64 bytes */
struct xfer_auth *xfx_insecure(void);

void srv_start(struct srv *s, const char *addr, const struct xfer_auth *a,
	       int (*act)(struct srv *, struct xfer_conn *));
void srv_run(struct srv *s);
void srv_join(struct srv *s); /* tells act_idle to end, then joins */

int act_echo(struct srv *s, struct xfer_conn *c);  /* u32 length + bytes, back, until EOF */
int act_read4(struct srv *s, struct xfer_conn *c); /* reads 4 bytes */
int act_close(struct srv *s, struct xfer_conn *c); /* closes at once */
int act_peer(struct srv *s, struct xfer_conn *c);  /* xfer_conn_peer() into s->msg */
int act_send(struct srv *s, struct xfer_conn *c);  /* s->n bytes (<= 64), then closes */
int act_idle(struct srv *s, struct xfer_conn *c);  /* nothing, until srv_join() */
int act_sink(struct srv *s, struct xfer_conn *c);  /* 32 + BIG byte frames until EOF, s->n */

/* a connection to s from addr's family, or the test fails */
struct xfer_conn *xfx_client(const char *addr, struct srv *s, const struct xfer_auth *a);

#endif
