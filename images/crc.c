/* crc: crc32c (Castagnoli) over isa-l's hardware accelerated crc32_iscsi.
 *
 * img_crc32c(0, buf, len) is the standard crc32c (check value of "123456789"
 * is 0xE3069283); passing a previous result as crc continues the sum, so a
 * stream can be summed in pieces.
 */
#include <isa-l/crc.h>

#include "images/img.h"

/* crc32_iscsi() takes an int length: feed it in chunks well below INT_MAX. */
#define CRC_CHUNK (1u << 30)

uint32_t img_crc32c(uint32_t crc, const void *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf; /* isa-l's prototype lacks const */
	uint32_t raw = ~crc;

	while (len) {
		size_t n = len < CRC_CHUNK ? len : CRC_CHUNK;

		raw = crc32_iscsi(p, (int)n, raw);
		p += n;
		len -= n;
	}
	return ~raw;
}
