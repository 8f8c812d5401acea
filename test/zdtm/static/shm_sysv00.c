/* shm_sysv00: a task with a SysV shared memory segment attached is refused
 * by the dump (tests.desc expect=dumpfail: the dump must fail with an error
 * line naming SysV shared memory, and leave the task running untraced), and
 * the refused dump changes nothing: the segment is still attached at its
 * address with its contents and its shmid, and still works as shared memory
 * (a second attachment sees a write through the first). The segment is
 * marked IPC_RMID at once, so it goes away with the test however it ends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include "zdtmtst.h"

#define SIZE (4 * 4096)
#define SEED 0x5e5f0000ull

static int check(const char *when, int id, char *p)
{
	struct shmid_ds ds;
	ssize_t bad = test_check_pattern(p, SIZE, SEED);
	char *q;

	if (bad >= 0) {
		fail("%s: segment %d at %p differs at byte %zd", when, id, (void *)p, bad);
		return -1;
	}
	if (shmctl(id, IPC_STAT, &ds)) {
		fail_errno("%s: shmctl(%d, IPC_STAT)", when, id);
		return -1;
	}
	if (ds.shm_segsz != SIZE || ds.shm_nattch != 1) {
		fail("%s: segment %d: %zu bytes, %lu attachments; expected %d, 1", when, id,
		     (size_t)ds.shm_segsz, (unsigned long)ds.shm_nattch, SIZE);
		return -1;
	}
	q = shmat(id, NULL, 0);
	if (q == (void *)-1) {
		fail_errno("%s: second shmat(%d)", when, id);
		return -1;
	}
	p[100] ^= 0x77;
	if (q[100] != p[100]) {
		fail("%s: a write at %p is not seen through the second attachment %p", when,
		     (void *)p, (void *)q);
		return -1;
	}
	p[100] ^= 0x77;
	shmdt(q);
	return 0;
}

int main(int argc, char **argv)
{
	char *p;
	int id;

	if (test_init(argc, argv))
		return 1;
	id = shmget(IPC_PRIVATE, SIZE, IPC_CREAT | 0600);
	if (id < 0) {
		if (errno == ENOSYS) {
			skip("SysV IPC is not in this kernel");
			return 0;
		}
		fail_errno("setup: shmget");
		return 1;
	}
	p = shmat(id, NULL, 0);
	if (shmctl(id, IPC_RMID, NULL) || p == (void *)-1) {
		fail_errno("setup: shmat/IPC_RMID of segment %d", id);
		return 1;
	}
	test_fill_pattern(p, SIZE, SEED);
	if (check("setup", id, p))
		return 1;
	if (test_daemon())
		return 1;
	test_waitsig();

	if (check("after the refused dump", id, p))
		return 1;
	pass();
	return 0;
}
