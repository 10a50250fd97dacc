"""A read-only, seekable file over ranged reads of a blob (S3), for h5py to open remote explorer stores.

HDF5 makes many small reads near each other (metadata, then chunks); reads are rounded out to blocks and
the most recent blocks are kept, so a gene fetch costs a few range requests rather than dozens.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable

BLOCK_BYTES = 1024 * 1024
BLOCKS_KEPT = 16  # 16 MiB per open remote store

ReadRange = Callable[[int, int], bytes]  # [start, end) -> bytes


class RangedFile(io.RawIOBase):
    def __init__(self, read_range: ReadRange, size: int, name: str = "") -> None:
        self._read_range = read_range
        self._size = size
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._size - self._position)
        if wanted <= 0:
            return 0
        done = 0
        while done < wanted:
            at = self._position + done
            block = self._block(at // BLOCK_BYTES)
            inside = at % BLOCK_BYTES
            take = min(wanted - done, len(block) - inside)
            view[done : done + take] = block[inside : inside + take]
            done += take
        self._position += done
        return done

    def _block(self, number: int) -> bytes:
        with self._lock:
            hit = self._blocks.get(number)
            if hit is not None:
                self._blocks.move_to_end(number)
                return hit
        start = number * BLOCK_BYTES
        data = self._read_range(start, min(self._size, start + BLOCK_BYTES))
        with self._lock:
            self._blocks[number] = data
            while len(self._blocks) > BLOCKS_KEPT:
                self._blocks.popitem(last=False)
        return data
