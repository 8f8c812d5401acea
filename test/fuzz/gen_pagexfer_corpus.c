/* gen_pagexfer_corpus: writes small valid page-server streams (xfer-msg.h), one per role and a
 * few more, into a directory, as seeds for fuzz_pagexfer (test/fuzz/corpus-pagexfer/). Run once
 * by hand:
 *
 *   make build/plain/libcriu-lite.a build/plain/libimages.a
 *   cc -std=gnu11 -D_GNU_SOURCE -I. -Ibuild/proto -o /tmp/gen_pagexfer_corpus \
 *      test/fuzz/gen_pagexfer_corpus.c build/plain/libcriu-lite.a build/plain/libimages.a \
 *      -lprotobuf-c -lisal
 *   /tmp/gen_pagexfer_corpus test/fuzz/corpus-pagexfer
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lazy-pages/xfer-msg.h"

#define PEER "gen_pagexfer_corpus"

static int file_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
	for (int i = 0; i < iovcnt; i++)
		if (fwrite(iov[i].iov_base, 1, iov[i].iov_len, ctx) != iov[i].iov_len)
			return -EIO;
	return 0;
}

static FILE *seed(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		perror(path);
	return f;
}

static int send1(FILE *f, const XferMsg *m, const void *payload, size_t len)
{
	struct img_err err = { 0 };

	if (xfer_send(file_writev, f, m, payload, len, PEER, &err) < 0) {
		fprintf(stderr, "gen_pagexfer_corpus: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static XferMsg hello(XferRole role)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = XFER_KIND__XFER_HELLO;
	m.has_version = m.has_role = m.has_session = m.has_dump_id = m.has_features = true;
	m.version = XFER_VERSION;
	m.role = role;
	m.session = 0x5eed5eed5eedull;
	m.dump_id = 3;
	return m;
}

static XferMsg kind(XferKind k)
{
	XferMsg m = XFER_MSG__INIT;

	m.kind = k;
	return m;
}

/* PAGES of nr pages at addr: page i is zero where zero_pat[i % len] is '0' */
static int pages(FILE *f, uint64_t req_id, uint64_t addr, uint32_t nr, const char *zero_pat)
{
	static uint8_t buf[16 * XFER_PG];
	uint8_t map[2];
	struct iovec iov[16];
	XferMsg m = kind(XFER_KIND__XFER_PAGES);
	struct img_err err = { 0 };
	int n;

	memset(buf, 0, sizeof(buf));
	for (uint32_t i = 0; i < nr; i++)
		if (zero_pat[i % strlen(zero_pat)] != '0')
			memset(buf + i * XFER_PG, 'a' + i, 16);
	m.has_req_id = req_id != 0;
	m.req_id = req_id;
	m.has_space = m.has_id = m.has_addr = m.has_nr_pages = true;
	m.space = XFER_SPACE__XFER_SPACE_TASK;
	m.id = 42;
	m.addr = addr;
	m.nr_pages = nr;
	if (xfer_pages_pack(buf, nr, map, iov, &n)) {
		m.has_zero_map = true;
		m.zero_map.data = map;
		m.zero_map.len = (nr + 7) / 8;
	}
	if (xfer_sendv(file_writev, f, &m, iov, n, PEER, &err) < 0) {
		fprintf(stderr, "gen_pagexfer_corpus: %s\n", err.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const uint8_t tls_hello[] = { 0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00,
					     0x2a, 0x03, 0x03, 0x00, 0x01, 0x02, 0x03, 0x04 };
	static const char data[] = "a few bytes of an image file";
	static char name[XFER_MAX_NAME + 1], text[XFER_MAX_TEXT + 1];
	XferMsg m;
	FILE *f;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	/* FAULTS: hello, a request, its answer (a zero page in 3), done */
	if (!(f = seed(argv[1], "faults")))
		return 1;
	m = hello(XFER_ROLE__XFER_ROLE_FAULTS);
	rc |= send1(f, &m, NULL, 0);
	m = kind(XFER_KIND__XFER_HELLO_OK);
	rc |= send1(f, &m, NULL, 0);
	m = kind(XFER_KIND__XFER_PAGES_REQ);
	m.has_req_id = m.has_space = m.has_id = m.has_addr = m.has_nr_pages = true;
	m.req_id = 7;
	m.space = XFER_SPACE__XFER_SPACE_SHMEM;
	m.id = 2;
	m.addr = 0x7f0000000000;
	m.nr_pages = 3;
	rc |= send1(f, &m, NULL, 0);
	rc |= pages(f, 7, 0x7f0000000000, 3, "x0x");
	m = kind(XFER_KIND__XFER_DONE);
	rc |= send1(f, &m, NULL, 0);
	fclose(f);

	/* STREAM: all-zero pages, one with data, the end */
	if (!(f = seed(argv[1], "stream")))
		return 1;
	m = hello(XFER_ROLE__XFER_ROLE_STREAM);
	rc |= send1(f, &m, NULL, 0);
	rc |= pages(f, 0, 0x400000, 8, "0");
	rc |= pages(f, 0, 0x600000, 1, "x");
	m = kind(XFER_KIND__XFER_STREAM_END);
	rc |= send1(f, &m, NULL, 0);
	fclose(f);

	/* PUSH: one file, done */
	if (!(f = seed(argv[1], "push")))
		return 1;
	m = hello(XFER_ROLE__XFER_ROLE_PUSH);
	rc |= send1(f, &m, NULL, 0);
	m = kind(XFER_KIND__XFER_FILE_BEGIN);
	m.name = "core-42.img";
	rc |= send1(f, &m, NULL, 0);
	m = kind(XFER_KIND__XFER_FILE_DATA);
	m.has_offset = true;
	m.offset = 0;
	rc |= send1(f, &m, data, sizeof(data));
	m = kind(XFER_KIND__XFER_FILE_END);
	m.has_size = m.has_crc32c = true;
	m.size = sizeof(data);
	m.crc32c = img_crc32c(0, data, sizeof(data));
	rc |= send1(f, &m, NULL, 0);
	m = kind(XFER_KIND__XFER_DONE);
	rc |= send1(f, &m, NULL, 0);
	fclose(f);

	/* ERROR */
	if (!(f = seed(argv[1], "error")))
		return 1;
	m = kind(XFER_KIND__XFER_ERROR);
	m.error = "pagemap-42.img: no such file";
	m.has_errno_val = true;
	m.errno_val = -ENOENT;
	rc |= send1(f, &m, NULL, 0);
	fclose(f);

	/* values at their bounds, for mutations to cross them: the last page but one, a name and
	 * an error text of the longest, a FILE_DATA that ends at 2^64 - 1, 9 pages (2 map bytes) */
	if (!(f = seed(argv[1], "edges")))
		return 1;
	m = kind(XFER_KIND__XFER_PAGES_REQ);
	m.has_req_id = m.has_space = m.has_id = m.has_addr = m.has_nr_pages = true;
	m.req_id = UINT64_MAX;
	m.space = XFER_SPACE__XFER_SPACE_TASK;
	m.id = UINT32_MAX;
	m.addr = UINT64_MAX - 2 * XFER_PG + 1;
	m.nr_pages = 1;
	rc |= send1(f, &m, NULL, 0);
	memset(name, 'n', XFER_MAX_NAME);
	m = kind(XFER_KIND__XFER_FILE_BEGIN);
	m.name = name;
	rc |= send1(f, &m, NULL, 0);
	m = kind(XFER_KIND__XFER_FILE_DATA);
	m.has_offset = true;
	m.offset = UINT64_MAX - sizeof(data);
	rc |= send1(f, &m, data, sizeof(data));
	rc |= pages(f, 1, 0x1000, 9, "00000000x");
	memset(text, 't', XFER_MAX_TEXT);
	m = kind(XFER_KIND__XFER_ERROR);
	m.error = text;
	rc |= send1(f, &m, NULL, 0);
	fclose(f);

	/* the first bytes of a TLS ClientHello */
	if (!(f = seed(argv[1], "tls")))
		return 1;
	if (fwrite(tls_hello, 1, sizeof(tls_hello), f) != sizeof(tls_hello))
		rc = 1;
	fclose(f);
	return rc ? 1 : 0;
}
