#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Judges a live `sonar search --json` result against the ground-truth table (issue 15's live
goal): is every point of the table's true front within 1% accuracy and 10% latency of some
network of the live front? Each network is judged by the table's truth (its best accuracy over
the full epochs, the sum of its layers' best recorded latencies), and the live run's own
estimates are shown beside it.

  build/sonar search --space digits-cnn --budget-minutes 10 --records live.sonar --json > live.json
  python3 bench/search_live_check.py live.json datasets/digits_cnn_search/*.sonar
"""
import json
import math
import statistics
import subprocess
import sys


def dump(sonar, path):
    out = subprocess.run([sonar, "records", "dump", path], check=True, capture_output=True,
                         text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line]


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    live = json.load(open(sys.argv[1]))
    sonar = "build/sonar"
    acc, layers, best = {}, {}, {}
    for path in sys.argv[2:]:
        for r in dump(sonar, path):
            task = r["task"]
            if task["op"] == "train":
                if r["result"]["status"] == "ok":
                    arch = task["args"]
                    acc[task["name"]] = max(acc.get(task["name"], 0), r["result"]["accuracy"])
                    layers[task["name"]] = [(l["op"], json.dumps(l["shape"], separators=(",", ":")))
                                            for l in arch["layers"]]
            elif r["result"]["status"] == "ok":
                key = (task["op"], json.dumps(task["args"], separators=(",", ":")))
                cost = r["result"]["reported_seconds"] or statistics.median(r["result"]["run_seconds"])
                best[key] = min(best.get(key, math.inf), cost)
    lat = {a: sum(best.get(k, math.inf) for k in ls) for a, ls in layers.items()}
    known = [a for a in acc if math.isfinite(lat[a])]
    known.sort(key=lambda a: (lat[a], -acc[a]))
    front, top = [], -1
    for a in known:
        if acc[a] > top:
            front.append(a)
            top = acc[a]
    answer = [f["architecture"] for f in live["front"]]
    print(f"true front ({len(front)} of {len(known)} networks):")
    for a in front:
        print(f"  {a:24s} accuracy {acc[a]:.4f}  latency {lat[a] * 1e6:8.3f} us")
    print(f"live front ({len(answer)}), judged by the table (live estimates in brackets):")
    for f in live["front"]:
        a = f["architecture"]
        print(f"  {a:24s} accuracy {acc.get(a, float('nan')):.4f} [{f['accuracy']:.4f}]  latency "
              f"{lat.get(a, math.inf) * 1e6:8.3f} us [{f['latency_seconds'] * 1e6:8.3f}]")
    ok = True
    for p in front:
        hit = [q for q in answer if q in acc and acc[q] >= acc[p] - 0.01 - 1e-12
               and lat[q] <= lat[p] * 1.10]
        print(f"  {p}: {'covered by ' + hit[0] if hit else 'NOT covered'}")
        ok = ok and bool(hit)
    print("live goal (every true front point within 1% accuracy and 10% latency):",
          "met" if ok else "not met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
