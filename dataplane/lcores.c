/* SPDX-License-Identifier: BSD-2-Clause */
#include "lcores.h"

#include <errno.h>

#include "net.h"

int lcore_split_init(struct lcore_split *sp, uint16_t port_lo, uint16_t port_hi, unsigned n)
{
	uint32_t ports = port_hi >= port_lo ? (uint32_t)(port_hi - port_lo) + 1 : 0;

	if (n == 0 || n > DP_MAX_LCORES || ports < n)
		return -EINVAL;
	*sp = (struct lcore_split){ port_lo, port_hi, n, ports / n };
	return 0;
}

void lcore_split_range(const struct lcore_split *sp, unsigned k, uint16_t *lo, uint16_t *hi)
{
	*lo = (uint16_t)(sp->port_lo + k * sp->per);
	*hi = k + 1 == sp->n ? sp->port_hi : (uint16_t)(*lo + sp->per - 1);
}

unsigned lcore_split_port_owner(const struct lcore_split *sp, uint16_t port)
{
	uint32_t k = (uint32_t)(port - sp->port_lo) / sp->per;

	return k < sp->n ? k : sp->n - 1;
}

unsigned lcore_split_request_owner(const struct lcore_split *sp, uint32_t ip, uint16_t port)
{
	return net_hash_ip(ip ^ ((uint32_t)port * 0x9e3779b1u)) % sp->n;
}

uint32_t lcore_split_sessions(const struct lcore_split *sp, unsigned k, uint32_t max_sessions)
{
	uint16_t lo, hi;
	uint32_t share = (max_sessions + sp->n - 1) / sp->n;

	lcore_split_range(sp, k, &lo, &hi);
	return share < (uint32_t)(hi - lo) + 1 ? share : (uint32_t)(hi - lo) + 1;
}
