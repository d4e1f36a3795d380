/* SPDX-License-Identifier: Apache-2.0 */
/* selftest/unit/test_init_resources.c: the linux.resources / cgroupsPath parser
 * (worker/init/spec_resources.c): values, defaults, a table of malformed inputs, and the
 * path rules checked by spec.c. No cgroup is touched. */
#include <check.h>
#include "tap_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <unistd.h>
#include "common/cgroupfs.h"
#include "common/fsutil.h"
#include "worker/init/cgroups.h"
#include "worker/init/spec.h"
#include "worker/init/spec_resources.h"

static const char full[] =
	"{\"memory\":{\"limit\":536870912,\"reservation\":-1,\"swap\":1073741824,\"kernel\":1,"
	"\"kernelTCP\":2,\"swappiness\":60,\"disableOOMKiller\":true},"
	"\"cpu\":{\"shares\":1024,\"quota\":-1,\"period\":100000,\"realtimeRuntime\":950,"
	"\"realtimePeriod\":1000,\"cpus\":\"0-1,3\",\"mems\":\"0\"},"
	"\"pids\":{\"limit\":-1},"
	"\"blockIO\":{\"weight\":500,\"leafWeight\":300,"
	"\"weightDevice\":[{\"major\":8,\"minor\":0,\"weight\":600}],"
	"\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,\"rate\":1048576}],"
	"\"throttleWriteIOPSDevice\":[{\"major\":8,\"minor\":16,\"rate\":100}]},"
	"\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
	"\"devices\":[{\"allow\":false,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"wr\"},"
	"{\"allow\":true,\"type\":\"b\",\"major\":8}],"
	"\"unified\":{\"memory.high\":\"max\"},\"network\":{\"classID\":1}}";

START_TEST(parse_values)
{
	struct spec_resources *r = NULL;
	char err[256];

	ck_assert_int_eq(spec_resources_parse_json(full, strlen(full), &r, err, sizeof(err)), 0);
	ck_assert(r->mem_limit.set && r->mem_limit.v == 536870912);
	ck_assert(r->mem_reservation.set && r->mem_reservation.v == -1);
	ck_assert(r->mem_swap.set && r->mem_swap.v == 1073741824);
	ck_assert(r->swappiness.set && r->swappiness.v == 60);
	ck_assert_int_eq(r->disable_oom_killer, 1);
	ck_assert(r->cpu_shares.v == 1024 && r->cpu_quota.v == -1 && r->cpu_period.v == 100000);
	ck_assert(r->rt_runtime.v == 950 && r->rt_period.v == 1000);
	ck_assert_str_eq(r->cpus, "0-1,3");
	ck_assert_str_eq(r->mems, "0");
	ck_assert(r->pids_limit.set && r->pids_limit.v == -1);
	ck_assert(r->blkio_weight.set && r->blkio_weight.v == 500);
	ck_assert_uint_eq(r->nweight_dev, 1);
	ck_assert(r->weight_dev[0].major == 8 && r->weight_dev[0].weight.v == 600);
	ck_assert_uint_eq(r->nthrottle[THR_READ_BPS], 1);
	ck_assert_uint_eq(r->throttle[THR_READ_BPS][0].rate, 1048576);
	ck_assert_uint_eq(r->nthrottle[THR_WRITE_IOPS], 1);
	ck_assert_int_eq(r->throttle[THR_WRITE_IOPS][0].minor, 16);
	ck_assert_uint_eq(r->nthrottle[THR_WRITE_BPS], 0);
	ck_assert_uint_eq(r->nhugepages, 1);
	ck_assert_str_eq(r->hugepages[0].page_size, "2MB");
	ck_assert_uint_eq(r->ndevices, 3);
	ck_assert(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1);
	ck_assert_str_eq(r->devices[0].access, "rwm");
	ck_assert(r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].minor == 3);
	ck_assert_str_eq(r->devices[1].access, "rw");   /* normalised order */
	ck_assert(r->devices[2].type == 'b' && r->devices[2].minor == -1);
	ck_assert_str_eq(r->devices[2].access, "rwm");  /* absent: all */
	ck_assert_uint_eq(r->nunified, 1);
	ck_assert_str_eq(r->unified_keys[0], "memory.high");
	ck_assert(!spec_resources_empty(r));
	spec_resources_free(r);
}
END_TEST

