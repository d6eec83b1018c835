"""Fast single runs: no per-step host syncs, autocast precision, channels_last, torch.compile, refusals.

On CUDA, `torch.cuda.set_sync_debug_mode` finds device-to-host syncs; on the CPU nothing syncs, so
the no-sync test patches the Tensor methods that would (`.item()`, `float(t)`, `.cpu()`...) and
counts the calls gankit's own code makes on steps that log nothing.
"""

import functools
import math
import sys
import warnings
from pathlib import Path

import pytest
import torch

from gankit.config import load_config
from gankit.dynamics import Alternating, Precision, Simultaneous
from gankit.errors import ConfigError
from gankit.experiment import build_experiment, configure_performance
from gankit.kinds import get_kind
from gankit.train import run as run_module
from gankit.train.trainer import Callback, Trainer

GANKIT_SOURCE = str(Path(run_module.__file__).resolve().parents[1])
BF16_NATIVE = torch.cpu._is_avx512_bf16_supported()

DIGITS = ["model.g_width=8", "model.d_width=8", "model.latent_dim=16", "train.batch_size=16"]
RING8 = ["data.n_samples=512", "train.batch_size=64", "model.g_width=32", "model.d_width=32"]
# Logging, samples, checkpoints and the NaN-recovery snapshot at steps 4 and 8 and the last step (9) only.
INTERVALS = ["train.log_every=4", "train.sample_every=8", "train.checkpoint_every=8", "train.keep_good_every=4",
             "train.ema_decay=0.9", "train.grid_size=16"]
QUIET_STEPS = {1, 2, 3, 5, 6, 7}

# Tensor methods that copy a value to the host (a device sync on CUDA).
SYNCING = ("item", "tolist", "cpu", "numpy", "__bool__", "__float__", "__int__", "__index__", "__format__",
           "__array__")


class _SyncCounter:
    """Counts calls of the SYNCING methods made from gankit's source, per training step."""

    def __init__(self) -> None:
        self.step: int | None = None
        self.calls: dict[int | None, list[str]] = {}

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in SYNCING:
            original = getattr(torch.Tensor, name)

            def counted(*args, _original=original, _name=name, **kwargs):
                caller = sys._getframe(1)
                if caller.f_code.co_filename.startswith(GANKIT_SOURCE):
                    where = f"{_name} at {Path(caller.f_code.co_filename).name}:{caller.f_lineno}"
                    self.calls.setdefault(self.step, []).append(where)
                return _original(*args, **kwargs)

            monkeypatch.setattr(torch.Tensor, name, functools.wraps(original)(counted))


def _counting_trainer(counter: _SyncCounter, on_step=lambda step: None) -> type[Trainer]:
    """A Trainer that tells `counter` (and `on_step`) which step is running: the dynamics' step and the
    callbacks after it; None outside the loop."""

    def mark(step):
        counter.step = step
        on_step(step)

    class StepMarker(Callback):
        def on_train_start(self, trainer):
            mark(0)

        def on_step_end(self, trainer, result):
            mark(trainer.step)

        def on_train_end(self, trainer):
            mark(None)

    class CountingTrainer(Trainer):
        def __init__(self, *args, callbacks=(), **kwargs):
            super().__init__(*args, callbacks=[StepMarker(), *callbacks], **kwargs)
            inner = self.dynamics.step

            def step(game, optimizers, next_batch, step):
                mark(step + 1)
                return inner(game, optimizers, next_batch, step)

            self.dynamics.step = step

    return CountingTrainer


