#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# Why a held-out FBNet device can be out of reach of any predictor that learns from the other
# devices and k samples (issue 7; docs/benchmarks-latency.md, "Leave one device out: fbnet").
# For each device named, on a fixed 80/20 split of its 5,000 architectures:
#   additive   a per-(layer, block choice) latency table (22 x 9 one-hot, least squares in ms)
#              fitted on the device's own 80%: how simple the device is;
#   span       the best affine combination of the *other* devices' latencies (one coefficient per
#              device plus an offset, least squares in ms, signs free) fitted on the device's own
#              80%: an upper bound for methods that express the device through the sources
#              (source_mix, affine_source, the descriptor models), which have only k samples;
#   span >= 0  the same with non-negative coefficients (scipy's nnls).
# Each prints the share of the held-out 20% predicted within +-10%.
#
#   /usr/bin/python3 bench/fbnet_source_span.py ../shared/datasets/help_latency/fbnet_latency_ms.csv fpga eyeriss
import csv
import sys

import numpy as np
from scipy.optimize import nnls


def within(pred, truth):
    return float(np.mean(np.abs(pred / truth - 1) <= 0.1))


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/help_latency/fbnet_latency_ms.csv"
    wanted = sys.argv[2:] or ["fpga"]
    rows = list(csv.DictReader(open(path)))
    devices = [c for c in rows[0] if c not in ("arch_idx", "op_idx_list", "arch_str")]
    ops = np.array([[int(v) for v in r["op_idx_list"].split("-")] for r in rows])
    onehot = np.zeros((len(rows), ops.shape[1] * 9))
    for i, o in enumerate(ops):
        for layer, choice in enumerate(o):
            onehot[i, layer * 9 + choice] = 1
    lat = {d: np.array([float(r[d]) for r in rows]) for d in devices}
    order = np.random.default_rng(0).permutation(len(rows))
    train, test = order[: int(0.8 * len(rows))], order[int(0.8 * len(rows)):]
    print(f"{'device':16s} {'additive':>9s} {'span':>6s} {'span>=0':>8s}")
    for d in wanted:
        y = lat[d]
        w = np.linalg.lstsq(onehot[train], y[train], rcond=None)[0]
        additive = within(onehot[test] @ w, y[test])
        others = np.stack([lat[o] for o in devices if o != d], 1)
        a = np.hstack([others, np.ones((len(rows), 1))])
        w = np.linalg.lstsq(a[train], y[train], rcond=None)[0]
        span = within(a[test] @ w, y[test])
        w, _ = nnls(a[train], y[train])
        span_nn = within(a[test] @ w, y[test])
        print(f"{d:16s} {additive:9.3f} {span:6.3f} {span_nn:8.3f}")


if __name__ == "__main__":
    main()
