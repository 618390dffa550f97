/* SPDX-License-Identifier: Apache-2.0 */
/* failure.h — SageMaker's /opt/ml/output/failure file. */
#ifndef PORTHOLE_FAILURE_H
#define PORTHOLE_FAILURE_H

/* Write reason (one line) to ML_ROOT/output/failure unless the training
 * command already wrote a non-empty one.  1 if written, 0 if one was there
 * already or ML_ROOT does not exist, -errno on error. */
int failure_write(const char *ml_root, const char *reason);

#endif
