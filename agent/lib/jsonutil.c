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
