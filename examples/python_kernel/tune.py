#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
"""Tune your own kernel from Python: Sonar proposes, this script compiles and times.

Each trial compiles kernel.c with the proposed schedule as -D macros, runs it (it checks its own
result and prints the median seconds of one run) and returns those seconds to Sonar. A compile
error, a crash, a wrong result or a timeout raises, which Sonar records as a failed trial. Every
trial goes into the record log (--records), so a run that is killed or interrupted resumes where
it stopped when started again with the same arguments.

    PYTHONPATH=build/python /usr/bin/python3 examples/python_kernel/tune.py --trials 40
"""
import argparse
import os
import subprocess
import tempfile

import sonar

HERE = os.path.dirname(os.path.abspath(__file__))

SPACE = {
    "BLOCK_I": [4, 8, 16, 32, 64, 128],
    "BLOCK_J": [16, 32, 64, 128, 256],
    "BLOCK_K": [4, 8, 16, 32, 64, 128],
    "UNROLL": [1, 2, 4, 8],
    "OPT": ["-O2", "-O3"],
}


def make_objective(workdir, compiler, timeout):
    def objective(config):
        exe = os.path.join(workdir, "kernel")
        defines = [f"-D{k}={v}" for k, v in config.items() if k != "OPT"]
        build = subprocess.run([compiler, config["OPT"], "-march=native", *defines,
                                os.path.join(HERE, "kernel.c"), "-o", exe],
                               capture_output=True, text=True, timeout=timeout)
        if build.returncode != 0:
            raise RuntimeError("compile error: " + build.stderr.strip()[-300:])
        run = subprocess.run([exe], capture_output=True, text=True, timeout=timeout)
        if run.returncode != 0:
            raise RuntimeError(f"exit {run.returncode}: " + run.stderr.strip()[-300:])
        return float(run.stdout)

    return objective


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tuner", default="bo", choices=sonar.TUNERS[:5])
    p.add_argument("--trials", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--records", default="python_kernel.sonar",
                   help="record log (resumes from it; default python_kernel.sonar)")
    p.add_argument("--compiler", default="cc")
    p.add_argument("--timeout", type=float, default=60)
    a = p.parse_args()
    # A block larger than the matrix only repeats work: keep the tiles within 64 KB of floats.
    space = sonar.Space(SPACE, name="python_kernel.matmul256",
                        constraint=lambda c: c["BLOCK_I"] * c["BLOCK_J"] <= 16384)
    with tempfile.TemporaryDirectory(prefix="sonar_python_kernel_") as workdir:
        objective = make_objective(workdir, a.compiler, a.timeout)
        naive = objective({"BLOCK_I": 256, "BLOCK_J": 256, "BLOCK_K": 256, "UNROLL": 1,
                           "OPT": "-O2"})
        best = sonar.minimize(objective, space, tuner=a.tuner, trials=a.trials, seed=a.seed,
                              records=a.records)
    print(best.report)
    print(f"best config: {best.config}")
    print(f"best {best.cost * 1e3:.3f} ms per run; unblocked -O2 {naive * 1e3:.3f} ms "
          f"(speed-up {naive / best.cost:.2f}x)")


if __name__ == "__main__":
    main()
