/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c — see identity.h. */
#include "identity.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpus.h"
#include "hyperpod.h"

#include "../aws/arn.h"
#include "../lib/jsonutil.h"
#include "../lib/log.h"
#include "../lib/strutil.h"

static char *read_file(const char *path, int *err)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		*err = errno;
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap + 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				*err = ENOMEM;
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0 && len < (16u << 20));
	*err = ferror(f) ? EIO : 0;
	fclose(f);
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Fill id from resourceconfig.json; false (after saying why) if unusable. */
static bool read_resourceconfig(struct identity *id, const char *path)
{
	int err;
	char *text = read_file(path, &err);
	cJSON *root, *hosts, *h;
	const char *cur;

	if (!text) {
		if (err == ENOENT)
			log_debug("%s not found: not running under SageMaker training", path);
		else
			log_error("cannot read %s: %s; using the hostname as identity", path, strerror(err));
		return false;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!cJSON_IsObject(root)) {
		log_error("%s: %s, expected a JSON object with current_host and hosts; using the hostname as identity",
			  path, root ? "not a JSON object" : "malformed JSON");
		cJSON_Delete(root);
		return false;
	}
	cur = jsonutil_str(root, "current_host");
	hosts = cJSON_GetObjectItemCaseSensitive(root, "hosts");
	if (!cur || !*cur) {
		log_error("%s: current_host is missing or not a string; using the hostname as identity", path);
		cJSON_Delete(root);
		return false;
	}
	if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) == 0) {
		log_error("%s: hosts is missing or not a list of host names; assuming a single-host job", path);
		hosts = NULL;
	}
	id->host = strdup(cur);
	if (hosts) {
		id->hosts = calloc((size_t)cJSON_GetArraySize(hosts), sizeof(char *));
		cJSON_ArrayForEach(h, hosts) {
			if (!cJSON_IsString(h)) {
				log_error("%s: hosts has a non-string entry; skipped", path);
				continue;
			}
			id->hosts[id->n_hosts++] = strdup(h->valuestring);
		}
	}
	bool listed = false;
	for (size_t i = 0; i < id->n_hosts; i++)
		listed |= strcmp(id->hosts[i], cur) == 0;
	if (!listed) {
		if (id->n_hosts)
			log_error("%s: current_host %s is not in hosts; adding it", path, cur);
		char **nh = realloc(id->hosts, (id->n_hosts + 1) * sizeof(char *));
		if (nh) {
			id->hosts = nh;
			id->hosts[id->n_hosts++] = strdup(cur);
		}
	}
	id->instance_type = strutil_dup_nonempty(jsonutil_str(root, "current_instance_type"));
	id->group_name = strutil_dup_nonempty(jsonutil_str(root, "current_group_name"));
	id->iface = strutil_dup_nonempty(jsonutil_str(root, "network_interface_name"));
	const cJSON *groups = cJSON_GetObjectItemCaseSensitive(root, "instance_groups");
	if (cJSON_IsArray(groups))
		id->instance_groups = cJSON_Duplicate(groups, 1);
	cJSON_Delete(root);
	return true;
}

/* Name of the interface carrying the IPv4 default route, or NULL. */
static char *default_route_iface(void)
{
	FILE *f = fopen("/proc/net/route", "re");
	char line[512], name[IF_NAMESIZE + 1];
	unsigned long dest, mask;

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%16s %lx %*x %*x %*d %*d %*d %lx", name, &dest, &mask) == 3 && dest == 0 &&
		    mask == 0) {
			fclose(f);
			return strdup(name);
		}
	}
	fclose(f);
	return NULL;
}

/* Addresses of one interface; true if it has an IPv4 address. */
static bool iface_addrs(const char *iface, char *v4, size_t v4len, char *v6, size_t v6len)
{
	struct ifaddrs *all, *a;

	v4[0] = v6[0] = '\0';
	if (getifaddrs(&all) < 0)
		return false;
	for (a = all; a; a = a->ifa_next) {
		if (!a->ifa_addr || strcmp(a->ifa_name, iface) != 0)
			continue;
		if (a->ifa_addr->sa_family == AF_INET && !v4[0]) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)a->ifa_addr)->sin_addr, v4, (socklen_t)v4len);
		} else if (a->ifa_addr->sa_family == AF_INET6 && !v6[0]) {
			const struct in6_addr *in6 = &((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
			if (!IN6_IS_ADDR_LINKLOCAL(in6) && !IN6_IS_ADDR_LOOPBACK(in6))
				inet_ntop(AF_INET6, in6, v6, (socklen_t)v6len);
		}
	}
	freeifaddrs(all);
	return v4[0] != '\0';
}

