/* SPDX-License-Identifier: Apache-2.0 */
/* gpus.h — how many NVIDIA GPUs this host has, for the hostfile's slots:
 * the /dev/nvidia<N> device nodes the NVIDIA container runtime mounts
 * (nvidiactl, nvidia-uvm and the like are not GPUs). */
#ifndef PORTHOLE_GPUS_H
#define PORTHOLE_GPUS_H

/* Count nvidia<digits> entries in dir ("/dev"); 0 when there are none or
 * dir cannot be read. */
unsigned gpus_count(const char *dir);

#endif
