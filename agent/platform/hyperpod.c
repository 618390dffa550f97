/* SPDX-License-Identifier: Apache-2.0 */
/* hyperpod.c — see hyperpod.h. */
#include "hyperpod.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "../aws/arn.h"
#include "../lib/jsonutil.h"
#include "../lib/log.h"
#include "../lib/strutil.h"

#define EXPECTED "a JSON object with ClusterConfig {ClusterArn, ClusterName} and InstanceGroups " \
		 "[{Name, Instances [{InstanceName, CustomerIpAddress}]}]"

void hyperpod_config_path(const char *ml_root, char *buf, size_t len)
{
	const char *env = getenv("SAGEMAKER_RESOURCE_CONFIG_PATH");

	if (env && *env)
		snprintf(buf, len, "%s", env);
	else
		snprintf(buf, len, "%s/config/resource_config.json", ml_root);
}

/* An address in binary, so 10.0.0.1 and ::ffff:… spellings compare by
 * value, not text; 0 if s is not an address. */
static int addr_bin(const char *s, unsigned char out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	return 0;
}

/* The own address equal to text, or NULL. */
static const struct hyperpod_addr *own_match(const char *text, const struct hyperpod_addr *own, size_t n_own)
{
	unsigned char want[16], have[16];
	int fam = text ? addr_bin(text, want) : 0;

	if (!fam)
		return NULL;
	for (size_t i = 0; i < n_own; i++)
		if (addr_bin(own[i].addr, have) == fam && memcmp(want, have, 16) == 0)
			return &own[i];
	return NULL;
}

/* arn:PARTITION:sagemaker:REGION:ACCOUNT:cluster/ID -> ID. */
static char *arn_cluster_id(const char *arn)
{
	const char *p = arn;

	for (int field = 0; field < 5 && p; field++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p || !strchr(p, '/'))
		return NULL;
	p = strrchr(p, '/') + 1;
	return *p ? strdup(p) : NULL;
}

static void own_list(char *buf, size_t len, const struct hyperpod_addr *own, size_t n_own)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n_own && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? " " : "", own[i].addr);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	if (!n_own)
		snprintf(buf, len, "none found");
}

static bool add_instance(struct hyperpod *hp, const char *name)
{
	char **v = realloc(hp->instances, (hp->n_instances + 1) * sizeof(*v));

	if (!v)
		return false;
	hp->instances = v;
	if (!(v[hp->n_instances] = strdup(name)))
		return false;
	hp->n_instances++;
	return true;
}

/* Walk InstanceGroups: list every instance and find this node.  Returns the
 * number of entries skipped because they were not what was expected. */
static unsigned walk_groups(struct hyperpod *hp, const cJSON *groups, const struct hyperpod_addr *own, size_t n_own,
			    const struct hyperpod_addr **found, unsigned *n_found)
{
	const cJSON *g, *inst;
	unsigned skipped = 0;

	cJSON_ArrayForEach(g, groups) {
		const char *gname = jsonutil_str_nonempty(g, "Name");
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(g, "Instances");
		if (!gname || !cJSON_IsArray(list)) {
			skipped++;
			continue;
		}
		cJSON_ArrayForEach(inst, list) {
			const char *name = jsonutil_str_nonempty(inst, "InstanceName");
			const struct hyperpod_addr *a = own_match(jsonutil_str_nonempty(inst, "CustomerIpAddress"), own, n_own);
			if (!name) {
				skipped++;
				continue;
			}
			add_instance(hp, name);
			if (!a)
				continue;
			if (++*n_found > 1) {
				log_warn("instance %s also has an address of this machine (%s); this node is %s", name,
					 a->addr, hp->instance);
				continue;
			}
			*found = a;
			hp->instance = strdup(name);
			hp->group = strdup(gname);
			hp->instance_type = strutil_dup(jsonutil_str_nonempty(g, "InstanceType"));
		}
	}
	return skipped;
}

