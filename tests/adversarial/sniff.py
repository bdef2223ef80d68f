# SPDX-License-Identifier: GPL-2.0-only
#
# sniff.py IFACE OUTFILE HEX...: count the frames on IFACE (both
# directions, AF_PACKET/ETH_P_ALL) that contain any of the byte strings
# HEX.  OUTFILE is rewritten (atomically) after every match, and first
# once the socket is bound, so that its existence means "capturing":
#   count=N
#   frame=<dir> <hex of the first 256 bytes>     (the first 8 matches)
# SIGTERM stops it: frames already queued are read first.

import os
import signal
import socket
import sys

ETH_P_ALL = 0x0003
PKTTYPES = {0: "host", 1: "broadcast", 2: "multicast", 3: "otherhost", 4: "outgoing"}

iface, out = sys.argv[1], sys.argv[2]
markers = [bytes.fromhex(h) for h in sys.argv[3:]]
if not markers or any(not m for m in markers):
    sys.exit("sniff.py: need at least one non-empty hex marker")

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((iface, ETH_P_ALL))
count = 0
seen = 0
frames = []
stop = False


def write():
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"count={count}\nframes_seen={seen}\n")
        for line in frames:
            f.write(line + "\n")
    os.rename(tmp, out)


def on_term(*_):
    global stop
    stop = True


def take(data, addr):
    global count, seen
    # Frames that arrived between socket() and bind() may be from any
    # interface: only IFACE's count.
    if addr[0] != iface:
        return
    seen += 1
    if any(m in data for m in markers):
        count += 1
        if len(frames) < 8:
            frames.append(f"frame={PKTTYPES.get(addr[2], addr[2])} {data[:256].hex()}")
        write()


signal.signal(signal.SIGTERM, on_term)
write()
s.settimeout(0.05)
while not stop:
    try:
        data, addr = s.recvfrom(65535)
    except socket.timeout:
        continue
    take(data, addr)
s.setblocking(False)
while True:
    try:
        data, addr = s.recvfrom(65535)
    except BlockingIOError:
        break
    take(data, addr)
write()
