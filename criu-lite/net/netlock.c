/* netlock: the network lock as an nftables table (the contract is in netlock.h).
 *
 * Why libnftables: the issue allows nftables through libnftables or netfilter netlink through
 * libnl3. libnftables is what nft(8) itself is built on, packaged and kept in Debian
 * (libnftables-dev), and its documented stable interface is the command text nft reads
 * (libnftables(3): nft_run_cmd_from_buffer); libnl3 has no nf_tables support to build rules
 * with, and writing nf_tables netlink messages by hand (libnftnl) would repeat what nft's own
 * evaluation does (payload offsets, the family dependencies of `ip saddr` in an inet table).
 *
 * How: each call builds the whole command text in memory (open_memstream) and runs it with one
 * nft_run_cmd_from_buffer(), which nft sends as one netlink batch, i.e. one transaction.
 * A lock is `add table; delete table; table { ... }`: the add makes the delete succeed when
 * there was no table, the delete drops a previous lock of that name, all in one transaction;
 * an unlock is `add table; delete table`, which succeeds whether or not the table was there.
 * Addresses are written with inet_ntop, names are checked before they are written, so nothing
 * a caller passes can change the command's meaning.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <nftables/libnftables.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_PREFIX "netlock: "
#include "criu-lite/log.h"
#include "criu-lite/net/netlock.h"

/* nft's identifier: a letter or '_', then letters, digits, '_' and '-' (nft takes '/' and '.'
 * too; we do not) */
static bool name_ok(const char *name)
{
	size_t i;

	if (!name || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
		       name[0] == '_'))
		return false;
	for (i = 1; name[i]; i++) {
		char ch = name[i];

		if (i >= NETLOCK_NAME_MAX)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool v4mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}

/* The two rules of one connection; -EINVAL for what no TCP socket can be. */
static int put_conn(FILE *f, const struct netlock_conn *c)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	const uint8_t *s = c->src, *d = c->dst;
	const char *ip = "ip";
	int af = AF_INET;

	if (c->family == AF_INET6) {
		if (v4mapped(s) != v4mapped(d))
			return -EINVAL; /* a v6 socket's two ends are both v4-mapped or neither */
		if (v4mapped(s)) {
			s += 12, d += 12;
		} else {
			ip = "ip6";
			af = AF_INET6;
		}
	} else if (c->family != AF_INET) {
		return -EINVAL;
	}
	if (!inet_ntop(af, s, src, sizeof(src)) || !inet_ntop(af, d, dst, sizeof(dst)))
		return -errno;
	fprintf(f, "\t\t%s saddr %s %s daddr %s tcp sport %u tcp dport %u counter drop\n", ip, src,
		ip, dst, c->sport, c->dport);
	fprintf(f, "\t\t%s saddr %s %s daddr %s tcp sport %u tcp dport %u counter drop\n", ip, dst,
		ip, src, c->dport, c->sport);
	return 0;
}

/* The lock's command text in *text (malloc'd): 0, or -EINVAL naming the bad connection in
 * bad (its index), -ENOMEM. */
static int lock_text(const char *name, const struct netlock_conn *c, size_t n, char **text,
		     size_t *bad)
{
	static const char *const hooks[] = { "input", "output" };
	size_t size;
	FILE *f;
	int ret = 0;

	*text = NULL;
	f = open_memstream(text, &size);
	if (!f)
		return -errno;
	fprintf(f, "add table inet %s\ndelete table inet %s\ntable inet %s {\n\tchain conns {\n",
		name, name, name);
	/* what the restore itself sends a held connection (a peer's FIN it makes again) */
	fprintf(f, "\t\tmeta mark %#x accept\n", NETLOCK_BYPASS_MARK);
	for (size_t i = 0; i < n && !ret; i++) {
		ret = put_conn(f, &c[i]);
		*bad = i;
	}
	fprintf(f, "\t}\n");
	for (size_t i = 0; i < 2; i++)
		fprintf(f,
			"\tchain %s {\n\t\ttype filter hook %s priority raw; policy accept;\n"
			"\t\tmeta l4proto tcp jump conns\n\t}\n",
			hooks[i], hooks[i]);
	fprintf(f, "}\n");
	if (ferror(f) && !ret)
		ret = -ENOMEM;
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}