START_TEST(empty_is_empty)
{
	static const char *const docs[] = {
		"{}", "{\"memory\":{}}", "{\"devices\":[]}", "{\"memory\":{\"kernel\":5}}",
		"{\"blockIO\":{\"weight\":0}}", "{\"cpu\":null}",
	};
	struct spec_resources *r = NULL;
	char err[256];

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		ck_assert_msg(spec_resources_parse_json(docs[i], strlen(docs[i]), &r, err,
							 sizeof(err)) == 0, "%s: %s", docs[i], err);
		ck_assert_msg(spec_resources_empty(r), "%s", docs[i]);
		spec_resources_free(r);
	}
}
END_TEST

START_TEST(malformed)
{
	static const struct { const char *doc, *msg; } bad[] = {
		{ "", "resources: not valid JSON" },
		{ "[]", "resources: must be a JSON object" },
		{ "{} x", "resources: not valid JSON" },
		{ "{\"memory\":1}", "resources: memory: must be an object" },
		{ "{\"memory\":{\"limit\":\"1G\"}}", "resources: memory.limit: must be a number" },
		{ "{\"memory\":{\"limit\":-2}}", "resources: memory.limit: is out of range" },
		{ "{\"memory\":{\"limit\":1.5}}", "resources: memory.limit: must be an integer" },
		{ "{\"memory\":{\"swappiness\":101}}", "resources: memory.swappiness: is out of range" },
		{ "{\"memory\":{\"disableOOMKiller\":1}}",
		  "resources: memory.disableOOMKiller: must be true or false" },
		{ "{\"memory\":{\"kernel\":\"x\"}}", "resources: memory.kernel: must be a number" },
		{ "{\"cpu\":{\"cpus\":\"0-3;rm\"}}", "resources: cpu.cpus: must be a list like \"0-3,5\"" },
		{ "{\"cpu\":{\"shares\":-5}}", "resources: cpu.shares: is out of range" },
		{ "{\"pids\":{\"limit\":true}}", "resources: pids.limit: must be a number" },
		{ "{\"blockIO\":{\"weight\":5}}", "resources: blockIO.weight: must be 10 to 1000" },
		{ "{\"blockIO\":{\"weight\":1001}}", "resources: blockIO.weight: is out of range" },
		{ "{\"blockIO\":{\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0}]}}",
		  "resources: blockIO.throttleReadBpsDevice.rate: is required" },
		{ "{\"blockIO\":{\"weightDevice\":[{\"major\":8}]}}",
		  "resources: blockIO.weightDevice.major: major and minor are required" },
		{ "{\"hugepageLimits\":[{\"pageSize\":\"2MB\"}]}",
		  "resources: hugepageLimits.limit: is required" },
		{ "{\"hugepageLimits\":[{\"pageSize\":\"2M/B\",\"limit\":1}]}",
		  "resources: hugepageLimits.pageSize: must be like \"2MB\"" },
		{ "{\"hugepageLimits\":[1]}", "resources: hugepageLimits: must be an array of objects" },
		{ "{\"devices\":[{\"access\":\"rwm\"}]}",
		  "resources: devices.allow: is required (true or false)" },
		{ "{\"devices\":[{\"allow\":true,\"type\":\"x\"}]}",
		  "resources: devices.type: must be \"a\", \"c\" or \"b\"" },
		{ "{\"devices\":[{\"allow\":true,\"access\":\"rwx\"}]}",
		  "resources: devices.access: must be letters of \"rwm\"" },
		{ "{\"devices\":[{\"allow\":true,\"access\":\"\"}]}",
		  "resources: devices.access: must be letters of \"rwm\"" },
		{ "{\"devices\":[{\"allow\":true,\"major\":-2}]}", "resources: devices.major: is out of range" },
		{ "{\"unified\":{\"../x\":\"1\"}}", "resources: unified: keys must be controller file names" },
		{ "{\"unified\":{\"cgroup.procs\":\"1\"}}",
		  "resources: unified: keys must be controller file names" },
		{ "{\"unified\":{\"memory.high\":1}}", "resources: unified: values must be strings" },
	};
	struct spec_resources *r = NULL;
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = spec_resources_parse_json(bad[i].doc, strlen(bad[i].doc), &r, err, sizeof(err));

		ck_assert_msg(rc == -EINVAL, "%s: rc %d", bad[i].doc, rc);
		ck_assert_ptr_null(r);
		ck_assert_msg(!strcmp(err, bad[i].msg), "%s: got \"%s\"", bad[i].doc, err);
	}
}
END_TEST

