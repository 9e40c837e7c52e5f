# SPDX-License-Identifier: Apache-2.0
# Copyright 2026 The Sonar Authors
"""SonarSampler: Sonar's tuners (Bayesian optimisation by default) behind Optuna's sampler API.

Example:
    import optuna, sonar.optuna
    study = optuna.create_study(sampler=sonar.optuna.SonarSampler(seed=0))
    study.optimize(objective, n_trials=100)

How Optuna's search space becomes a Sonar space (relative sampling over every parameter that all
finished trials share, Optuna's intersection search space, failed trials included):
    CategoricalDistribution(choices)      a knob over the choices (their Python types kept)
    IntDistribution(low, high, step)      a knob over range(low, high + 1, step) (log: the same
                                          integers; Sonar encodes values >= 1 in log2 anyway)
    FloatDistribution(low, high, step)    a knob over the grid low, low + step, ..., high; without
                                          a step, `float_points` points spaced evenly (log: evenly
                                          in log space). Sonar's knobs are discrete.
The first trials, before any trial has finished, and parameters outside that space are sampled by
`independent_sampler` (RandomSampler(seed) unless given).

Values: Sonar minimises positive costs and models their logarithm, so a trial's value v is handed
to the tuner as exp(v - v0) (exp(v0 - v) when maximising), v0 being the first finite value seen:
the tuner then models v itself. A failed or pruned trial is a failed config (math.inf), which
Sonar's BO models as infeasible. Single-objective studies only.

The sampler keeps one Sonar tuner per search space and tells it each finished trial once, in trial
order, so a study run with a seed gives the same trials every time (n_jobs=1).
"""
import math

import optuna

import sonar

_EXP_LIMIT = 700.0  # exp() of more overflows a double


def _knob_of(dist, float_points):
    """(values handed to Sonar, function Sonar value -> Optuna value, inverse or None)."""
    D = optuna.distributions
    if isinstance(dist, D.CategoricalDistribution):
        return list(dist.choices), (lambda v: v), (lambda v: v)
    if isinstance(dist, D.IntDistribution):
        step = dist.step or 1
        return range(dist.low, dist.high + 1, step), (lambda v: v), (lambda v: v)
    if isinstance(dist, D.FloatDistribution):
        if dist.step is not None:
            n = int(math.floor((dist.high - dist.low) / dist.step + 1e-9)) + 1
            grid = [dist.low + i * dist.step for i in range(n)]
        elif dist.log:
            lo, hi = math.log(dist.low), math.log(dist.high)
            grid = [math.exp(lo + (hi - lo) * i / (float_points - 1)) for i in range(float_points)]
        else:
            grid = [dist.low + (dist.high - dist.low) * i / (float_points - 1)
                    for i in range(float_points)]
        grid[-1] = min(grid[-1], dist.high)

        def inverse(v, grid=grid):
            return min(range(len(grid)), key=lambda i: abs(grid[i] - v))

        return range(len(grid)), (lambda i, grid=grid: grid[i]), inverse
    raise ValueError(f"SonarSampler: unsupported distribution {dist!r}")


class _State:
    def __init__(self, search_space, tuner_kind, seed, float_points):
        self.names = list(search_space)
        knobs, self.to_optuna, self.to_sonar = {}, {}, {}
        for name, dist in search_space.items():
            values, fwd, inv = _knob_of(dist, float_points)
            knobs[name] = values
            self.to_optuna[name] = fwd
            self.to_sonar[name] = inv
        self.space = sonar.Space(knobs, name="optuna")
        self.tuner = sonar.Tuner(self.space, tuner_kind, seed=seed)
        self.told = set()  # trial numbers told to the tuner


class SonarSampler(optuna.samplers.BaseSampler):
    """Optuna sampler driven by a Sonar tuner (module docstring: how spaces and values map).

    Args:
        tuner: a Sonar tuner name: "bo" (default), "random", "grid", "ga", "autotvm".
        seed: seeds the Sonar tuner and the default independent sampler.
        float_points: grid points of a float parameter without a step (>= 2).
        independent_sampler: samples what the relative space does not hold.
    """

    def __init__(self, tuner="bo", seed=0, float_points=32, independent_sampler=None):
        if tuner not in sonar.TUNERS or tuner in ("transfer-bo", "rgpe"):
            raise ValueError(f"SonarSampler: tuner must be one of random, grid, ga, autotvm, bo; "
                             f"got {tuner!r}")
        if float_points < 2:
            raise ValueError(f"SonarSampler: float_points must be >= 2, got {float_points}")
        self._tuner_kind = tuner
        self._seed = seed
        self._float_points = float_points
        self._independent = independent_sampler or optuna.samplers.RandomSampler(seed=seed)
        self._state = None
        self._state_key = None
        self._v0 = None

    def reseed_rng(self):
        self._independent.reseed_rng()

    def infer_relative_search_space(self, study, trial):
        if study._is_multi_objective():
            raise ValueError("SonarSampler handles single-objective studies only")
        space = None
        for t in study.get_trials(deepcopy=False):
            if not t.state.is_finished() or not t.distributions:
                continue
            if space is None:
                space = dict(t.distributions)
            else:
                space = {k: d for k, d in space.items() if t.distributions.get(k) == d}
        return dict(sorted(space.items())) if space else {}

    def _cost(self, study, t):
        if t.state != optuna.trial.TrialState.COMPLETE or t.value is None:
            return math.inf
        v = t.value
        if not math.isfinite(v):
            return math.inf
        if self._v0 is None:
            self._v0 = v
        d = v - self._v0
        if study.direction == optuna.study.StudyDirection.MAXIMIZE:
            d = -d
        return math.exp(max(-_EXP_LIMIT, min(_EXP_LIMIT, d)))

    def _tell_finished(self, study, state):
        configs, costs = [], []
        for t in study.get_trials(deepcopy=False):
            if t.number in state.told or not t.state.is_finished():
                continue
            state.told.add(t.number)
            if any(n not in t.params for n in state.names):
                continue
            config = {n: state.to_sonar[n](t.params[n]) for n in state.names}
            if config not in state.space:
                continue
            configs.append(config)
            costs.append(self._cost(study, t))
        if configs:
            state.tuner.observe(configs, costs)

    def sample_relative(self, study, trial, search_space):
        if not search_space:
            return {}
        key = tuple((name, repr(dist)) for name, dist in search_space.items())
        if key != self._state_key:
            self._state = _State(search_space, self._tuner_kind, self._seed, self._float_points)
            self._state_key = key
        state = self._state
        self._tell_finished(study, state)
        proposed = state.tuner.propose(1)
        if not proposed:
            return {}  # the space is exhausted: independent sampling from here on
        return {n: state.to_optuna[n](v) for n, v in proposed[0].items()}

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._independent.sample_independent(study, trial, param_name, param_distribution)
