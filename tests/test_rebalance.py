"""gankit rebalance: exact counts, real rows untouched, CSV round trip, one-line errors, an honest evaluation."""

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, recall_score

from cli_helpers import assert_user_error
from gankit.config import load_config
from gankit.errors import GankitError
from gankit.rebalance import downstream_scores, evaluate_downstream, load_labeled, rebalance
from gankit.train.run import train

TINY = ["model.g_width=16", "model.d_width=16", "model.depth=1", "train.batch_size=8", "train.log_every=5",
        "train.sample_every=1000", "train.checkpoint_every=1000"]
COUNTS = {"apple": 30, "pear": 20, "plum": 12}  # classes sorted by name: apple 0, pear 1, plum 2


def write_fruit_csv(path, counts=COUNTS, seed=0):
    """Three separable classes; `width` is far from 0 (so unrestored standardized samples would show),
    `seeds` holds whole numbers, the label column sits in the middle."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, (name, n) in enumerate(counts.items()):
        for _ in range(n):
            rows.append([f"{1000 + 30 * k + rng.normal(0, 5):.3f}", name, str(int(rng.integers(3, 9)) + 5 * k),
                         f"{rng.normal(k, 0.3):.4f}"])
    order = rng.permutation(len(rows))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["width", "fruit", "seeds", "ratio"])
        writer.writerows([rows[i] for i in order])
    return path


def read_csv(path):
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def fruit(tmp_path_factory):
    """One rebalanced CSV (20 GAN steps), shared by the tests that read its outputs or reuse its generator."""
    folder = tmp_path_factory.mktemp("fruit")
    table = write_fruit_csv(folder / "fruit.csv")
    result = rebalance(str(table), labels="fruit", out=folder / "out", imbalance="plum=0.5", test_fraction=0.25,
                       steps=20, overrides=TINY, seed=1)
    return table, result


def test_balanced_output_has_the_requested_counts_and_untouched_real_rows(fruit):
    table, result = fruit
    out = result.out
    saved = np.load(out / "rebalanced.npz")
    split = np.load(out / "data" / "split.npz")
    data = load_labeled(str(table), "fruit")
    train, test = split["train_index"], split["test_index"]
    assert not set(train) & set(test) and len(train) + len(test) == sum(COUNTS.values()) - 4  # 4 plums cut

    real = ~saved["synthetic"]
    assert real[: len(train)].all() and not real[len(train):].any()
    assert saved["x"][real].tobytes() == data.x[train].tobytes()
    np.testing.assert_array_equal(saved["y"][real], data.y[train])
    before = np.bincount(data.y[train], minlength=3)
    assert before[2] == 5  # plum: 9 in the training part, half of them (rounded up) kept
    assert np.bincount(saved["y"], minlength=3).tolist() == [before.max()] * 3
    assert np.bincount(saved["y"][~real], minlength=3).tolist() == (before.max() - before).tolist()
    assert saved["class_names"].tolist() == ["apple", "pear", "plum"]

    summary = json.loads((out / "rebalance.json").read_text())
    assert summary["counts"]["before"] == dict(zip(["apple", "pear", "plum"], before.tolist()))
    assert summary["counts"]["test"] == {"apple": 8, "pear": 5, "plum": 3}  # stratified, before the cut
    assert summary["evaluation"]["minority"] == ["plum"]
    gan = load_config(str(out / "gan" / "config.yaml"))  # the run directory trains again as it is
    assert (gan.data.name, gan.condition.kind, gan.train.steps) == ("npy", "label", 20)
    assert np.load(gan.data.path).shape == (len(train), 3) and np.load(gan.data.labels).tolist() == data.y[train].tolist()


def test_csv_round_trip_keeps_real_lines_and_restores_units(fruit):
    table, result = fruit
    header, input_rows = read_csv(table)
    out_header, rows = read_csv(result.out / "rebalanced.csv")
    train = np.load(result.out / "data" / "split.npz")["train_index"]
    saved = np.load(result.out / "rebalanced.npz")

    assert out_header == header + ["synthetic"]
    assert [r[:-1] for r in rows[: len(train)]] == [input_rows[i] for i in train]
    assert [r[-1] for r in rows] == ["1" if s else "0" for s in saved["synthetic"]]
    synthetic = [r for r in rows if r[-1] == "1"]
    assert {r[1] for r in synthetic} <= {"pear", "plum"}
    assert all(r[2].isdigit() for r in synthetic)  # a whole-number column stays whole
    values = np.array([[float(r[0]), float(r[2]), float(r[3])] for r in synthetic])
    np.testing.assert_array_equal(values, saved["x"][saved["synthetic"]])  # CSV and npz hold the same numbers
    width = np.array([float(r[0]) for r in input_rows])
    assert abs(values[:, 0].mean() - width.mean()) < 5 * width.std()  # original units, not z-scores near 0


def test_counts_file_with_names_and_indices_reusing_the_generator(fruit, tmp_path):
    table, result = fruit
    target = tmp_path / "counts.json"
    target.write_text(json.dumps({"pear": 25, "2": 11}))
    again = rebalance(str(table), labels="fruit", out=tmp_path / "out", imbalance="plum=0.5", test_fraction=0.25,
                      seed=1, target=str(target), generator=result.out / "gan", evaluate=False)
    saved = np.load(again.out / "rebalanced.npz")
    before = result.summary["counts"]["before"]
    assert np.bincount(saved["y"], minlength=3).tolist() == [before["apple"], 25, 11]
    assert saved["synthetic"].sum() == 25 + 11 - before["pear"] - before["plum"]
    assert sorted(p.name for p in again.out.iterdir()) == ["rebalance.json", "rebalanced.csv", "rebalanced.npz"]
    assert again.table is None and again.summary["evaluation"] is None


def test_images_keep_their_uint8_range(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 1, 28, 28), dtype=np.uint8)
    labels = np.repeat([0, 1], [20, 10])
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", labels)
    result = rebalance(str(tmp_path / "x.npy"), labels=str(tmp_path / "y.npy"), out=tmp_path / "out", steps=2,
                       overrides=["model.g_width=4", "model.d_width=4", "train.batch_size=8"], evaluate=False)
    saved = np.load(result.out / "rebalanced.npz")
    train = np.load(result.out / "data" / "split.npz")["train_index"]
    assert saved["x"].dtype == np.uint8 and saved["x"].shape == (32, 1, 28, 28)
    assert saved["x"][: len(train)].tobytes() == images[train].tobytes()
    assert np.bincount(saved["y"]).tolist() == [16, 16] and saved["synthetic"].sum() == 8
    assert result.summary["value_range"] == "uint8"


@pytest.fixture(scope="module")
def unconditional_run(tmp_path_factory):
    config = load_config("ring8", ["data.n_samples=64", "train.batch_size=16", "model.g_width=8",
                                   "model.d_width=8"], steps=2)
    return train(config, tmp_path_factory.mktemp("ring") / "run", progress=False).path


def _bad_cases(tmp_path, fruit_table, fruit_gan, unconditional):
    """(kwargs of rebalance, fragments of the message) for each user mistake."""
    odd = tmp_path / "odd.csv"
    odd.write_text("width,colour,fruit\n1.0,red,apple\n2.0,green,pear\n")
    holes = tmp_path / "holes.csv"
    holes.write_text("width,fruit\n" + "1.0,apple\n" * 4 + "nan,pear\n" + "2.0,pear\n" * 3)
    single = tmp_path / "single.csv"
    single.write_text("width,fruit\n" + "1.0,apple\n" * 5)
    np.save(tmp_path / "x.npy", np.zeros((10, 3), np.float32))
    np.save(tmp_path / "y9.npy", np.arange(9) % 2)
    (tmp_path / "bad.json").write_text("{pear: 3")
    (tmp_path / "unknown.json").write_text('{"kiwi": 3}')
    (tmp_path / "low.json").write_text('{"apple": 2}')
    fruit = dict(source=str(fruit_table), labels="fruit")
    two_classes = write_fruit_csv(tmp_path / "two.csv", {"apple": 10, "pear": 10})
    return [
        (dict(fruit, labels="kind"), ["no column 'kind'", "width, fruit, seeds, ratio"]),
        (dict(source=str(single), labels="fruit"), ["single class", "'apple'"]),
        (dict(source=str(tmp_path / "x.npy"), labels=str(tmp_path / "y9.npy")), ["9 rows for 10 samples"]),
        (dict(fruit, target=str(tmp_path / "bad.json")), ["is not JSON"]),
        (dict(fruit, target=str(tmp_path / "unknown.json")), ["unknown class 'kiwi'", "apple, pear, plum"]),
        (dict(fruit, target=str(tmp_path / "low.json")), ["asks for 2 rows", "already has 24 real"]),
        (dict(fruit, target="nothing.json"), ["neither 'balanced' nor an existing"]),
        (dict(source=str(odd), labels="fruit"), ["column 'colour' is not numeric", "'red'"]),
        (dict(source=str(holes), labels="fruit"), ["column 'width' holds nan on line 6"]),
        (dict(fruit, imbalance="kiwi=0.5"), ["--imbalance: unknown class 'kiwi'"]),
        (dict(fruit, imbalance="plum=2"), ["fraction in (0, 1]"]),
        (dict(fruit, generator=unconditional), ["is not label-conditional"]),
        (dict(source=str(two_classes), labels="fruit", generator=fruit_gan), ["draws 3 classes", "has 2"]),
        (dict(fruit, overrides=[*TINY, "condition.kind=none"]), ["condition.kind label"]),
        (dict(fruit, overrides=[*TINY, "dynamics.name=simultaneous", "dynamics.d_steps=2"]), ["dynamics.d_steps"]),
    ]


CASES = 15


@pytest.mark.parametrize("case", range(CASES))
def test_each_bad_input_is_one_clear_error_and_writes_nothing(case, fruit, unconditional_run, tmp_path):
    table, result = fruit
    cases = _bad_cases(tmp_path, table, result.out / "gan", unconditional_run)
    assert len(cases) == CASES
    kwargs, fragments = cases[case]
    if "generator" not in kwargs:
        kwargs = {"steps": 2, "overrides": TINY, **kwargs}
    out = tmp_path / "out"
    with pytest.raises(GankitError) as caught:
        rebalance(out=out, **kwargs)
    for fragment in fragments:
        assert fragment in str(caught.value), str(caught.value)
    assert not out.exists()  # the last case fails while building the GAN, after data/ was written


def test_an_existing_output_directory_is_refused_untouched(fruit, tmp_path):
    table, _ = fruit
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(GankitError, match="not an empty directory"):
        rebalance(str(table), labels="fruit", out=tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_cli_rebalances_and_reports_mistakes_in_one_line(fruit, gankit, tmp_path):
    table, result = fruit
    done = gankit("rebalance", str(table), "--labels", "fruit", "--out", str(tmp_path / "a"), "--seed", "1",
                  "--test-fraction", "0.25", "--imbalance", "plum=0.5", "--generator", str(result.out / "gan"))
    assert done.returncode == 0, done.stderr
    assert "apple 22, pear 22, plum 22" in done.stdout
    assert "| **balanced accuracy**" in done.stdout and "recall plum (minority)" in done.stdout
    assert json.loads((tmp_path / "a" / "rebalance.json").read_text())["evaluation"]["sets"].keys() == {
        "real", "real+synthetic", "synthetic", "real+oversampled"}

    assert_user_error(gankit("rebalance", str(table), "--labels", "kind", "--out", str(tmp_path / "b")),
                      "no column 'kind'", "width, fruit, seeds, ratio")
    assert_user_error(gankit("rebalance", str(table), "--labels", "fruit", "--out", str(tmp_path / "a")),
                      "not an empty directory")
    assert_user_error(gankit("rebalance", str(table), "--labels", "fruit", "--generator", str(result.out / "gan"),
                             "--steps", "5", "--out", str(tmp_path / "c")), "--generator reuses")
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_evaluation_matches_sklearn_on_a_separable_toy():
    # 1-D, three classes at -10, 0 and +10; set (a) lacks class 2, so its model calls those points class 1.
    x_test = np.array([-10.0, -9, -11, 0, 1, 10, 11, 9, 10.5])[:, None]
    y_test = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    cluster = lambda centre, label, n=20: (np.linspace(centre - 1, centre + 1, n)[:, None], np.full(n, label))  # noqa: E731
    parts = {c: cluster(10.0 * (c - 1), c) for c in range(3)}
    real = tuple(np.concatenate(v) for v in zip(parts[0], parts[1]))
    full = tuple(np.concatenate(v) for v in zip(parts[0], parts[1], parts[2]))
    only_one = parts[1]
    result = evaluate_downstream({"real": real, "real+synthetic": full, "synthetic": only_one},
                                 x_test, y_test, ["a", "b", "c"], minority=[2])
    expected_predictions = {"real": [0, 0, 0, 1, 1, 1, 1, 1, 1], "real+synthetic": list(y_test),
                            "synthetic": [1] * 9}
    for name, predicted in expected_predictions.items():
        scores = result["sets"][name]
        recall = recall_score(y_test, predicted, labels=[0, 1, 2], average=None, zero_division=0)
        assert scores["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_test, predicted))
        assert list(scores["recall"].values()) == pytest.approx(list(recall))
        assert scores["minority_recall"] == pytest.approx(recall[2])
    assert result["sets"]["real"]["balanced_accuracy"] == pytest.approx(2 / 3)
    assert result["test_counts"] == {"a": 3, "b": 2, "c": 4} and result["minority"] == ["c"]
    assert downstream_scores(*only_one, x_test, y_test, 3)["n_train"] == 20
