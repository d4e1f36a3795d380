#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# selftest/fuzz/seeds.py: writes the hand-made seed inputs of every fuzz target into
# selftest/fuzz/corpus/<name>/seed-*: a few valid messages of each kind, in each target's
# input layout (see its fuzz_<name>.c). Found inputs sit beside them as crash-*/slow-*.
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from shim_client import field  # noqa: E402  (the ttrpc client's protobuf encoder)


def u(num, n):          # a varint field
    return field(num, 0, n & ((1 << 64) - 1))


def s(num, v):          # a length-delimited field: str, bytes, or an encoded message
    return field(num, 2, v.encode() if isinstance(v, str) else v)


CONFIG = ('{"ociVersion":"1.0.2","process":{"terminal":false,"user":{"uid":0,"gid":0},'
          '"args":["/bin/sh","-c","echo hi"],"env":["PATH=/usr/bin:/bin"],"cwd":"/",'
          '"capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],'
          '"permitted":["CAP_KILL"]},"noNewPrivileges":true},'
          '"root":{"path":"rootfs","readonly":true},"hostname":"t1",'
          '"mounts":[{"destination":"/proc","type":"proc","source":"proc"},'
          '{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["nosuid","size=1m"]}],'
          '"linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},'
          '{"type":"network"}],"resources":{"memory":{"limit":67108864},"pids":{"limit":100}},'
          '"maskedPaths":["/proc/kcore"],"readonlyPaths":["/proc/sys"]}}')
CONFIG_MIN = '{"ociVersion":"1.0.2","process":{"args":["true"],"cwd":"/"},"root":{"path":"/"}}'
RESOURCES = ('{"memory":{"limit":1048576,"swap":2097152},"pids":{"limit":10},'
             '"cpu":{"quota":50000,"period":100000,"shares":512}}')

def ttrpc_frame(body, stream=1, typ=1):
    return struct.pack(">IIBB", len(body), stream, typ, 0) + body

def ctl_request(method, payload=b"", ns="default"):
    return (s(1, "shimvisor.v1.Control") + s(2, method) + s(3, payload) +
            s(5, s(1, "containerd-namespace-ttrpc") + s(2, ns)))

def envelope(topic, value=b"", type_url=""):
    return s(1, u(1, 1700000000)) + s(2, "default") + s(3, topic) + s(4, s(1, type_url) + s(2, value))

def report(seq, kind_field, msg):    # a Report as the worker sends it: a DATA frame, stream 2
    return ttrpc_frame(u(1, seq) + s(kind_field, msg), 2, 3)

TS = u(1, 1700000000) + u(2, 5)
EVENTS = [
    envelope("/tasks/create", s(1, "t1") + s(2, "/run/b") + u(6, 4242), "containerd.events.TaskCreate"),
    envelope("/tasks/start", s(1, "t1") + u(2, 4242), "containerd.events.TaskStart"),
    envelope("/tasks/exit", s(1, "t1") + s(2, "t1") + u(3, 4242) + u(4, 3) + s(5, TS),
             "containerd.events.TaskExit"),
    envelope("/tasks/exit", s(1, "t1") + s(2, "e1") + u(3, 4243) + u(4, 0), "containerd.events.TaskExit"),
    envelope("/tasks/delete", s(1, "t1") + u(2, 4242) + u(3, 3), "containerd.events.TaskDelete"),
    envelope("/tasks/oom", s(1, "t1"), "containerd.events.TaskOOM"),
    envelope("/tasks/paused", s(1, "t1"), "containerd.events.TaskPaused"),
]
HELLO = report(1, 2, s(1, "0.1") + u(2, 4241))

CREATE = (s(1, "t1") + s(2, "/bin/sh") + s(2, "-c") + s(2, "exit 3") + s(3, "A=1") + s(4, "/") +
          s(11, "h") + s(12, "none") + u(17, 1) + u(18, 64 << 20) + u(19, 100) + u(20, 500))
