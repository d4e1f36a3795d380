/* SPDX-License-Identifier: Apache-2.0 */
/* wire/limits.h: every fd number, size cap and well-known name shared by shimvisor's processes. */
#ifndef SV_WIRE_LIMITS_H
#define SV_WIRE_LIMITS_H

/* A child's first fd beyond stdio: sv_spawn (common/spawn.h) puts its fds[i] on SV_FD_FIRST + i,
 * and the fixed fds below count from it. */
#define SV_FD_FIRST         3

/* Fixed fds of an exec'd shimvisor-worker (everything else is closed before exec). Under the
 * daemon its fd 2, like the engine's, is its own log relay to the monitor (a SOCK_DGRAM
 * socket: one line per datagram, "<level>text"; supervisor/monitor_log.c). */
#define SV_FD_LISTEN        3   /* listening shim socket */
#define SV_FD_LINK          4   /* the engine's link: a connected stream socket carrying its
				 * ttrpc calls and the worker's reports (absent under containerd) */
#define SV_FD_HANDOVER      3   /* a warm (idle) worker's socket to the monitor, until assigned */

/* Fixed fds of the engine, exec'd by the monitor as `shimvisord-eng --engine` (everything
 * else is closed before exec; stdio stays). */
#define SV_ENG_FD_MONITOR   3   /* its end of the monitor channel (SOCK_SEQPACKET) */
#define SV_ENG_FD_CONTROL   4   /* the listening control socket */
#define SV_ENG_FD_CONFIG    5   /* a pipe: the monitor's struct sv_config, then EOF */
#define SV_ENG_FD_READY     6   /* gets "\n" once the daemon serves (absent without --ready-fd) */
#define SV_ENG_FD_LAST      SV_ENG_FD_READY

/* Fixed fds of an exec'd shimvisor-init (the task's first stage, see worker/init/). */
#define SV_INIT_FD_CONFIG   3   /* config.json, read-only */
#define SV_INIT_FD_SYNC     4   /* socketpair end to the worker (SOCK_SEQPACKET) */
#define SV_INIT_FD_STDIO    5   /* 5, 6, 7: the task's stdin, stdout, stderr */
#define SV_INIT_FD_PIDFD    8   /* --exec: a pidfd of the task's init, opened by the worker */
/* A task's session keyring (runc's name): SV_KEYRING_PREFIX + its id, unless NoNewKeyring. */
#define SV_KEYRING_PREFIX   "_ses."
#define SV_KEYRING_NAME_MAX 256 /* with its NUL; above "_ses." + the longest task id */

/* Fixed fds of a containerd logging binary (stdio "binary:///path"), containerd's contract. */
#define SV_LOGGER_FD_STDOUT 3
#define SV_LOGGER_FD_STDERR 4
#define SV_LOGGER_FD_READY  5   /* closed (or written) by the logger once it is ready */

/* PATH of a process whose environment has none (OCI runtimes' and containerd's default). */
#define SV_DEFAULT_PATH     "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ttrpc v1.1 framing (PROTOCOL.md §2.1). */
#define SV_TTRPC_HEADER_LEN     10
#define SV_TTRPC_MAX_BODY       (4u << 20)
#define SV_TTRPC_TYPE_REQUEST   1
#define SV_TTRPC_TYPE_RESPONSE  2
/* A worker's Report on its link (SV_FD_LINK): a frame of type DATA on an even stream, the
 * one a server may start, that no call uses; the body is one encoded sv_Report. */
#define SV_TTRPC_TYPE_DATA      3
#define SV_REPORT_STREAM        2

#define SV_REPORT_MAX           (64u << 10)   /* one Report on a worker's link */
#define SV_MONITOR_MAX_MSG      (256u << 10)  /* one engine<->monitor packet */
/* Debian's nanopb runtime is built with a 16-bit pb_size_t: one bytes field holds at most
 * 65535 bytes (larger ones fail to decode, never truncate). */
#define SV_BYTES_MAX            65535u
#define SV_CONFIG_MAX           SV_BYTES_MAX  /* a config.json the daemon accepts */

#define SV_CONN_MAX             256           /* client connections per process */

#define SV_NS_METADATA_KEY  "containerd-namespace-ttrpc"
#define SV_TASK_SERVICE     "containerd.task.v2.Task"
#define SV_EVENTS_SERVICE   "containerd.services.events.ttrpc.v1.Events"
#define SV_CONTROL_SERVICE  "shimvisor.v1.Control"
#define SV_DEFAULT_NS       "default"
/* UpdateTaskRequest.resources: an Any of this type, its value OCI LinuxResources JSON */
#define SV_OCI_RESOURCES_URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"
/* StatsResponse.stats: an Any of one of these (wire/metrics.proto Cg1Metrics, Cg2Metrics) */
#define SV_CG1_METRICS_URL  "io.containerd.cgroups.v1.Metrics"
#define SV_CG2_METRICS_URL  "io.containerd.cgroups.v2.Metrics"
/* A task without a cgroup of its own: a Cg1Metrics of what /proc shows of its processes
 * (cpu.usage, memory.rss and memory.usage.usage, pids.current; no limits). */
#define SV_PROC_METRICS_URL "io.shimvisor.proc.v1.Metrics"
/* config.json annotation: the cgroup (a linux.cgroupsPath) that a task started without one
 * is given at its first Pause or Update; written by the engine, checked by the monitor's
 * policy, read by `shimvisor-init --update PID BUNDLE`. */
#define SV_ANNOT_CGROUP_LAZY "io.shimvisor.cgroup.lazy"
/* ExecProcessRequest.spec: an Any of this type, its value an OCI Process JSON */
#define SV_OCI_PROCESS_URL  "types.containerd.io/opencontainers/runtime-spec/1/Process"

/* Files in a bundle directory. */
#define SV_BUNDLE_CONFIG    "config.json"
#define SV_BUNDLE_ADDRESS   "address"
#define SV_BUNDLE_EXIT      "exit"          /* "<status> <sec> <nsec>\n", tmp+rename, by the worker */
#define SV_BUNDLE_INIT_PID  "init.pid"      /* "<pid> <starttime>\n" of the task's init */
#define SV_BUNDLE_CGROUP    "cgroup"        /* the task's cgroup dirs, "v1|v2 <ctrls> <dir>\n"
					     * each (cgfs_record_line), for removal */
#define SV_BUNDLE_WORKER_PID "worker.pid"
/* empty; made with the bundle, removed when the engine commits the create (MonCommit): a
 * bundle found with it at recovery is rolled back */
#define SV_BUNDLE_CREATING  "creating"
#define SV_BUNDLE_RESTART   "restart"       /* the restart policy's record (common/restart_policy.h) */
/* the engine's encoded TaskSummary of the task (wire/control.proto), written by the monitor */
#define SV_BUNDLE_SUMMARY   "summary"
#define SV_SUMMARY_MAX      8192            /* bytes: MonSpawn.summary, the file, MonFound.summary */
#define SV_BUNDLE_LOG       "log"           /* detached output; log.1.. its rotations */
/* stdio name of a capped, rotated log file the worker writes: svlog:///path?max=B&keep=N */
#define SV_LOG_SCHEME       "svlog://"
#define SV_BUNDLE_ROOTFS    "rootfs"

#define SV_VERSION          "0.1.0"

#endif
