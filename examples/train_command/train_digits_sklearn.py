#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
"""An external trainer for `sonar search --train-command` (see measure/training/trainer.h).

Usage:
  sonar search --train-command /usr/bin/python3 examples/train_command/train_digits_sklearn.py

Reads the architecture as JSON on stdin (ArchitectureSpace::ToJson: "blocks", "hidden",
"classes", ...) and trains, one epoch at a time, a scikit-learn MLPClassifier on the 8x8
handwritten digits that Debian's python3-sklearn ships. scikit-learn has no convolutions, so the
network is an MLP stand-in for the CNN: one dense layer per convolution block (4x its channels,
at most 256 units), then the architecture's hidden layers. After each epoch it prints one JSON
line to stdout:
  {"epoch": 1, "accuracy": 0.91, "loss": 0.42, "seconds": 0.03}
for up to --epochs epochs (Sonar stops it earlier, as it likes). Logging goes to stderr.
"""

import argparse
import json
import sys
import time
import warnings


def hidden_sizes(arch):
    sizes = [min(256, 4 * int(b.get("channels", 8))) for b in arch.get("blocks", [])]
    sizes += [int(h) for h in arch.get("hidden", [])]
    return tuple(sizes) if sizes else (32,)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100, help="most epochs to train")
    parser.add_argument("--seed", type=int, default=0, help="split and initialisation seed")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's step size")
    args = parser.parse_args()

    arch = json.load(sys.stdin)
    warnings.filterwarnings("ignore")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    x = digits.data / 16.0
    x_train, x_val, y_train, y_val = train_test_split(
        x, digits.target, test_size=0.2, random_state=args.seed, stratify=digits.target)
    sizes = hidden_sizes(arch)
    print("training %s as an MLP %s on %d digits" % (arch.get("name", "?"), sizes, len(x_train)),
          file=sys.stderr, flush=True)
    model = MLPClassifier(hidden_layer_sizes=sizes, solver="adam", batch_size=32,
                          learning_rate_init=args.learning_rate, random_state=args.seed)
    classes = list(range(int(arch.get("classes", 10))))
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        model.partial_fit(x_train, y_train, classes=classes)  # one pass over the training set
        accuracy = float(model.score(x_val, y_val))
        seconds = time.perf_counter() - start
        print(json.dumps({"epoch": epoch, "accuracy": accuracy, "loss": float(model.loss_),
                          "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