CONTROL = {
    "Create": CREATE,
    "Create-restart": CREATE + s(21, "on-failure:3"),
    "Create-bundle": s(1, "t2") + s(6, CONFIG) + s(7, "/srv/b") + u(18, 1 << 20),
    "Start": s(1, "t1"), "Start-exec": s(1, "t1") + s(2, "e1"),
    "Kill": s(1, "t1") + u(3, 9) + u(4, 1), "Wait": s(1, "t1"), "State": s(1, "t1"),
    "Pids": s(1, "t1"), "Delete": s(1, "t1") + u(2, 1), "Delete-exec": s(1, "t1") + s(3, "e1"),
    "List": b"", "Subscribe": b"", "Version": b"", "Pause": s(1, "t1"), "Resume": s(1, "t1"),
    "Stats": s(1, "t1"), "Update": s(1, "t1") + u(2, 1 << 20) + u(3, 10) + u(4, 250),
    "Exec": s(1, "t1") + s(2, "e1") + s(3, "/bin/true") + s(4, "B=2") + s(5, "/tmp") + u(12, 1),
    "Inspect": s(1, "t1"),
}
# an encoded TaskSummary: args, a label, the capability mask (wire/control.proto)
SUMMARY = s(1, "/bin/sh") + s(23, "k=v") + u(29, 0x21)

