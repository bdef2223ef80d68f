# SPDX-License-Identifier: GPL-2.0-only
#
# analyze.py: turns a soak run's records into build/soak/results.json and
# a summary, and decides pass/fail.  Inputs (all written by soak.sh and
# its helpers): the workloads' JSON lines, the destination server's
# counts before the workloads started (the controls) and at the end, the
# rotator's log and egressd's samples.  The rules (docs/soak.md):
#
#   false allow: a denied attempt that connected or got an echo, a denied
#     name that resolved, or any TCP connection / UDP datagram the server
#     counted for a denied address beyond the controls' baseline;
#   false deny: an allowed attempt (lookup or connection) that failed,
#     unless its address's learned entry may have expired: with c0 the
#     time the connect began and r0 the start of the latest lookup by the
#     same workload (same egressd) that returned the address, the entry
#     lives until at least r0 + TTL (egressd saw the answer after r0), so
#     a failure with c0 < r0 + TTL - GUARD is a false deny; with
#     c0 >= r1 + TTL (r1: that lookup's end) it is "expired" (excused);
#     in between it is "boundary" (excused, counted);
#   stale allow: an allowed-name address connected to after its entry
#     had expired (c0 >= r1 + TTL + GUARD) that is not one of the
#     addresses egressd resolved at start for the explicit names (those
#     are static rules for the whole run): expiry not enforced; a failure;
#   the server's count on allowed addresses must equal the clients'
#     successes (a cross-check of both sides' bookkeeping);
#   RSS: after the warm-up, growth = last sample - the first sample at or
#     after the warm-up; fail above the threshold.
#
#   analyze.py CONFIG.json   (paths and parameters, see soak.sh)

import json
import sys


def load_jsonl(path):
    recs = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    recs.append(json.loads(line))
                except ValueError:
                    pass
    except OSError:
        pass
    return recs


def load_json(path, default):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def slope_per_min(pts):
    """Least-squares slope of (t seconds, v) in v per minute."""
    n = len(pts)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in pts) / n
    mv = sum(v for _, v in pts) / n
    den = sum((t - mt) ** 2 for t, _ in pts)
    if den == 0:
        return 0.0
    return 60.0 * sum((t - mt) * (v - mv) for t, v in pts) / den


def stats(vals):
    if not vals:
        return None
    return {"first": vals[0], "last": vals[-1], "max": max(vals), "min": min(vals)}


