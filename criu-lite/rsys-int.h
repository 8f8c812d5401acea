/* rsys-int: what rsys.c and rsys-frame.c share; not for other modules.
 *
 * Contract: rsys_mem_read() reads the tracee's memory quietly (0 or -errno); the frame
 * functions are described in rsys-frame.c. */
#ifndef CRIU_LITE_RSYS_INT_H
#define CRIU_LITE_RSYS_INT_H

#include <stddef.h>
#include <stdint.h>

struct rsys;

int rsys_mem_read(struct rsys *r, uint64_t remote, void *buf, size_t len);
int rsys_frame_setup(struct rsys *r);
int rsys_frame_scratch(struct rsys *r, size_t len, uint64_t *at);
/* [*lo, *hi): every stack byte the frames and the scratch may take (r->frame set) */
void rsys_frame_span(const struct rsys *r, uint64_t *lo, uint64_t *hi);
int rsys_frame_undo(struct rsys *r, long nr, const long a[6], uint64_t *sp);

#endif
