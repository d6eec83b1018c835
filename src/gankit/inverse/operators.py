"""Linear measurement operators y = A x for inverse problems, as torch modules with an exact adjoint.

An operator maps images x of shape (B, C, H, W), or flattened (B, n) with n = C·H·W, to real
measurements y of shape (B, m); `adjoint(y)` is the exact transpose Aᵀ, returned as (B, C, H, W).
Operators hold buffers only (no parameters), so `.to(device)` and `.double()` move and cast them,
and every random choice comes from its own seed. Where the adjoint is not written by hand it is the
vector-Jacobian product of the (linear) forward, i.e. the transpose of the discrete forward itself.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.errors import ConfigError, DataError

__all__ = [
    "OPERATORS", "BlurDownsample", "GaussianOperator", "InpaintingMask", "LinearOperator", "MatrixOperator", "Radon",
    "SubsampledDCT", "SubsampledFourier", "dct_matrix", "load_operator_file", "make_operator",
]

Shape = tuple[int, int, int]


class LinearOperator(nn.Module):
    """A linear map from images of shape `in_shape` (C, H, W) to `m` real measurements."""

    def __init__(self, in_shape: Sequence[int], m: int) -> None:
        super().__init__()
        if len(in_shape) != 3:
            raise ValueError(f"in_shape must be (C, H, W), got {tuple(in_shape)}")
        self.in_shape: Shape = tuple(int(s) for s in in_shape)  # type: ignore[assignment]
        self.n = math.prod(self.in_shape)
        self.m = int(m)

    def _images(self, x: Tensor) -> Tensor:
        """`x` as (B, C, H, W), from (B, C, H, W) or (B, n)."""
        if tuple(x.shape[1:]) not in (self.in_shape, (self.n,)):
            raise ValueError(f"images of shape {self.in_shape} (or n = {self.n} flattened) expected, "
                             f"got {tuple(x.shape[1:])} per batch item")
        return x.reshape(x.shape[0], *self.in_shape)

    def _check_measurements(self, y: Tensor) -> None:
        if y.ndim != 2 or y.shape[1] != self.m:
            raise ValueError(f"measurements of shape (B, {self.m}) expected, got {tuple(y.shape)}")

    def adjoint(self, y: Tensor) -> Tensor:
        """Aᵀ y as (B, C, H, W): the vector-Jacobian product of the forward at zero (differentiable in y)."""
        self._check_measurements(y)
        with torch.enable_grad():
            zero = torch.zeros(y.shape[0], *self.in_shape, dtype=y.dtype, device=y.device, requires_grad=True)
            (x,) = torch.autograd.grad(self(zero), zero, grad_outputs=y, create_graph=y.requires_grad)
        return x


def _generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def _check_count(m: int, n: int, what: str, in_shape: Shape) -> None:
    """Refuse m outside 1..n for an operator that picks m of the n rows of an orthonormal transform."""
    if not 1 <= m <= n:
        raise ValueError(f"m = {m} measurements asked of the n = {n} {what} of a {in_shape} image; "
                         f"choose 1 <= m <= {n}")


def _scatter(y: Tensor, index: Tensor, n: int) -> Tensor:
    """The transpose of `v[:, index]`: a (B, n) tensor with y at `index` and zeros elsewhere."""
    return y.new_zeros(y.shape[0], n).index_copy(1, index, y)


class MatrixOperator(LinearOperator):
    """A user's own (m, n) matrix: y = A x.flatten(1)."""

    def __init__(self, matrix: np.ndarray | Tensor, in_shape: Sequence[int], source: str = "the matrix") -> None:
        array = np.asarray(matrix.detach().cpu() if isinstance(matrix, Tensor) else matrix)
        n = math.prod(in_shape)
        if array.ndim != 2:
            raise DataError(f"{source} must be a 2-D (m, n) array, got shape {array.shape}")
        if array.dtype.kind not in "fiu":
            raise DataError(f"{source} must hold real numbers, got dtype {array.dtype}")
        if not np.isfinite(array).all():
            raise DataError(f"{source} holds NaN or infinite entries; replace them with finite values")
        if array.shape[1] != n:
            raise DataError(f"{source} has shape {array.shape} but images of shape {tuple(in_shape)} have "
                            f"n = {n} pixels; give an (m, {n}) matrix or images whose C·H·W is {array.shape[1]}")
        super().__init__(in_shape, array.shape[0])
        self.register_buffer("matrix", torch.as_tensor(array, dtype=torch.get_default_dtype()))

    def forward(self, x: Tensor) -> Tensor:
        return self._images(x).flatten(1) @ self.matrix.T

    def adjoint(self, y: Tensor) -> Tensor:
        self._check_measurements(y)
        return (y @ self.matrix).view(-1, *self.in_shape)