@pytest.mark.parametrize("preset, overrides", [
    ("digits", DIGITS),  # DCGAN with BatchNorm, alternating
    ("ring8", RING8),  # MLP with lazy R1 (gamma 1)
    ("ring8", RING8 + ["dynamics.name=extragradient"]),
    ("ring8", RING8 + ["dynamics.name=optimistic"]),
    ("ring8", RING8 + ["dynamics.name=unrolled", "dynamics.unroll_steps=2", "loss.r1_gamma=0"]),
    ("mnist_infogan", DIGITS),  # codes drawn every step
], ids=["digits-dcgan", "ring8-mlp", "extragradient", "optimistic", "unrolled", "infogan"])
def test_no_host_sync_on_steps_that_do_not_log(preset, overrides, tmp_path, monkeypatch):
    counter = _SyncCounter()
    monkeypatch.setattr(run_module, "Trainer", _counting_trainer(counter))
    monkeypatch.setattr(run_module, "_write_report", lambda run: None)  # after training; the slowest part here
    config = load_config(preset, overrides + INTERVALS, steps=9)
    assert config.train.diagnostics and config.train.nan_retries > 0 and config.train.tensorboard
    counter.patch(monkeypatch)
    run_module.train(config, tmp_path / "run", progress=True)  # every callback a run uses, progress bar too

    synced = {step: calls for step, calls in counter.calls.items() if step in QUIET_STEPS}
    assert synced == {}
    assert counter.calls.get(4), "the patch must see the syncs of a logging step"  # the counter works


@pytest.mark.skipif(not torch.cuda.is_available(), reason="torch.cuda.set_sync_debug_mode needs CUDA")
@pytest.mark.parametrize("preset, overrides", [("digits", DIGITS), ("ring8", RING8)], ids=["dcgan", "mlp"])
def test_no_cuda_sync_on_steps_that_do_not_log(preset, overrides, tmp_path, monkeypatch):
    """On CUDA, torch itself reports every synchronizing call (warn mode) made on the quiet steps."""

    def debug_mode(step):  # step 1 warms up (lazy CUDA init, cuDNN autotuning), as the timed loops do
        torch.cuda.set_sync_debug_mode("warn" if step in QUIET_STEPS - {1} else "default")

    monkeypatch.setattr(run_module, "Trainer", _counting_trainer(_SyncCounter(), debug_mode))
    monkeypatch.setattr(run_module, "_write_report", lambda run: None)
    config = load_config(preset, [*overrides, *INTERVALS, "device=cuda"], steps=9)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run_module.train(config, tmp_path / "run", progress=True)
    finally:
        torch.cuda.set_sync_debug_mode("default")
    synced = sorted({f"{Path(w.filename).name}:{w.lineno}" for w in caught if "synchroniz" in str(w.message)})
    assert synced == []


def _losses(config, steps=3, precision=None):
    """Per-step (loss_d, loss_g) of `steps` training steps, optionally under another Precision than the config's."""
    exp = build_experiment(config)
    if precision is not None:
        exp.dynamics.precision = precision
    rows = []

    class Keep(Callback):
        def on_step_end(self, trainer, result):
            rows.append((float(result.stats["loss_d"]), float(result.stats["loss_g"])))

    Trainer(exp.game, exp.dynamics, exp.optimizers, exp.batches, steps=steps, callbacks=[Keep()]).fit()
    return torch.tensor(rows), exp


# bfloat16 keeps 8 significant bits (relative rounding 2^-9 = 0.2%); a few steps of these small players
# move the losses (about 0.7) by less than 0.02 against float32 (measured: < 0.006).
BF16_LOSS_ATOL = 0.02


@pytest.mark.parametrize("preset, overrides", [("digits", DIGITS), ("ring8", RING8)], ids=["dcgan", "mlp"])
def test_bf16_autocast_trains_close_to_fp32(preset, overrides):
    """The bf16 path of the dynamics, run on any CPU (the config refuses it where bf16 is emulated: slow)."""
    config = load_config(preset, overrides, steps=3)
    reference, _ = _losses(config)
    mixed, exp = _losses(config, precision=Precision("bf16", "cpu"))
    assert torch.isfinite(mixed).all()
    assert (mixed - reference).abs().max() < BF16_LOSS_ATOL
    assert not torch.equal(mixed, reference)  # autocast did run in bfloat16
    assert all(p.dtype == torch.float32 for p in exp.game.generator.parameters())  # weights stay float32


