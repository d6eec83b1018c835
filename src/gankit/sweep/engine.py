"""The vectorized GAN step: M members of one group trained as one batched computation.

Each member is built by the ordinary path (`build_experiment` under its own config and seed),
so its initial weights, real data and batch order are those of `gankit train`. The global torch
RNG state right after that build becomes the member's own `torch.Generator`: every latent (and
gradient-penalty) draw of member m comes from it in the order `GANGame.losses` draws them, so
member m sees the numbers its single run would. The step mirrors `Simultaneous` and
`Alternating` (D first, `d_steps` updates, a fresh batch per update) op for op. MLP players are
`StackedMLP`s: R1 and the gradient penalty use the input gradient of the piecewise-linear critic in
closed form (`StackedMLP.input_gradient`), and the result equals the single runs bit for bit.
DCGAN players are `StackedConvNet`s (grouped convolutions, per-member BatchNorm statistics): the
result equals the single runs up to the rounding of the grouped kernels (tests/test_sweep*.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit import losses
from gankit.config import GANConfig
from gankit.experiment import Experiment, build_experiment
from gankit.game import SAMPLES
from gankit.penalties import smoothed_real_target
from gankit.sweep.optim import StackedOptimizer
from gankit.sweep.stacked import StackedMLP
from gankit.sweep.stacked_conv import StackedConvNet
from gankit.sweep.support import check_supported

__all__ = ["StackedGAN", "FIXED_SAMPLES"]

FIXED_SAMPLES = 2500  # the fixed latent batch gankit train scores modes on (diag/modes) for 2D data


@dataclass
class _Member:
    config: GANConfig
    experiment: Experiment
    rng: torch.Generator


def _member_rng(device: torch.device) -> torch.Generator:
    """A generator holding the global RNG state as it is now (on `device`)."""
    rng = torch.Generator(device=device)
    rng.set_state(torch.cuda.get_rng_state(device) if device.type == "cuda" else torch.get_rng_state())
    return rng


class StackedGAN:
    """Generators, discriminators and optimizers of M members stacked along a first dimension."""

    def __init__(self, configs: Sequence[GANConfig]) -> None:
        for config in configs:
            check_supported(config)
        self.members = []
        for config in configs:
            experiment = build_experiment(config)
            self.members.append(_Member(config, experiment, _member_rng(experiment.device)))
        first = configs[0]
        self.config = first
        self.device = self.members[0].experiment.device
        self.mixture = self.members[0].experiment.data.real.mixture  # None for images
        games = [m.experiment.game for m in self.members]
        stack = StackedMLP if first.model.arch == "mlp" else StackedConvNet
        self.generator = stack.from_modules([g.generator for g in games], self.device)
        self.discriminator = stack.from_modules([g.discriminator for g in games], self.device)
        self.latent_dim = first.model.latent_dim
        self.batch_size = first.train.batch_size
        optim = [c.optim for c in configs]
        beta1, beta2 = [o.beta1 for o in optim], [o.beta2 for o in optim]
        self.opt_g = StackedOptimizer(first.optim.name, self.generator.parameters(), [o.lr_g for o in optim],
                                      beta1, beta2)
        self.opt_d = StackedOptimizer(first.optim.name, self.discriminator.parameters(), [o.lr_d for o in optim],
                                      beta1, beta2)
        self.r1_coef = self._column([0.5 * c.loss.r1_gamma * c.loss.r1_every for c in configs])
        self.gp_weight = self._column([c.loss.gp_weight for c in configs])
        loss = losses.get(first.loss.name)
        target = smoothed_real_target(first.loss.label_smoothing)
        self._loss, self._real_target = loss, target
        self.ema = self.generator.clone() if first.train.ema_decay is not None else None
        self.fixed_z = None if self.mixture is None else torch.stack([
            m.experiment.data.inputs.draw(FIXED_SAMPLES, torch.Generator().manual_seed(m.config.seed + 1))[0]
            for m in self.members
        ]).to(self.device)

    def _loss_d(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        # One call per member on its own (B,) logits: the exact computation (and gradient) of its single run.
        return torch.stack([
            self._loss.discriminator(real_logits=r, fake_logits=f, real_target=self._real_target)
            for r, f in zip(real_logits, fake_logits, strict=True)
        ])

    def _loss_g(self, fake_logits: Tensor) -> Tensor:
        return torch.stack([self._loss.generator(fake_logits=f) for f in fake_logits])

    def _column(self, values: list[float]) -> Tensor:
        return torch.tensor(values, dtype=torch.float32, device=self.device)

    @property
    def size(self) -> int:
        return len(self.members)

    # --- random draws and data, each member from its own stream -------------------------------------

    def _next_real(self) -> Tensor:
        return torch.stack([next(m.experiment.batches)[SAMPLES] for m in self.members])

    def _latent(self) -> Tensor:
        n, dim = self.batch_size, self.latent_dim
        return torch.stack([torch.randn(n, dim, device=self.device, generator=m.rng) for m in self.members])

    def _eps(self, sample_dims: int) -> Tensor:
        """Per member the gradient penalty's mixing weights, (B, 1, ...) as `gradient_penalty` draws them."""
        shape = (self.batch_size,) + (1,) * sample_dims
        return torch.stack([torch.rand(shape, device=self.device, generator=m.rng) for m in self.members])

    # --- the step ------------------------------------------------------------------------------------

    def step(self, step: int) -> dict[str, Tensor]:
        """One training step of every member at step index `step`; per-member statistics (M,)."""
        dynamics = self.config.dynamics
        if dynamics.name == "simultaneous":
            stats = self._simultaneous(step)
        else:
            stats = {}
            for _ in range(dynamics.d_steps):
                real, z = self._next_real(), self._latent()
                with torch.no_grad():
                    fake = self.generator.forward(z)
                stats.update(self._discriminator_update(real, fake, step))
            self._next_real()  # the generator's update draws a batch too (only its size is used)
            stats.update(self._generator_update(self._latent()))
        if self.ema is not None:
            with torch.no_grad():
                for avg, live in zip(self.ema.parameters(), self.generator.parameters(), strict=True):
                    avg.lerp_(live, 1.0 - self.config.train.ema_decay)
                for avg, live in zip(self.ema.buffers(), self.generator.buffers(), strict=True):
                    avg.copy_(live)
        return stats

    def _simultaneous(self, step: int) -> dict[str, Tensor]:
        real, z = self._next_real(), self._latent()
        fake = self.generator.forward(z)
        fake_logits = self.discriminator.forward(fake)
        real_logits, pres = self.discriminator.forward_with_masks(real)
        loss_g = self._loss_g(fake_logits)
        stats = {"loss_g": loss_g.detach()}
        loss_d = self._discriminator_loss(real, fake.detach(), real_logits, fake_logits, pres, step, stats)
        grads_d = torch.autograd.grad(loss_d.sum(), self.discriminator.parameters(), retain_graph=True)
        grads_g = torch.autograd.grad(loss_g.sum(), self.generator.parameters())
        stats["grad_norm_discriminator"] = _member_norms(grads_d)
        stats["grad_norm_generator"] = _member_norms(grads_g)
        self.opt_d.step(grads_d)
        self._project()
        self.opt_g.step(grads_g)
        return stats

    def _discriminator_update(self, real: Tensor, fake: Tensor, step: int) -> dict[str, Tensor]:
        fake_logits = self.discriminator.forward(fake)
        real_logits, pres = self.discriminator.forward_with_masks(real)
        stats: dict[str, Tensor] = {}
        loss = self._discriminator_loss(real, fake, real_logits, fake_logits, pres, step, stats)
        grads = torch.autograd.grad(loss.sum(), self.discriminator.parameters())
        stats["grad_norm_discriminator"] = _member_norms(grads)
        self.opt_d.step(grads)
        self._project()
        return stats

    def _generator_update(self, z: Tensor) -> dict[str, Tensor]:
        loss = self._loss_g(self.discriminator.forward(self.generator.forward(z), frozen=True))
        grads = torch.autograd.grad(loss.sum(), self.generator.parameters())
        self.opt_g.step(grads)
        return {"loss_g": loss.detach(), "grad_norm_generator": _member_norms(grads)}

    def _discriminator_loss(
        self, real: Tensor, fake: Tensor, real_logits: Tensor, fake_logits: Tensor, pres: list[Tensor], step: int,
        stats: dict[str, Tensor],
    ) -> Tensor:
        """D's loss plus penalties, per member (M,); fills the logged statistics like GANGame.losses."""
        loss = self._loss_d(real_logits, fake_logits)
        stats["loss_d"] = loss.detach()
        loss_cfg = self.config.loss
        if loss_cfg.gp_weight > 0:
            eps = self._eps(real.dim() - 2)
            x_hat = eps * real.detach() + (1 - eps) * fake.detach()
            gp = ((self.discriminator.penalty_gradient(x_hat).norm(2, dim=2) - 1.0) ** 2).mean(dim=1)
            stats["gradient_penalty"] = gp.detach()
            loss = loss + self.gp_weight * gp
        if loss_cfg.r1_gamma > 0 and step % loss_cfg.r1_every == 0:
            grad = self.discriminator.penalty_gradient(real, pres)
            r1 = grad.pow(2).sum(dim=2).mean(dim=1)
            stats["r1"] = r1.detach()
            loss = loss + self.r1_coef * r1
        stats["d_real"] = real_logits.detach().mean(dim=1)
        stats["d_fake"] = fake_logits.detach().mean(dim=1)
        stats["d_acc_real"] = (real_logits.detach() > 0).float().mean(dim=1)
        stats["d_acc_fake"] = (fake_logits.detach() < 0).float().mean(dim=1)
        return loss

    def _project(self) -> None:
        clip = self.config.loss.clip_value
        if clip is not None:
            with torch.no_grad():
                for param in self.discriminator.parameters():
                    param.clamp_(-clip, clip)

    # --- reading the members out -----------------------------------------------------------------------

    def fixed_samples(self) -> Tensor:
        """Each member's samples (M, 2500, dim) on its fixed latent batch (EMA weights when kept); 2D data."""
        if self.fixed_z is None:
            raise ValueError("fixed_samples is for the 2D mixtures; image members are scored through member_generator")
        with torch.no_grad():
            return (self.ema or self.generator).forward(self.fixed_z)

    def member_players(self, m: int) -> dict[str, dict[str, Tensor]]:
        """Member m's weights as the state dicts of its generator and discriminator modules."""
        return {"generator": self.generator.member_state(m), "discriminator": self.discriminator.member_state(m)}

    def member_ema(self, m: int) -> dict[str, Tensor] | None:
        return None if self.ema is None else self.ema.member_state(m)

    def member_generator(self, m: int) -> nn.Module:
        """Member m's own generator module holding its current weights (EMA weights when kept), in eval mode."""
        module = self.members[m].experiment.game.generator
        state = self.member_ema(m)
        module.load_state_dict(state if state is not None else self.generator.member_state(m))
        return module.eval()


def _member_norms(grads: Sequence[Tensor]) -> Tensor:
    """Per member, the 2-norm of all its gradients together (torch.nn.utils.get_total_norm per member)."""
    norms = torch.stack([torch.linalg.vector_norm(g, dim=tuple(range(1, g.dim()))) for g in grads])
    return torch.linalg.vector_norm(norms, dim=0)