class GaussianOperator(MatrixOperator):
    """An (m, n) matrix of independent N(0, scale²) entries.

    The default scale 1 is the scaling of Bora et al. (2017)'s code (entries N(0, 1), with noise of
    std 0.1 added to each measurement), not the 1/√m that makes E‖Ax‖² = ‖x‖².
    """

    def __init__(self, in_shape: Sequence[int], m: int, seed: int = 0, scale: float = 1.0) -> None:
        if m < 1:
            raise ValueError(f"m = {m} measurements; choose m >= 1")
        matrix = torch.randn(m, math.prod(in_shape), generator=_generator(seed), dtype=torch.float64) * scale
        super().__init__(matrix, in_shape)


def dct_matrix(size: int) -> Tensor:
    """The orthonormal DCT-II matrix D (size × size): D x = scipy.fft.dct(x, norm="ortho")."""
    k = torch.arange(size, dtype=torch.float64)[:, None]
    i = torch.arange(size, dtype=torch.float64)[None, :]
    d = torch.cos(math.pi * (2 * i + 1) * k / (2 * size)) * math.sqrt(2 / size)
    d[0] /= math.sqrt(2)
    return d


def _with_dc_first(candidates: Tensor, dc: Tensor, order: Tensor) -> Tensor:
    """`order` (a permutation of candidate positions) with those of `dc` moved to the front, in channel order."""
    first = torch.isin(candidates[order], dc)
    return torch.cat([order[first][candidates[order[first]].argsort()], order[~first]])


class SubsampledDCT(LinearOperator):
    """m coefficients of each channel's orthonormal 2-D DCT-II (scipy's `dctn(norm="ortho")`).

    The coefficients are drawn without replacement from the C·H·W flattened ones, always including
    each channel's DC term (as many as m allows), and kept in flattened order. The rows are
    orthonormal: A Aᵀ = I.
    """

    def __init__(self, in_shape: Sequence[int], m: int, seed: int = 0) -> None:
        super().__init__(in_shape, m)
        _check_count(self.m, self.n, "DCT coefficients", self.in_shape)
        c, h, w = self.in_shape
        candidates = torch.arange(self.n)
        order = _with_dc_first(candidates, torch.arange(c) * h * w, torch.randperm(self.n, generator=_generator(seed)))
        dtype = torch.get_default_dtype()
        self.register_buffer("index", order[: self.m].sort().values)
        self.register_buffer("dct_h", dct_matrix(h).to(dtype))
        self.register_buffer("dct_w", dct_matrix(w).to(dtype))

    def forward(self, x: Tensor) -> Tensor:
        return (self.dct_h @ self._images(x) @ self.dct_w.T).flatten(1)[:, self.index]

    def adjoint(self, y: Tensor) -> Tensor:
        self._check_measurements(y)
        return self.dct_h.T @ _scatter(y, self.index, self.n).view(-1, *self.in_shape) @ self.dct_w


