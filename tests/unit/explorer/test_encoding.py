"""Binary frames and the choice of response compression."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import zstandard

from cellportal.explorer.encoding import choose_encoding, compress, encode_for, pack_frame, unpack_frame


def test_frame_round_trip_keeps_dtypes_values_and_alignment() -> None:
    arrays = {
        "codes": np.array([0, 3, 1, 2, 3], dtype=np.uint8),
        "x": np.linspace(-1, 1, 7, dtype=np.float32),
        "indices": np.arange(3, dtype=np.uint32),
        "empty": np.zeros(0, dtype=np.int16),
    }
    frame = pack_frame(arrays, {"n_cells": 5, "name": "ünïcode"})
    meta, decoded = unpack_frame(frame)
    assert meta == {"n_cells": 5, "name": "ünïcode"}
    for name, array in arrays.items():
        assert decoded[name].dtype == array.dtype
        np.testing.assert_array_equal(decoded[name], array)
    base = np.frombuffer(frame, np.uint8).__array_interface__["data"][0]
    for array in decoded.values():
        # Typed arrays in the browser need offsets that are multiples of their element size.
        assert (array.__array_interface__["data"][0] - base) % 8 == 0


def test_frame_rejects_types_the_browser_cannot_view() -> None:
    with pytest.raises(TypeError):
        pack_frame({"x": np.zeros(2, dtype=np.int64)})


def test_many_arrays_fit_the_reserved_header() -> None:
    arrays = {f"a_very_long_array_name_{i}": np.arange(i, dtype=np.int32) for i in range(200)}
    _, decoded = unpack_frame(pack_frame(arrays, {"k": "v" * 1000}))
    assert len(decoded) == 200
    np.testing.assert_array_equal(decoded["a_very_long_array_name_199"], np.arange(199))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate, br", "gzip"),
        ("br", "identity"),
        ("", "identity"),
        (None, "identity"),
        ("zstd;q=0, gzip", "gzip"),
        ("gzip;q=0", "identity"),
        ("*", "zstd"),
        ("*;q=0.5, zstd;q=0", "gzip"),
        ("GZIP;Q=0.8", "gzip"),
        ("identity", "identity"),
    ],
)
def test_choose_encoding_reads_accept_encoding(header: str | None, expected: str) -> None:
    assert choose_encoding(header) == expected


def test_compressed_bodies_decode_to_the_original() -> None:
    body = pack_frame({"v": np.repeat(np.arange(100, dtype=np.float32), 50)})
    assert zstandard.ZstdDecompressor().decompress(compress(body, "zstd")) == body
    assert gzip.decompress(compress(body, "gzip")) == body
    sent, coding = encode_for(body, "gzip, zstd")
    assert coding == "zstd" and len(sent) < len(body)


def test_tiny_bodies_are_sent_as_they_are() -> None:
    assert encode_for(b"{}", "zstd") == (b"{}", "identity")
