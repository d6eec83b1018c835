"""The FID Inception-v3 (TF graph of 2015-12-05) as code; its weights come from a file the user supplies."""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gankit.errors import CheckpointError, DataError
from gankit.metrics.features.extractors import _FeaturesAndProbabilities

__all__ = [
    "INCEPTION_ENV_VAR", "INCEPTION_NUM_CLASSES", "INCEPTION_WEIGHTS_FILE", "INCEPTION_WEIGHTS_URL",
    "INPUT_RANGE_TOLERANCE", "InceptionFeatures", "InceptionV3FID", "UnbiasedLogits", "load_inception",
]

INCEPTION_ENV_VAR = "GANKIT_INCEPTION_WEIGHTS"
INCEPTION_NUM_CLASSES = 1008
INPUT_RANGE_TOLERANCE = 1e-3  # how far outside [-1, 1] an input may stray (float rounding) before it is refused
INCEPTION_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
_RELEASE = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights"
INCEPTION_WEIGHTS_URL = f"{_RELEASE}/{INCEPTION_WEIGHTS_FILE}"
_HOW_TO_GET = (
    f"gankit never downloads it: on a machine with internet, download {INCEPTION_WEIGHTS_URL} "
    f"(the pytorch-fid release), copy it here and pass --inception-weights PATH or set {INCEPTION_ENV_VAR}=PATH"
)


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps=0.001), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **conv: int | tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **conv)  # type: ignore[arg-type]
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool(x: torch.Tensor) -> torch.Tensor:
    """3x3 average pool, stride 1, padding 1, padded zeros not counted (as in the TF graph)."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """Mixed_5b/5c/5d: 1x1, 5x5, double 3x3 and pooled branches; 224 + pool_features channels out."""

    def __init__(self, in_channels: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch5x5_1 = BasicConv2d(in_channels, 48, kernel_size=1)
        self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, padding=1)
        self.branch_pool = BasicConv2d(in_channels, pool_features, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch1x1(x), branch5x5, branch3x3dbl, self.branch_pool(_avg_pool(x))], 1)


class InceptionB(nn.Module):
    """Mixed_6a: grid reduction 35x35 -> 17x17; 480 + in_channels channels out."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_channels, 384, kernel_size=3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 64, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, kernel_size=3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), branch3x3dbl, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    """Mixed_6b-6e: factorized 7x7 branches with `channels_7x7` inner channels; 768 channels out."""

    def __init__(self, in_channels: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7_2 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_channels, c7, kernel_size=1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            branch7x7dbl = layer(branch7x7dbl)
        return torch.cat([self.branch1x1(x), branch7x7, branch7x7dbl, self.branch_pool(_avg_pool(x))], 1)


class InceptionD(nn.Module):
    """Mixed_7a: grid reduction 17x17 -> 8x8; 512 + in_channels channels out."""

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch3x3_2 = BasicConv2d(192, 320, kernel_size=3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_channels, 192, kernel_size=1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, kernel_size=(1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, kernel_size=(7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, kernel_size=3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_2(self.branch3x3_1(x))
        branch7x7x3 = self.branch7x7x3_4(self.branch7x7x3_3(self.branch7x7x3_2(self.branch7x7x3_1(x))))
        return torch.cat([branch3x3, branch7x7x3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """Mixed_7b/7c: expanded 3x3 branches; 2048 channels out.

    The pool branch averages (padding not counted) in Mixed_7b but takes the max in Mixed_7c, as the TF graph does.
    """

    def __init__(self, in_channels: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = BasicConv2d(in_channels, 320, kernel_size=1)
        self.branch3x3_1 = BasicConv2d(in_channels, 384, kernel_size=1)
        self.branch3x3_2a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_channels, 448, kernel_size=1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, kernel_size=3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, kernel_size=(1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, kernel_size=(3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_channels, 192, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(d3), self.branch3x3dbl_3b(d3)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.max_pool else _avg_pool(x)
        return torch.cat([self.branch1x1(x), branch3x3, branch3x3dbl, self.branch_pool(pooled)], 1)


_MIXED = tuple(f"Mixed_{block}" for block in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"))


class InceptionV3FID(nn.Module):
    """Inception-v3 as in the TF 2015-12-05 graph used for FID and Inception Score, with torchvision-style names.

    Takes images in [-1, 1] of shape (N, 1 or 3, H, W): grayscale is repeated to RGB, then every image is resized
    to 299x299 (bilinear, align_corners=False). Inputs outside [-1, 1] (beyond INPUT_RANGE_TOLERANCE) are refused
    with a DataError; images in [0, 1] lie inside that range and cannot be told apart, so map them with 2x - 1.
    `features` gives the 2048-d pool3 activations (FID/KID/PRDC); `forward` the 1008 fc logits with the fc bias
    (the classifier); `probabilities` the softmax over all 1008 *bias-free* logits `pool3 @ W^T`, as the original
    Inception Score code (openai/improved-gan, `tf.matmul(pool3, w)`) and torch-fidelity's default compute it —
    the score papers report (for a 1000-class variant, take the first 1000 columns and renormalize).

    No auxiliary classifier. Sanity check: 284 parameter tensors holding 23,850,960 parameters (94 convolutions,
    94 batch norms, fc); with the batch-norm buffers (running mean, running var, num_batches_tracked) the state
    dict has 566 entries. Random init (Kaiming for convolutions) is for tests only: load real weights with
    `load_inception`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, max_pool=False)
        self.Mixed_7c = InceptionE(2048, max_pool=True)
        self.fc = nn.Linear(2048, INCEPTION_NUM_CLASSES)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")

    @staticmethod
    def preprocess(x: torch.Tensor) -> torch.Tensor:
        """(N, 1 or 3, H, W) images in [-1, 1] -> (N, 3, 299, 299) float, the network's input."""
        if x.ndim != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected images of shape (N, 1 or 3, H, W), got {tuple(x.shape)}")
        low, high = (float(v) for v in torch.aminmax(x))  # one pass, one read-back per batch
        if low < -1 - INPUT_RANGE_TOLERANCE or high > 1 + INPUT_RANGE_TOLERANCE:
            raise DataError(f"the Inception network takes images in [-1, 1], got values in [{low:.4g}, {high:.4g}]; "
                            "map 8-bit images with x / 127.5 - 1 and [0, 1] images with 2x - 1")
        x = x.float().expand(-1, 3, -1, -1)  # grayscale repeated to RGB; RGB unchanged
        return F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pool3 features (N, 2048) of images in [-1, 1]."""
        x = self.preprocess(x)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in _MIXED:
            x = getattr(self, name)(x)
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits (N, 1008) with the fc bias."""
        return self.fc(self.features(x))

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        """Softmax over all 1008 bias-free logits (the Inception Score's), (N, 1008); rows sum to 1."""
        return torch.softmax(UnbiasedLogits(self.fc)(self.features(x)), dim=1)


