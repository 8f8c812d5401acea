/* dump-cow: pages a task shares copy-on-write with its parent (see dump-cow.c). */
#ifndef CRIU_LITE_DUMP_COW_H
#define CRIU_LITE_DUMP_COW_H

#include <stdbool.h>
#include <stdint.h>

#include "criu-lite/dump/dump.h"

struct cow {
	const struct dump_ctx *parent; /* NULL: no parent to share pages with */
	int child_fd, parent_fd;       /* /proc/PID/pagemap of each */
	uint64_t *buf;
};

enum cow_class {
	COW_OWN,    /* the task's own, exclusive page: process_vm_readv may read it */
	COW_SHARED, /* shared with another task, or swapped: read through /proc/PID/mem */
	COW_PARENT, /* the parent task's page at the same address: PE_COW, not read at all */
};

/* [start, end) of the run is all of one class. */
typedef int (*cow_cb)(void *arg, uint64_t start, uint64_t end, enum cow_class cls);

int cow_open(struct dump_ctx *c, struct cow *cw);
void cow_close(struct cow *cw);
bool cow_vma_ok(const struct cow *cw, const struct vma *v);
int cow_split(struct cow *cw, pid_t pid, uint64_t start, uint64_t end, bool with_parent, cow_cb cb,
	      void *arg);

#endif