class SubsampledFourier(LinearOperator):
    """m real measurements of each channel's unitary 2-D DFT (`torch.fft.fft2(norm="ortho")`), MRI-like.

    A real image's DFT is conjugate-symmetric, so frequencies are drawn from one of each pair
    (k, −k): without replacement, each channel's DC first, then with probability ∝ 1 / (1 + |k|)²
    (|k| the distance to the zero frequency in cycles per image: variable density favouring low
    frequencies). Layout of y: first `re_index.numel()` real parts √2·Re F_k of the drawn frequencies
    in flattened (c, ky, kx) order, then `im_index.numel()` imaginary parts √2·Im F_k. The √2 is 1
    (and the imaginary part, always 0, is left out) for the self-conjugate k = −k (DC and Nyquist);
    when one measurement is left for a last frequency, only its real part is kept. The rows are then
    orthonormal (A Aᵀ = I): m = n takes the whole real Fourier basis.
    """

    def __init__(self, in_shape: Sequence[int], m: int, seed: int = 0) -> None:
        super().__init__(in_shape, m)
        _check_count(self.m, self.n, "real Fourier coefficients", self.in_shape)
        c, h, w = self.in_shape
        ky, kx = torch.arange(h)[:, None], torch.arange(w)[None, :]
        flat, conjugate = (ky * w + kx).flatten(), ((-ky % h) * w + (-kx % w)).flatten()
        radius = torch.sqrt(torch.minimum(ky, h - ky).double() ** 2 + torch.minimum(kx, w - kx).double() ** 2)
        kept = flat <= conjugate  # one frequency of each conjugate pair
        candidates = (torch.arange(c)[:, None] * h * w + flat[kept]).flatten()
        order = torch.multinomial((1 + radius.flatten()[kept]).pow(-2).repeat(c), len(candidates),
                                  generator=_generator(seed))
        order = _with_dc_first(candidates, torch.arange(c) * h * w, order)
        real_only = (flat == conjugate)[kept].repeat(c)[order]
        rows = 2 - real_only.long()
        chosen = (rows.cumsum(0) - rows) < self.m  # frequencies that start within the budget of m rows
        imaginary = ~real_only[chosen]
        if rows[chosen].sum() > self.m:  # one row left for the last frequency: its real part only
            imaginary[-1] = False
        re_index, sort = candidates[order[chosen]].sort()
        self.register_buffer("re_index", re_index)
        self.register_buffer("re_scale", torch.where(real_only[chosen][sort], 1.0, math.sqrt(2)))
        self.register_buffer("im_index", re_index[imaginary[sort]])

    def forward(self, x: Tensor) -> Tensor:
        spectrum = torch.fft.fft2(self._images(x), norm="ortho").flatten(1)
        return torch.cat([spectrum.real[:, self.re_index] * self.re_scale,
                          spectrum.imag[:, self.im_index] * math.sqrt(2)], 1)

    def adjoint(self, y: Tensor) -> Tensor:
        # Re F and Im F are symmetric (F is), so Aᵀ y = Re F u + Im F v = Re F (u − i v) for real u, v.
        self._check_measurements(y)
        k = self.re_index.numel()
        u = _scatter(y[:, :k] * self.re_scale, self.re_index, self.n)
        v = _scatter(y[:, k:] * math.sqrt(2), self.im_index, self.n)
        return torch.fft.fft2(torch.complex(u, -v).view(-1, *self.in_shape), norm="ortho").real


class InpaintingMask(LinearOperator):
    """The observed pixels: y = x at the kept positions, in flattened (c, h, w) order.

    `keep` is the fraction of pixel positions observed (drawn by `seed`, the same in every channel)
    or an explicit boolean mask of shape (H, W) or (C, H, W), True where observed.
    """

    def __init__(self, in_shape: Sequence[int], keep: float | Tensor, seed: int = 0) -> None:
        c, h, w = (int(s) for s in in_shape)
        if isinstance(keep, (Tensor, np.ndarray)):
            mask = torch.as_tensor(keep, dtype=torch.bool)
            if tuple(mask.shape) not in ((h, w), (c, h, w)):
                raise ValueError(f"the mask has shape {tuple(mask.shape)}; give one of shape ({h}, {w}) "
                                 f"or ({c}, {h}, {w})")
            mask = mask.expand(c, h, w)
        else:
            if not 0 < keep <= 1:
                raise ValueError(f"keep = {keep} is the fraction of pixels observed; choose 0 < keep <= 1")
            pixels = torch.randperm(h * w, generator=_generator(seed))[: max(1, round(keep * h * w))]
            mask = torch.zeros(h * w, dtype=torch.bool).index_fill(0, pixels, True).view(1, h, w).expand(c, h, w)
        index = mask.flatten().nonzero()[:, 0]
        if index.numel() == 0:
            raise ValueError("the mask observes no pixel; set some entries True")
        super().__init__(in_shape, index.numel())
        self.register_buffer("index", index)

    def forward(self, x: Tensor) -> Tensor:
        return self._images(x).flatten(1)[:, self.index]

    def adjoint(self, y: Tensor) -> Tensor:
        self._check_measurements(y)
        return _scatter(y, self.index, self.n).view(-1, *self.in_shape)


