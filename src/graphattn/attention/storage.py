"""The dump's output file, written row by row."""

from __future__ import annotations

import os

import numpy as np

class NpyRows:
    """A .npy file of a known shape whose rows are written in any order.

    Rows go out with pwrite, so written data sits in the page cache, not in this
    process: a memmap would keep every written page resident until the end.
    """

    def __init__(self, path: str, shape: tuple[int, ...], dtype):
        self.dtype = np.dtype(dtype)
        self.row_bytes = int(np.prod(shape[1:])) * self.dtype.itemsize
        with open(path, "wb") as fh:
            np.lib.format.write_array_header_1_0(
                fh, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape})
            self.offset = fh.tell()
            fh.truncate(self.offset + self.row_bytes * shape[0])
        self.fd = os.open(path, os.O_WRONLY)

    def write(self, rows: list[int], values: np.ndarray) -> None:
        for row, value in zip(rows, values):
            os.pwrite(self.fd, np.ascontiguousarray(value, dtype=self.dtype).tobytes(), self.offset + row * self.row_bytes)

    def close(self) -> None:
        os.close(self.fd)
