#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
"""`sonar import` and `sonar records stats` end to end, as a user runs them, against baselines
timed in the same run (issue 13's goals).

For each size N (default 300,000 and 3,000,000 lines) it writes an AutoTVM v0.2 log by
repeating the 11,743 real lines of ../shared/datasets (autotvm_cuda_v100_nnfusion and
autotvm_tophub/{cuda,llvm}); every repetition after the first has its timestamp moved by
`rep` milliseconds, so the lines stay distinct records (a log of the same lines repeated would
be mostly duplicates, which `sonar import` skips). Then, R rounds, each timing whole processes
in turn:

  sonar    `sonar import FILE --out FRESH.sonar` (read, parse, encode, append the log, exit)
  python   `python3 -c 'for l in open(f): json.loads(l)'`, /usr/bin/python3 and the python3 on
           the PATH (both are reported; the ratios use each)
  disk     `cat FILE > /dev/null` plus `cp LOG COPY` (reading the input and writing the log's
           bytes: the floor of any import)
  stats    `sonar records stats FRESH.sonar` (reading the log back)

and reports medians, ratios and sonar's peak RSS (from wait4). Needs no third-party Python
package. Usage:
  /usr/bin/python3 bench/import_cli_benchmark.py [--sonar build/sonar] [--lines 300000,3000000]
      [--rounds 3] [--dir /tmp]
"""
import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATASETS = os.path.join(HERE, "..", "..", "shared", "datasets")
FILES = ["autotvm_cuda_v100_nnfusion/conv2d_records_v0.2.jsonl.gz",
         "autotvm_cuda_v100_nnfusion/dense_records_v0.2.jsonl.gz",
         "autotvm_cuda_v100_nnfusion/matmul_records_v0.2.jsonl.gz",
         "autotvm_tophub/cuda_v0.10.log", "autotvm_tophub/llvm_v0.04.log"]
PY_LOOP = "import json,sys\nfor l in open(sys.argv[1]): json.loads(l)\n"


def real_lines():
    lines = []
    for rel in FILES:
        path = os.path.join(DATASETS, rel)
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rt") as f:
            lines += [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    return lines


def shifted(line, ms):
    """The line with the timestamp (the last number of "result") moved by `ms` milliseconds."""
    k = line.index('"result"')
    end = line.index("]", line.index("]", k) + 1)
    comma = line.rfind(",", k, end)
    return line[:comma + 1] + " " + repr(float(line[comma + 1:end]) + ms * 1e-3) + line[end:]


def write_input(path, n, lines):
    with open(path, "w") as out:
        for i in range(n):
            rep, j = divmod(i, len(lines))
            out.write((shifted(lines[j], rep) if rep else lines[j]) + "\n")


def run(argv, stdout=subprocess.DEVNULL):
    """Seconds of wall time and peak RSS (MB) of one whole process."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("failed: %s\n%s" % (" ".join(argv), err))
    return wall, usage.ru_maxrss / 1024.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sonar", default=os.path.join(HERE, "..", "build", "sonar"))
    ap.add_argument("--lines", default="300000,3000000")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default="/tmp")
    a = ap.parse_args()
    if not os.path.isdir(DATASETS):
        print("SKIP: %s is absent" % DATASETS)
        return
    pythons = [("/usr/bin/python3", "/usr/bin/python3")]
    on_path = shutil.which("python3")
    if on_path and os.path.realpath(on_path) != os.path.realpath("/usr/bin/python3"):
        pythons.append(("python3 on PATH", on_path))
    lines = real_lines()
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    print("commit %s, %s, load average %s" % (commit, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                               " ".join("%.2f" % x for x in os.getloadavg())))
    for n in [int(x) for x in a.lines.split(",")]:
        src = os.path.join(a.dir, "sonar_bench_%d.log" % n)
        log = os.path.join(a.dir, "sonar_bench_%d.sonar" % n)
        copy = log + ".copy"
        write_input(src, n, lines)
        mb = os.path.getsize(src) / 1e6
        t = {"sonar": [], "stats": [], "disk": []}
        for name, _ in pythons:
            t[name] = []
        rss = []
        records = None
        for _ in range(a.rounds):
            for path in (log, copy):
                if os.path.exists(path):
                    os.remove(path)
            wall, peak = run([a.sonar, "import", src, "--out", log])
            t["sonar"].append(wall)
            rss.append(peak)
            out = subprocess.run([a.sonar, "records", "stats", log, "--json"], capture_output=True,
                                 text=True, check=True).stdout
            records = out[:out.index(",")]
            t["stats"].append(run([a.sonar, "records", "stats", log])[0])
            with open(os.devnull, "w") as null:
                cat = run(["cat", src], stdout=null)[0]
            t["disk"].append(cat + run(["cp", log, copy])[0])
            for name, exe in pythons:
                t[name].append(run([exe, "-c", PY_LOOP, src])[0])
        med = {k: statistics.median(v) for k, v in t.items()}
        print("\n%d lines (%.0f MB), log %.0f MB, %s, %d rounds (medians; all runs in brackets)" %
              (n, mb, os.path.getsize(log) / 1e6, records.lstrip("{"), a.rounds))
        for k, v in t.items():
            print("  %-17s %7.3f s   [%s]" % (k, med[k], " ".join("%.3f" % x for x in v)))
        print("  sonar import peak RSS: %.0f MB (max over rounds; goal < 256 MB)" % max(rss))
        for name, _ in pythons:
            print("  %s / sonar import: %5.1fx (goal >= 10x)" % (name, med[name] / med["sonar"]))
        print("  sonar import / disk floor: %5.2fx (moonshot <= 2x)" % (med["sonar"] / med["disk"]))
        print("  records stats: %.3f s (goal < 1 s at 300,000 records)" % med["stats"])
        for path in (src, log, copy):
            if os.path.exists(path):
                os.remove(path)


if __name__ == "__main__":
    main()
