"""Drawing samples from a generator, given what it takes: noise z, z and a condition, or z and InfoGAN codes.

A :class:`LatentInputs` (or :class:`ConditionInputs`, :class:`CodeInputs`) says what a generator's
inputs are and draws them; the game kind that built the generator chooses it from its config, so
nothing here inspects generator classes. Every draw takes its latents (and, where none are given,
its labels or codes) from a `torch.Generator` of its own, so sampling never moves the training
random stream.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gankit.errors import ConfigError
from gankit.nn.conditional import ConditionSpec
from gankit.nn.infogan import InfoCodes

__all__ = [
    "CodeInputs", "ConditionInputs", "LatentInputs", "check_conditions", "draw", "eval_forward", "traversal_inputs",
]


def eval_forward(module: nn.Module, *inputs: Tensor) -> Tensor:
    """`module(*inputs)` in eval mode without gradients (BatchNorm statistics untouched), mode restored."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(*inputs)
    module.train(was_training)
    return out


class LatentInputs:
    """A generator of z ~ N(0, I) alone: G(z)."""

    #: what the classes of `class_grid` / `evaluation_conditions` are: "label", "code" or None (no classes)
    class_source: str | None = None

    def __init__(self, latent_dim: int) -> None:
        self.latent_dim = latent_dim

    def draw(self, n: int, rng: torch.Generator, conditions: Tensor | None = None) -> tuple[Tensor, ...]:
        """The inputs of `n` samples, drawn from `rng` where not given."""
        if conditions is not None:
            raise ConfigError("this run's generator is unconditional; drop --label/--condition")
        return (self._latent(n, rng),)

    def _latent(self, n: int, rng: torch.Generator) -> Tensor:
        return torch.randn(n, self.latent_dim, generator=rng)

    def class_grid(self, columns: int) -> Tensor | None:
        """Conditions for a grid with one row of `columns` samples per class; None without classes."""
        return None

    def evaluation_conditions(
        self, real_labels: Tensor | None, n: int, seed: int
    ) -> tuple[Tensor | None, Tensor | None]:
        """(what to draw `n` evaluation samples with, the class of each), given the real subset's labels."""
        return None, None


class ConditionInputs(LatentInputs):
    """G(z, c) with c a class label or a condition vector (see gankit.nn.conditional)."""

    def __init__(self, latent_dim: int, spec: ConditionSpec) -> None:
        super().__init__(latent_dim)
        self.spec = spec
        self.class_source = "label" if spec.is_label else None

    def draw(self, n: int, rng: torch.Generator, conditions: Tensor | None = None) -> tuple[Tensor, ...]:
        z = self._latent(n, rng)
        if conditions is None:
            if not self.spec.is_label:
                example = ",".join(["0.0"] * int(self.spec.dim))
                raise ConfigError(f"this generator is conditioned on vectors of {self.spec.dim} numbers; "
                                  f"give one, e.g. --condition {example}")
            conditions = torch.randint(int(self.spec.n_classes), (n,), generator=rng)
        return z, check_conditions(self.spec, conditions, n)

    def class_grid(self, columns: int) -> Tensor | None:
        if not self.spec.is_label:
            return None
        return torch.arange(int(self.spec.n_classes)).repeat_interleave(columns)

    def evaluation_conditions(
        self, real_labels: Tensor | None, n: int, seed: int
    ) -> tuple[Tensor | None, Tensor | None]:
        # The real subset's own conditions: both sides share one class mix, each class as many fake as real.
        return real_labels, real_labels if self.spec.is_label else None


