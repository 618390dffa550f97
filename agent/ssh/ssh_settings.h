/* SPDX-License-Identifier: Apache-2.0 */
/* ssh_settings.h — what the SSH area is told: its own settings (PORTHOLE_SSH*,
 * keys, limits) and the few paths other areas own that a login must read,
 * filled in by the daemon's config so that nothing in ssh/ needs another
 * area's names.  Header only. */
#ifndef PORTHOLE_SSH_SETTINGS_H
#define PORTHOLE_SSH_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

enum ssh_mode { SSH_EMBEDDED, SSH_OPENSSH, SSH_OFF };

/* OpenSSH's MaxStartups "start:rate:full": from `start` unauthenticated
 * connections on, refuse new ones with probability rising from rate% to
 * 100% at `full`. */
struct ssh_startups {
	unsigned start, rate, full;
};

/* OpenSSH's PerSourceNetBlockSize "v4:v6": how many leading bits of a
 * client's address make its source for the per-source limits. */
struct ssh_netblock {
	unsigned v4, v6;
};

struct ssh_settings {
	enum ssh_mode mode;
	unsigned port;
	char *listen;               /* "all", or addresses separated by commas/spaces */
	char *host_key;             /* NULL: generate one at start */
	char *authorized_keys;      /* inline authorized_keys lines; NULL when unset */
	char *authorized_keys_file; /* NULL when unset */
	char *authorized_keys_s3;   /* s3://bucket/key; NULL when unset (fetched by aws/s3keys) */
	char *sftp_server;          /* NULL: `porthole sftp-server` */
	uint64_t login_grace;       /* seconds */
	unsigned max_auth_tries;
	struct ssh_startups max_startups;
	unsigned per_source_max_startups;  /* unauthenticated connections per source; 0: no limit */
	struct ssh_netblock per_source_netblock;
	char *per_source_penalty_exempt;   /* persource.h's list; NULL: nobody is exempt */
	uint64_t idle_timeout;      /* seconds; 0: none */
	uint64_t keepalive;         /* seconds; 0: none */
	bool gateway_ports;         /* ssh -R may bind non-loopback addresses */
	bool agent_forwarding;      /* ssh -A: sessions may use the client's agent */

	/* Filled in by config_load from the other settings (all owned here). */
	char *runtime_dir;          /* porthole's runtime files (the control socket's directory) */
	char *inline_keys_name;     /* how messages name the inline keys: where they came from */
	char *code_dir;             /* <ML_ROOT>/code: where sessions start */
	char *s3_keys_file;         /* aws/s3keys' cache of the S3 keys object, or NULL */
	char *cluster_dir;          /* cluster SSH's runtime directory, or NULL without cluster SSH */
	char *cluster_keys_file;    /* the job's hosts' client keys, or NULL */
	char *cluster_pending_file; /* exists while the rendezvous decides, or NULL */
	char *cluster_trust_file;   /* the job's addresses under network trust, else NULL */
	char *cluster_hosts_file;   /* cluster SSH's known hosts (the job's hosts' addresses), or NULL */
};

#endif
