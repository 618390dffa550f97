/* SPDX-License-Identifier: Apache-2.0 */
/* cluster_files.h — the text of the files cluster SSH writes (docs/cluster.md),
 * rendered from what the job's hosts published: the peers' client keys as
 * authorized keys, porthole's known_hosts, the managed block of ~/.ssh/config
 * and the MPI hostfile.  Pure functions, except cluster_files_write.
 *
 * Published strings end up in files ssh reads, so a record must not be able
 * to add a line or an option there: keys are checked (cluster_files_key_valid) and
 * written again from their parts, and names and addresses come from records.c,
 * which accepts plain names and numeric addresses only. */
#ifndef PORTHOLE_CLUSTER_FILES_H
#define PORTHOLE_CLUSTER_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cluster_settings.h"

#define CLUSTER_BLOCK_BEGIN "# BEGIN porthole cluster"
#define CLUSTER_BLOCK_END "# END porthole cluster"
#define CLUSTER_KEY_NAME "porthole_cluster_ed25519"
#define CLUSTER_KNOWN_HOSTS "porthole_known_hosts"

struct cluster_peer {
	const char *host;       /* "algo-2" */
	const char *ip;         /* NULL when unknown */
	const char *host_key;   /* "ssh-ed25519 AAAA…", NULL when unknown */
	const char *client_key; /* "ssh-ed25519 AAAA… porthole-cluster@algo-2", NULL when unknown */
	unsigned port;          /* SSH port; 0 when unknown */
	unsigned gpus;
};

/* PID 1's runtime directory (the control socket's) holds what logins read:
 * "authorized_keys.cluster" (the peers' client keys, read by authkeys.c),
 * "cluster_trust" (network trust's addresses, nettrust.c) and
 * "cluster_pending", there while the rendezvous has not decided yet. */
#define CLUSTER_KEYS_FILE "authorized_keys.cluster"
#define CLUSTER_TRUST_FILE "cluster_trust"
#define CLUSTER_PENDING_FILE "cluster_pending"
/* dir/name in buf: dir is porthole's runtime directory (cluster_settings.runtime_dir). */
void cluster_files_path(const char *dir, const char *name, char *buf, size_t len);

/* "TYPE BASE64" with an optional comment, on one line, nothing else. */
bool cluster_files_key_valid(const char *key);

/* Each rendering returns a malloc'd string (possibly ""), NULL when out of
 * memory.  Peers missing what a file needs are left out of it. */

/* "ssh-ed25519 AAAA… porthole-cluster@algo-2" per peer with a client key. */
char *cluster_files_authorized_keys(const struct cluster_peer *v, size_t n);

/* "algo-2,10.0.0.2 KEY", or "[algo-2]:2222,[10.0.0.2]:2222 KEY" off port 22. */
char *cluster_files_known_hosts(const struct cluster_peer *v, size_t n);

/* The managed ~/.ssh/config block, BEGIN and END lines included.  strict:
 * host keys are pinned in known_hosts (keys mode); else accept-new (network
 * mode), with one "Host algo-* IPs" block on default_port. */
char *cluster_files_ssh_block(const struct cluster_peer *v, size_t n, bool strict, unsigned default_port);

/* old (NULL: no file) with its managed block replaced by block, which goes
 * first: ssh takes the first value it finds, so porthole's settings for the
 * job's hosts win over a later "Host *".  Everything else is kept as it was;
 * an unterminated BEGIN is left alone.  Same input, same output. */
char *cluster_files_config_merge(const char *old, const char *block);

/* "algo-1 slots=8": every peer in order, slots its GPUs, or 1 without. */
char *cluster_files_hostfile(const struct cluster_peer *v, size_t n);

/* Replace path with text (temp file, fsync, rename), so readers see the old
 * file or the new one, never half.  0, or -errno. */
int cluster_files_write(const char *path, const char *text, mode_t mode);

#endif