class CodeInputs(LatentInputs):
    """InfoGAN's G(z, codes): codes drawn uniformly, never given by a user."""

    def __init__(self, latent_dim: int, codes: InfoCodes) -> None:
        super().__init__(latent_dim)
        self.codes = codes
        self.class_source = "code" if codes.categorical else None

    def draw(self, n: int, rng: torch.Generator, conditions: Tensor | None = None) -> tuple[Tensor, ...]:
        z = self._latent(n, rng)
        if conditions is None:
            return z, self.codes.sample(n, generator=rng)
        if conditions.dim() != 2 or conditions.shape != (n, self.codes.dim):
            raise ConfigError("this is an InfoGAN run: its codes are drawn, not given; drop --label/--condition "
                              "(use --traverse N to sweep a continuous code)")
        return z, conditions

    def class_grid(self, columns: int) -> Tensor | None:
        codes = self.codes
        if not codes.categorical:
            return None
        categories = torch.arange(codes.categorical).repeat_interleave(columns)
        return codes.encode(categories, torch.zeros(len(categories), codes.continuous))

    def evaluation_conditions(
        self, real_labels: Tensor | None, n: int, seed: int
    ) -> tuple[Tensor | None, Tensor | None]:
        if not self.codes.categorical:
            return None, None
        codes = self.codes.sample(n, generator=torch.Generator().manual_seed(seed + 1))
        return codes, self.codes.split(codes)[0]


def check_conditions(spec: ConditionSpec, conditions: Tensor, n: int) -> Tensor:
    """Labels in 0..K-1 (N,) or vectors (N, dim) for `n` samples; one label or vector is repeated n times."""
    conditions = torch.as_tensor(conditions)
    if spec.is_label and (conditions.is_floating_point() or conditions.dim() > 1):
        raise ConfigError(f"this generator is conditioned on class labels 0..{spec.n_classes - 1}; give --label, "
                          "not a condition vector")
    if not spec.is_label and not conditions.is_floating_point():
        raise ConfigError(f"this generator is conditioned on vectors of {spec.dim} numbers; give --condition, "
                          "not a class label")
    if len(conditions) not in (1, n):
        raise ValueError(f"got {len(conditions)} conditions for {n} samples; give one, or one per sample")
    if spec.is_label:
        labels = conditions.long()
        if len(labels) == 1:
            labels = labels.expand(n)
        bad = labels[(labels < 0) | (labels >= spec.n_classes)]
        if len(bad):
            raise ConfigError(
                f"label {int(bad[0])} is outside the trained classes 0..{spec.n_classes - 1}; pick one of those"
            )
        return labels
    vectors = conditions.float()
    vectors = vectors.reshape(1, -1) if vectors.dim() < 2 else vectors
    if vectors.shape[1] != spec.dim:
        raise ConfigError(
            f"a condition vector of {vectors.shape[1]} numbers was given; this generator takes {spec.dim} "
            f"(e.g. --condition {','.join(['0.0'] * int(spec.dim))})"
        )
    if not torch.isfinite(vectors).all():
        raise ConfigError("the condition vector holds NaN/Inf; give finite numbers")
    return vectors.expand(n, -1) if len(vectors) == 1 else vectors


def draw(
    generator: nn.Module, inputs: LatentInputs, n: int, *, seed: int = 0, conditions: Tensor | None = None,
    batch_size: int = 500,
) -> Tensor:
    """`n` samples on the CPU, in eval mode, in batches of `batch_size` on the generator's device."""
    drawn = inputs.draw(n, torch.Generator().manual_seed(seed), conditions)
    device = next(generator.parameters()).device
    chunks = zip(*(x.split(batch_size) for x in drawn))
    return torch.cat([eval_forward(generator, *(x.to(device) for x in chunk)).cpu() for chunk in chunks])


def traversal_inputs(
    codes: InfoCodes, latent_dim: int, index: int, *, steps: int = 9, span: float = 2.0, rows: int = 8, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """(z, codes) for a latent traversal of continuous code `index` over [-span, span] in `steps` columns.

    Each row holds one z (and one category: row i has category i when there is a categorical code,
    so there are that many rows); the other continuous codes stay at 0.
    """
    if not 0 <= index < codes.continuous:
        raise ConfigError(f"continuous code {index} does not exist; this run has {codes.continuous} "
                          f"(indices 0..{codes.continuous - 1})")
    rows = codes.categorical or rows
    z = torch.randn(rows, latent_dim, generator=torch.Generator().manual_seed(seed)).repeat_interleave(steps, 0)
    continuous = torch.zeros(rows * steps, codes.continuous)
    continuous[:, index] = torch.linspace(-span, span, steps).repeat(rows)
    categories = torch.arange(codes.categorical).repeat_interleave(steps) if codes.categorical else None
    return z, codes.encode(categories, continuous)