/* The errno whose text nft's message carries ("Could not process rule: Operation not
 * permitted"), the longest that fits; EINVAL when there is none (nft refused the command text) */
static int nft_errno(const char *msg)
{
	size_t best = 0;
	int err = EINVAL;

	for (int e = 1; e <= EHWPOISON; e++) { /* the last errno */
		const char *s = strerrordesc_np(e);
		size_t l = s ? strlen(s) : 0;

		if (l > best && strstr(msg, s)) {
			best = l;
			err = e;
		}
	}
	return err;
}

/* nft's error text on one line: its first line, and the command it points at when it shows one
 * (the next line, unless that is the ^^^ marker) */
static void nft_message(const char *buf, char *out, size_t len)
{
	const char *l1 = buf ? buf + strspn(buf, "\n") : "", *e1 = l1 + strcspn(l1, "\n");
	const char *l2 = *e1 ? e1 + 1 : e1, *e2 = l2 + strcspn(l2, "\n");

	if (!*l1) {
		snprintf(out, len, "failed without a message");
		return;
	}
	if (e2 > l2 && *l2 != '^' && *l2 != ' ')
		snprintf(out, len, "%.*s (in: %.*s)", (int)(e1 - l1), l1, (int)(e2 - l2), l2);
	else
		snprintf(out, len, "%.*s", (int)(e1 - l1), l1);
}

/* libnftables (1.0.6) exit()s the whole process, status 3, when it can't open its netlink
 * socket (a kernel without nfnetlink): so that is tried first, here. */
static int nfnetlink_ok(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Runs one command text as one transaction: 0, or -errno with nft's message in msg. */
static int nft_run(const char *text, char *msg, size_t len)
{
	struct nft_ctx *nft;
	int ret = nfnetlink_ok();

	if (ret) {
		snprintf(msg, len, "no netfilter netlink in this kernel (NETLINK_NETFILTER: %s)",
			 strerror(-ret));
		return ret;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft) {
		snprintf(msg, len, "nft_ctx_new() failed");
		return -ENOMEM;
	}
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		snprintf(msg, len, "can't buffer libnftables' output");
		ret = -ENOMEM;
	} else if (nft_run_cmd_from_buffer(nft, text)) {
		const char *err = nft_ctx_get_error_buffer(nft);

		nft_message(err, msg, len);
		ret = -nft_errno(err ? err : "");
	}
	nft_ctx_free(nft);
	return ret;
}

int netlock_tables(char *first, size_t len)
{
	struct nft_ctx *nft;
	const char *out;
	int ret = nfnetlink_ok();

	first[0] = 0;
	if (ret == -EPROTONOSUPPORT)
		return 0; /* no nf_tables at all: no table */
	if (ret) {
		errno = -ret;
		pr_perror("nftables: a NETLINK_NETFILTER socket");
		return ret;
	}
	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return -ENOMEM;
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft)) {
		ret = -ENOMEM;
	} else if (nft_run_cmd_from_buffer(nft, "list tables")) {
		const char *err = nft_ctx_get_error_buffer(nft);

		ret = -nft_errno(err ? err : "");
		pr_err("nftables: listing the tables: %s\n", err ? err : "?");
	} else if ((out = nft_ctx_get_output_buffer(nft)) && out[0]) {
		/* "table inet NAME\n...": the first one's family and name */
		snprintf(first, len, "%.*s", (int)strcspn(out, "\n"), out);
		ret = 1;
	}
	nft_ctx_free(nft);
	return ret;
}

/* a name that passed check_name() fits */
#define UNLOCK_TEXT_MAX (2 * NETLOCK_NAME_MAX + 64)

