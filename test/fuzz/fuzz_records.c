/* fuzz_records: libFuzzer target for the record file reader (img.h).
 *
 * Each input is verified with img_reader_open_buf() and, when accepted, every
 * record is read, re-packed and freed. The same bytes are tried a second time
 * with a correct crc32c in the trailer, so mutations get past the checksum
 * and reach the record walk and the protobuf unpacking. Any crash, leak or
 * broken error contract (an error without a message, a count that does not
 * match the records handed out) is a finding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images/img.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_one(const uint8_t *data, size_t size)
{
	struct img_reader *r = NULL;
	struct img_err err = { 0 };
	ProtobufCMessage *m;
	unsigned n = 0;
	int ret;

	ret = img_reader_open_buf("fuzz.img", data, size, &r, &err);
	if (ret < 0) {
		/* refused: exactly one message, naming the input, and no reader */
		if (r || err.code != -ret || !err.msg[0] || !strstr(err.msg, "fuzz.img"))
			abort();
		return;
	}
	if (ret != 0 || !r || !img_reader_kind(r))
		abort();
	while ((ret = img_read(r, &m, &err)) == 1) {
		size_t len = protobuf_c_message_get_packed_size(m);
		uint8_t *buf = malloc(len ? len : 1);

		if (!buf || protobuf_c_message_pack(m, buf) != len)
			abort();
		free(buf);
		protobuf_c_message_free_unpacked(m, NULL);
		n++;
	}
	if (ret != 0 || n != img_reader_count(r))
		abort();
	img_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint32_t crc;

	check_one(data, size);
	if (size < IMG_HEADER_SIZE + IMG_TRAILER_SIZE)
		return 0;
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	crc = img_crc32c(0, copy, size - 4);
	for (int i = 0; i < 4; i++)
		copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	check_one(copy, size);
	free(copy);
	return 0;
}
