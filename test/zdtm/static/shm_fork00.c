/* shm_fork00: shared memory mapped before fork() is still one object per
 * mapping after checkpoint/restore, in every task that maps it. Three tasks:
 * root (0) -> 1 -> 2. Four objects, each mapped MAP_SHARED by its creator
 * before it forks and inherited:
 *   A  MAP_SHARED|MAP_ANONYMOUS, created by the root: tasks 0-2
 *   B  MAP_SHARED|MAP_ANONYMOUS, created by task 1 after its own fork: tasks 1-2
 *   C  a memfd (fd closed), created by the root: tasks 0-2
 *   D  a /dev/shm file unlinked right after mmap (the shm_open + shm_unlink
 *      pattern: restored from a ghost), created by the root: tasks 0-2
 * Before the dump each task writes its own page of each object it maps;
 * after the restore every task finds the pages the others wrote, then writes
 * a token of its own into the object and waits until it sees the tokens of
 * all the other tasks that map it, and that they map the same inode: a task
 * given its own copy of an object would never see them, and is caught by the
 * runner's time limit (the wait has no limit of its own: on a loaded machine
 * the other tasks may take long to run). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTASKS	   3
#define PG	   4096ul
#define NPAGES	   (NTASKS + 1) /* page i: written by task i; last page: tokens */
#define SEED(o, i) (0x5f0a0000ull + (uint64_t)(o)*0x100 + (uint64_t)(i))
#define TOKEN(i)   (0x70c0e000u + (uint32_t)(i))

static const int parent[NTASKS] = { -1, 0, 1 };

enum obj_kind { O_ANON, O_MEMFD, O_DEVSHM };

static const struct obj {
	char name;
	enum obj_kind kind;
	int creator; /* maps it in its setup, before forking; tasks creator..NTASKS-1 map it */
} objs[] = {
	{ 'A', O_ANON, 0 },
	{ 'B', O_ANON, 1 },
	{ 'C', O_MEMFD, 0 },
	{ 'D', O_DEVSHM, 0 },
};
#define NOBJS ((int)(sizeof(objs) / sizeof(objs[0])))

static char *map[NOBJS];

static int create(int o, char *why, size_t len)
{
	char path[64];
	int fd = -1;

	if (objs[o].kind == O_MEMFD) {
		fd = memfd_create("zdtm-shm_fork00", MFD_CLOEXEC);
	} else if (objs[o].kind == O_DEVSHM) {
		snprintf(path, sizeof(path), "/dev/shm/zdtm-shm_fork00.XXXXXX");
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (objs[o].kind != O_ANON && (fd < 0 || ftruncate(fd, NPAGES * PG))) {
		snprintf(why, len, "object %c: create: %s", objs[o].name, strerror(errno));
		return -1;
	}
	map[o] = mmap(NULL, NPAGES * PG, PROT_READ | PROT_WRITE,
		      MAP_SHARED | (fd < 0 ? MAP_ANONYMOUS : 0), fd, 0);
	if (fd >= 0)
		close(fd);
	if (map[o] == MAP_FAILED) {
		snprintf(why, len, "object %c: mmap: %s", objs[o].name, strerror(errno));
		return -1;
	}
	return 0;
}

static int setup(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	for (int o = 0; o < NOBJS; o++) {
		if (objs[o].creator == idx && create(o, why, len))
			return -1;
		if (idx >= objs[o].creator)
			test_fill_pattern(map[o] + idx * PG, PG, SEED(objs[o].name, idx));
	}
	return 0;
}

/* The inode of the object mapped at p. */
static unsigned long object_ino(const char *p)
{
	char path[96];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/self/map_files/%lx-%lx", (unsigned long)p,
		 (unsigned long)(p + NPAGES * PG));
	return stat(path, &st) ? 0 : (unsigned long)st.st_ino;
}

/* Write our token into slot idx of the token page, then wait for the tokens of
 * the other tasks that map object o. The inode each task sees goes next to its token. */
static int handshake(int o, int idx, char *why, size_t len)
{
	volatile uint32_t *tok = (volatile uint32_t *)(map[o] + NTASKS * PG);
	volatile uint64_t *ino = (volatile uint64_t *)(map[o] + NTASKS * PG + 1024);
	const struct timespec nap = { 0, 1000 * 1000 };

	ino[idx] = object_ino(map[o]);
	__atomic_store_n(&tok[idx], TOKEN(idx), __ATOMIC_RELEASE);
	for (int i = objs[o].creator; i < NTASKS; i++) {
		while (__atomic_load_n(&tok[i], __ATOMIC_ACQUIRE) != TOKEN(i))
			nanosleep(&nap, NULL);
		if (ino[i] != ino[idx]) {
			snprintf(why, len, "object %c: task %d maps inode %llu, this task %llu",
				 objs[o].name, i, (unsigned long long)ino[i],
				 (unsigned long long)ino[idx]);
			return -1;
		}
	}
	return 0;
}

static int check(struct test_tree *tr, int idx, char *why, size_t len)
{
	(void)tr;
	for (int o = 0; o < NOBJS; o++) {
		if (idx < objs[o].creator)
			continue;
		for (int i = objs[o].creator; i < NTASKS; i++) {
			const char *p = map[o] + i * PG;
			ssize_t bad = test_check_pattern(p, PG, SEED(objs[o].name, i));

			if (bad >= 0) {
				snprintf(
				    why, len,
				    "object %c: the page task %d wrote before the dump differs "
				    "at byte %zd (0x%02x)",
				    objs[o].name, i, bad, (unsigned char)p[bad]);
				return -1;
			}
		}
		if (handshake(o, idx, why, len))
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct test_tree tr = {
		.n = NTASKS, .parent = parent, .setup = setup, .check = check
	};

	if (test_init(argc, argv))
		return 1;
	if (test_tree_run(&tr))
		return 1;
	pass();
	return 0;
}
