/* verdict: what a test said in its outfile.
 *
 * Contract: a verdict is a whole line: "PASS", "FAIL: <why>" or "SKIP: <why>"
 * (any other line is a log line). Any FAIL line makes the verdict FAIL (the
 * first one is the message); otherwise exactly one PASS or SKIP line is the
 * verdict; several are a CONFLICT; none is NONE. */
#ifndef ZDTM_VERDICT_H
#define ZDTM_VERDICT_H

enum verdict_kind { V_NONE, V_PASS, V_FAIL, V_SKIP, V_CONFLICT };

struct verdict {
	enum verdict_kind kind;
	char msg[512]; /* the FAIL/SKIP reason, or what conflicts */
};

/* 0, or -errno when the file can't be read (not reported: the caller says
 * what it was looking for). A missing file is an empty one: V_NONE. */
int verdict_read(const char *path, struct verdict *v);

#endif