@pytest.mark.skipif(not BF16_NATIVE, reason="this CPU has no AVX-512 BF16/AMX: train.precision bf16 is refused here")
@pytest.mark.parametrize("preset, overrides", [("digits", DIGITS), ("ring8", RING8)], ids=["dcgan", "mlp"])
def test_bf16_config_trains_close_to_fp32_where_the_cpu_supports_it(preset, overrides):
    reference, _ = _losses(load_config(preset, overrides, steps=3))
    mixed, _ = _losses(load_config(preset, [*overrides, "train.precision=bf16"], steps=3))
    assert torch.isfinite(mixed).all()
    assert (mixed - reference).abs().max() < BF16_LOSS_ATOL


@pytest.mark.parametrize("name", ["simultaneous", "extragradient", "optimistic", "unrolled"])
def test_every_dynamics_runs_under_bf16_autocast(name):
    extra = ["dynamics.unroll_steps=2"] if name == "unrolled" else []
    config = load_config("ring8", [*RING8, f"dynamics.name={name}", *extra], steps=2)
    reference, _ = _losses(config, steps=2)
    mixed, _ = _losses(config, steps=2, precision=Precision("bf16", "cpu"))
    assert torch.isfinite(mixed).all()
    assert (mixed - reference).abs().max() < BF16_LOSS_ATOL


def _fp16_step(dynamics_type, init_scale):
    """One step of ring8 under fp16 with a loss scaler starting at `init_scale`, and the same step in fp32."""
    config = load_config("ring8", RING8, steps=1)
    runs = []
    for precision in ("fp16", "fp32"):
        exp = build_experiment(config)
        dynamics = dynamics_type()
        dynamics.precision = Precision(precision, "cpu")
        if precision == "fp16":
            dynamics.precision.scaler = torch.amp.GradScaler("cpu", init_scale=init_scale)
        before = [p.detach().clone() for p in exp.game.generator.parameters()]
        result = dynamics.step(exp.game, exp.optimizers, exp.batches.__next__, 0)
        moved = max((p - b).abs().max().item() for p, b in zip(exp.game.generator.parameters(), before))
        runs.append((result.stats, moved, dynamics))
    return runs


@pytest.mark.parametrize("dynamics_type", [Simultaneous, Alternating])
def test_fp16_loss_scaling_reports_unscaled_gradient_norms(dynamics_type):
    """The fp16 path (GradScaler) is CUDA's; torch runs it on the CPU too, so its logic is checked here."""
    (scaled, moved, dynamics), (plain, moved_plain, _) = _fp16_step(dynamics_type, init_scale=256.0)
    for key in ("grad_norm_generator", "grad_norm_discriminator", "loss_d", "loss_g"):
        assert math.isclose(float(scaled[key]), float(plain[key]), rel_tol=0.02), key  # not 256 times larger
    assert math.isclose(moved, moved_plain, rel_tol=0.02)  # Adam's first step: lr in every coordinate
    state = dynamics.precision.state_dict()
    assert state["scale"] == 256.0  # no overflow: the scale holds (it grows after 2000 good steps)
    fresh = Precision("fp16", "cpu")
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state


@pytest.mark.parametrize("dynamics_type, updates", [(Simultaneous, 1), (Alternating, 2)])
def test_fp16_overflow_skips_the_update_and_backs_the_scale_off(dynamics_type, updates):
    (scaled, moved, dynamics), _ = _fp16_step(dynamics_type, init_scale=2.0**40)
    assert float(scaled["grad_norm_generator"]) == 0.0  # a skipped update: no NaN for the recovery to trip on
    assert moved == 0.0
    assert dynamics.precision.state_dict()["scale"] == 2.0 ** (40 - updates)  # halved at each skipped update


