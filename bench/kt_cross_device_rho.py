#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
#
# How far can a model that knows only the *other* devices rank a held-out device before it
# measures anything there? For every Kernel Tuner cache of a group (the same kernel on several
# GPUs), this prints Spearman's rho between the held-out device's log times and
#   - each other device's log times on the same configs (the best single source, if one knew
#     which), and
#   - the mean over the other devices of their standardized log times (what a model that weights
#     the sources equally can reach at best: a perfect fit of their average).
# These are the ceilings for transfer-bo's zero-shot rank correlation (issue 6); see
# docs/benchmarks.md, "Transfer (issue 6)". Configs missing or failed on any device are left out.
#
# Run with Debian's Python (numpy and scipy come with python3-sklearn):
#   /usr/bin/python3 bench/kt_cross_device_rho.py ../shared/datasets/kernel_tuner_cache
import glob
import gzip
import json
import math
import os
import sys

import numpy as np
from scipy.stats import spearmanr


def load(path):
    with gzip.open(path, "rt") as f:
        doc = json.load(f)
    out = {}
    for key, rec in doc["cache"].items():
        t = rec.get("time")
        if isinstance(t, (int, float)) and math.isfinite(t) and t > 0:
            out[key] = math.log(t)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/kernel_tuner_cache"
    groups = {}
    for path in sorted(glob.glob(os.path.join(root, "*__*.json.gz"))):
        name = os.path.basename(path)[: -len(".json.gz")]
        group, device = name.split("__", 1)
        groups.setdefault(group, {})[device] = load(path)
    print(f"{'target':36s} {'configs':>7s} {'best single source (rho)':>36s} {'mean of sources':>16s}")
    for group, devices in groups.items():
        if len(devices) < 2:
            continue
        std = {}
        for d, t in devices.items():
            v = np.array(list(t.values()))
            std[d] = {k: (x - v.mean()) / v.std() for k, x in t.items()}
        for target in devices:
            others = [d for d in devices if d != target]
            keys = [k for k in devices[target] if all(k in devices[o] for o in others)]
            truth = [devices[target][k] for k in keys]
            singles = {o: spearmanr([devices[o][k] for k in keys], truth).correlation for o in others}
            best = max(singles, key=singles.get)
            mean = [np.mean([std[o][k] for o in others]) for k in keys]
            rho_mean = spearmanr(mean, truth).correlation
            print(f"{group + '__' + target:36s} {len(keys):7d} {best + ' ' + format(singles[best], '.3f'):>36s} "
                  f"{rho_mean:16.3f}")


if __name__ == "__main__":
    main()
