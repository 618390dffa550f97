/* SPDX-License-Identifier: Apache-2.0 */
/* version.h — porthole's version: one place, read by the Makefile and the
 * packaging scripts too (they grep the #define). */
#ifndef PORTHOLE_VERSION_H
#define PORTHOLE_VERSION_H

#define PORTHOLE_VERSION "0.1.0"

#endif
