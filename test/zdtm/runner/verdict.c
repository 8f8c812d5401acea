/* verdict: see verdict.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

int verdict_read(const char *path, struct verdict *v)
{
	unsigned npass = 0, nfail = 0, nskip = 0;
	char skip_msg[sizeof(v->msg)] = "";
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	v->kind = V_NONE;
	v->msg[0] = '\0';
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (!strcmp(line, "PASS")) {
			npass++;
		} else if (!strncmp(line, "FAIL: ", 6)) {
			if (!nfail++)
				snprintf(v->msg, sizeof(v->msg), "%s", line + 6);
		} else if (!strncmp(line, "SKIP: ", 6)) {
			if (!nskip++)
				snprintf(skip_msg, sizeof(skip_msg), "%s", line + 6);
		}
	}
	free(line);
	fclose(f);

	if (nfail) {
		v->kind = V_FAIL;
		if (nfail > 1) {
			size_t n = strlen(v->msg);

			snprintf(v->msg + n, sizeof(v->msg) - n, " (+%u more FAIL lines)",
				 nfail - 1);
		}
	} else if (npass + nskip > 1) {
		v->kind = V_CONFLICT;
		snprintf(v->msg, sizeof(v->msg), "conflicting verdicts: %u PASS and %u SKIP lines",
			 npass, nskip);
	} else if (nskip) {
		v->kind = V_SKIP;
		memcpy(v->msg, skip_msg, sizeof(v->msg));
	} else if (npass) {
		v->kind = V_PASS;
	}
	return 0;
}
