"""Property-based input fuzzing: every input ends in a clear GankitError or succeeds, never a raw crash.

Targets: config dicts and YAML files, the --set override parser, .npy and image loading (random bytes,
truncations, wrong dtypes, huge dimensions claimed in headers), checkpoint loading (truncations and
bit flips). Budgets are fixed (`max_examples`) and the search is derandomized, so CI runs the same
examples every time; `pytest tests/test_fuzz.py --hypothesis-show-statistics` prints the counts.
"""

import functools
import io
import shutil
import tempfile
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from cli_helpers import assert_user_error
from gankit.config import GANConfig, config_from_dict, config_to_yaml, load_config
from gankit.data.images import load_image_folder, load_npy
from gankit.errors import CheckpointError, ConfigError, DataError, GankitError
from gankit.train.checkpoint import load_checkpoint, save_checkpoint

FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
VALID = yaml.safe_load(config_to_yaml(load_config("ring8")))
KEYS = [f"{section}.{key}" for section, values in VALID.items() if isinstance(values, dict) for key in values]


def _clear(err: GankitError) -> None:
    """One line a person can read: not empty, not a wall of text."""
    message = str(err)
    assert message.strip() and "\n" not in message and len(message) < 600, message


scalars = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True) | st.text(max_size=20)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                              max_size=4), max_leaves=12)


def _config_or_clear_error(build) -> None:
    try:
        assert isinstance(build(), GANConfig)
    except ConfigError as err:
        _clear(err)


# --- configs ----------------------------------------------------------------------------------------------

@settings(FUZZ, max_examples=300)
@given(st.dictionaries(st.sampled_from([*VALID, "trian", "x"]) | st.text(max_size=8), values, max_size=5))
def test_fuzz_config_dicts_of_random_keys_types_and_nesting(raw):
    _config_or_clear_error(lambda: config_from_dict(raw))


@settings(FUZZ, max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(KEYS + ["train.nope", "model", "optim.lr_d.x"]), values), max_size=3))
def test_fuzz_valid_configs_with_random_values_at_real_keys(changes):
    raw = yaml.safe_load(config_to_yaml(load_config("ring8")))
    for key, value in changes:
        section, _, leaf = key.partition(".")
        node = raw.setdefault(section, {})
        if isinstance(node, dict) and leaf:
            node[leaf] = value
        else:
            raw[section] = value
    _config_or_clear_error(lambda: config_from_dict(raw))


@settings(FUZZ, max_examples=200)
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_fuzz_config_files_of_random_text(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yaml") / "config.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _config_or_clear_error(lambda: load_config(str(path)))


@settings(FUZZ, max_examples=300)
@given(st.text(max_size=40) | st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS) | st.text(max_size=12),
                                        st.text(max_size=20)))
def test_fuzz_set_overrides(item):
    _config_or_clear_error(lambda: load_config("ring8", [item]))


# --- .npy files -------------------------------------------------------------------------------------------

def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


VALID_NPY = _npy_bytes(np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32))


def _load_npy_or_clear_error(path: Path) -> None:
    try:
        loaded = load_npy(path)
    except DataError as err:
        _clear(err)
        return
    assert loaded.dtype == torch.float32 and loaded.dim() in (2, 4) and torch.isfinite(loaded).all()


