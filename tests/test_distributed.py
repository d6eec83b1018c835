"""Data-parallel training: rank slicing of batches and random draws, and 2 gloo processes vs 1 process."""

import csv
import os
import subprocess
import sys

import pytest
import torch

from gankit import distributed
from gankit.config import load_config
from gankit.distributed import ShardedBatches, Topology, local_batch_size, per_sample, topology_from_env
from gankit.errors import ConfigError
from gankit.train.checkpoint import load_checkpoint


@pytest.fixture
def as_rank(monkeypatch):
    def set_rank(rank, world_size):
        monkeypatch.setattr(distributed, "_CURRENT", Topology(rank, world_size, rank))
    return set_rank


def test_per_sample_draws_are_the_ranks_rows_of_one_global_draw(as_rank):
    torch.manual_seed(3)
    whole = torch.randn(12, 4)
    parts = []
    for rank in range(3):
        as_rank(rank, 3)
        torch.manual_seed(3)
        parts.append(per_sample(lambda n: torch.randn(n, 4), 4))
    assert torch.equal(torch.cat(parts), whole)
    as_rank(0, 1)
    torch.manual_seed(3)
    assert torch.equal(per_sample(lambda n: torch.randn(n, 4), 12), whole)


def test_sharded_batches_split_each_global_batch_and_share_the_data_order():
    from gankit.data.loader import InfiniteBatches

    data, labels = torch.arange(40.0).reshape(20, 2), torch.arange(20)
    named = {"samples": data, "labels": labels}
    whole = InfiniteBatches(named, 8, seed=1)
    shards = [ShardedBatches(InfiniteBatches(named, 8, seed=1), Topology(r, 2, r)) for r in range(2)]
    for _ in range(5):  # across an epoch boundary (20 samples, batches of 8)
        batch = next(whole)
        parts = [next(shard) for shard in shards]
        for name in named:
            assert torch.equal(torch.cat([p[name] for p in parts]), batch[name])
            assert len(parts[0][name]) == 4
    assert shards[0].state_dict()["position"] == whole.state_dict()["position"]


