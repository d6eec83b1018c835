"""The cells `gankit integrate` reads: an AnnData `.h5ad`, a CSV table, an `.npz`, or a builtin data set.

Every source becomes a :class:`Cells`: the expression matrix (cells x genes, as float64), each cell's batch
and cell type as strings (cell type `None` where unknown), the gene names, whether the values are raw counts,
and, for `.h5ad`, the AnnData itself so the embedding can be written back into its `obsm`. Everything a user
can get wrong is checked here, before an output directory exists, and raised as one DataError line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gankit.errors import ConfigError, DataError

__all__ = ["BUILTIN_CELLS", "Cells", "load_cells"]

BUILTIN_CELLS = ("pbmc_batches", "simulated_batches")
Values = Literal["auto", "counts", "log"]


@dataclass
class Cells:
    """Cells x genes with a batch and (maybe) a cell type per cell, in input order."""

    x: np.ndarray  # (n_cells, n_genes) float64
    batch: np.ndarray  # (n_cells,) str
    cell_type: np.ndarray | None  # (n_cells,) object: str, or None where unknown; None without --label
    genes: list[str]
    counts: bool  # raw counts (normalized and log-transformed before anything else) or log-expression
    source: str
    cell_names: list[str]
    adata: Any = None  # the AnnData of an .h5ad input

    @property
    def batch_names(self) -> list[str]:
        return sorted(set(self.batch.tolist()))


def load_cells(source: str, batch: str, label: str | None, *, values: Values = "auto", layer: str | None = None,
               seed: int = 0) -> Cells:
    """Read `source` (a builtin name, .h5ad, .csv or .npz), take column `batch` (and `label`) and check it all."""
    if values not in ("auto", "counts", "log"):
        raise ConfigError(f"--values {values!r} is not one of auto, counts, log")
    if source in BUILTIN_CELLS:
        cells = _builtin(source, batch, label, seed)
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"{source} is neither a file nor a builtin data set ({', '.join(BUILTIN_CELLS)})")
        if layer is not None and path.suffix != ".h5ad":
            raise ConfigError(f"--layer picks a layer of an .h5ad; {path.name} has none, remove it")
        readers = {".h5ad": _read_h5ad, ".csv": _read_csv, ".npz": _read_npz}
        reader = readers.get(path.suffix.lower())
        if reader is None:
            raise DataError(f"{path.name}: integrate reads .h5ad, .csv or .npz files, not {path.suffix or 'no suffix'}")
        cells = reader(path, batch, label, layer) if reader is _read_h5ad else reader(path, batch, label)
    return _checked(cells, batch, label, values)


def _builtin(name: str, batch: str, label: str | None, seed: int) -> Cells:
    from gankit.data.single_cell import BUILTIN_CELL_DATA

    if batch != "batch":
        raise ConfigError(f"{name} has the columns batch and cell_type; give --batch batch, not {batch!r}")
    if label not in (None, "cell_type"):
        raise ConfigError(f"{name} has the columns batch and cell_type; give --label cell_type, not {label!r}")
    table = BUILTIN_CELL_DATA[name](seed)
    cell_type = table.cell_type.astype(object) if label else None
    return Cells(table.x.astype(np.float64), table.batch.astype(str), cell_type, list(table.genes), table.counts,
                 name, [f"cell{i}" for i in range(len(table.x))])


def _column(columns: dict[str, Any], name: str, what: str, where: str) -> np.ndarray:
    if name not in columns:
        raise DataError(f"{where} has no {what} column {name!r}; its columns: {', '.join(map(str, columns))}")
    return np.asarray(columns[name], dtype=object)


def _read_h5ad(path: Path, batch: str, label: str | None, layer: str | None) -> Cells:
    try:
        import anndata
    except ImportError:
        raise ConfigError("reading .h5ad needs anndata: pip install 'gankit[single-cell]'") from None
    try:
        adata = anndata.read_h5ad(path)
    except Exception as err:  # h5py and anndata raise many kinds for a file that is not an AnnData
        raise DataError(f"{path} is not a readable AnnData file ({type(err).__name__}: {err})") from None
    obs = {str(c): adata.obs[c].to_numpy() for c in adata.obs.columns}
    batches = _column(obs, batch, "batch", f"{path.name}'s obs")
    labels = _column(obs, label, "label", f"{path.name}'s obs") if label else None
    if layer is not None and layer not in adata.layers:
        raise DataError(f"{path.name} has no layer {layer!r}; its layers: {', '.join(adata.layers) or 'none'}")
    matrix = adata.layers[layer] if layer is not None else adata.X
    x = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    return Cells(x.astype(np.float64), batches, labels, [str(g) for g in adata.var_names], False, str(path),
                 [str(c) for c in adata.obs_names], adata)


def _read_csv(path: Path, batch: str, label: str | None) -> Cells:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except Exception as err:
        raise DataError(f"{path} is not a readable CSV table ({type(err).__name__}: {err})") from None
    columns = {str(c): frame[c].to_numpy() for c in frame.columns}
    batches = _column(columns, batch, "batch", path.name)
    labels = _column(columns, label, "label", path.name) if label else None
    genes = [c for c in frame.columns if c not in (batch, label) and pd.api.types.is_numeric_dtype(frame[c])]
    if not genes:
        raise DataError(f"{path.name} has no numeric column besides {batch!r}: the genes must be numeric columns")
    return Cells(frame[genes].to_numpy(np.float64), batches, labels, [str(g) for g in genes], False, str(path),
                 [str(i) for i in range(len(frame))])


def _read_npz(path: Path, batch: str, label: str | None) -> Cells:
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except Exception as err:
        raise DataError(f"{path} is not a readable .npz of plain arrays ({type(err).__name__}: {err})") from None
    if "x" not in arrays or arrays["x"].ndim != 2:
        raise DataError(f"{path.name} needs an array x of cells x genes (2-D); its arrays: {', '.join(arrays)}")
    batches = _column(arrays, batch, "batch", path.name)
    labels = _column(arrays, label, "label", path.name) if label else None
    genes = [str(g) for g in arrays["genes"]] if "genes" in arrays else [f"gene{i}" for i in range(arrays["x"].shape[1])]
    return Cells(arrays["x"].astype(np.float64), batches, labels, genes, False, str(path),
                 [str(i) for i in range(len(arrays["x"]))])


def _unknown(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value) in ("", "nan", "NaN")


def _checked(cells: Cells, batch: str, label: str | None, values: Values) -> Cells:
    """Shapes, NaN, counts, at least two batches and two cell types; values decided; labels as str or None."""
    n = len(cells.x)
    where = Path(cells.source).name
    if n < 10 or cells.x.shape[1] < 2:
        raise DataError(f"{where} holds {n} cells x {cells.x.shape[1]} genes; integration needs at least 10 cells "
                        "and 2 genes")
    for name, column in (("batch", cells.batch), ("label", cells.cell_type)):
        if column is not None and len(column) != n:
            raise DataError(f"{where}: the {name} column has {len(column)} entries for {n} cells")
    bad = ~np.isfinite(cells.x)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))
        raise DataError(f"{where} holds NaN or infinite values in {len(rows)} cells (first: row {rows[0]}); "
                        "remove or impute them before integrating")
    if any(_unknown(b) for b in cells.batch):
        raise DataError(f"{where}: some cells have no {batch!r} value; every cell needs a batch")
    cells.batch = np.array([str(b) for b in cells.batch])
    if len(cells.batch_names) < 2:
        raise DataError(f"{where} holds one batch only ({cells.batch_names[0]!r} in column {batch!r}); there is "
                        "nothing to integrate: give the column that tells the batches apart")
    whole = bool(np.all(cells.x == np.round(cells.x)))
    negative = float(cells.x.min()) < 0
    if values == "counts" and (negative or not whole):
        what = f"negative values (min {cells.x.min():.3g})" if negative else "values that are not whole numbers"
        raise DataError(f"{where} holds {what}, but --values counts expects raw counts; give the counts "
                        "(e.g. --layer counts) or --values log")
    cells.counts = values == "counts" or (values == "auto" and whole and not negative)
    if cells.cell_type is not None:
        cells.cell_type = np.array([None if _unknown(t) else str(t) for t in cells.cell_type], dtype=object)
        known = {t for t in cells.cell_type if t is not None}
        if len(known) < 2:
            which = f"one class ({next(iter(known))!r})" if known else "no values"
            raise DataError(f"{where}: the label column {label!r} holds {which}; the biology scores need at least "
                            "two cell types: give another column, or leave out --label")
    return cells
