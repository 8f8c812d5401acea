/* restore-sknetns: see restore-sknetns.c. */
#ifndef CRIU_LITE_RESTORE_SKNETNS_H
#define CRIU_LITE_RESTORE_SKNETNS_H

#include <stdbool.h>

#include "files.pb-c.h"

struct restore_ctx;

int restore_sknetns_read(struct restore_ctx *c);
int restore_sknetns_make(struct restore_ctx *c);
int restore_sknetns_enter(struct restore_ctx *c, const FileEntry *fe, bool *entered);
int restore_sknetns_leave(struct restore_ctx *c, bool entered);
int restore_sknetns_nsfile(struct restore_ctx *c, const FileEntry *fe);
void restore_sknetns_free(struct restore_ctx *c);

#endif
