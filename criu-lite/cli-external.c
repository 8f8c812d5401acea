/* cli-external: the keys of --external and --inherit-fd (see cli.h): dump's external pipes
 * ("pipe:[INO]"), unix peers ("unix:[INO]") and terminals ("tty[MAJ:MIN]"), restore's fds standing
 * for them ("fd[N]:pipe:[INO]") and the outer ends of a tree's veths
 * ("veth[INNER]:OUTER[@BRIDGE]"). Parsed and checked as parse_cli() meets them: a key that does not
 * apply to the command, or is malformed or given twice, is refused with a message on stderr (-1);
 * the lookups serve dump and restore afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "criu-lite/cli.h"

/* The keys --inherit-fd knows: "pipe:[INO]"; --external also "unix:[INO]" (a unix socket of the
 * tree connected to one outside it). */
static bool valid_key_of(const char *key, const char *fmt)
{
	unsigned long long ino;
	int n = -1;

	return sscanf(key, fmt, &ino, &n) == 1 && n == (int)strlen(key) && ino;
}

static bool valid_key(const char *key)
{
	return valid_key_of(key, "pipe:[%llu]%n");
}

/* "tty[MAJ:MIN]" of a character device number. */
static bool valid_tty_key(const char *key)
{
	unsigned int ma, mi;
	int n = -1;

	return sscanf(key, "tty[%u:%u]%n", &ma, &mi, &n) == 2 && n == (int)strlen(key) &&
	       ma < 4096 && mi < (1U << 20);
}

/* A link name the kernel takes: 1 to IFNAMSIZ - 1 bytes, no '/', ':', '@' or blank. */
static bool valid_ifname(const char *s, size_t len)
{
	if (!len || len >= IFNAMSIZ || (len == 1 && s[0] == '.') ||
	    (len == 2 && !strncmp(s, "..", 2)))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] == '@' || s[i] == '[' || s[i] == ']' ||
		    (unsigned char)s[i] <= ' ')
			return false;
	return true;
}

/* restore --external veth[INNER]:OUTER[@BRIDGE] */
static int add_veth_external(struct opts *o, const char *key)
{
	const char *in = key + 5, *rb = strchr(in, ']'), *out, *at;
	struct veth_external *e, v = { 0 };

	if (!rb || rb[1] != ':' || !valid_ifname(in, (size_t)(rb - in)))
		goto bad;
	out = rb + 2;
	at = strchr(out, '@');
	if (!valid_ifname(out, at ? (size_t)(at - out) : strlen(out)) ||
	    (at && !valid_ifname(at + 1, strlen(at + 1))))
		goto bad;
	memcpy(v.inner, in, (size_t)(rb - in));
	memcpy(v.outer, out, at ? (size_t)(at - out) : strlen(out));
	if (at)
		memcpy(v.bridge, at + 1, strlen(at + 1));
	for (int i = 0; i < o->nr_veth_external; i++)
		if (!strcmp(o->veth_external[i].inner, v.inner) ||
		    !strcmp(o->veth_external[i].outer, v.outer)) {
			fprintf(stderr,
				"criu-lite restore: --external %s: veth %s or outer end %s "
				"given twice\n",
				key, v.inner, v.outer);
			return -1;
		}
	e = realloc(o->veth_external, (size_t)(o->nr_veth_external + 1) * sizeof(*e));
	if (!e)
		return -1;
	o->veth_external = e;
	o->veth_external[o->nr_veth_external++] = v;
	return 0;
bad:
	fprintf(stderr,
		"criu-lite restore: --external '%s': expected veth[INNER]:OUTER or "
		"veth[INNER]:OUTER@BRIDGE (link names of 1 to %d characters)\n",
		key, IFNAMSIZ - 1);
	return -1;
}

int cli_add_external(struct opts *o, const char *cmd, const char *key)
{
	bool veth = !strncmp(key, "veth[", 5);
	char **e;

	if (!strcmp(cmd, "restore") && veth)
		return add_veth_external(o, key);
	if (!strcmp(cmd, "restore")) {
		fprintf(
		    stderr,
		    "criu-lite restore: --external '%s': a restore takes veth[INNER]:OUTER[@BRIDGE] "
		    "(an external pipe of the dump is given with --inherit-fd fd[N]:pipe:[INO])\n",
		    key);
		return -1;
	}
	if (veth) {
		fprintf(stderr,
			"criu-lite %s: --external '%s': veth[INNER]:OUTER[@BRIDGE] is for restore "
			"(a dump saves the veth's outer end as it is)\n",
			cmd, key);
		return -1;
	}
	if (!valid_key(key) && !valid_key_of(key, "unix:[%llu]%n") && !valid_tty_key(key)) {
		fprintf(stderr,
			"criu-lite %s: --external '%s': expected pipe:[INODE], unix:[INODE] or "
			"tty[MAJOR:MINOR]\n",
			cmd, key);
		return -1;
	}
	e = realloc(o->external, (size_t)(o->nr_external + 1) * sizeof(*e));
	if (!e)
		return -1;
	o->external = e;
	o->external[o->nr_external++] = (char *)key;
	return 0;
}

int cli_add_inherit_fd(struct opts *o, const char *cmd, const char *arg)
{
	struct inherit_fd *e;
	int fd, n = -1;

	if (sscanf(arg, "fd[%d]:%n", &fd, &n) != 1 || n < 0 || fd < 0 || !valid_key(arg + n)) {
		fprintf(stderr, "criu-lite %s: --inherit-fd '%s': expected fd[N]:pipe:[INODE]\n",
			cmd, arg);
		return -1;
	}
	for (int i = 0; i < o->nr_inherit_fd; i++)
		if (!strcmp(o->inherit_fd[i].key, arg + n)) {
			fprintf(stderr, "criu-lite %s: --inherit-fd: %s given twice\n", cmd,
				arg + n);
			return -1;
		}
	e = realloc(o->inherit_fd, (size_t)(o->nr_inherit_fd + 1) * sizeof(*e));
	if (!e)
		return -1;
	o->inherit_fd = e;
	o->inherit_fd[o->nr_inherit_fd++] = (struct inherit_fd){ .fd = fd, .key = arg + n };
	return 0;
}

const struct inherit_fd *cli_inherit_fd(const struct opts *o, const char *key)
{
	for (int i = 0; i < o->nr_inherit_fd; i++)
		if (!strcmp(o->inherit_fd[i].key, key))
			return &o->inherit_fd[i];
	return NULL;
}

bool cli_external(const struct opts *o, const char *key)
{
	for (int i = 0; i < o->nr_external; i++)
		if (!strcmp(o->external[i], key))
			return true;
	return false;
}

const struct veth_external *cli_veth_external(const struct opts *o, const char *inner)
{
	for (int i = 0; i < o->nr_veth_external; i++)
		if (!strcmp(o->veth_external[i].inner, inner))
			return &o->veth_external[i];
	return NULL;
}