def seeds():
    out = {}
    req = ctl_request("Version")
    out["ttrpc_frame"] = {"request": ttrpc_frame(req),
                          "two": ttrpc_frame(req) + ttrpc_frame(ctl_request("List"), 3),
                          "response": ttrpc_frame(s(1, u(1, 5) + s(2, "not found")) + s(2, b"x"), 1, 2)}
    out["spec"] = {"config": CONFIG.encode(), "minimal": CONFIG_MIN.encode()}
    out["policy"] = dict(out["spec"])
    out["resources"] = {"all": RESOURCES.encode(), "memory": b'{"memory":{"limit":4096}}'}
    out["task_payloads"] = {"create": bytes([0]) + s(1, "t1") + s(2, "/run/b") + s(6, "/dev/null"),
                            "start": bytes([1]) + s(1, "t1"),
                            "exec": bytes([3]) + s(1, "t1") + s(2, "e1") + s(7, s(1, "p") + s(2, CONFIG_MIN)),
                            "kill": bytes([6]) + s(1, "t1") + u(3, 15),
                            "update": bytes([10]) + s(1, "t1") + s(3, s(2, RESOURCES)),
                            "initsync": bytes([17]) + u(1, 1) + u(3, 42),
                            "runcoptions": bytes([18]) + s(3, "/pods/p1") + u(4, 1000) + u(5, 1000) + u(9, 1),
                            "runcany": bytes([19]) + s(1, "containerd.runc.v1.Options") + s(2, s(3, "/pods/p1"))}
    out["engine_spec"] = {"config": bytes([15]) + CONFIG.encode(), "minimal": bytes([0]) + CONFIG_MIN.encode()}
    spawn = s(1, "default") + s(2, "t1") + s(3, CONFIG)
    out["monitor"] = {"scan": bytes([0]) + u(1, 1) + s(4, b""),
                      "spawn": bytes([1]) + u(1, 2) + s(2, spawn),
                      "cleanup": bytes([1]) + u(1, 3) + s(3, s(1, "default") + s(2, "t1") + u(3, 1)),
                      "spawn-early": bytes([0]) + u(1, 2) + s(2, spawn),
                      "scan-fd": bytes([2]) + u(1, 1) + s(4, b""),
                      "respawn": bytes([1]) + u(1, 4) + s(2, s(1, "default") + s(2, "t1") +
                                                           s(4, u(1, 2) + u(3, 1)) + u(5, 1)),
                      "spawn-summary": bytes([1]) + u(1, 2) + s(2, spawn + s(6, SUMMARY)),
                      "respawn-summary": bytes([1]) + u(1, 4) + s(2, s(1, "default") + s(2, "t1") +
                                                                  u(5, 1) + s(6, SUMMARY)),
                      "record": bytes([1]) + u(1, 5) + s(6, s(1, "default") + s(2, "t1") +
                                                         s(3, u(1, 1) + u(2, 3) + u(4, 1)))}
    # replies: byte 0 = the fixture's task (2: running) | fds << 5; seq 7 is t1's request
    name = s(3, "default") + s(4, "t1")
    found = s(1, "/run/shimvisor/default/t1")
    out["replies"] = {"spawned": bytes([2 | 1 << 5]) + u(1, 7) + name + s(5, u(1, 42) + s(3, "/b")),
                      "spawn-failed": bytes([0]) + u(1, 7) + name + s(14, u(1, 1) + s(2, "policy")),
                      "committed": bytes([0]) + u(1, 7) + name + s(11, b""),
                      "commit-failed": bytes([0]) + u(1, 7) + name + s(15, u(1, 2)),
                      "cleaned": bytes([3]) + u(1, 7) + name + s(6, b""),
                      "found": bytes([2]) + u(1, 7) + s(3, "default") + s(4, "t2") + s(8, found + u(2, 1)),
                      "found-restart": bytes([2]) + u(1, 7) + s(3, "default") + s(4, "t2") +
                                       s(8, found + u(2, 1) + s(5, u(1, 2) + u(3, 4))),
                      "recorded": bytes([2]) + u(1, 9) + name + s(17, u(1, 13)),
                      "found-live": bytes([2 | 1 << 5]) + u(1, 7) + s(3, "default") + s(4, "t2") + s(12, found),
                      "found-summary": bytes([2 | 1 << 5]) + u(1, 7) + s(3, "default") + s(4, "t2") +
                                       s(12, found + s(6, SUMMARY)),
                      "scanned": bytes([2]) + u(1, 7) + s(9, b""),
                      "exited": bytes([2 | 8]) + name + s(7, u(1, 4241) + u(2, 9)),
                      "spawned-no-fds": bytes([2]) + u(1, 7) + name + s(5, u(1, 42) + s(3, "/b"))}
    assign = s(1, "default") + s(2, "t1") + s(3, "/run/shimvisor/default/t1")
    out["handover"] = {"assign": bytes([2]) + assign, "no-fds": bytes([0]) + assign,
                       "bad-id": bytes([2]) + s(1, "default") + s(2, "../x") + s(3, "/b")}
    out["control"] = {}
    for name, payload in CONTROL.items():
        method = name.split("-")[0]
        for sel in (1, 2 | 8, 3 | 16):      # the task creating; running with a link; stopped
            out["control"]["%s-%d" % (name, sel)] = bytes([sel]) + ctl_request(method, payload)
    out["control"]["bad-ns"] = bytes([2]) + ctl_request("State", s(1, "t1"), "a/b")
    out["control"]["bad-service"] = bytes([2]) + s(1, "x.Y") + s(2, "State")
    out["task_report"] = {}
    events = HELLO + b"".join(report(i + 2, 3, ev) for i, ev in enumerate(EVENTS))
    answer = ttrpc_frame(s(2, s(1, u(1, 4242))), 1, 2)     # a response no call is owed
    for sel in (0, 1, 2, 3):
        out["task_report"]["events-%d" % sel] = bytes([sel | 8]) + events
        out["task_report"]["partial-%d" % sel] = bytes([sel | 8]) + events[:-3]
        out["task_report"]["answer-%d" % sel] = bytes([sel | 8]) + answer + events
    return out

def main():
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    for target, files in seeds().items():
        d = os.path.join(top, target)
        os.makedirs(d, exist_ok=True)
        for name, data in files.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
    return 0

if __name__ == "__main__":
    sys.exit(main())