def test_the_global_batch_must_divide_and_the_environment_is_read():
    assert local_batch_size(64, Topology(0, 4, 0)) == 16
    with pytest.raises(ConfigError, match="batch_size 30 .* among 4 processes; use a multiple of 4"):
        local_batch_size(30, Topology(0, 4, 0))
    assert topology_from_env({"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}) == Topology(3, 4, 1)
    assert topology_from_env({}) == Topology(0, 1, 0) and not Topology().distributed
    with pytest.raises(ConfigError, match="torchrun"):
        topology_from_env({"RANK": "x"})


def test_what_cannot_be_split_over_ranks_is_refused(as_rank):
    from gankit.experiment import build_experiment

    as_rank(0, 2)
    with pytest.raises(ConfigError, match="unrolled .* run it in one process"):
        build_experiment(load_config("ring8", ["data.n_samples=256", "dynamics.name=unrolled"]))
    with pytest.raises(ConfigError, match="sync_batchnorm needs CUDA"):
        build_experiment(load_config("ring8", ["data.n_samples=256", "train.sync_batchnorm=true"]))
    with pytest.raises(ConfigError, match="use a multiple of 2"):
        build_experiment(load_config("ring8", ["data.n_samples=256", "train.batch_size=33"]))


SETTINGS = ["data.n_samples=512", "train.batch_size=64", "train.log_every=5", "train.checkpoint_every=10",
            "train.sample_every=20", "train.tensorboard=false", "model.g_width=32", "model.d_width=32",
            "model.spectral_norm=true", "loss.gp_weight=1.0", "train.ema_decay=0.9"]


def _gankit(*args):
    args = [sys.executable, "-m", "gankit", *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def _train(out, *extra):
    return _gankit("train", "ring8", "--steps", "20", "--no-progress", "--out", str(out),
                   *[a for s in SETTINGS for a in ("--set", s)], *extra)


def test_two_gloo_processes_match_one_process_on_the_same_global_batch(tmp_path):
    _train(tmp_path / "one")
    done = _train(tmp_path / "two", "--nproc", "2")
    assert done.stderr.count("training ring8") == 1  # only rank 0 speaks
    one = load_checkpoint(tmp_path / "one" / "checkpoints" / "step_000020.pt")
    two = load_checkpoint(tmp_path / "two" / "checkpoints" / "step_000020.pt")
    weights_one = {**one["players"], "ema": one["callbacks"]["EMACallback"]}
    weights_two = {**two["players"], "ema": two["callbacks"]["EMACallback"]}
    for name, weights in weights_one.items():
        for key, value in weights.items():
            # Same data, latents and GP mixing weights; the gradient is an average over ranks instead of one
            # mean, so only the summation order differs (float rounding, amplified where Adam divides by a tiny v).
            torch.testing.assert_close(weights_two[name][key], value, rtol=0, atol=2e-5)
    with (tmp_path / "one" / "metrics.csv").open() as a, (tmp_path / "two" / "metrics.csv").open() as b:
        rows_one, rows_two = list(csv.DictReader(a)), list(csv.DictReader(b))
    assert [r["step"] for r in rows_one] == [r["step"] for r in rows_two] == ["5", "10", "15", "20"]
    for r1, r2 in zip(rows_one, rows_two):  # logged statistics are the global batch's, averaged over ranks
        for column in ("loss_d", "loss_g", "gradient_penalty", "r1", "grad_norm_generator"):
            assert float(r2[column]) == pytest.approx(float(r1[column]), rel=1e-3, abs=1e-5), column


@pytest.mark.slow
def test_a_two_process_run_resumes_bit_identically(tmp_path):
    import shutil

    _train(tmp_path / "full", "--nproc", "2")
    shutil.copytree(tmp_path / "full", tmp_path / "cut")
    (tmp_path / "cut" / "checkpoints" / "step_000020.pt").unlink()
    _gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress", "--nproc", "2")
    full = load_checkpoint(tmp_path / "full" / "checkpoints" / "step_000020.pt")["players"]
    cut = load_checkpoint(tmp_path / "cut" / "checkpoints" / "step_000020.pt")["players"]
    assert all(torch.equal(value, cut[p][k]) for p in full for k, value in full[p].items())


@pytest.mark.slow
def test_sigterm_to_torchrun_stops_both_ranks_at_one_step_and_the_run_resumes(tmp_path):
    import signal

    from process_helpers import logged_rows, start_gankit, wait_until

    settings = [*SETTINGS, "train.checkpoint_every=1000", "train.sample_every=1000"]
    args = ["train", "ring8", "--steps", "400", "--no-progress", *[a for s in settings for a in ("--set", s)],
            "--nproc", "2"]
    _gankit(*args, "--out", str(tmp_path / "full"))
    proc = start_gankit(*args, "--out", str(tmp_path / "cut"))
    wait_until(lambda: logged_rows(tmp_path / "cut" / "metrics.csv") >= 2)
    proc.send_signal(signal.SIGTERM)  # torchrun passes it on to both workers
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.count("a checkpoint was written") == 1  # rank 0 speaks for both
    stopped = [int(p.stem.removeprefix("step_")) for p in (tmp_path / "cut" / "checkpoints").glob("step_*.pt")]
    assert len(stopped) == 1 and 0 < stopped[0] < 400
    _gankit("train", "--resume", str(tmp_path / "cut"), "--no-progress", "--nproc", "2")
    full = load_checkpoint(tmp_path / "full" / "checkpoints" / "step_000400.pt")["players"]
    cut = load_checkpoint(tmp_path / "cut" / "checkpoints" / "step_000400.pt")["players"]
    assert all(torch.equal(value, cut[p][k]) for p in full for k, value in full[p].items())


def test_a_hand_set_world_size_without_torchrun_is_one_clear_error(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    with pytest.raises(ConfigError, match="MASTER_ADDR expected.*start gankit with torchrun"):
        distributed.init_from_env(torch.device("cpu"))
    assert not distributed.current().distributed


@pytest.mark.slow
def test_two_torchrun_launchers_rendezvous_as_two_nodes(tmp_path):
    # docs/distributed.md's multi-node launch (c10d rendezvous), both "nodes" on this machine: each launcher
    # starts one worker with LOCAL_RANK 0, so only the global rank may decide who writes.
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _train(tmp_path / "one")
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nnodes", "2", "--nproc_per_node", "1",
                "--rdzv_backend", "c10d", "--rdzv_endpoint", f"127.0.0.1:{port}", "--rdzv_id", "two-nodes",
                "-m", "gankit", "train", "ring8", "--steps", "20", "--no-progress", "--out", str(tmp_path / "two"),
                *[a for s in SETTINGS for a in ("--set", s)]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    nodes = [subprocess.Popen(launcher, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(2)]
    outputs = [node.communicate(timeout=300) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], [err[-2000:] for _, err in outputs]
    assert sum(err.count("training ring8") for _, err in outputs) == 1  # one writer across both nodes
    one = load_checkpoint(tmp_path / "one" / "checkpoints" / "step_000020.pt")["players"]
    two = load_checkpoint(tmp_path / "two" / "checkpoints" / "step_000020.pt")["players"]
    for player, weights in one.items():
        for key, value in weights.items():
            torch.testing.assert_close(two[player][key], value, rtol=0, atol=2e-5)
