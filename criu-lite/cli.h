/* cli: the parsed command line of criu-lite (CRIU's option names for the
 * shared subset). parse_cli() accepts only the options a subcommand knows and
 * refuses the rest; the result is read-only for the rest of the run. */
#ifndef CRIU_LITE_CLI_H
#define CRIU_LITE_CLI_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The default of dump --ghost-limit: a file deleted while open with more data than this is
 * refused (its data travel in the image directory and a restore writes them back); see
 * docs/fds.md for why 64 MiB. */
#define CLI_GHOST_LIMIT_DEFAULT (64ULL << 20)

struct opts {
	const char *cmd;
	pid_t tree;		/* -t/--tree */
	const char *images_dir; /* -D/--images-dir (default ".") */
	bool images_dir_given;	/* -D was on the command line */
	const char *log_file;	/* -o/--log-file */
	int verbosity;		/* -v[0-4], default 2 */
	bool leave_running;	/* --leave-running */
	bool shell_job;		/* --shell-job */
	bool lazy_pages;	/* --lazy-pages */
	bool page_server;	/* --page-server */
	bool track_mem;		/* --track-mem */
	bool snapshot;		/* --snapshot (dump --leave-running) */
	const char *track;	/* --track soft-dirty|uffd-wp (NULL: auto) */
	bool restore_detached;	/* -d/--restore-detached, lazy-pages -d/--daemon */
	int lazy_timeout;	/* restore --lazy-timeout SEC (0: the default) */
	const char *address;	/* --address */
	int port;		/* --port */
	const char *auth_key;	/* --auth-key FILE: the page server's pre-shared key */
	bool insecure;		/* --insecure: plaintext, unauthenticated */
	int reconnect_timeout;	/* --reconnect-timeout SEC (see cli_reconnect_s()) */
	bool reconnect_given;
	const char *prev_images_dir; /* --prev-images-dir */
	const char *pidfile;	     /* --pidfile */
	const char *stats_file;	     /* --stats-file: the run's figures as JSON */
	bool overwrite;		     /* dump --overwrite: replace a previous dump's images */
	uint64_t ghost_limit;	     /* dump --ghost-limit: data bytes of a deleted file, at most */
	/* dump --external KEY (repeatable): objects outside the tree, e.g. "pipe:[INO]", or a
	 * terminal the tree did not make, "tty[MAJ:MIN]" (the console, a virtual terminal) */
	char **external;
	int nr_external;
	/* restore --external veth[INNER]:OUTER[@BRIDGE] (repeatable): the outer end of the tree's
	 * veth INNER is made as OUTER (and enslaved to BRIDGE) instead of as it was at dump */
	struct veth_external {
		char inner[IFNAMSIZ], outer[IFNAMSIZ], bridge[IFNAMSIZ]; /* bridge "": as at dump */
	} * veth_external;
	int nr_veth_external;
	/* restore --inherit-fd fd[N]:KEY (repeatable): our fd N stands for KEY */
	struct inherit_fd {
		int fd;
		const char *key;
	} * inherit_fd;
	int nr_inherit_fd;
	bool tcp_established;	 /* --tcp-established */
	bool tcp_close;		 /* --tcp-close */
	const char *join_ns_net; /* restore --join-ns net:PATH: the PATH */
	enum { NETLOCK_NFTABLES, NETLOCK_SKIP } network_lock; /* --network-lock */
	bool json;					      /* check --json */
	bool all;					      /* check --all */
	const char *fault_site; /* env CRIU_LITE_FAULT: fail at this step (tests) */
	char **args;		/* positional arguments */
	int nargs;
};

/* 0: parsed; 1: help or version printed (exit 0); <0: bad usage or an option that is not
 * built yet, message printed (exit 2). Free with free_cli(). */
int parse_cli(int argc, char **argv, struct opts *o);
void free_cli(struct opts *o);
/* cli-external.c, for parse_cli(): one --external KEY or --inherit-fd fd[N]:KEY of command
 * cmd; 0, or -1 with the reason on stderr. */
int cli_add_external(struct opts *o, const char *cmd, const char *key);
int cli_add_inherit_fd(struct opts *o, const char *cmd, const char *arg);
/* inherit_fd entry for key ("pipe:[123]"), or NULL. */
const struct inherit_fd *cli_inherit_fd(const struct opts *o, const char *key);
/* true when key was given to --external. */
bool cli_external(const struct opts *o, const char *key);
/* restore's --external veth[inner]:..., or NULL. */
const struct veth_external *cli_veth_external(const struct opts *o, const char *inner);
void usage(const char *cmd);
/* --reconnect-timeout, or its default: how long a page-server connection that broke may take
 * to come back (both ends) */
#define CLI_RECONNECT_DEFAULT_S 10
int cli_reconnect_s(const struct opts *o);

/* One function per subcommand (cmd-*.c); each returns the process exit code. */
int cmd_dump(const struct opts *o);
int cmd_pre_dump(const struct opts *o);
int cmd_restore(const struct opts *o);
int cmd_lazy_pages(const struct opts *o);
int cmd_page_server(const struct opts *o);
int cmd_check(const struct opts *o);
int cmd_show(const struct opts *o);

#endif