@settings(FUZZ, max_examples=200)
@given(st.binary(max_size=300) | st.binary(max_size=200).map(lambda b: b"\x93NUMPY" + b))
def test_fuzz_npy_random_bytes(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("npy") / "data.npy"
    path.write_bytes(blob)
    _load_npy_or_clear_error(path)


@settings(FUZZ, max_examples=150)
@given(st.integers(0, len(VALID_NPY)))
def test_fuzz_npy_truncated(tmp_path_factory, length):
    path = tmp_path_factory.mktemp("npy") / "data.npy"
    path.write_bytes(VALID_NPY[:length])
    _load_npy_or_clear_error(path)


@settings(FUZZ, max_examples=200)
@given(shape=st.lists(st.integers(0, 2**40), max_size=5).map(tuple),
       dtype=st.sampled_from(["<f4", "<f8", "|u1", "<i8", "|b1", "<c8", "<U3", "|O", "<m8[s]", "|V4", "zz"]),
       body=st.binary(max_size=64))
def test_fuzz_npy_headers_claiming_any_shape_and_dtype(tmp_path_factory, shape, dtype, body):
    header = repr({"descr": dtype, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    path = tmp_path_factory.mktemp("npy") / "data.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + body)
    _load_npy_or_clear_error(path)  # a claimed 2**40-row array must be refused from its header, not allocated


# --- image files ------------------------------------------------------------------------------------------

def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(64, dtype=np.uint8).reshape(8, 8)).save(buffer, format="PNG")
    return buffer.getvalue()


VALID_PNG = _png_bytes()


def _png_claiming(width: int, height: int) -> bytes:
    """The valid PNG with its IHDR size replaced (CRC fixed, so the header itself looks right)."""
    ihdr = b"IHDR" + struct.pack(">II", width, height) + VALID_PNG[24:29]
    return VALID_PNG[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + VALID_PNG[33:]


def _load_images_or_clear_error(folder: Path) -> None:
    try:
        images = load_image_folder(folder, 8, 1)
    except DataError as err:
        _clear(err)
        return
    assert images.shape == (1, 1, 8, 8) and images.min() >= -1 and images.max() <= 1


@settings(FUZZ, max_examples=150)
@given(st.binary(max_size=300) | st.integers(0, len(VALID_PNG)).map(lambda n: VALID_PNG[:n]),
       st.sampled_from(["a.png", "a.jpg", "a.jpeg"]))
def test_fuzz_image_random_and_truncated_bytes(tmp_path_factory, blob, name):
    folder = tmp_path_factory.mktemp("images")
    (folder / name).write_bytes(blob)
    _load_images_or_clear_error(folder)


@settings(FUZZ, max_examples=60)
@given(st.integers(1, 2**31 - 1), st.integers(1, 2**31 - 1))
def test_fuzz_image_headers_claiming_huge_dimensions(tmp_path_factory, width, height):
    folder = tmp_path_factory.mktemp("images")
    (folder / "a.png").write_bytes(_png_claiming(width, height))
    _load_images_or_clear_error(folder)


def test_a_decompression_bomb_header_is_refused_by_name(tmp_path):
    (tmp_path / "a.png").write_bytes(_png_claiming(100_000, 100_000))
    with pytest.raises(DataError, match="a.png"):
        load_image_folder(tmp_path, 8, 1)


# --- checkpoints ------------------------------------------------------------------------------------------

@functools.cache
def _checkpoint() -> tuple[bytes, dict]:
    """A small real checkpoint's bytes and what it loads as."""
    folder = Path(tempfile.mkdtemp())
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Linear(8, 1))
    state = {"step": 5, "players": {"d": model.state_dict()}, "meta": {"ema": False, "shape": [2]},
             "rng": {"torch": torch.get_rng_state()[:64], "python": [3, (1, 2), None]}}
    save_checkpoint(state, folder / "c.pt")
    blob, original = (folder / "c.pt").read_bytes(), load_checkpoint(folder / "c.pt")
    shutil.rmtree(folder)
    return blob, original


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _load_checkpoint_or_clear_error(path: Path, original: dict) -> bool:
    """True when it loaded; then it must be exactly the original (a damaged file never loads as something else)."""
    try:
        loaded = load_checkpoint(path)
    except CheckpointError as err:
        _clear(err)
        return False
    assert _same(loaded, original)
    return True


@settings(FUZZ, max_examples=150)
@given(st.data())
def test_fuzz_checkpoint_truncated(tmp_path_factory, data):
    blob, original = _checkpoint()
    length = data.draw(st.integers(0, len(blob) - 1))
    path = tmp_path_factory.mktemp("cut") / "c.pt"
    path.write_bytes(blob[:length])
    assert not _load_checkpoint_or_clear_error(path, original)  # a truncated file never loads


@settings(FUZZ, max_examples=300)
@given(st.data())
def test_fuzz_checkpoint_bit_flips(tmp_path_factory, data):
    blob, original = _checkpoint()
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(blob) - 1), st.integers(0, 7)), min_size=1, max_size=3))
    damaged = bytearray(blob)
    for position, bit in flips:
        damaged[position] ^= 1 << bit
    path = tmp_path_factory.mktemp("flip") / "c.pt"
    path.write_bytes(bytes(damaged))
    _load_checkpoint_or_clear_error(path, original)


# --- the command line: a refused input leaves no run directory behind ----------------------------------------

@settings(FUZZ, max_examples=25)
@given(item=st.builds(lambda k, v: f"{k}={v}", st.sampled_from(KEYS), st.text(max_size=10)),
       blob=st.none() | st.binary(max_size=100) | st.integers(0, len(VALID_NPY)).map(lambda n: VALID_NPY[:n]))
def test_fuzz_gankit_train_refuses_cleanly_and_writes_nothing(tmp_path_factory, gankit, item, blob):
    folder = tmp_path_factory.mktemp("cli")
    data = []
    if blob is not None:
        (folder / "data.npy").write_bytes(blob)
        data = ["--set", "data.name=npy", "--set", f"data.path={folder / 'data.npy'}"]
    out = folder / "run"
    result = gankit("train", "ring8", "--steps", "1", "--no-progress", "--out", str(out), "--set",
                    "data.n_samples=256", "--set", "train.batch_size=4", "--set", "train.tensorboard=false",
                    *data, "--set", item)
    if result.returncode == 0:
        assert (out / "checkpoints" / "step_000001.pt").is_file()
    else:
        assert_user_error(result)
        assert not out.exists()
