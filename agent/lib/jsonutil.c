/* SPDX-License-Identifier: Apache-2.0 */
/* jsonutil.c — see jsonutil.h. */
#include "jsonutil.h"

const char *jsonutil_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const char *jsonutil_str_nonempty(const cJSON *obj, const char *key)
{
	const char *s = jsonutil_str(obj, key);

	return s && *s ? s : NULL;
}

int64_t jsonutil_int(const cJSON *v, int64_t lo, int64_t hi, int64_t dflt)
{
	double d;

	if (!cJSON_IsNumber(v) || v->valuedouble != v->valuedouble)
		return dflt;
	d = v->valuedouble;
	if (d <= (double)lo)
		return lo;
	if (d >= (double)hi)
		return hi;
	return (int64_t)d;
}