enum hyperpod_result hyperpod_parse(struct hyperpod *hp, const char *text, const char *path,
				    const struct hyperpod_addr *own, size_t n_own)
{
	cJSON *root = cJSON_Parse(text);
	const cJSON *cc, *groups;
	const char *name, *arn;
	const struct hyperpod_addr *found = NULL;
	unsigned n_found = 0, skipped;

	memset(hp, 0, sizeof(*hp));
	if (!cJSON_IsObject(root)) {
		log_error("%s: %s, expected %s; using the hostname as identity", path,
			  root ? "not a JSON object" : "malformed JSON", EXPECTED);
		cJSON_Delete(root);
		return HYPERPOD_NONE;
	}
	cc = cJSON_GetObjectItemCaseSensitive(root, "ClusterConfig");
	if (!(name = jsonutil_str_nonempty(cc, "ClusterName"))) {
		log_error("%s: ClusterConfig.ClusterName is missing or not a string, expected %s; using the hostname "
			  "as identity", path, EXPECTED);
		cJSON_Delete(root);
		return HYPERPOD_NONE;
	}
	hp->cluster_name = strdup(name);
	arn = jsonutil_str_nonempty(cc, "ClusterArn");
	if (arn && (hp->region = arn_region(arn)) && (hp->cluster_id = arn_cluster_id(arn))) {
		hp->cluster_arn = strdup(arn);
	} else {
		free(hp->region);
		hp->region = NULL;
		log_error("%s: ClusterConfig.ClusterArn is %s, expected arn:aws:sagemaker:REGION:ACCOUNT:cluster/ID; "
			  "without it there is no default log group (set PORTHOLE_LOG_GROUP) or region", path,
			  arn ? "not a cluster ARN" : "missing");
	}

	groups = cJSON_GetObjectItemCaseSensitive(root, "InstanceGroups");
	if (!cJSON_IsArray(groups)) {
		log_error("%s: InstanceGroups is missing or not a list, expected %s; this node's instance is unknown, "
			  "using the hostname as the host", path, EXPECTED);
		cJSON_Delete(root);
		return HYPERPOD_CLUSTER;
	}
	skipped = walk_groups(hp, groups, own, n_own, &found, &n_found);
	if (skipped)
		log_warn("%s: %u InstanceGroups entries without Name and Instances, or instances without InstanceName, "
			 "skipped", path, skipped);
	cJSON_Delete(root);
	if (!found) {
		char list[512];
		own_list(list, sizeof(list), own, n_own);
		log_error("%s: no instance's CustomerIpAddress is an address of this machine (%s), expected this node "
			  "among InstanceGroups[].Instances[]; using the hostname as the host", path, list);
		return HYPERPOD_CLUSTER;
	}
	hp->iface = strdup(found->iface);
	return HYPERPOD_NODE;
}

int hyperpod_own_addrs(struct hyperpod_addr **out, size_t *n)
{
	struct ifaddrs *all, *a;
	struct hyperpod_addr *v = NULL;
	size_t count = 0;

	*out = NULL;
	*n = 0;
	if (getifaddrs(&all) < 0)
		return -errno;
	for (a = all; a; a = a->ifa_next)
		count += a->ifa_addr && (a->ifa_addr->sa_family == AF_INET || a->ifa_addr->sa_family == AF_INET6);
	if (count && !(v = calloc(count, sizeof(*v)))) {
		freeifaddrs(all);
		return -ENOMEM;
	}
	count = 0;
	for (a = all; a; a = a->ifa_next) {
		const void *bin;
		if (!a->ifa_addr)
			continue;
		if (a->ifa_addr->sa_family == AF_INET)
			bin = &((const struct sockaddr_in *)a->ifa_addr)->sin_addr;
		else if (a->ifa_addr->sa_family == AF_INET6)
			bin = &((const struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
		else
			continue;
		inet_ntop(a->ifa_addr->sa_family, bin, v[count].addr, sizeof(v[count].addr));
		snprintf(v[count].iface, sizeof(v[count].iface), "%s", a->ifa_name);
		count++;
	}
	freeifaddrs(all);
	*out = v;
	*n = count;
	return 0;
}

char *hyperpod_log_group(const struct hyperpod *hp)
{
	char *s;

	if (!hp->cluster_name || !hp->cluster_id)
		return NULL;
	return asprintf(&s, "/aws/sagemaker/Clusters/%s/%s", hp->cluster_name, hp->cluster_id) < 0 ? NULL : s;
}

char *hyperpod_log_stream(const struct hyperpod *hp, const char *host)
{
	char *s;
	int rc;

	if (hp->group)
		rc = asprintf(&s, "%s/%s/%s/porthole", hp->cluster_name, hp->group, host);
	else
		rc = asprintf(&s, "%s/%s/porthole", hp->cluster_name, host);
	return rc < 0 ? NULL : s;
}

void hyperpod_free(struct hyperpod *hp)
{
	free(hp->cluster_arn);
	free(hp->cluster_name);
	free(hp->cluster_id);
	free(hp->region);
	free(hp->group);
	free(hp->instance);
	free(hp->instance_type);
	free(hp->iface);
	for (size_t i = 0; i < hp->n_instances; i++)
		free(hp->instances[i]);
	free(hp->instances);
	memset(hp, 0, sizeof(*hp));
}
