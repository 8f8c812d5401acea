/* restorecheck: see restorecheck.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "proc.h"
#include "restorecheck.h"

#define POLL_NS	     (10 * 1000 * 1000)
#define MAX_KIDS     64
#define NAME_CHARS   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-."
#define LOG_LINE_MAX 200

/* The modules of criu-lite whose lines tell that a task exists (LOG_PREFIX). */
static const char *const task_modules[] = { "skeleton: ", "seize: ", "rsys: ", NULL };
/* How ASan, LSan and UBSan start their reports. */
static const char *const sanitizer_marks[] = { "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
					       "runtime error: ", NULL };

/* "comm, State X, parent N" of pid from /proc/PID/stat, or "gone". */
static void describe_pid(pid_t pid, char *buf, size_t len)
{
	char *path = strf("/proc/%d/stat", pid), line[512], *close_paren;
	FILE *f = fopen(path, "re");
	char state = '?';
	int ppid = 0;

	free(path);
	snprintf(buf, len, "gone");
	if (!f)
		return;
	if (fgets(line, sizeof(line), f) && (close_paren = strrchr(line, ')')) &&
	    sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2) {
		*close_paren = '\0';
		snprintf(buf, len, "%s, State %c, parent %d",
			 strchr(line, '(') ? strchr(line, '(') + 1 : "?", state, ppid);
	}
	fclose(f);
}

static void nap(void)
{
	const struct timespec t = { 0, POLL_NS };

	nanosleep(&t, NULL);
}

int pid_gone(pid_t pid, double grace, char *why, size_t len)
{
	double deadline = now_s() + grace;
	char *path = strf("/proc/%d", pid), what[320];
	int status;

	for (;;) {
		waitpid(pid, &status, WNOHANG); /* a zombie of ours: reap it */
		if (access(path, F_OK) && errno == ENOENT) {
			free(path);
			return 0;
		}
		if (now_s() >= deadline)
			break;
		nap();
	}
	free(path);
	describe_pid(pid, what, sizeof(what));
	snprintf(why, len, "pid %d is still there after %.1fs (%s)", pid, grace, what);
	return -1;
}

int no_children(double grace, char *why, size_t len)
{
	double deadline = now_s() + grace;
	pid_t kids[MAX_KIDS];
	char what[320];
	size_t off;
	int n, status;

	for (;;) {
		while (waitpid(-1, &status, WNOHANG) > 0)
			;
		n = list_children(kids, MAX_KIDS);
		if (n < 0) {
			snprintf(why, len, "can't list the runner's children");
			return -1;
		}
		if (!n)
			return 0;
		if (now_s() >= deadline)
			break;
		nap();
	}
	off = (size_t)snprintf(why, len, "%d process(es) left behind:", n);
	for (int i = 0; i < n && off < len; i++) {
		describe_pid(kids[i], what, sizeof(what));
		off += (size_t)snprintf(why + off, len - off, "%s pid %d (%s)", i ? ";" : "",
					kids[i], what);
	}
	return -1;
}

/* Does text stand in line as a whole name (no name character around it)? */
static bool has_name(const char *line, const char *text)
{
	size_t tl = strlen(text);

	for (const char *p = strstr(line, text); p; p = strstr(p + 1, text)) {
		bool left = p == line || !strchr(NAME_CHARS, p[-1]);
		bool right = !p[tl] || !strchr(NAME_CHARS, p[tl]) ||
			     (p[tl] == '.' && (!p[tl + 1] || !strchr(NAME_CHARS, p[tl + 1])));

		if (left && right)
			return true;
	}
	return false;
}

/* Open the log; -1 with why if it can't be read. */
static FILE *open_log(const char *log, char *why, size_t len)
{
	FILE *f = fopen(log, "re");

	if (!f)
		snprintf(why, len, "can't read %s: %s (errno %d)", log, strerror(errno), errno);
	return f;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int log_has_error(const char *log, const char *text, bool as_name, char *why, size_t len)
{
	FILE *f = open_log(log, why, len);
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return -1;
	while (!found && getline(&line, &cap, f) >= 0) {
		const char *err = strstr(line, "Error: ");

		if (err)
			found = as_name ? has_name(err, text) : strstr(err, text) != NULL;
	}
	free(line);
	fclose(f);
	if (found)
		return 0;
	snprintf(why, len, "%s has no error line %s '%s'", base(log), as_name ? "naming" : "with",
		 text);
	return -1;
}

/* The module prefix of a log line: after "( 12.345678) " and "Error: "/"Warn: ". */
static const char *line_module(const char *line)
{
	const char *p = line;

	if (*p == '(' && strstr(p, ") "))
		p = strstr(p, ") ") + 2;
	if (!strncmp(p, "Error: ", 7))
		p += 7;
	else if (!strncmp(p, "Warn: ", 6))
		p += 6;
	return p;
}

/* The first line of the log that has one of marks (at its module prefix when
 * at_module, anywhere otherwise): 0 if none, else -1 with why "<log> <says>: 'line'". */
static int log_without(const char *log, const char *const *marks, bool at_module, const char *says,
		       char *why, size_t len)
{
	FILE *f = open_log(log, why, len);
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;

	if (!f)
		return -1;
	while (!ret && getline(&line, &cap, f) >= 0) {
		const char *m = line_module(line);

		for (int i = 0; marks[i] && !ret; i++) {
			if (at_module ? strncmp(m, marks[i], strlen(marks[i]))
				      : !strstr(line, marks[i]))
				continue;
			line[strcspn(line, "\n")] = '\0';
			snprintf(why, len, "%s %s: '%.*s'", base(log), says, LOG_LINE_MAX, line);
			ret = -1;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

int log_no_task_work(const char *log, char *why, size_t len)
{
	return log_without(log, task_modules, true, "shows a task was created", why, len);
}

int log_no_sanitizer(const char *log, char *why, size_t len)
{
	return log_without(log, sanitizer_marks, false, "has a sanitizer report", why, len);
}
