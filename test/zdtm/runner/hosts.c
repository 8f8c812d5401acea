/* hosts: see hosts.h. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zdtm.h"
#include "hosts.h"
#include "proc.h"

#define IP_BIN "/usr/sbin/ip"

/* ip ARGS...: 0, or -errno / -ECANCELED with why (its output is in out) */
static int ip(const char *out, double deadline, char *why, size_t len, char *const argv[])
{
	struct spawn_req req = { .argv = argv, .out = out };
	int status = -1, ret = run_cmd(&req, deadline, &status);

	if (!ret && status == 0)
		return 0;
	snprintf(why, len, "`ip");
	for (int i = 1; argv[i]; i++)
		snprintf(why + strlen(why), len - strlen(why), " %s", argv[i]);
	snprintf(why + strlen(why), len - strlen(why), "` %s; see %s",
		 ret ? strerror(-ret) : "failed", out ? out : "the runner's output");
	return ret ? ret : -ECANCELED;
}

void hosts_path(const struct hosts *h, bool b, char *buf, size_t len)
{
	snprintf(buf, len, "/run/netns/%s", b ? h->b : h->a);
}

int hosts_up(struct hosts *h, const char *out, double deadline, char *why, size_t len)
{
	int ret;

	snprintf(h->a, sizeof(h->a), "zdtm-%d-a", (int)getpid());
	snprintf(h->b, sizeof(h->b), "zdtm-%d-b", (int)getpid());
	{
		char *const steps[][16] = {
			{ IP_BIN, "netns", "add", h->a, NULL },
			{ IP_BIN, "netns", "add", h->b, NULL },
			{ IP_BIN, "-n", h->a, "link", "add", "veth0", "type", "veth", "peer",
			  "name", "veth0", "netns", h->b, NULL },
			{ IP_BIN, "-n", h->a, "addr", "add", HOST_A_ADDR "/30", "dev", "veth0",
			  NULL },
			{ IP_BIN, "-n", h->b, "addr", "add", HOST_B_ADDR "/30", "dev", "veth0",
			  NULL },
			{ IP_BIN, "-n", h->a, "link", "set", "lo", "up", NULL },
			{ IP_BIN, "-n", h->b, "link", "set", "lo", "up", NULL },
			{ IP_BIN, "-n", h->a, "link", "set", "veth0", "up", NULL },
			{ IP_BIN, "-n", h->b, "link", "set", "veth0", "up", NULL },
		};

		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			ret = ip(out, deadline, why, len, steps[i]);
			if (ret) {
				hosts_down(h);
				return ret;
			}
		}
	}
	return 0;
}

void hosts_down(struct hosts *h)
{
	char err[256];

	if (h->a[0]) {
		char *const argv[] = { IP_BIN, "netns", "del", h->a, NULL };

		ip("/dev/null", now_s() + 10, err, sizeof(err), argv);
	}
	if (h->b[0]) {
		char *const argv[] = { IP_BIN, "netns", "del", h->b, NULL };

		ip("/dev/null", now_s() + 10, err, sizeof(err), argv);
	}
	h->a[0] = h->b[0] = '\0';
}

void hosts_reap_stale(void)
{
	DIR *d = opendir("/run/netns");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		int pid;
		char ab, err[256];

		if (sscanf(de->d_name, "zdtm-%d-%c", &pid, &ab) != 2 || pid <= 0 ||
		    pid == getpid() || !kill(pid, 0) || errno != ESRCH)
			continue;
		{
			char *const argv[] = { IP_BIN, "netns", "del", de->d_name, NULL };

			ip("/dev/null", now_s() + 10, err, sizeof(err), argv);
		}
	}
	if (d)
		closedir(d);
}
