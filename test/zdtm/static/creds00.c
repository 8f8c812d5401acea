/* creds00: threads with credentials of their own survive checkpoint/restore. Linux keeps
 * credentials per thread; the raw syscalls (and libcap, which acts on the calling thread) change
 * one thread only:
 *
 *   thread    what it changes for itself
 *   main      nothing (root, as started)
 *   uids      gids 2000/2001/2002 and groups 3000, 3001 (raw setresgid, setgroups), then uids
 *             1000/1000/0 (raw setresuid: its effective capabilities go, the permitted stay)
 *   caps      with libcap: CAP_NET_RAW out of its effective and permitted sets,
 *             CAP_NET_BIND_SERVICE inheritable and ambient, CAP_SYS_BOOT out of its bounding
 *             set; securebits SECBIT_KEEP_CAPS
 *   nnp       no_new_privs, and fsuid 5000 / fsgid 5001
 *
 * Every thread reads its own Uid, Gid, Groups, Cap* and NoNewPrivs lines of
 * /proc/self/task/TID/status and its securebits before the dump and again after the restore;
 * they must be the same, and differ between the threads as set up.
 */
#include <errno.h>
#include <linux/securebits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zdtmtst.h"

#define NTHR 4

struct thr {
	const char *name;
	int (*setup)(void);
	int go[2], done[2];
	char before[1024];
	char why[2200];
};

/* The credential lines of this thread's status and its securebits, into out. */
static int creds_text(char *out, size_t len)
{
	static const char *const keys[] = { "Uid:",    "Gid:",	  "Groups:",
					    "CapInh:", "CapPrm:", "CapEff:",
					    "CapBnd:", "CapAmb:", "NoNewPrivs:" };
	char path[64], *s;
	size_t n, o = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
	s = test_read_file(path, &n);
	if (!s)
		return -1;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char *l = strstr(s, keys[k]);
		size_t ll = l ? strcspn(l, "\n") : 0;

		if (!l || (l != s && l[-1] != '\n')) {
			free(s);
			return -1;
		}
		o += (size_t)snprintf(out + o, len - o, "%.*s; ", (int)ll, l);
		if (o >= len)
			break;
	}
	free(s);
	snprintf(out + o, len - o > 0 ? len - o : 0, "securebits %#x",
		 prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
	return 0;
}

static int setup_uids(void)
{
	gid_t groups[] = { 3000, 3001 };

	if (syscall(SYS_setresgid, 2000, 2001, 2002) || syscall(SYS_setgroups, 2, groups))
		return -1;
	return (int)syscall(SYS_setresuid, 1000, 1000, 0);
}

static int setup_caps(void)
{
	cap_value_t raw = CAP_NET_RAW, bind = CAP_NET_BIND_SERVICE;
	cap_t c = cap_get_proc();
	int ret = -1;

	if (!c)
		return -1;
	if (!cap_set_flag(c, CAP_EFFECTIVE, 1, &raw, CAP_CLEAR) &&
	    !cap_set_flag(c, CAP_PERMITTED, 1, &raw, CAP_CLEAR) &&
	    !cap_set_flag(c, CAP_INHERITABLE, 1, &bind, CAP_SET) && !cap_set_proc(c) &&
	    !cap_set_ambient(CAP_NET_BIND_SERVICE, CAP_SET) && !cap_drop_bound(CAP_SYS_BOOT) &&
	    !cap_set_secbits(SECBIT_KEEP_CAPS))
		ret = 0;
	cap_free(c);
	return ret;
}

static int setup_nnp(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	syscall(SYS_setfsuid, 5000); /* returns the old fsuid: checked through the status */
	syscall(SYS_setfsgid, 5001);
	return 0;
}

static struct thr thr[NTHR] = {
	{ .name = "main" },
	{ .name = "uids", .setup = setup_uids },
	{ .name = "caps", .setup = setup_caps },
	{ .name = "nnp", .setup = setup_nnp },
};

static void check(struct thr *t)
{
	char now[1024];

	t->why[0] = 0;
	if (creds_text(now, sizeof(now)))
		snprintf(t->why, sizeof(t->why), "%s: can't read its credentials", t->name);
	else if (strcmp(now, t->before))
		snprintf(t->why, sizeof(t->why), "%s: credentials now %s; before the dump %s",
			 t->name, now, t->before);
}

static void *thread_main(void *arg)
{
	struct thr *t = arg;
	char c;

	if (t->setup())
		snprintf(t->why, sizeof(t->why), "%s: setup failed: %s", t->name, strerror(errno));
	else if (creds_text(t->before, sizeof(t->before)))
		snprintf(t->why, sizeof(t->why), "%s: can't read its credentials", t->name);
	if (write(t->done[1], "r", 1) != 1)
		return NULL;
	while (read(t->go[0], &c, 1) == 1) {
		check(t);
		if (write(t->done[1], "d", 1) != 1)
			break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	char c;

	if (test_init(argc, argv))
		return 1;
	if (creds_text(thr[0].before, sizeof(thr[0].before)))
		fail("setup: can't read main's credentials");
	for (int i = 1; i < NTHR; i++) {
		pthread_t th;

		if (pipe(thr[i].go) || pipe(thr[i].done) ||
		    pthread_create(&th, NULL, thread_main, &thr[i]) ||
		    read(thr[i].done[0], &c, 1) != 1)
			fail("setup: thread %s did not start", thr[i].name);
		else if (thr[i].why[0])
			fail("setup: %s", thr[i].why);
	}
	for (int i = 1; i < NTHR; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(thr[i].before, thr[j].before))
				fail("setup: threads %s and %s have the same credentials",
				     thr[i].name, thr[j].name);

	if (test_daemon())
		return 1;
	test_waitsig();

	check(&thr[0]);
	if (thr[0].why[0])
		fail("%s", thr[0].why);
	for (int i = 1; i < NTHR; i++) {
		if (write(thr[i].go[1], "c", 1) != 1 || read(thr[i].done[0], &c, 1) != 1)
			fail("thread %s did not check", thr[i].name);
		else if (thr[i].why[0])
			fail("%s", thr[i].why);
	}
	pass();
	return 0;
}
