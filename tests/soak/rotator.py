# SPDX-License-Identifier: GPL-2.0-only
#
# rotator.py: moves the soak's allowed names through their address pools
# the whole time.  Every INTERVAL seconds the next name (round robin)
# moves to the next v4 and v6 address of its own pool; the hosts file
# dnsmasq reads (--addn-hosts) is rewritten atomically and dnsmasq is sent
# SIGHUP, which makes it clear its cache and read the file again.  Each
# move is logged as a JSON line (CLOCK_MONOTONIC time) to LOG.  Runs until
# SIGTERM.  POOLS is a JSON file: {"name": {"v4": [...], "v6": [...]}}.
#
#   rotator.py POOLS HOSTS LOG DNSMASQ_PID INTERVAL
#   rotator.py POOLS HOSTS --init      (write the first hosts file, exit)

import json
import os
import signal
import sys
import time

pools = json.load(open(sys.argv[1]))
hosts = sys.argv[2]
names = sorted(pools)
cur = {n: 0 for n in names}


def write():
    tmp = hosts + ".tmp"
    with open(tmp, "w") as f:
        for n in names:
            p = pools[n]
            f.write("%s %s\n" % (p["v4"][cur[n] % len(p["v4"])], n))
            f.write("%s %s\n" % (p["v6"][cur[n] % len(p["v6"])], n))
    os.chmod(tmp, 0o644)
    os.replace(tmp, hosts)


if sys.argv[3] == "--init":
    write()
    sys.exit(0)

log = open(sys.argv[3], "a")
pid = int(sys.argv[4])
interval = float(sys.argv[5])
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
k = 0
while True:
    time.sleep(interval)
    n = names[k % len(names)]
    k += 1
    cur[n] += 1
    write()
    try:
        os.kill(pid, signal.SIGHUP)
        ok = True
    except OSError:
        ok = False
    p = pools[n]
    log.write(json.dumps({"t": time.monotonic(), "name": n, "hup": ok,
                          "v4": p["v4"][cur[n] % len(p["v4"])],
                          "v6": p["v6"][cur[n] % len(p["v6"])]}) + "\n")
    log.flush()
