/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * From the operator's configuration to the dataplane's proxyDHCP policy
 * (the "policy 1" message, dataplane/proxy_policy.h): which clients are
 * answered and with which boot file. The machine selectors become the
 * dataplane's select-* lines when unmatched machines are to be ignored, so
 * that a machine nobody configured gets no answer at all, not even DHCP's.
 */
#ifndef STAMPEDE_POLICY_COMPILE_H
#define STAMPEDE_POLICY_COMPILE_H

#include <stdio.h>

#include "config.h"

/* The iPXE script URL handed to iPXE clients: iPXE expands the ${...}. */
#define SCRIPT_PATH "/boot.ipxe"
#define SCRIPT_QUERY "?mac=${net0/mac}&uuid=${uuid}&arch=${platform}-${buildarch}"

/* Writes the message body (without "policy 1" and "end") to out.
 * server_ip: dotted quad; base_url: http://HOST:PORT, no trailing slash. */
void policy_compile(const struct config *config, const char *server_ip, const char *base_url, FILE *out);

#endif