class BlurDownsample(LinearOperator):
    """A Gaussian blur of std `sigma` pixels (kernel radius ⌈3σ⌉, zero padding), then every `factor`-th pixel.

    m = C·⌈H / factor⌉·⌈W / factor⌉. Zero padding keeps the map a plain convolution, so its adjoint is
    exact (the blur darkens a border of ⌈3σ⌉ pixels, where the image should already be near zero).
    """

    def __init__(self, in_shape: Sequence[int], factor: int = 2, sigma: float = 1.0) -> None:
        c, h, w = (int(s) for s in in_shape)
        if factor < 1 or int(factor) != factor:
            raise ValueError(f"factor = {factor}; choose a whole number >= 1")
        if sigma < 0:
            raise ValueError(f"sigma = {sigma}; choose sigma >= 0 (0: no blur)")
        super().__init__(in_shape, c * -(-h // factor) * -(-w // factor))
        self.factor = int(factor)
        radius = math.ceil(3 * sigma)
        t = torch.arange(-radius, radius + 1, dtype=torch.float64)
        kernel = torch.exp(-t**2 / (2 * sigma**2)) if sigma > 0 else torch.ones(1, dtype=torch.float64)
        kernel = torch.outer(kernel, kernel) / kernel.sum() ** 2
        self.register_buffer("kernel", kernel.to(torch.get_default_dtype()).expand(c, 1, *kernel.shape).clone())

    def forward(self, x: Tensor) -> Tensor:
        blurred = F.conv2d(self._images(x), self.kernel, padding=self.kernel.shape[-1] // 2, groups=self.in_shape[0])
        return blurred[..., :: self.factor, :: self.factor].flatten(1)


class Radon(LinearOperator):
    """Parallel-beam Radon transform of square images, as `skimage.transform.radon(image, theta=angles,
    circle=True)`: each view rotates the image about pixel (H // 2, W // 2) by bilinear interpolation
    (zeros outside) and sums its rows, giving one detector bin per column.

    `angles` are in degrees. Measurements are each channel's (detector, angle) sinogram flattened, so
    m = C·H·len(angles). As for scikit-image, the image should be zero outside its inscribed circle.
    """

    def __init__(self, in_shape: Sequence[int], angles: Sequence[float] | Tensor) -> None:
        c, h, w = (int(s) for s in in_shape)
        if h != w or h < 2:
            raise ValueError(f"the Radon transform takes square images, got {h}x{w}; crop or resize them to a square")
        angles = torch.as_tensor(angles, dtype=torch.float64).flatten()
        if angles.numel() == 0:
            raise ValueError("no projection angles; give at least one, e.g. torch.linspace(0, 180, 33)[:-1]")
        super().__init__(in_shape, c * h * angles.numel())
        # Output pixel p reads input pixel c + R (p − c), c = size // 2 (scikit-image's centre), written in the
        # align_corners=True units u = p / s − 1 of affine_grid, s = (size − 1) / 2; e = s − c is 0 or −1/2.
        cos, sin = torch.cos(torch.deg2rad(angles)), torch.sin(torch.deg2rad(angles))
        s, e = (h - 1) / 2, (h - 1) / 2 - h // 2
        theta = torch.stack([torch.stack([cos, sin, e * (cos + sin - 1) / s], 1),
                             torch.stack([-sin, cos, e * (cos - sin - 1) / s], 1)], 1)
        self.register_buffer("angles", angles.to(torch.get_default_dtype()))
        self.register_buffer("theta", theta.to(torch.get_default_dtype()))

    def forward(self, x: Tensor) -> Tensor:
        images = self._images(x)
        b, (c, size, _), views = images.shape[0], self.in_shape, self.angles.numel()
        grid = F.affine_grid(self.theta, [views, 1, size, size], align_corners=True)
        rotated = F.grid_sample(images.reshape(1, b * c, size, size), grid.reshape(1, views * size, size, 2),
                                mode="bilinear", padding_mode="zeros", align_corners=True)
        return rotated.view(b, c, views, size, size).sum(3).transpose(2, 3).flatten(1)

    def fbp(self, y: Tensor) -> Tensor:
        """Filtered back-projection (scikit-image's `iradon`, ramp filter, on the CPU) of (B, m) sinograms."""
        self._check_measurements(y)
        iradon = _iradon()
        size, angles = self.in_shape[1], self.angles.double().cpu().numpy()
        sinograms = y.detach().double().cpu().numpy().reshape(-1, size, angles.size)
        images = [iradon(s, theta=angles, output_size=size, filter_name="ramp", circle=True) for s in sinograms]
        return torch.as_tensor(np.stack(images), dtype=y.dtype, device=y.device).view(-1, *self.in_shape)


def _iradon() -> Any:
    try:
        from skimage.transform import iradon
    except ImportError:
        raise DataError("filtered back-projection uses scikit-image's iradon, which is not installed; run "
                        "`pip install 'gankit[image]'` (or `pip install scikit-image`)") from None
    return iradon


def load_operator_file(path: str | Path, in_shape: Sequence[int]) -> MatrixOperator:
    """A MatrixOperator from an (m, n) `.npy` file; DataError in one line when it cannot be used."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"operator file {path} does not exist; give the path of an (m, n) .npy array")
    try:
        matrix = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise DataError(f"operator file {path} is not a readable .npy array ({error}); "
                        "save it with numpy.save") from None
    return MatrixOperator(matrix, in_shape, source=f"operator file {path}")


OPERATORS: dict[str, type[LinearOperator]] = {
    "gaussian": GaussianOperator, "dct": SubsampledDCT, "fourier": SubsampledFourier, "inpaint": InpaintingMask,
    "blur": BlurDownsample, "radon": Radon, "matrix": MatrixOperator,
}


def make_operator(name: str, in_shape: Sequence[int], m: int | None = None, seed: int = 0,
                  **options: Any) -> LinearOperator:
    """The operator `name` (a key of OPERATORS) for images of shape `in_shape` (C, H, W).

    `m` is required by gaussian, dct and fourier, and gives inpaint's `keep` = m / n when `keep` is not
    set; the other operators fix m themselves. `options` are the class's other arguments (gaussian:
    scale; inpaint: keep; blur: factor, sigma; radon: angles, or `views` equally spaced over [0°, 180°);
    matrix: `path` of a .npy file, or `matrix`). Bad values raise ConfigError (DataError for a bad file).
    """
    if name not in OPERATORS:
        raise ConfigError(f"unknown operator {name!r}; choose one of {', '.join(OPERATORS)}")
    if name == "radon" and "views" in options:
        views = int(options.pop("views"))
        options["angles"] = torch.arange(views, dtype=torch.float64) * (180 / views) if views > 0 else []
    if name == "inpaint" and m is not None and "keep" not in options:
        options["keep"], m = m / math.prod(in_shape), None
    parameters = inspect.signature(OPERATORS[name]).parameters
    if "m" in parameters:
        if m is None:
            raise ConfigError(f"operator {name!r} needs m, the number of measurements (e.g. m=100)")
        options["m"] = m
    elif m is not None:
        raise ConfigError(f"operator {name!r} sets its own number of measurements; leave m unset")
    if "seed" in parameters:
        options["seed"] = seed
    if name == "matrix" and "path" in options:
        path = options.pop("path")
        if options:
            raise ConfigError(f"operator 'matrix' from a file takes no other options; drop {', '.join(options)}")
        return load_operator_file(path, in_shape)
    allowed = [p for p in parameters if p not in ("in_shape", "m", "seed", "source")]
    other = {"radon": "views", "matrix": "path"}.get(name)  # the other way to give the required option
    if unknown := sorted(set(options) - set(allowed) - {"m", "seed"}):
        raise ConfigError(f"operator {name!r} has no option {unknown[0]!r}; "
                          f"its options are {', '.join(allowed + [other] if other else allowed) or 'none'}")
    if missing := [p for p in allowed if p not in options and parameters[p].default is inspect.Parameter.empty]:
        raise ConfigError(f"operator {name!r} needs {missing[0]}" + (f" (or {other})" if other else ""))
    try:
        return OPERATORS[name](in_shape=in_shape, **options)
    except ValueError as error:
        raise ConfigError(str(error)) from None
