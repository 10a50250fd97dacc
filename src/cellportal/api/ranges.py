"""HTTP Range parsing for the streaming proxy (local files use Starlette's FileResponse, which has its own)."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One ``bytes=`` range as half-open ``(start, end)``, or None to send the whole file.

    Multiple ranges and malformed headers are answered with the whole file, which RFC 9110 allows;
    a well-formed range wholly past the end raises RangeNotSatisfiable (416).
    """
    if not header:
        return None
    match = _SINGLE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None  # inverted: ignore the header
    if start >= size:
        raise RangeNotSatisfiable
    return start, end
