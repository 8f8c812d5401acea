/* tcpfloor: the plain TCP floors of bench/remotebench, over the same link as the page server.
 *
 *   tcpfloor serve ADDR PORT PIDFILE  listens on ADDR:PORT (IPv4 or IPv6 literal), then goes to
 *                                     the background (its pid in PIDFILE) and serves one
 *                                     connection at a time; it exits by itself once no
 *                                     connection came for 120 s. A connection asks with its
 *                                     first byte: 'B' and a u64 (little endian) count: that many
 *                                     bytes, sent in 1 MiB writes, then the connection closes;
 *                                     'P': one byte echoed for each byte read, until EOF.
 *   tcpfloor bulk ADDR PORT BYTES     asks for BYTES and reads them into a 1 MiB buffer; prints
 *                                     the seconds from the request to the last byte in.
 *   tcpfloor rtt ADDR PORT [N]        N (default 1000) round trips of one byte, after 50 unmeasured
 *                                     ones; prints the median seconds, then the minimum.
 * Plain TCP, TCP_NODELAY on both ends, no TLS: what the link does without the page server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	   (1u << 20)
#define IDLE_MS	   120000
#define WARMUP	   50
#define MAX_ROUNDS 100000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what) __attribute__((noreturn));

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct addrinfo *resolve(const char *addr, const char *port, int passive)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV |
					      (passive ? AI_PASSIVE : 0) };
	struct addrinfo *ai;
	int r = getaddrinfo(addr, port, &hints, &ai);

	if (r) {
		fprintf(stderr, "tcpfloor: %s port %s: %s\n", addr, port, gai_strerror(r));
		exit(2);
	}
	return ai;
}

static void nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("TCP_NODELAY");
}

/* exactly len bytes: 0, or -1 at EOF */
static int read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (!n)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void write_all(int fd, const void *buf, size_t len)
{
	for (size_t put = 0; put < len;) {
		ssize_t n = write(fd, (const char *)buf + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write");
		put += (size_t)n;
	}
}

static int connect_to(const char *addr, const char *port)
{
	struct addrinfo *ai = resolve(addr, port, 0);
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen))
		die("connect");
	freeaddrinfo(ai);
	nodelay(fd);
	return fd;
}

/* ---- host A ------------------------------------------------------------------------------- */

static void serve_one(int fd, char *buf)
{
	unsigned char cmd, c;
	uint64_t count = 0;

	nodelay(fd);
	if (read_all(fd, &cmd, 1))
		return;
	if (cmd == 'B') {
		unsigned char le[8];

		if (read_all(fd, le, sizeof(le)))
			return;
		for (int i = 7; i >= 0; i--)
			count = count << 8 | le[i];
		while (count) {
			size_t n = count < CHUNK ? (size_t)count : CHUNK;

			write_all(fd, buf, n);
			count -= n;
		}
		return;
	}
	while (cmd == 'P' && !read_all(fd, &c, 1))
		write_all(fd, &c, 1);
}

static int serve(const char *addr, const char *port, const char *pidfile)
{
	struct addrinfo *ai = resolve(addr, port, 1);
	int lsk = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	char *buf = malloc(CHUNK);
	FILE *f;
	pid_t pid;

	if (lsk < 0 || !buf)
		die("socket");
	setsockopt(lsk, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lsk, ai->ai_addr, ai->ai_addrlen) || listen(lsk, 8))
		die("bind/listen");
	freeaddrinfo(ai);
	memset(buf, 0x5a, CHUNK); /* touched: no page of it is a zero page */
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid) {
		f = fopen(pidfile, "w");
		if (!f || fprintf(f, "%d\n", pid) < 0 || fclose(f))
			die(pidfile);
		return 0;
	}
	setsid();
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p = { .fd = lsk, .events = POLLIN };
		int n = poll(&p, 1, IDLE_MS), fd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0; /* nobody came for IDLE_MS: done */
		fd = accept4(lsk, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(fd, buf);
		close(fd);
	}
}

/* ---- host B ------------------------------------------------------------------------------- */

static int bulk(const char *addr, const char *port, uint64_t count)
{
	unsigned char req[9] = { 'B' };
	char *buf = malloc(CHUNK);
	uint64_t got = 0;
	double t0;
	int fd;

	if (!buf)
		die("malloc");
	for (int i = 0; i < 8; i++)
		req[1 + i] = (unsigned char)(count >> (8 * i));
	fd = connect_to(addr, port);
	t0 = now();
	write_all(fd, req, sizeof(req));
	while (got < count) {
		ssize_t n = read(fd, buf, CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		if (!n) {
			fprintf(stderr, "tcpfloor: the sender closed after %llu of %llu bytes\n",
				(unsigned long long)got, (unsigned long long)count);
			return 1;
		}
		got += (uint64_t)n;
	}
	printf("%.6f\n", now() - t0);
	close(fd);
	free(buf);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int rtt(const char *addr, const char *port, int rounds)
{
	double *t = calloc((size_t)rounds, sizeof(*t));
	unsigned char c = 'P';
	int fd = connect_to(addr, port);

	if (!t)
		die("calloc");
	write_all(fd, &c, 1);
	for (int i = -WARMUP; i < rounds; i++) {
		double t0 = now();

		write_all(fd, &c, 1);
		if (read_all(fd, &c, 1)) {
			fprintf(stderr, "tcpfloor: the echo closed\n");
			return 1;
		}
		if (i >= 0)
			t[i] = now() - t0;
	}
	close(fd);
	qsort(t, (size_t)rounds, sizeof(*t), cmp);
	printf("%.9f %.9f\n", t[rounds / 2], t[0]);
	free(t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "bulk"))
		return bulk(argv[2], argv[3], strtoull(argv[4], NULL, 0));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "rtt")) {
		int n = argc == 5 ? atoi(argv[4]) : 1000;

		if (n >= 1 && n <= MAX_ROUNDS)
			return rtt(argv[2], argv[3], n);
	}
	fprintf(stderr, "usage: tcpfloor serve ADDR PORT PIDFILE | bulk ADDR PORT BYTES | "
			"rtt ADDR PORT [N]\n");
	return 2;
}
