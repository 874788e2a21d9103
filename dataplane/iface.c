/* SPDX-License-Identifier: BSD-2-Clause */
#include "iface.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int iface_ipv4(const char *ifname, uint32_t *ip)
{
	struct ifaddrs *list, *ifa;
	int r = -ENOENT;

	if (getifaddrs(&list) < 0)
		return -errno;
	for (ifa = list; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || ifa->ifa_addr->sa_family != AF_INET || strcmp(ifa->ifa_name, ifname) != 0)
			continue;
		*ip = ((const struct sockaddr_in *)(const void *)ifa->ifa_addr)->sin_addr.s_addr;
		r = 0;
		break;
	}
	freeifaddrs(list);
	return r;
}

int iface_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	if (!(dir = opendir(path)))
		return 1;
	while ((de = readdir(dir)))
		if (strncmp(de->d_name, "rx-", 3) == 0)
			n++;
	closedir(dir);
	return n ? n : 1;
}

/* Whether port is listed in ip_local_reserved_ports ("a,b-c,..."). */
static bool reserved(const char *list, unsigned port)
{
	const char *p = list;

	while (*p) {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;

		if (end == p)
			break;
		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		if (port >= a && port <= b)
			return true;
		p = *end == ',' ? end + 1 : end;
		if (*p == '\n')
			break;
	}
	return false;
}

int iface_check_private_ports(uint16_t lo, uint16_t hi, char *err, size_t len)
{
	char reserved_list[4096] = "";
	unsigned eph_lo, eph_hi;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (!f)
		return 0; /* nothing to compare with */
	if (fscanf(f, "%u %u", &eph_lo, &eph_hi) != 2) {
		fclose(f);
		return 0;
	}
	fclose(f);
	if ((f = fopen("/proc/sys/net/ipv4/ip_local_reserved_ports", "r"))) {
		if (!fgets(reserved_list, sizeof(reserved_list), f))
			reserved_list[0] = '\0';
		fclose(f);
	}
	for (unsigned port = lo; port <= hi; port++) {
		if (port < eph_lo || port > eph_hi || reserved(reserved_list, port))
			continue;
		snprintf(err, len,
			 "session port %u is in the kernel's ephemeral range %u-%u: host UDP clients could be "
			 "given it and lose their replies to the dataplane. Pick --port-range outside it, or "
			 "reserve the range: sysctl -w net.ipv4.ip_local_reserved_ports=%u-%u",
			 port, eph_lo, eph_hi, lo, hi);
		return -EADDRINUSE;
	}
	return 0;
}

int iface_mtu(const char *ifname, unsigned *mtu)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (strlen(ifname) >= sizeof(ifr.ifr_name)) {
		close(fd);
		return -ENAMETOOLONG;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		r = -errno;
	else
		*mtu = (unsigned)ifr.ifr_mtu;
	close(fd);
	return r;
}
