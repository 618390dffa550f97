/* SPDX-License-Identifier: Apache-2.0 */
/* ssm_settings.h — what the Session Manager endpoint is told (PORTHOLE_SSM*).
 * Header only: the daemon's config fills it, ssm.c reads it. */
#ifndef PORTHOLE_SSM_SETTINGS_H
#define PORTHOLE_SSM_SETTINGS_H

/* auto: stay out of SageMaker remote debug's way, else register when an
 * activation or role is configured. */
enum ssm_mode { SSM_OFF, SSM_AUTO, SSM_REGISTER };

struct ssm_settings {
	enum ssm_mode mode;
	char *agent;            /* NULL: amazon-ssm-agent on PATH */
	char *activation_code;  /* NULL when unset */
	char *activation_id;
	char *role;             /* for CreateActivation; NULL when unset */
	char *log_dir;
};

#endif