#define SPEC(linux_) "{\"process\":{\"args\":[\"/bin/true\"]},\"root\":{\"path\":\"/\"}," \
		     "\"linux\":{" linux_ "}}"

START_TEST(spec_paths)
{
	static const struct { const char *doc, *msg; } cases[] = {
		{ SPEC("\"cgroupsPath\":\"/a/b\",\"resources\":{\"pids\":{\"limit\":3}}"), "" },
		{ SPEC("\"cgroupsPath\":\"rel/x\""), "" },
		{ SPEC("\"resources\":{\"devices\":[]}"), "" },     /* empty: no cgroup needed */
		{ SPEC("\"cgroupsPath\":\"\",\"resources\":{}"), "" },
		{ SPEC("\"resources\":{\"pids\":{\"limit\":3}}"),
		  "config.json: linux.resources: needs linux.cgroupsPath" },
		{ SPEC("\"cgroupsPath\":\"\",\"resources\":{\"devices\":[{\"allow\":false}]}"),
		  "config.json: linux.resources: needs linux.cgroupsPath" },
		{ SPEC("\"cgroupsPath\":\"/a/../b\""),
		  "config.json: linux.cgroupsPath: must not contain . or .." },
		{ SPEC("\"cgroupsPath\":\"./b\""),
		  "config.json: linux.cgroupsPath: must not contain . or .." },
		{ SPEC("\"cgroupsPath\":\"/a\\nb\""),
		  "config.json: linux.cgroupsPath: must not contain a newline" },
		{ SPEC("\"cgroupsPath\":7"), "config.json: linux.cgroupsPath: must be a string" },
		{ SPEC("\"cgroupsPath\":\"/a\",\"resources\":[]"),
		  "config.json: linux.resources: must be an object" },
		{ SPEC("\"cgroupsPath\":\"/a\",\"resources\":{\"memory\":{\"limit\":\"x\"}}"),
		  "config.json: linux.resources.memory.limit: must be a number" },
	};
	struct spec s;
	char err[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = spec_parse(cases[i].doc, strlen(cases[i].doc), &s, err, sizeof(err));

		ck_assert_msg(!strcmp(err, cases[i].msg), "%s: got \"%s\"", cases[i].doc, err);
		ck_assert_int_eq(rc, cases[i].msg[0] ? -EINVAL : 0);
		if (!rc)
			spec_free(&s);
	}
	ck_assert_int_eq(spec_parse(cases[0].doc, strlen(cases[0].doc), &s, err, sizeof(err)), 0);
	ck_assert_str_eq(s.cgroups_path, "/a/b");
	ck_assert_ptr_nonnull(s.resources);
	ck_assert_int_eq(s.resources->pids_limit.v, 3);
	spec_free(&s);
}
END_TEST

/* The cgroup2 backend's conversions, written into plain files standing in for a cgroup2
 * directory with every controller (this host's cgroup2 may have none). */
static const char *const v2_files[] = {
	"memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max", "cpuset.cpus",
	"cpuset.mems", "pids.max", "io.max", "hugetlb.2MB.max", "memory.high", NULL,
};

