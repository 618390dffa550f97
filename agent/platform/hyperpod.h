/* SPDX-License-Identifier: Apache-2.0 */
/* hyperpod.h — who this node is on a SageMaker HyperPod cluster.
 *
 * SageMaker writes resource_config.json on every cluster node
 * ($SAGEMAKER_RESOURCE_CONFIG_PATH, else /opt/ml/config/resource_config.json):
 * ClusterConfig {ClusterArn, ClusterName} and InstanceGroups [{Name,
 * Instances [{InstanceName, CustomerIpAddress}]}].  The file is the same on
 * every node, so a node finds itself as the instance whose CustomerIpAddress
 * is one of its own addresses (what AWS's lifecycle scripts do).
 *
 * Bad input is reported once, naming the file and what was expected, and
 * never stops porthole: the caller falls back to the hostname. */
#ifndef PORTHOLE_HYPERPOD_H
#define PORTHOLE_HYPERPOD_H

#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>

/* One address of this machine, as inet_ntop writes it. */
struct hyperpod_addr {
	char addr[INET6_ADDRSTRLEN];
	char iface[IF_NAMESIZE];
};

struct hyperpod {
	char *cluster_arn;   /* NULL if missing or not an ARN */
	char *cluster_name;
	char *cluster_id;    /* the ARN's last path component, or NULL */
	char *region;        /* from the ARN, or NULL */
	char *group;         /* this node's instance group, NULL if not found */
	char *instance;      /* this node's InstanceName, NULL if not found */
	char *instance_type; /* its group's InstanceType, if the file has one */
	char *iface;         /* the interface carrying the matched address */
	char **instances;    /* every InstanceName, in file order */
	size_t n_instances;
};

enum hyperpod_result {
	HYPERPOD_NONE,    /* no usable file: not a HyperPod node */
	HYPERPOD_CLUSTER, /* the cluster is known, this node is not in it */
	HYPERPOD_NODE,    /* the cluster and this node */
};

/* The file to read: $SAGEMAKER_RESOURCE_CONFIG_PATH, else
 * <ml_root>/config/resource_config.json. */
void hyperpod_config_path(const char *ml_root, char *buf, size_t len);

/* Parse text (read from path, named in messages) and find this node among
 * own[0..n_own).  Fills hp (free with hyperpod_free) unless HYPERPOD_NONE. */
enum hyperpod_result hyperpod_parse(struct hyperpod *hp, const char *text, const char *path,
				    const struct hyperpod_addr *own, size_t n_own);

/* This machine's addresses (getifaddrs), loopback included: a node may be
 * named by any of them.  0, or -errno; free *out. */
int hyperpod_own_addrs(struct hyperpod_addr **out, size_t *n);

/* /aws/sagemaker/Clusters/<name>/<id>, or NULL without a cluster id. */
char *hyperpod_log_group(const struct hyperpod *hp);

/* <cluster>/<group>/<host>/porthole (<cluster>/<host>/porthole when the
 * node was not found): under "<job>/" like a training job's streams, so
 * `porthole hosts CLUSTER` finds it. */
char *hyperpod_log_stream(const struct hyperpod *hp, const char *host);

void hyperpod_free(struct hyperpod *hp);

#endif
