/* SPDX-License-Identifier: Apache-2.0 */
/* worker/init/spec_resources.h: the OCI linux.resources object (config.json, and the
 * LinuxResources JSON of containerd's Update) as shimvisor-init applies it. */
#ifndef SV_INIT_SPEC_RESOURCES_H
#define SV_INIT_SPEC_RESOURCES_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* A value that may be absent. */
struct opt_i64 {
	int set;
	int64_t v;
};

struct res_device {             /* one devices cgroup rule */
	int allow;
	char type;              /* 'a', 'c' or 'b' */
	int64_t major, minor;   /* -1 = any ('*') */
	char access[4];         /* some of "rwm", in that order */
};

struct res_hugepage {
	char *page_size;        /* "2MB", "1GB", ... */
	uint64_t limit;
};

struct res_blkdev {             /* weightDevice and the throttle lists */
	int64_t major, minor;
	struct opt_i64 weight, leaf_weight;     /* weightDevice */
	uint64_t rate;                          /* throttle*Device */
};

enum res_throttle { THR_READ_BPS, THR_WRITE_BPS, THR_READ_IOPS, THR_WRITE_IOPS, THR_COUNT };

struct spec_resources {
	/* memory (kernel and kernelTCP are accepted and ignored, as the kernel did away with them) */
	struct opt_i64 mem_limit, mem_reservation, mem_swap, swappiness;
	int disable_oom_killer;
	/* cpu */
	struct opt_i64 cpu_shares, cpu_quota, cpu_period, rt_runtime, rt_period;
	char *cpus, *mems;
	/* pids */
	struct opt_i64 pids_limit;
	/* blockIO */
	struct opt_i64 blkio_weight;
	struct res_blkdev *weight_dev;
	size_t nweight_dev;
	struct res_blkdev *throttle[THR_COUNT];
	size_t nthrottle[THR_COUNT];
	/* hugepageLimits */
	struct res_hugepage *hugepages;
	size_t nhugepages;
	/* devices, in order */
	struct res_device *devices;
	size_t ndevices;
	/* unified: cgroup2 file -> value (refused on v1 hosts when not empty) */
	char **unified_keys, **unified_vals;
	size_t nunified;
};

/* The resources object res; base names it in messages ("linux.resources", or "" for
 * Update's document). *out is NULL on failure. */
struct jctx;
int spec_parse_resources(struct jctx *j, const cJSON *res, const char *base,
			 struct spec_resources **out);
/* Whether nothing is asked for (no limit, no rule). */
int spec_resources_empty(const struct spec_resources *r);
void spec_resources_free(struct spec_resources *r);
/* A LinuxResources JSON document on its own (containerd's Update). 0, or -EINVAL/-ENOMEM
 * with "resources: <where>: <why>" in err; *out is then NULL. */
int spec_resources_parse_json(const char *json, size_t len, struct spec_resources **out,
			      char *err, size_t errsz);

#endif