static void hostname_addr(const char *host, char *v4, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res, *r;

	v4[0] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return;
	for (r = res; r; r = r->ai_next) {
		const struct in_addr *in = &((struct sockaddr_in *)r->ai_addr)->sin_addr;
		if ((ntohl(in->s_addr) >> 24) == 127)
			continue;
		inet_ntop(AF_INET, in, v4, (socklen_t)len);
		break;
	}
	freeaddrinfo(res);
}

static void find_address(struct identity *id)
{
	if (id->iface) {
		if (iface_addrs(id->iface, id->ipv4, sizeof(id->ipv4), id->ipv6, sizeof(id->ipv6))) {
			id->addr_source = "interface";
			return;
		}
		log_warn("network interface %s (network_interface_name) has no IPv4 address; trying the default route",
			 id->iface);
	}
	char *route = default_route_iface();
	if (route && iface_addrs(route, id->ipv4, sizeof(id->ipv4), id->ipv6, sizeof(id->ipv6))) {
		free(id->iface);
		id->iface = route;
		id->addr_source = "default route";
		return;
	}
	free(route);
	hostname_addr(id->host, id->ipv4, sizeof(id->ipv4));
	id->addr_source = id->ipv4[0] ? "hostname" : "none";
	if (!id->ipv4[0])
		log_warn("no IPv4 address found (no interface %s, no default route, hostname %s does not resolve)",
			 id->iface ? id->iface : "named", id->host);
}

