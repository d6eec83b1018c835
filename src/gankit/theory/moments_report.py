"""`gankit dynamics moments`: the adversarial estimator of a logistic location against SMM and maximum likelihood.

Two tables on one set of replications (R data sets of n draws from Logistic(θ, 1), each with m simulations from
noise drawn once):
- `moments_identity`: the adversarial estimator with a critic linear in (1, x), played by the toolkit's dynamics,
  against the SMM estimate on the same simulations (largest |difference| over replications);
- `moments_efficiency`: bias, spread and RMSE of the MLE, the sample mean, SMM, the linear-critic and the
  classifier-critic adversarial estimators, beside the closed-form spreads √(3/n) and π/√(3n) (× √(1 + n/m) where
  the simulations add their noise).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from torch import Tensor

from gankit.dynamics import Alternating, Extragradient, Simultaneous
from gankit.theory.moments import (
    CRITIC,
    ClassifierMomentGame,
    LinearMomentGame,
    LogisticLocation,
    Replications,
    logistic_mle,
    play,
    smm_estimate,
)
from gankit.theory.table import Table, save_figure

__all__ = ["DEFAULT_LR", "DEFAULT_STEPS", "N", "REPLICATIONS", "SIMULATIONS", "THETA", "analyze"]

DEFAULT_LR = 1e-2  # Adam, both players of the classifier-critic game
DEFAULT_STEPS = 400  # steps of the classifier-critic game (3 critic updates each)
N, REPLICATIONS, SIMULATIONS, THETA = 100, 200, 1000, 0.0
_LINEAR_STEPS, _LINEAR_LR = 600, 0.3


def _rmse(estimates: Tensor | np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(estimates, dtype=np.float64) - THETA) ** 2)))


def _row(table: Table, name: str, estimates: Tensor | np.ndarray, theory: float | None, reference: float,
         seconds: float | None) -> None:
    values = np.asarray(estimates, dtype=np.float64)
    table.add(name, float(values.mean() - THETA), float(values.std(ddof=1)), theory, _rmse(values),
              _rmse(values) / reference, seconds)


def analyze(out_dir: Path, lr: float = DEFAULT_LR, steps: int = DEFAULT_STEPS) -> tuple[dict[str, Table], list[Path]]:
    """Write moments.png and moments_{identity,efficiency}.{csv,md} into `out_dir`."""
    model = LogisticLocation()
    reps = Replications.draw(model, THETA, REPLICATIONS, N, SIMULATIONS, seed=0)
    smm = smm_estimate(model, reps)
    start = smm + 0.5  # every game starts half a unit from the answer
    identity = Table(["critic", "dynamics", "max |adversarial - SMM|", "steps", "seconds"])
    linear_estimates = None  # the ridge critic under alternating steps, for the efficiency table
    for ridge, name, dynamics in ((1.0, "alternating", Alternating()), (1.0, "simultaneous", Simultaneous()),
                                  (0.0, "extragradient", Extragradient()), (0.0, "simultaneous", Simultaneous())):
        began = time.perf_counter()
        game = LinearMomentGame(model, reps, ridge=ridge, start=start)
        estimates = play(game, dynamics, steps=_LINEAR_STEPS, lr_critic=_LINEAR_LR, lr_generator=_LINEAR_LR)
        critic = "w'(1, x) - |w|^2/2 (ridge)" if ridge else "w'(1, x), |w| <= 1"
        identity.add(critic, name, float((estimates - smm).abs().max()), _LINEAR_STEPS,
                     time.perf_counter() - began)
        if ridge and name == "alternating":
            linear_estimates = estimates

    began = time.perf_counter()
    mle = logistic_mle(reps.data.numpy())
    mle_seconds = time.perf_counter() - began
    began = time.perf_counter()
    classifier_game = ClassifierMomentGame(model, reps, start=start)
    classifier = play(classifier_game, Alternating(steps={CRITIC: 3}), steps=steps, lr_critic=lr,
                      lr_generator=lr, optimizer="adam")
    classifier_seconds = time.perf_counter() - began

    inflation = math.sqrt(1 + N / SIMULATIONS)
    efficiency = Table(["estimator", "bias", "sd", "sd, closed form", "RMSE", "RMSE / MLE's", "seconds"])
    reference = _rmse(mle)
    _row(efficiency, "maximum likelihood", mle, model.mle_sd(N), reference, mle_seconds)
    _row(efficiency, "sample mean (moment estimator)", reps.data.mean(1), model.mean_sd(N), reference, None)
    _row(efficiency, f"SMM on (1, x), m = {SIMULATIONS}", smm, model.mean_sd(N) * inflation, reference, None)
    _row(efficiency, "adversarial, linear critic (ridge, alternating)", linear_estimates,
         model.mean_sd(N) * inflation, reference, None)
    _row(efficiency, "adversarial, classifier critic (MLP 16 tanh)", classifier, model.mle_sd(N) * inflation,
         reference, classifier_seconds)
    tables = {"moments_identity": identity, "moments_efficiency": efficiency}
    files = [save_figure(_figure(mle, smm.numpy(), classifier.numpy()), out_dir / "moments.png")]
    for stem, table in tables.items():
        files += table.write(out_dir, stem)
    return tables, files


def _figure(mle: np.ndarray, smm: np.ndarray, classifier: np.ndarray) -> Figure:
    figure = Figure(figsize=(9, 4))
    for axis, estimates, name in zip(figure.subplots(1, 2), (smm, classifier),
                                     ("SMM = linear critic", "classifier critic"), strict=True):
        axis.scatter(mle, estimates, s=6)
        low, high = float(min(mle.min(), estimates.min())), float(max(mle.max(), estimates.max()))
        axis.plot([low, high], [low, high], color="black", linewidth=0.8)
        rms = float(np.sqrt(np.mean((estimates - mle) ** 2)))
        axis.set(xlabel="maximum likelihood", ylabel=name, title=f"{name}: RMS distance to the MLE {rms:.3f}")
    figure.suptitle(f"Logistic location, {REPLICATIONS} replications of n = {N}, m = {SIMULATIONS} simulations")
    figure.tight_layout()
    return figure
