"""Tests for gankit.data.loader.InfiniteBatches: permutations per epoch, seeding, resuming, labels."""

import io

import pytest
import torch

from gankit.data import InfiniteBatches, ZippedBatches
from gankit.errors import DataError


def _indices(n):
    """Data whose single feature is the sample index, so batches reveal which samples they hold."""
    return torch.arange(n, dtype=torch.float32).unsqueeze(1)


def _take(iterator, k):
    return [next(iterator) for _ in range(k)]


def test_every_epoch_is_a_permutation_with_last_partial_batch_dropped():
    n, batch = 10, 3  # 3 full batches per epoch, 1 sample dropped
    batches = _take(InfiniteBatches(_indices(n), batch, seed=0), 3 * 4)
    assert all(b.shape == (batch, 1) for b in batches)
    epochs = [torch.cat(batches[i : i + 3]).squeeze(1).long() for i in range(0, 12, 3)]
    for epoch in epochs:
        assert len(set(epoch.tolist())) == 9  # no sample twice within an epoch
    exact = InfiniteBatches(_indices(12), 4, seed=3)
    for _ in range(3):
        seen = torch.cat(_take(exact, 3)).squeeze(1).long()
        assert torch.equal(seen.sort().values, torch.arange(12))
    assert len({tuple(e.tolist()) for e in epochs}) == 4  # each epoch is a fresh permutation


def test_same_seed_same_sequence_different_seed_different_sequence():
    a = torch.cat(_take(InfiniteBatches(_indices(50), 8, seed=1), 20))
    b = torch.cat(_take(InfiniteBatches(_indices(50), 8, seed=1), 20))
    c = torch.cat(_take(InfiniteBatches(_indices(50), 8, seed=2), 20))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_shuffled_not_identity():
    first = next(InfiniteBatches(_indices(100), 100, seed=0)).squeeze(1)
    assert not torch.equal(first, torch.arange(100, dtype=torch.float32))
    assert torch.equal(first.sort().values, torch.arange(100, dtype=torch.float32))


@pytest.mark.parametrize("consumed", [0, 1, 2, 3, 4, 7])  # 3 batches per epoch: mid-epoch and boundaries
def test_resume_yields_identical_batches(consumed):
    original = InfiniteBatches(_indices(10), 3, seed=5)
    _take(original, consumed)
    state = original.state_dict()
    expected = _take(original, 8)

    resumed = InfiniteBatches(_indices(10), 3, seed=999)
    resumed.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(_take(resumed, 8), expected, strict=True))


def test_state_dict_survives_torch_save_and_safe_load():
    original = InfiniteBatches(_indices(10), 3, seed=5)
    _take(original, 4)
    state = original.state_dict()
    assert set(state) == {"epoch", "position", "batch_size", "generator", "permutation"}
    assert state["epoch"] == 1 and state["position"] == 3
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    expected = _take(original, 5)

    resumed = InfiniteBatches(_indices(10), 3, seed=0)
    resumed.load_state_dict(loaded)
    assert all(torch.equal(x, y) for x, y in zip(_take(resumed, 5), expected, strict=True))


def test_state_dict_is_a_snapshot():
    iterator = InfiniteBatches(_indices(10), 3, seed=5)
    state = iterator.state_dict()
    _take(iterator, 6)
    assert state["epoch"] == 0 and state["position"] == 0
    fresh = InfiniteBatches(_indices(10), 3, seed=5)
    replay = InfiniteBatches(_indices(10), 3, seed=0)
    replay.load_state_dict(state)
    assert all(torch.equal(x, y) for x, y in zip(_take(replay, 6), _take(fresh, 6), strict=True))


def test_named_tensors_stay_aligned_and_follow_the_unnamed_order():
    n = 20
    data = torch.randn(n, 2, 4, 4)
    labels = torch.arange(n) * 10
    iterator = InfiniteBatches({"samples": data, "labels": labels}, 6, seed=0)
    plain = InfiniteBatches(data, 6, seed=0)
    for _ in range(7):  # across epoch boundaries
        batch = next(iterator)
        assert set(batch) == {"samples", "labels"}
        x, y = batch["samples"], batch["labels"]
        assert x.shape == (6, 2, 4, 4) and y.shape == (6,) and y.dtype == torch.int64
        assert torch.equal(x, data[y // 10])
        assert torch.equal(x, next(plain))  # a mapping is shuffled exactly as its tensors alone would be


def test_zipped_streams_shuffle_independently_and_resume_exactly():
    source = torch.arange(10.0).reshape(10, 1)
    target = torch.arange(100.0, 107.0).reshape(7, 1)

    def zipped():
        return ZippedBatches({"source": InfiniteBatches({"x": source}, 4, seed=1),
                              "target": InfiniteBatches(target, 3, seed=2)})

    stream = zipped()
    first = [next(stream) for _ in range(5)]
    alone = InfiniteBatches(target, 3, seed=2)
    assert all(torch.equal(b["target"], next(alone)) for b in first)  # each stream is its own iterator
    assert all(b["source"]["x"].shape == (4, 1) and b["target"].shape == (3, 1) for b in first)
    state = stream.state_dict()
    after = [next(stream) for _ in range(4)]
    resumed = zipped()
    resumed.load_state_dict(state)
    again = [next(resumed) for _ in range(4)]
    for a, b in zip(after, again, strict=True):
        assert torch.equal(a["source"]["x"], b["source"]["x"]) and torch.equal(a["target"], b["target"])
    with pytest.raises(DataError, match=r"holds streams \['source', 'target'\], this iterator has \['a', 'b'\]"):
        ZippedBatches({"a": InfiniteBatches(source, 2, seed=0), "b": InfiniteBatches(target, 2, seed=0)}
                      ).load_state_dict(state)


def test_batches_arrive_on_the_requested_device():
    x = next(InfiniteBatches(_indices(4), 2, seed=0, device=torch.device("cpu")))
    assert x.device == torch.device("cpu")
    batch = next(InfiniteBatches({"x": _indices(4), "y": torch.arange(4)}, 2, seed=0, device="cpu"))
    assert batch["x"].device.type == "cpu" and batch["y"].device.type == "cpu"


def test_batch_size_larger_than_data_set():
    with pytest.raises(DataError, match=r"only 5 samples.*lower batch_size"):
        InfiniteBatches(_indices(5), 6, seed=0)
    assert next(InfiniteBatches(_indices(5), 5, seed=0)).shape == (5, 1)


@pytest.mark.parametrize("batch_size", [0, -1, 2.0])
def test_invalid_batch_size(batch_size):
    with pytest.raises(DataError, match="batch_size"):
        InfiniteBatches(_indices(5), batch_size, seed=0)


def test_label_count_mismatch():
    with pytest.raises(DataError, match="got 3 rows of 'labels' for 5 rows of 'samples'"):
        InfiniteBatches({"samples": _indices(5), "labels": torch.arange(3)}, 2, seed=0)


def test_load_state_dict_refuses_mismatched_state():
    state = InfiniteBatches(_indices(10), 3, seed=0).state_dict()
    with pytest.raises(DataError, match="same data and batch_size"):
        InfiniteBatches(_indices(11), 3, seed=0).load_state_dict(state)
    with pytest.raises(DataError, match="same data and batch_size"):
        InfiniteBatches(_indices(10), 2, seed=0).load_state_dict(state)
    with pytest.raises(DataError, match="keys"):
        InfiniteBatches(_indices(10), 3, seed=0).load_state_dict({"epoch": 0})
