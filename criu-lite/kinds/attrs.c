/* attrs: names shared by dump-attrs and restore-attrs. See attrs.h. */
#include <stdio.h>
#include <string.h>

#include "criu-lite/kinds/attrs.h"

_Static_assert(sizeof(struct attrs_sched_attr) == 56, "SCHED_ATTR_SIZE_VER1 is 56 bytes");

const char *attrs_policy_name(uint32_t policy, char *buf, unsigned long len)
{
	static const char *const names[] = {
		[ATTRS_SCHED_OTHER] = "SCHED_OTHER", [ATTRS_SCHED_FIFO] = "SCHED_FIFO",
		[ATTRS_SCHED_RR] = "SCHED_RR",	     [ATTRS_SCHED_BATCH] = "SCHED_BATCH",
		[ATTRS_SCHED_IDLE] = "SCHED_IDLE",   [ATTRS_SCHED_DEADLINE] = "SCHED_DEADLINE",
		[ATTRS_SCHED_EXT] = "SCHED_EXT",
	};

	if (policy < sizeof(names) / sizeof(names[0]) && names[policy])
		snprintf(buf, len, "%s", names[policy]);
	else
		snprintf(buf, len, "policy %u", policy);
	return buf;
}

const char *attrs_membarrier_names(uint32_t mask, char *buf, unsigned long len)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} regs[] = {
		{ ATTRS_MB_REGISTER_GLOBAL_EXPEDITED, "GLOBAL_EXPEDITED" },
		{ ATTRS_MB_REGISTER_PRIVATE_EXPEDITED, "PRIVATE_EXPEDITED" },
		{ ATTRS_MB_REGISTER_SYNC_CORE, "PRIVATE_EXPEDITED_SYNC_CORE" },
		{ ATTRS_MB_REGISTER_RSEQ, "PRIVATE_EXPEDITED_RSEQ" },
	};
	size_t o = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		if ((mask & regs[i].bit) && o < len)
			o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? " " : "", regs[i].name);
	if (mask & ~(uint32_t)ATTRS_MB_REGISTER_ALL && o < len)
		snprintf(buf + o, len - o, "%sunknown %#x", o ? " " : "",
			 mask & ~(uint32_t)ATTRS_MB_REGISTER_ALL);
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}
