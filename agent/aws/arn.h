/* SPDX-License-Identifier: Apache-2.0 */
/* arn.h — parts of Amazon Resource Names (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE). */
#ifndef PORTHOLE_ARN_H
#define PORTHOLE_ARN_H

/* The region named in an ARN, or NULL (also for a malformed ARN). */
char *arn_region(const char *arn);

#endif
