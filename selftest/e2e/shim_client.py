# SPDX-License-Identifier: Apache-2.0
# selftest/e2e/shim_client.py: a hostile client of one worker's shim socket (ttrpc,
# containerd.task.v2.Task), as a compromised engine would be: it sends an Exec with a
# Process JSON of its choosing, then Start, then (if started) Wait, and prints each answer.
#   shim_client.py SOCKET TASK_ID EXEC_ID PROCESS_JSON_FILE
# Output lines: "exec CODE MESSAGE", "start CODE MESSAGE", "wait CODE EXIT_STATUS".
import socket
import struct
import sys

SERVICE = "containerd.task.v2.Task"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, data):
    key = varint((num << 3) | wire)
    if wire == 0:
        return key + varint(data)
    return key + varint(len(data)) + data


def string(num, s):
    return field(num, 2, s.encode() if isinstance(s, str) else s)


def read_varint(buf, i):
    n = shift = 0
    while True:
        b = buf[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def fields(buf):
    """(number, value) of each field: ints for varints, bytes for length-delimited."""
    i, out = 0, []
    while i < len(buf):
        key, i = read_varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(buf, i)
        elif wire == 2:
            ln, i = read_varint(buf, i)
            v, i = buf[i:i + ln], i + ln
        elif wire == 1:
            v, i = buf[i:i + 8], i + 8
        elif wire == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((num, v))
    return out


class Shim:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.stream = 1

    def recv_exact(self, n):
        b = b""
        while len(b) < n:
            c = self.s.recv(n - len(b))
            if not c:
                raise EOFError("shim closed the connection")
            b += c
        return b

    def call(self, method, payload):
        req = string(1, SERVICE) + string(2, method) + string(3, payload)
        sid = self.stream
        self.stream += 2
        self.s.sendall(struct.pack(">IIBB", len(req), sid, 1, 0) + req)
        while True:
            ln, rsid, typ, _flags = struct.unpack(">IIBB", self.recv_exact(10))
            body = self.recv_exact(ln)
            if rsid == sid and typ == 2:
                break
        code, msg, out = 0, "", b""
        for num, v in fields(body):
            if num == 1:
                for n2, v2 in fields(v):
                    if n2 == 1:
                        code = v2
                    elif n2 == 2:
                        msg = v2.decode(errors="replace")
            elif num == 2:
                out = v
        return code, msg, out


def main():
    sock, tid, eid, spec_file = sys.argv[1:5]
    with open(spec_file, "rb") as f:
        spec = f.read()
    shim = Shim(sock)
    anyspec = string(1, "types.containerd.io/opencontainers/runtime-spec/1/Process") + \
        string(2, spec)
    code, msg, _ = shim.call("Exec", string(1, tid) + string(2, eid) + field(7, 2, anyspec))
    print("exec %d %s" % (code, msg))
    if code:
        return
    code, msg, _ = shim.call("Start", string(1, tid) + string(2, eid))
    print("start %d %s" % (code, msg))
    if code:
        return
    code, msg, out = shim.call("Wait", string(1, tid) + string(2, eid))
    status = dict(fields(out)).get(1, 0) if not code else msg
    print("wait %d %s" % (code, status))


if __name__ == "__main__":
    main()