static void unlock_text(const char *name, char *text)
{
	snprintf(text, UNLOCK_TEXT_MAX, "add table inet %s\ndelete table inet %s\n", name, name);
}

/* 0, or -EINVAL logged */
static int check_name(const char *name)
{
	if (name_ok(name))
		return 0;
	pr_err("table name \"%.80s\": not 1-%d characters of [A-Za-z0-9_-] starting with a letter "
	       "or '_'\n",
	       name ? name : "(null)", NETLOCK_NAME_MAX);
	return -EINVAL;
}

int netlock_lock(const char *name, const struct netlock_conn *c, size_t n)
{
	char msg[512], *text;
	size_t bad = 0;
	int ret;

	if (check_name(name))
		return -EINVAL;
	if (n && !c) {
		pr_err("table inet %s: %zu connections but no array\n", name, n);
		return -EINVAL;
	}
	ret = lock_text(name, c, n, &text, &bad);
	if (ret == -EINVAL) {
		pr_err("table inet %s: connection %zu (family %d, ports %u -> %u) is not a TCP "
		       "connection of AF_INET or AF_INET6 (or only one end is v4-mapped)\n",
		       name, bad, c[bad].family, c[bad].sport, c[bad].dport);
		return ret;
	}
	if (ret) {
		errno = -ret;
		pr_perror("table inet %s: can't build the rules of %zu connections", name, n);
		return ret;
	}
	ret = nft_run(text, msg, sizeof(msg));
	free(text);
	if (ret) {
		pr_err(
		    "can't lock %zu connection(s) with table inet %s: libnftables: %s (errno %d)\n",
		    n, name, msg, -ret);
		return ret;
	}
	pr_info("table inet %s: %zu connection(s) locked\n", name, n);
	return 0;
}

int netlock_unlock(const char *name)
{
	char text[UNLOCK_TEXT_MAX], msg[512];
	int ret;

	if (check_name(name))
		return -EINVAL;
	unlock_text(name, text);
	ret = nft_run(text, msg, sizeof(msg));
	if (ret) {
		pr_err("can't remove table inet %s: libnftables: %s (errno %d)\n", name, msg, -ret);
		return ret;
	}
	pr_info("table inet %s: unlocked\n", name);
	return 0;
}

int netlock_check(char *why, size_t len)
{
	/* one connection of each kind the lock writes, on documentation addresses (RFC 5737,
	 * RFC 3849) that carry no traffic: the probe exercises what a real lock does */
	struct netlock_conn probe[2] = {
		{ .family = AF_INET,
		  .src = { 192, 0, 2, 1 },
		  .dst = { 192, 0, 2, 2 },
		  .sport = 1,
		  .dport = 2 },
		{ .family = AF_INET6,
		  .src = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 },
		  .dst = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 },
		  .sport = 1,
		  .dport = 2 },
	};
	char name[NETLOCK_NAME_MAX], text[UNLOCK_TEXT_MAX], msg[512], *lock;
	unsigned int rnd = 0;
	struct timespec ts;
	size_t bad;
	int ret;

	/* unique in this namespace: the pid, and a random number for pids of other namespaces */
	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd) &&
	    !clock_gettime(CLOCK_MONOTONIC, &ts))
		rnd = (unsigned int)ts.tv_nsec;
	snprintf(name, sizeof(name), "criu-lite-probe-%d-%08x", (int)getpid(), rnd);
	ret = lock_text(name, probe, 2, &lock, &bad);
	if (ret) {
		snprintf(why, len, "can't build a probe ruleset: %s", strerror(-ret));
		return ret;
	}
	ret = nft_run(lock, msg, sizeof(msg));
	free(lock);
	if (ret) {
		snprintf(why, len, "libnftables: %s", msg);
		return ret;
	}
	unlock_text(name, text);
	ret = nft_run(text, msg, sizeof(msg));
	if (ret) {
		snprintf(why, len, "probe table inet %s left behind: libnftables: %s", name, msg);
		return ret;
	}
	snprintf(why, len, "a table with input and output hooks was added and removed");
	return 0;
}
