# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
# sonar.optuna.SonarSampler: Sonar's BO behind Optuna's sampler API.
import math

import pytest

optuna = pytest.importorskip("optuna")
import sonar.optuna  # noqa: E402

optuna.logging.set_verbosity(optuna.logging.ERROR)


def objective(trial):
    x = trial.suggest_int("x", 0, 31)
    kind = trial.suggest_categorical("kind", ["slow", "fast", "broken"])
    lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
    if kind == "broken":
        raise optuna.TrialPruned()
    return (x - 20) ** 2 + (5 if kind == "slow" else 0) + abs(math.log10(lr) + 2)


def study_of(seed, n=40, direction="minimize", fn=objective):
    study = optuna.create_study(sampler=sonar.optuna.SonarSampler(seed=seed), direction=direction)
    study.optimize(fn, n_trials=n)
    return study


def test_the_sampler_is_seeded():
    a = [t.params for t in study_of(3).trials]
    b = [t.params for t in study_of(3).trials]
    assert a == b


def test_the_sampler_finds_a_good_config_and_never_repeats_its_own_proposals():
    study = study_of(0, n=50)
    assert study.best_value < 2.0
    assert study.best_params["kind"] == "fast"
    later = [tuple(sorted(t.params.items())) for t in study.trials[1:]]
    assert len(later) == len(set(later))
    assert all(isinstance(t.params["x"], int) for t in study.trials)
    assert all(1e-4 <= t.params["lr"] <= 1e-1 for t in study.trials)


def test_maximize_and_failed_trials():
    def fn(trial):
        x = trial.suggest_categorical("x", [1, 2, 3, 4, 5, 6, 7, 8])
        if x == 8:
            raise ValueError("cannot run")  # a failed trial
        return float(x)

    study = optuna.create_study(sampler=sonar.optuna.SonarSampler(seed=1), direction="maximize")
    study.optimize(fn, n_trials=8, catch=(ValueError,))
    assert study.best_value == 7.0
    assert sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials) == 1


def test_bad_sampler_arguments():
    with pytest.raises(ValueError, match="tuner"):
        sonar.optuna.SonarSampler(tuner="tpe")
    with pytest.raises(ValueError, match="float_points"):
        sonar.optuna.SonarSampler(float_points=1)
