/* SPDX-License-Identifier: BSD-2-Clause */
#include "xdp_maps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define MAX_PROG_MAPS 16

int xdp_maps_open(int ifindex, struct xdp_maps *maps)
{
	struct bpf_prog_info info = { 0 };
	uint32_t map_ids[MAX_PROG_MAPS], info_len = sizeof(info);
	int prog_fd, r;

	maps->config_fd = maps->verdicts_fd = -1;
	r = bpf_xdp_query_id(ifindex, 0, &maps->prog_id);
	if (r < 0)
		return r;
	if (maps->prog_id == 0)
		return -ENOENT;
	prog_fd = bpf_prog_get_fd_by_id(maps->prog_id);
	if (prog_fd < 0)
		return -errno;
	info.nr_map_ids = MAX_PROG_MAPS;
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	r = bpf_obj_get_info_by_fd(prog_fd, &info, &info_len);
	close(prog_fd);
	if (r < 0)
		return -errno;

	for (uint32_t i = 0; i < info.nr_map_ids && i < MAX_PROG_MAPS; i++) {
		struct bpf_map_info map_info = { 0 };
		uint32_t map_info_len = sizeof(map_info);
		int fd = bpf_map_get_fd_by_id(map_ids[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &map_info, &map_info_len) == 0) {
			if (strcmp(map_info.name, SP_XDP_MAP_CONFIG) == 0 && maps->config_fd < 0) {
				maps->config_fd = fd;
				continue;
			}
			if (strcmp(map_info.name, SP_XDP_MAP_VERDICTS) == 0 && maps->verdicts_fd < 0) {
				maps->verdicts_fd = fd;
				continue;
			}
		}
		close(fd);
	}
	if (maps->config_fd < 0 || maps->verdicts_fd < 0) {
		xdp_maps_close(maps);
		return -ESRCH;
	}
	return 0;
}

int xdp_maps_configure(const struct xdp_maps *maps, const struct sp_xdp_config *config)
{
	uint32_t key = 0;

	return bpf_map_update_elem(maps->config_fd, &key, config, BPF_ANY) < 0 ? -errno : 0;
}

int xdp_maps_read_verdicts(const struct xdp_maps *maps, uint64_t out[SP_XDP_VERDICT_COUNT])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *per_cpu;

	if (ncpus <= 0)
		return ncpus < 0 ? ncpus : -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (uint32_t v = 0; v < SP_XDP_VERDICT_COUNT; v++) {
		out[v] = 0;
		if (bpf_map_lookup_elem(maps->verdicts_fd, &v, per_cpu) < 0)
			continue;
		for (int c = 0; c < ncpus; c++)
			out[v] += per_cpu[c];
	}
	free(per_cpu);
	return 0;
}

void xdp_maps_close(struct xdp_maps *maps)
{
	if (maps->config_fd >= 0)
		close(maps->config_fd);
	if (maps->verdicts_fd >= 0)
		close(maps->verdicts_fd);
	maps->config_fd = maps->verdicts_fd = -1;
}
