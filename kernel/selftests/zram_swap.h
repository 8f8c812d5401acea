/* zram_swap: a small swap device for a test, on zram.
 *
 * Contract:
 * - zram_swap_on() makes sure some swap is active. When one already is, it is
 *   used and left alone. Otherwise it sizes zram0 (hot-adding it if needed),
 *   writes a swap header and swapon()s it; zram_swap_off() then swapoff()s it
 *   and resets zram0, and must be called on every path after a successful on.
 * - Both return 0 or a negative errno and print what failed (with the errno)
 *   on stdout as a TAP diagnostic ("# ..."), once.
 * - The swap type of our device is in z->type (0: the only swap there is):
 *   pagemap's swap entries of pages that went to it carry it. With someone
 *   else's swap it is -1 (pages may go to any of their devices).
 */
#ifndef KT_ZRAM_SWAP_H
#define KT_ZRAM_SWAP_H

#include <stdbool.h>

struct zram_swap {
	bool ours; /* we turned it on: zram_swap_off() undoes it */
	int type;  /* swap type of our device; -1 when the swap is someone else's */
	char dev[64];
};

int zram_swap_on(struct zram_swap *z, unsigned long bytes);
int zram_swap_off(struct zram_swap *z);

#endif
