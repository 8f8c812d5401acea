/* netopts: what the page-server options of a command come to (cli.h: --auth-key, --insecure).
 *
 * Contract: netopts_auth() loads the key of --auth-key (xfer-conn.h refuses a short key or one
 * others may read) or, with --insecure, gives plaintext and warns that the pages travel
 * unencrypted to any peer; 0 or -errno, logged. netopts_pidfile() writes pid to path. */
#ifndef CRIU_LITE_NETOPTS_H
#define CRIU_LITE_NETOPTS_H

#include <sys/types.h>

#include "criu-lite/cli.h"
#include "lazy-pages/xfer-conn.h"

int netopts_auth(const struct opts *o, struct xfer_auth **out);
int netopts_pidfile(const char *path, pid_t pid);

#endif