static int v2_apply_into(const char *doc, const char *extra_file, char *dir, struct init_err *e)
{
	struct spec_resources *r = NULL;
	char err[256];
	int dfd, rc;

	strcpy(dir, "/tmp/sv-v2-conv-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	for (size_t i = 0; v2_files[i]; i++)
		ck_assert_int_eq(sv_replace_file(dfd, v2_files[i], "", 0, 0644), 0);
	if (extra_file)
		ck_assert_int_eq(sv_replace_file(dfd, extra_file, "", 0, 0644), 0);
	ck_assert_msg(spec_resources_parse_json(doc, strlen(doc), &r, err, sizeof(err)) == 0,
		      "%s", err);
	memset(e, 0, sizeof(*e));
	rc = cgv2_apply(dfd, ~0u & ~CGC_NAMED, r, e);
	spec_resources_free(r);
	close(dfd);
	return rc;
}

static void v2_expect(const char *dir, const char *file, const char *want)
{
	char b[128];
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(cgfs_read(dfd, file, b, sizeof(b)), 0);
	close(dfd);
	ck_assert_msg(!strcmp(b, want), "%s: \"%s\", want \"%s\"", file, b, want);
}

static void rm_dir(const char *dir)
{
	int tmp = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_eq(sv_remove_tree(tmp, dir + 5), 0);
	close(tmp);
}

START_TEST(v2_conversions)
{
	struct init_err e;
	char dir[64];

	ck_assert_int_eq(v2_apply_into(
		"{\"memory\":{\"limit\":67108864,\"reservation\":-1,\"swap\":134217728,"
		"\"swappiness\":10,\"disableOOMKiller\":true},"
		"\"cpu\":{\"shares\":1024,\"quota\":50000,\"period\":100000,\"cpus\":\"0\","
		"\"mems\":\"0\"},\"pids\":{\"limit\":10},"
		"\"blockIO\":{\"weight\":500,\"throttleReadBpsDevice\":[{\"major\":8,\"minor\":0,"
		"\"rate\":1048576}]},\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
		"\"unified\":{\"memory.high\":\"max\"}}", "io.weight", dir, &e), 0);
	v2_expect(dir, "memory.max", "67108864");
	v2_expect(dir, "memory.low", "max");
	v2_expect(dir, "memory.swap.max", "67108864");   /* swap alone: 128M - 64M */
	v2_expect(dir, "cpu.weight", "39");              /* runc's mapping of 1024 */
	v2_expect(dir, "cpu.max", "50000 100000");
	v2_expect(dir, "cpuset.cpus", "0");
	v2_expect(dir, "pids.max", "10");
	v2_expect(dir, "io.weight", "default 4950");
	v2_expect(dir, "io.max", "8:0 rbps=1048576");
	v2_expect(dir, "hugetlb.2MB.max", "4194304");
	v2_expect(dir, "memory.high", "max");
	rm_dir(dir);

	/* BFQ only: io.bfq.weight keeps blkio's scale; a quota of -1 is "max" */
	ck_assert_int_eq(v2_apply_into("{\"blockIO\":{\"weight\":500},\"cpu\":{\"quota\":-1,"
				       "\"period\":50000},\"pids\":{\"limit\":-1}}",
				       "io.bfq.weight", dir, &e), 0);
	v2_expect(dir, "io.bfq.weight", "500");
	v2_expect(dir, "cpu.max", "max 50000");
	v2_expect(dir, "pids.max", "max");
	rm_dir(dir);

	ck_assert_int_eq(v2_apply_into("{\"cpu\":{\"realtimeRuntime\":100}}", NULL, dir, &e),
			 -EOPNOTSUPP);
	ck_assert_ptr_nonnull(strstr(e.msg, "realtime"));
	rm_dir(dir);
	ck_assert_int_eq(v2_apply_into("{\"memory\":{\"limit\":100,\"swap\":50}}", NULL, dir, &e),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(e.msg, "memory.swap"));
	rm_dir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("init_resources");

	SV_TCASE(s, "resources", 10, parse_values, empty_is_empty, malformed, spec_paths,
		 v2_conversions);
	return sv_run_suite(s);
}