def main():
    cfg = json.load(open(sys.argv[1]))
    ttl = cfg["ttl_s"]
    guard = cfg["guard_s"]
    denied_addrs = set(cfg["denied_addrs"])
    static_addrs = set(cfg["static_addrs"])
    failures = []

    # --- the workloads' records
    recs = []
    done = {}
    for path in cfg["workload_files"]:
        for r in load_jsonl(path):
            if "done" in r:
                done[r["tag"]] = r["done"]
            elif "cls" in r:
                recs.append(r)
    # Latest lookup start per (tag, addr), looked up by time: the lookups
    # each workload made, sorted.
    lookups = {}
    for r in recs:
        if r["cls"] == "allowed" and r["mode"] == "fresh" and "addr" in r:
            lookups.setdefault((r["tag"], r["addr"]), []).append((r["r0"], r["r1"]))
    for v in lookups.values():
        v.sort()

    def last_lookup(tag, addr, before):
        best = None
        for r0, r1 in lookups.get((tag, addr), ()):
            if r0 > before:
                break
            best = (r0, r1)
        return best

    by = {}
    fa_client = []
    fd = []
    excused = {"expired": 0, "boundary": 0}
    stale_passed = 0
    stale_allows = []
    refused_ok = 0
    for r in recs:
        key = "%s %s %s %s" % (r["tag"], r["cls"], r["proto"], r["fam"])
        b = by.setdefault(key, {})
        b[r["res"]] = b.get(r["res"], 0) + 1
        if r["cls"] == "denied":
            if r.get("resolved") or r["res"] == "ok":
                fa_client.append(r)
            elif r["res"] == "refused":
                refused_ok += 1
            continue
        # allowed
        if r["res"] == "ok":
            if r["mode"] == "stale":
                lk = last_lookup(r["tag"], r["addr"], r["c0"])
                if lk and r["c0"] >= lk[1] + ttl + guard:
                    if r["addr"] in static_addrs:
                        stale_passed += 1
                    else:
                        stale_allows.append(dict(r, why="%.3f s after the lookup ended" %
                                                 (r["c0"] - lk[1])))
            continue
        if "addr" not in r:  # the lookup of an allowed name failed
            fd.append(dict(r, why="lookup failed"))
            continue
        lk = last_lookup(r["tag"], r["addr"], r["c0"])
        if lk is None:
            fd.append(dict(r, why="no lookup found (harness bug?)"))
        elif r["c0"] < lk[0] + ttl - guard:
            fd.append(dict(r, why="within TTL of lookup at %.3f (age %.3f s)" %
                           (lk[0], r["c0"] - lk[0])))
        elif r["c0"] >= lk[1] + ttl:
            excused["expired"] += 1
        else:
            excused["boundary"] += 1

    # --- the server's view
    base = load_json(cfg["counts_baseline"], {}).get("counts", {})
    final = load_json(cfg["counts_final"], None)
    fa_server = {}
    server_allowed = 0
    if final is None:
        failures.append("no final server counts (%s)" % cfg["counts_final"])
        final = {"counts": {}}
    for k, n in final["counts"].items():
        addr = k.split(" ", 1)[1]
        extra = n - base.get(k, 0)
        if addr in denied_addrs:
            if extra > 0:
                fa_server[k] = extra
        else:
            server_allowed += n - base.get(k, 0)

    n_allowed = sum(1 for r in recs if r["cls"] == "allowed")
    n_denied = len(recs) - n_allowed
    n_ok = sum(1 for r in recs if r["cls"] == "allowed" and r["res"] == "ok")
    false_allows = len(fa_client) + sum(fa_server.values())
    false_denies = len(fd)

    # --- egressd's samples: "tag t rss_kb fds ticks learned4 learned6"
    samples = {}
    try:
        with open(cfg["samples"]) as f:
            for line in f:
                p = line.split()
                if len(p) != 7:
                    continue
                try:
                    v = [float(x) for x in p[1:]]
                except ValueError:
                    continue
                samples.setdefault(p[0], []).append(v)
    except OSError:
        pass
    eg = {}
    hz = cfg["clk_tck"]
    for tag, warm in cfg["warm_s"].items():
        s = samples.get(tag, [])
        if len(s) < 2:
            failures.append("egressd %s: fewer than 2 samples" % tag)
            continue
        after = [x for x in s if x[0] >= warm] or s[-1:]
        rss = [int(x[1]) for x in s]
        growth = int(after[-1][1] - after[0][1])
        e = {
            "samples": len(s),
            "rss_kb": dict(stats(rss), warm=int(after[0][1]), growth_after_warm=growth,
                           slope_kb_per_min=round(slope_per_min([(x[0], x[1]) for x in after]), 2)),
            "fds": dict(stats([int(x[2]) for x in s]), warm=int(after[0][2])),
            "cpu_s": round((s[-1][3] - s[0][3]) / hz, 2),
            "cpu_pct": round(100.0 * (s[-1][3] - s[0][3]) / hz / max(1e-9, s[-1][0] - s[0][0]), 2),
            "learned_v4": stats([int(x[4]) for x in s]),
            "learned_v6": stats([int(x[5]) for x in s]),
            "window_s": [round(s[0][0], 1), round(s[-1][0], 1)],
            "warm_s": warm,
        }
        eg[tag] = e
        if growth > cfg["rss_max_growth_kb"]:
            failures.append("egressd %s: RSS grew %d kB after the warm-up (limit %d kB)" %
                            (tag, growth, cfg["rss_max_growth_kb"]))

    rot = load_jsonl(cfg["rotations"])
    for tag in cfg["tags"]:
        if tag not in done:
            failures.append("workload %s did not finish (no done line)" % tag)
    if len(recs) < cfg["min_attempts"]:
        failures.append("only %d attempts (want at least %d)" % (len(recs), cfg["min_attempts"]))
    if n_ok == 0:
        failures.append("no allowed attempt succeeded")
    # Every allowed success is one connection accepted or one datagram
    # read: the server and the clients must agree.
    if server_allowed != n_ok:
        failures.append("the server counted %d on allowed addresses, the clients %d successes" %
                        (server_allowed, n_ok))
    if len(rot) == 0:
        failures.append("no rotation happened")
    if false_allows:
        failures.append("%d false allows" % false_allows)
    if false_denies:
        failures.append("%d false denies" % false_denies)
    if stale_allows:
        failures.append("%d stale allows (expired learned addresses reached)" % len(stale_allows))

    res = {
        "commit": cfg["commit"],
        "started_utc": cfg["started_utc"],
        "seconds": cfg["seconds"],
        "ttl_s": ttl,
        "guard_s": guard,
        "rotation_interval_s": cfg["rotation_interval_s"],
        "rotations": len(rot),
        "attempts": {"total": len(recs), "allowed": n_allowed, "denied": n_denied,
                     "allowed_ok": n_ok, "denied_names_refused": refused_ok,
                     "per_workload": done, "by_kind": by},
        "server_counted_allowed": server_allowed,
        "false_allows": {"total": false_allows, "client": len(fa_client), "server": fa_server,
                         "examples": fa_client[:10]},
        "false_denies": {"total": false_denies, "examples": fd[:20]},
        "excused_denies": excused,
        "stale_passed_static": stale_passed,
        "stale_allows": {"total": len(stale_allows), "examples": stale_allows[:10]},
        "egressd": eg,
        "rss_max_growth_kb": cfg["rss_max_growth_kb"],
        "pass": not failures,
        "failures": failures,
    }
    with open(cfg["results"], "w") as f:
        json.dump(res, f, indent=1)

    print("soak: %d s, commit %s" % (cfg["seconds"], cfg["commit"]))
    print("  attempts %d (allowed %d, ok %d; denied %d), rotations %d" %
          (len(recs), n_allowed, n_ok, n_denied, len(rot)))
    print("  false allows %d (client %d, server %d), false denies %d, excused %s, stale allows %d,"
          " stale passed (static start-up addresses) %d" %
          (false_allows, len(fa_client), sum(fa_server.values()), false_denies, excused,
           len(stale_allows), stale_passed))
    for tag, e in eg.items():
        print("  egressd %s: RSS kB first %d last %d max %d, growth after %gs %d, slope %.2f kB/min;"
              " fds %d..%d; CPU %.2f s (%.2f%%); learned v4 max %d v6 max %d" %
              (tag, e["rss_kb"]["first"], e["rss_kb"]["last"], e["rss_kb"]["max"], e["warm_s"],
               e["rss_kb"]["growth_after_warm"], e["rss_kb"]["slope_kb_per_min"],
               e["fds"]["min"], e["fds"]["max"], e["cpu_s"], e["cpu_pct"],
               e["learned_v4"]["max"], e["learned_v6"]["max"]))
    for r in fd[:5]:
        print("  false deny: %s" % json.dumps(r))
    for r in fa_client[:5]:
        print("  false allow: %s" % json.dumps(r))
    for r in stale_allows[:5]:
        print("  stale allow: %s" % json.dumps(r))
    for k, n in fa_server.items():
        print("  false allow (server): %s x%d" % (k, n))
    print("  results: %s" % cfg["results"])
    if failures:
        print("soak: FAIL: " + "; ".join(failures))
        return 1
    print("soak: PASS")
    return 0


sys.exit(main())
