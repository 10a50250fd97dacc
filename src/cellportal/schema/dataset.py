"""Reading the parts of an h5ad the rules look at into one :class:`Dataset` (matrices stay on disk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import h5py
import numpy as np

from cellportal.schema.h5ad import (
    Column,
    Embedding,
    Frame,
    Matrix,
    describe_matrix,
    encoding_type,
    read_frame,
    read_uns_value,
)
from cellportal.schema.issues import Issue, issue


@dataclass
class Dataset:
    path: str
    file: h5py.File
    encoding_version: str | None
    obs: Frame | None
    var: Frame | None
    raw_var: Frame | None
    uns: dict[str, Any]
    obsm: dict[str, Embedding]
    mappings: dict[str, dict[str, Embedding]]  # obsp, varm, varp (and obsm again) -> key -> what it holds
    X: Matrix | None
    raw_X: Matrix | None
    layers: dict[str, Matrix]
    load_issues: list[Issue] = field(default_factory=list)

    @property
    def has_raw(self) -> bool:
        return self.raw_X is not None

    @property
    def organism(self) -> str | None:
        value = self.uns.get("organism_ontology_term_id")
        return value if isinstance(value, str) else None

    @property
    def n_obs(self) -> int:
        if self.obs is not None:
            return len(self.obs)
        return self.X.shape[0] if self.X is not None and self.X.shape else 0

    @property
    def n_vars(self) -> int:
        if self.var is not None:
            return len(self.var)
        return self.X.shape[1] if self.X is not None and self.X.shape else 0


def _str_attr(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _read_mapping(group: h5py.Group | None) -> dict[str, Embedding]:
    out: dict[str, Embedding] = {}
    if group is None or not isinstance(group, h5py.Group):
        return out
    for key in group:
        node = group[key]
        if isinstance(node, h5py.Dataset):
            out[key] = Embedding(key, "array", tuple(int(s) for s in node.shape), node.dtype, node)
        else:
            shape = node.attrs.get("shape")
            shape_tuple = tuple(int(s) for s in shape) if shape is not None else None
            out[key] = Embedding(key, encoding_type(node) or "group", shape_tuple, None, node)
    return out


def load_dataset(path: str, file: h5py.File) -> Dataset:
    problems: list[Issue] = []

    def frame(key: str, location: str) -> Frame | None:
        node = file.get(key)
        if node is None:
            return None
        if not isinstance(node, h5py.Group):
            problems.append(issue("file.missing_element", f"'{location}' is not a dataframe.", location))
            return None
        try:
            result = read_frame(node, location)
        except (KeyError, OSError, ValueError, TypeError) as error:
            problems.append(issue("file.missing_element", f"'{location}' cannot be read: {error}", location))
            return None
        for problem in result.problems:
            problems.append(issue("dataframe.unreadable_column", f"In '{location}', {problem}.", location))
        return result

    obs = frame("obs", "obs")
    var = frame("var", "var")
    raw_var = frame("raw/var", "raw.var") if "raw" in file else None
    for name, found in (("obs", obs), ("var", var)):
        if found is None and name not in file:
            problems.append(issue("file.missing_element", f"The file has no '{name}' dataframe.", name))

    uns: dict[str, Any] = {}
    uns_node = file.get("uns")
    if isinstance(uns_node, h5py.Group):
        for key in uns_node:
            try:
                uns[key] = read_uns_value(uns_node[key])
            except (KeyError, OSError, ValueError, TypeError) as error:
                problems.append(issue("file.missing_element", f"uns['{key}'] cannot be read: {error}", "uns"))

    x_node = file.get("X")
    X = describe_matrix(x_node, "X") if x_node is not None else None
    if X is None:
        problems.append(issue("file.missing_element", "The file has no expression matrix 'X'.", "X"))
    raw_node = file.get("raw/X") if "raw" in file else None
    raw_X = describe_matrix(raw_node, "raw.X") if raw_node is not None else None
    layers: dict[str, Matrix] = {}
    layers_node = file.get("layers")
    if isinstance(layers_node, h5py.Group):
        for key in layers_node:
            layers[key] = describe_matrix(layers_node[key], f"layers['{key}']")

    mappings = {name: _read_mapping(file.get(name)) for name in ("obsm", "obsp", "varm", "varp")}
    return Dataset(
        path=path,
        file=file,
        encoding_version=_str_attr(file.attrs.get("encoding-version")),
        obs=obs,
        var=var,
        raw_var=raw_var,
        uns=uns,
        obsm=mappings["obsm"],
        mappings=mappings,
        X=X,
        raw_X=raw_X,
        layers=layers,
        load_issues=problems,
    )


def examples_where(frame: Frame, rows: np.ndarray, limit: int = 3) -> list[str]:
    """The first few index names (cell or feature names) of rows selected by a boolean mask."""
    positions = np.flatnonzero(rows)[:limit]
    return [str(frame.index[p]) for p in positions]


def missing_values_issue(column: Column, rows: np.ndarray, obs: Frame) -> Issue:
    """The one error for an obs column with empty (NaN) values among `rows`, with a count and examples."""
    missing = rows & column.missing_rows()
    return issue(
        "column.missing_values",
        f"Column '{column.name}' in dataframe 'obs' must not contain NaN values.",
        f"obs.{column.name}",
        count=int(missing.sum()),
        examples=examples_where(obs, missing),
    )