static char *own_hostname(void)
{
	char name[256];

	if (gethostname(name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	return strdup(name);
}

/* Fill host, hosts, group, instance type and interface from a HyperPod
 * node's resource_config.json; hp keeps the cluster for the caller. */
static enum hyperpod_result read_hyperpod(struct identity *id, const char *ml_root, struct hyperpod *hp)
{
	char path[4096];
	struct hyperpod_addr *own = NULL;
	size_t n_own = 0;
	enum hyperpod_result r;
	int err;
	char *text;

	hyperpod_config_path(ml_root, path, sizeof(path));
	if (!(text = read_file(path, &err))) {
		if (err == ENOENT)
			log_debug("%s not found: not a HyperPod node", path);
		else
			log_error("cannot read %s: %s; using the hostname as identity", path, strerror(err));
		return HYPERPOD_NONE;
	}
	if ((err = hyperpod_own_addrs(&own, &n_own)) < 0)
		log_warn("cannot list this machine's addresses: %s", strerror(-err));
	r = hyperpod_parse(hp, text, path, own, n_own);
	free(text);
	free(own);
	if (r == HYPERPOD_NONE)
		return r;
	/* The instances become the hosts; the node's own name (or, when it was
	 * not found, the hostname) is among them. */
	id->host = hp->instance ? strdup(hp->instance) : own_hostname();
	id->hosts = hp->instances;
	id->n_hosts = hp->n_instances;
	hp->instances = NULL;
	hp->n_instances = 0;
	if (!hp->instance) {
		char **nh = realloc(id->hosts, (id->n_hosts + 1) * sizeof(char *));
		if (nh) {
			id->hosts = nh;
			id->hosts[id->n_hosts++] = strdup(id->host);
		}
	}
	id->group_name = strutil_dup_nonempty(hp->group);
	id->instance_type = strutil_dup_nonempty(hp->instance_type);
	id->iface = strutil_dup_nonempty(hp->iface);
	return r;
}

void identity_load(struct identity *id, const char *ml_root, const char *job)
{
	char path[4096];
	const char *env;
	struct hyperpod hp;
	enum hyperpod_result hpr = HYPERPOD_NONE;

	memset(id, 0, sizeof(*id));
	memset(&hp, 0, sizeof(hp));
	snprintf(path, sizeof(path), "%s/input/config/resourceconfig.json", ml_root);
	id->sagemaker = read_resourceconfig(id, path);
	/* A training job's file wins: a training container started on a cluster
	 * node is the job, not the node. */
	if (!id->sagemaker)
		hpr = read_hyperpod(id, ml_root, &hp);
	id->platform = id->sagemaker ? "training" : hpr != HYPERPOD_NONE ? "hyperpod" : "none";
	if (!id->host)
		id->host = own_hostname();
	if (!id->n_hosts) {
		id->hosts = calloc(1, sizeof(char *));
		id->hosts[id->n_hosts++] = strdup(id->host);
	}

	if (job && *job)
		id->job = strdup(job);
	else if ((env = getenv("TRAINING_JOB_NAME")) && *env)
		id->job = strdup(env);
	else if (hpr != HYPERPOD_NONE)
		id->job = strdup(hp.cluster_name);
	else
		id->job = strdup("local");
	id->job_arn = strutil_dup_nonempty(getenv("TRAINING_JOB_ARN"));
	if ((env = getenv("AWS_REGION")) && *env)
		id->region = strdup(env);
	else if ((env = getenv("AWS_DEFAULT_REGION")) && *env)
		id->region = strdup(env);
	else if (hpr != HYPERPOD_NONE)
		id->region = strutil_dup_nonempty(hp.region);
	else
		id->region = arn_region(id->job_arn);
	if (hpr != HYPERPOD_NONE) {
		id->cluster_arn = strutil_dup_nonempty(hp.cluster_arn);
		id->log_group = hyperpod_log_group(&hp);
		id->log_stream = hyperpod_log_stream(&hp, id->host);
	}
	hyperpod_free(&hp);

	find_address(id);
	id->gpus = gpus_count("/dev");
}

bool identity_refresh_address(struct identity *id)
{
	char v4[sizeof(id->ipv4)], v6[sizeof(id->ipv6)];

	memcpy(v4, id->ipv4, sizeof(v4));
	memcpy(v6, id->ipv6, sizeof(v6));
	find_address(id);
	return strcmp(v4, id->ipv4) != 0 || strcmp(v6, id->ipv6) != 0;
}

void identity_free(struct identity *id)
{
	free(id->job);
	free(id->job_arn);
	free(id->region);
	free(id->host);
	for (size_t i = 0; i < id->n_hosts; i++)
		free(id->hosts[i]);
	free(id->hosts);
	free(id->instance_type);
	free(id->group_name);
	free(id->iface);
	cJSON_Delete(id->instance_groups);
	free(id->cluster_arn);
	free(id->log_group);
	free(id->log_stream);
	memset(id, 0, sizeof(*id));
}

static void add_string_or_null(cJSON *obj, const char *key, const char *val)
{
	if (val && *val)
		cJSON_AddStringToObject(obj, key, val);
	else
		cJSON_AddNullToObject(obj, key);
}

void identity_to_json(const struct identity *id, cJSON *obj)
{
	cJSON *hosts = cJSON_AddArrayToObject(obj, "hosts");

	cJSON_AddStringToObject(obj, "job", id->job);
	add_string_or_null(obj, "job_arn", id->job_arn);
	cJSON_AddStringToObject(obj, "host", id->host);
	for (size_t i = 0; i < id->n_hosts; i++)
		cJSON_AddItemToArray(hosts, cJSON_CreateString(id->hosts[i]));
	add_string_or_null(obj, "instance_type", id->instance_type);
	add_string_or_null(obj, "instance_group", id->group_name);
	add_string_or_null(obj, "region", id->region);
	add_string_or_null(obj, "interface", id->iface);
	add_string_or_null(obj, "ip", id->ipv4);
	add_string_or_null(obj, "ipv6", id->ipv6);
	cJSON_AddBoolToObject(obj, "sagemaker", id->sagemaker);
	cJSON_AddStringToObject(obj, "platform", id->platform ? id->platform : "none");
	add_string_or_null(obj, "cluster_arn", id->cluster_arn);
	cJSON_AddNumberToObject(obj, "gpus", id->gpus);
}
