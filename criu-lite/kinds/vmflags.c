/* vmflags: see vmflags.h. */
#include <stdio.h>
#include <sys/mman.h>

#include "criu-lite/kinds/vmflags.h"

const struct vmf_advice vmf_advice[] = {
	{ VMF_DC, MADV_DONTFORK },   { VMF_DD, MADV_DONTDUMP },	  { VMF_WF, MADV_WIPEONFORK },
	{ VMF_HG, MADV_HUGEPAGE },   { VMF_NH, MADV_NOHUGEPAGE }, { VMF_MG, MADV_MERGEABLE },
	{ VMF_SR, MADV_SEQUENTIAL }, { VMF_RR, MADV_RANDOM },
};

const size_t vmf_nr_advice = sizeof(vmf_advice) / sizeof(vmf_advice[0]);

static const struct {
	uint64_t bits;
	const char *why;
} refused[] = {
	{ VMF_IO | VMF_PF, "an I/O or PFN mapping (io/pf)" },
	{ VMF_MM, "a driver's mixed mapping (mm)" },
	{ VMF_DE, "a special mapping that can't grow (de: VM_DONTEXPAND)" },
	{ VMF_AR, "marked with an architecture-specific flag (ar: on x86 a PFN mapping's memory "
		  "type)" },
	{ VMF_UM | VMF_UW | VMF_UI, "registered with a userfaultfd (um/uw/ui)" },
	{ VMF_SS, "a shadow stack (ss)" },
	{ VMF_BT | VMF_MT, "marked for arm64 BTI or MTE (bt/mt)" },
};

const char *vmf_refusal(uint64_t flags, const char *unknown, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (flags & refused[i].bits)
			return refused[i].why;
	if (unknown && unknown[0]) {
		snprintf(buf, len, "shown with VmFlags this criu-lite does not know (%s)", unknown);
		return buf;
	}
	return NULL;
}

uint64_t vmf_madv_bits(uint64_t flags)
{
	uint64_t m = 0;

	for (size_t i = 0; i < vmf_nr_advice; i++)
		if (flags & vmf_advice[i].bit)
			m |= 1ULL << vmf_advice[i].advice;
	return m;
}
