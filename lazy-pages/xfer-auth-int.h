/* xfer-auth-int: what xfer-conn.c needs of a loaded key (xfer-auth.c; the API is xfer-conn.h's
 * xfer_auth_*). Internal to lazy-pages/.
 *
 * Contract:
 * - xfer_auth_tls_setup() gives a new GnuTLS session (not the insecure auth's) our priorities
 *   (TLS 1.3 only, PSK with (EC)DHE only: XFER_TLS_PRIORITY) and the key, as a client or a
 *   server; the auth must outlive the session. It uses the session's user pointer
 *   (gnutls_session_set_ptr()): the caller leaves it alone. 0 or -ENOMEM. */
#ifndef CRIU_LITE_XFER_AUTH_INT_H
#define CRIU_LITE_XFER_AUTH_INT_H

#include <stdbool.h>

#include <gnutls/gnutls.h>

#include "lazy-pages/xfer-conn.h"

/* GnuTLS 3.7 computes an external PSK's binder with SHA-256, so the TLS 1.3 suites that fit it
 * are AES-128-GCM and ChaCha20-Poly1305 (a SHA-384 suite would fail the handshake). */
#define XFER_TLS_PRIORITY                                                                     \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-KX-ALL:+ECDHE-PSK:+DHE-PSK:-CIPHER-ALL:+AES-128-GCM:" \
	"+CHACHA20-POLY1305"

int xfer_auth_tls_setup(const struct xfer_auth *a, gnutls_session_t s, bool server);

#endif