@pytest.mark.parametrize("overrides, device, fragments", [
    (["train.precision=fp16"], "cpu", ["fp16 needs CUDA", "use bf16", "or fp32"]),
    (["train.precision=fp16", "dynamics.name=extragradient"], "cuda", ["fp16 needs loss scaling", "'extragradient'"]),
    (["train.precision=fp16", "dynamics.name=optimistic"], "cuda", ["fp16 needs loss scaling", "'optimistic'"]),
    (["train.precision=fp16", "dynamics.name=unrolled"], "cuda", ["fp16 needs loss scaling", "'unrolled'"]),
    (["train.precision=fp16", "dynamics.trust_region.radius=0.1"], "cuda", ["trust_region", "fp16", "fp32"]),
    (["train.compile=true"], "cpu", ["train.compile", "loss.r1_gamma", "double backward"]),
    (["train.compile=true", "loss.r1_gamma=0", "dynamics.name=unrolled"], "cpu", ["dynamics.name unrolled"]),
], ids=["fp16-cpu", "fp16-extragradient", "fp16-optimistic", "fp16-unrolled", "fp16-trust-region",
        "compile-r1", "compile-unrolled"])
def test_what_cannot_work_is_refused_with_one_clear_message(overrides, device, fragments):
    built = build_experiment(load_config("ring8", [*RING8, *(o for o in overrides if not o.startswith("train."))]))
    config, kind = load_config("ring8", [*RING8, *overrides]), get_kind("gan")
    with pytest.raises(ConfigError) as err:  # a "cuda" device object: refused before anything touches CUDA
        kind.check(config)  # the gan kind's own refusals (trust region), then the device's and the dynamics'
        configure_performance(config, torch.device(device), built.game, built.dynamics, kind.double_backward(config))
    for fragment in fragments:
        assert fragment in str(err.value)


def test_fp16_on_cpu_is_refused_when_the_run_is_built():
    with pytest.raises(ConfigError, match="fp16 needs CUDA"):
        build_experiment(load_config("ring8", [*RING8, "device=cpu", "train.precision=fp16"]))


def test_bf16_is_refused_on_a_cpu_without_native_bfloat16(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    with pytest.raises(ConfigError, match="AVX-512 BF16"):
        build_experiment(load_config("ring8", [*RING8, "device=cpu", "train.precision=bf16"]))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message for a machine without CUDA")
def test_device_cuda_without_cuda_is_a_config_error():
    with pytest.raises(ConfigError, match="CUDA is not available"):
        build_experiment(load_config("ring8", [*RING8, "device=cuda"]))


def test_channels_last_gives_the_contiguous_numbers():
    contiguous, _ = _losses(load_config("digits", [*DIGITS, "train.channels_last=false"], steps=3))
    nhwc, exp = _losses(load_config("digits", [*DIGITS, "train.channels_last=true"], steps=3))
    conv = exp.game.discriminator.net[2].weight  # 8 -> 16 channels (a 1-channel weight is both)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    torch.testing.assert_close(nhwc, contiguous, rtol=1e-4, atol=1e-5)


def test_channels_last_auto_is_off_on_cpu_and_mlps_are_never_converted():
    exp = build_experiment(load_config("digits", DIGITS))
    assert exp.game.discriminator.net[0].weight.is_contiguous()
    exp = build_experiment(load_config("ring8", [*RING8, "train.channels_last=true"]))
    assert all(p.is_contiguous() for p in exp.game.discriminator.parameters())


@pytest.mark.slow  # torch.compile (inductor, C++ codegen with gcc) takes about a minute on 2 busy cores
def test_compiled_players_give_the_eager_first_step():
    overrides = [*DIGITS, "train.batch_size=8"]
    eager, eager_exp = _losses(load_config("digits", overrides, steps=1), steps=1)
    compiled, exp = _losses(load_config("digits", [*overrides, "train.compile=true"], steps=1), steps=1)
    torch.testing.assert_close(compiled, eager, rtol=1e-4, atol=1e-5)
    for name, module in exp.game.players.items():
        reference = eager_exp.game.players[name].state_dict()
        assert module.state_dict().keys() == reference.keys()  # checkpoints keep their keys
        for key, value in module.state_dict().items():
            torch.testing.assert_close(value, reference[key], rtol=1e-4, atol=1e-5)
