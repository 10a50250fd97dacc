"""A streaming writer of R's serialization format (what `saveRDS` writes), gzip-compressed.

Why our own: rds2py's writer (rds2cpp) needs the whole object in memory as its own copies of every
vector, which at 400k cells is several GB for the two sparse matrices alone. R's format is a simple
depth-first stream, so the big vectors can be written from an iterator of chunks, in bounded memory.
The format is "version 3" of R Internals §1.8 (Serialization Formats): big-endian XDR, each item a flags
word (type | object bit | attribute bit | tag bit | gp levels), then its payload, then its attributes as
a tagged pairlist.

Values are described with the small classes below; `Lazy` defers building a value until the writer
reaches it, which lets a later part of the object use numbers gathered while writing an earlier one.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np

# SEXP types (R Internals §1.1) and pseudo-types used by serialize.c.
NILSXP, SYMSXP, LISTSXP, CHARSXP = 0, 1, 2, 9
LGLSXP, INTSXP, REALSXP, STRSXP, VECSXP, S4SXP = 10, 13, 14, 16, 19, 25
NILVALUE_SXP = 254

IS_OBJECT, HAS_ATTR, HAS_TAG = 1 << 8, 1 << 9, 1 << 10
S4_OBJECT_LEVEL = 1 << 4  # gp bit that makes isS4() true; the reader restores gp from these levels
UTF8_LEVEL, ASCII_LEVEL = 1 << 3, 1 << 6  # CHARSXP encoding bits
NA_INTEGER = -(2**31)
NA_STRING_LENGTH = -1
R_VERSION = (4 << 16) | (2 << 8) | 2  # written by R 4.2.2 (Debian bookworm), as far as readers care
MIN_READER_VERSION = (3 << 16) | (5 << 8)  # format version 3 needs R >= 3.5.0
LONG_VECTOR_LENGTH = 2**31 - 1
STREAM_CHUNK = 1 << 20  # elements per chunk when writing an in-memory vector


@dataclass
class Vector:
    """An atomic vector or a list. kind: logical, integer, double, character or list."""

    kind: str
    values: object  # numpy array / sequence of str|None / sequence of R values (lists)
    attributes: Mapping[str, RValue] = field(default_factory=dict)


@dataclass
class StreamedVector:
    """A numeric vector whose `length` is known up front and whose values arrive in chunks."""

    kind: str  # integer or double
    length: int
    chunks: Callable[[], Iterable[np.ndarray]]
    attributes: Mapping[str, RValue] = field(default_factory=dict)


@dataclass
class S4:
    class_name: str
    package: str
    slots: Mapping[str, RValue]


@dataclass
class Lazy:
    build: Callable[[], RValue]


RValue = Union[Vector, StreamedVector, S4, Lazy, None]  # noqa: UP007 (a forward-referencing alias)


# ---- convenience constructors ------------------------------------------------------------------


def character(values: Iterable[str | None], **attributes: RValue) -> Vector:
    return Vector("character", list(values), attributes)


def integer(values: Sequence[int] | np.ndarray, **attributes: RValue) -> Vector:
    return Vector("integer", np.asarray(values, dtype=np.int32), attributes)


def double(values: Sequence[float] | np.ndarray, **attributes: RValue) -> Vector:
    return Vector("double", np.asarray(values, dtype=np.float64), attributes)


def logical(values: Sequence[bool] | np.ndarray, **attributes: RValue) -> Vector:
    return Vector("logical", np.asarray(values, dtype=bool).astype(np.int32), attributes)


def rlist(items: Mapping[str, RValue] | None = None, **attributes: RValue) -> Vector:
    """A named list (names omitted when empty, as R writes `list()`)."""
    items = dict(items or {})
    attrs = dict(attributes)
    if items:
        attrs = {"names": character(items.keys()), **attrs}
    return Vector("list", list(items.values()), attrs)


def empty_matrix() -> Vector:
    """`new("matrix")` as R stores it: a 0 × 0 double matrix."""
    return Vector("double", np.zeros(0), {"dim": integer([0, 0])})


def factor(codes: np.ndarray, levels: Sequence[str], **attributes: RValue) -> Vector:
    """A factor from 0-based codes (-1 = missing)."""
    codes = np.asarray(codes, dtype=np.int64)
    r_codes = np.where(codes < 0, NA_INTEGER, codes + 1).astype(np.int32)
    return Vector("integer", r_codes, {"levels": character(levels), "class": character(["factor"]), **attributes})


# ---- the writer --------------------------------------------------------------------------------


class _GzipStream:
    """Gzip-compress everything written, buffering small writes so zlib sees large pieces."""

    def __init__(self, raw: BinaryIO, level: int) -> None:
        self._raw = raw
        self._zip = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip container, as saveRDS
        self._buffer = bytearray()

    def write(self, data: bytes | memoryview) -> None:
        if len(data) >= STREAM_BUFFER:
            self._flush_buffer()
            self._raw.write(self._zip.compress(data))
            return
        self._buffer += data
        if len(self._buffer) >= STREAM_BUFFER:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        if self._buffer:
            self._raw.write(self._zip.compress(bytes(self._buffer)))
            self._buffer.clear()

    def close(self) -> None:
        self._flush_buffer()
        self._raw.write(self._zip.flush())


STREAM_BUFFER = 1 << 20


class RdsWriter:
    def __init__(self, out: BinaryIO, compresslevel: int = 1) -> None:
        self._out = _GzipStream(out, compresslevel)

    @classmethod
    def write_file(cls, path: Path, value: RValue, compresslevel: int = 1) -> None:
        with open(path, "wb") as raw:
            writer = cls(raw, compresslevel)
            writer.header()
            writer.item(value)
            writer.close()

    def close(self) -> None:
        self._out.close()

    def header(self) -> None:
        native = b"UTF-8"
        self._out.write(b"X\n" + struct.pack(">iiii", 3, R_VERSION, MIN_READER_VERSION, len(native)) + native)

    def _int(self, value: int) -> None:
        self._out.write(struct.pack(">i", value))

    def _flags(self, sexp_type: int, levels: int = 0, is_object: bool = False, has_attr: bool = False,
               has_tag: bool = False) -> None:  # fmt: skip
        flags = sexp_type | (levels << 12)
        if is_object:
            flags |= IS_OBJECT
        if has_attr:
            flags |= HAS_ATTR
        if has_tag:
            flags |= HAS_TAG
        self._int(flags)

    def _length(self, n: int) -> None:
        if n > LONG_VECTOR_LENGTH:
            self._int(-1)
            self._int(n >> 32)
            self._int(n & 0xFFFFFFFF)
        else:
            self._int(n)

    def item(self, value: RValue) -> None:
        if isinstance(value, Lazy):
            value = value.build()
        if value is None:
            self._int(NILVALUE_SXP)
        elif isinstance(value, S4):
            self._s4(value)
        elif isinstance(value, StreamedVector):
            self._streamed(value)
        else:
            self._vector(value)

    def _attributes(self, attributes: Mapping[str, RValue]) -> None:
        for name, value in attributes.items():
            self._flags(LISTSXP, has_tag=True)
            self._symbol(name)
            self.item(value)
        self._int(NILVALUE_SXP)

    def _symbol(self, name: str) -> None:
        self._flags(SYMSXP)
        self._charsxp(name)

    def _charsxp(self, text: str | None) -> None:
        if text is None:
            self._flags(CHARSXP)
            self._int(NA_STRING_LENGTH)
            return
        data = text.encode("utf-8")
        level = ASCII_LEVEL if data.isascii() else UTF8_LEVEL
        self._out.write(struct.pack(">ii", CHARSXP | (level << 12), len(data)) + data)

    def _s4(self, value: S4) -> None:
        self._flags(S4SXP, levels=S4_OBJECT_LEVEL, is_object=True, has_attr=True)
        attributes: dict[str, RValue] = dict(value.slots)
        attributes["class"] = character([value.class_name], package=character([value.package]))
        self._attributes(attributes)

    def _vector(self, value: Vector) -> None:
        sexp_type = {
            "logical": LGLSXP,
            "integer": INTSXP,
            "double": REALSXP,
            "character": STRSXP,
            "list": VECSXP,
        }[value.kind]
        attrs = value.attributes
        self._flags(sexp_type, is_object="class" in attrs, has_attr=bool(attrs))
        if value.kind == "character":
            texts = value.values
            assert isinstance(texts, Sequence)
            self._length(len(texts))
            for text in texts:
                self._charsxp(text)
        elif value.kind == "list":
            items = value.values
            assert isinstance(items, Sequence)
            self._length(len(items))
            for element in items:
                self.item(element)
        else:
            array = np.asarray(value.values)
            self._length(int(array.size))
            for start in range(0, array.size, STREAM_CHUNK):
                self._numbers(value.kind, array[start : start + STREAM_CHUNK])
        if attrs:
            self._attributes(attrs)

    def _streamed(self, value: StreamedVector) -> None:
        sexp_type = INTSXP if value.kind == "integer" else REALSXP
        attrs = value.attributes
        self._flags(sexp_type, is_object="class" in attrs, has_attr=bool(attrs))
        self._length(value.length)
        written = 0
        for chunk in value.chunks():
            written += int(chunk.size)
            self._numbers(value.kind, chunk)
        if written != value.length:
            raise ValueError(f"streamed vector announced {value.length} values but produced {written}")
        if attrs:
            self._attributes(attrs)

    def _numbers(self, kind: str, chunk: np.ndarray) -> None:
        big_endian = ">f8" if kind == "double" else ">i4"
        self._out.write(memoryview(np.ascontiguousarray(chunk, dtype=big_endian)).cast("B"))


def iter_chunks(array: np.ndarray, size: int = STREAM_CHUNK) -> Iterator[np.ndarray]:
    for start in range(0, array.size, size):
        yield array[start : start + size]
