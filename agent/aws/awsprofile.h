/* SPDX-License-Identifier: Apache-2.0 */
/* awsprofile.h — the AWS shared files: the credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials) and the config file
 * (AWS_CONFIG_FILE, ~/.aws/config), profile AWS_PROFILE or "default". */
#ifndef PORTHOLE_AWSPROFILE_H
#define PORTHOLE_AWSPROFILE_H

#include <stdbool.h>

/* The value of key in section of an INI file; NULL if the file, section or
 * key is missing.  Caller frees. */
char *awsprofile_ini_get(const char *path, const char *section, const char *key);

/* key in the active profile: the credentials file's [NAME] when
 * credentials_file, else the config file's [profile NAME] ([default] for
 * the default profile).  Caller frees. */
char *awsprofile_get(bool credentials_file, const char *key);

/* AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default". */
const char *awsprofile_name(void);

#endif