class UnbiasedLogits(nn.Module):
    """Pool3 features ↦ the Inception Score's logits `features @ fc.weight^T`, without fc's bias (original IS code).

    Shares `fc`'s weight; `out_features` as on nn.Linear.
    """

    def __init__(self, fc: nn.Linear) -> None:
        super().__init__()
        self.fc = fc
        self.out_features = fc.out_features

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return F.linear(features, self.fc.weight)


def _resolve(path: str | Path | None) -> Path:
    if path is None or str(path) == "":
        env = os.environ.get(INCEPTION_ENV_VAR, "")
        if not env:
            given = f"neither --inception-weights nor {INCEPTION_ENV_VAR}"
            raise CheckpointError(f"no Inception weights given ({given}); {_HOW_TO_GET}")
        path = env
    file = Path(path).expanduser()
    if not file.is_file():
        raise CheckpointError(f"Inception weights {file} not found; {_HOW_TO_GET}")
    return file


def _check_state_dict(state: object, model: nn.Module, file: Path) -> dict[str, torch.Tensor]:
    """The file's tensors, checked key by key and shape by shape against `model`; missing BN counters filled in."""
    not_fid = f"Inception weights {file} are not the FID Inception state dict ({INCEPTION_WEIGHTS_FILE})"
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{not_fid}: it holds a {type(state).__name__}, not a dict of tensors; {_HOW_TO_GET}")
    expected = model.state_dict()
    loaded = dict(state)
    for key, value in loaded.items():
        if key not in expected:
            raise CheckpointError(f"{not_fid}: unexpected key {key!r}; {_HOW_TO_GET}")
        if not isinstance(value, torch.Tensor) or value.shape != expected[key].shape:
            got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            want = tuple(expected[key].shape)
            raise CheckpointError(f"{not_fid}: {key!r} has shape {got}, expected {want}; {_HOW_TO_GET}")
    for key, value in expected.items():  # num_batches_tracked may be absent (older PyTorch); unused in eval
        if key not in loaded and not key.endswith("num_batches_tracked"):
            raise CheckpointError(f"{not_fid}: missing key {key!r}; {_HOW_TO_GET}")
        loaded.setdefault(key, value)
    return loaded


def load_inception(path: str | Path | None = None) -> InceptionV3FID:
    """The FID Inception-v3 in eval mode, weights from `path` or else the GANKIT_INCEPTION_WEIGHTS variable.

    The file is the pytorch-fid state dict, read with torch.load(weights_only=True); anything missing, corrupt or
    of another architecture raises CheckpointError saying what and how to get the right file.
    """
    file = _resolve(path)
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, TypeError) as exc:
        problem = f"Inception weights {file} cannot be read safely as tensors only ({type(exc).__name__})"
        raise CheckpointError(f"{problem}; {_HOW_TO_GET}") from exc
    model = InceptionV3FID()
    model.load_state_dict(_check_state_dict(state, model, file), strict=True)
    return model.eval()


class InceptionFeatures(_FeaturesAndProbabilities):
    """Pool3 features (FID/KID/PRDC, (N, 2048)) and 1008-class probabilities (Inception Score) of the FID
    Inception-v3, for images in [-1, 1].

    Batched, without gradients, in eval mode; outputs are float32 on CPU. `device` is where the network runs.
    """

    def __init__(
        self, path: str | Path | None = None, batch_size: int = 50, device: str | torch.device = "cpu",
        model: InceptionV3FID | None = None,
    ) -> None:
        self.model = (model if model is not None else load_inception(path)).to(device).eval()
        super().__init__(self.model, batch_size)
