"""Write outputs under a temporary name in the same folder, rename when complete.

A killed job then never leaves a half-written file under the final name, and
Snakemake sees either no output or a whole one.

Test hook: with GRAPHATTN_HOLD_WRITES="<regex>=<seconds>" in the environment, a finished
temporary file whose final path matches the regex waits that long before its rename, so an
end-to-end test can kill a job in the middle of writing (tests/test_resume.py).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` on success.

    The temporary name keeps the suffix, so writers that append one (numpy) do not.
    """
    final = Path(path)
    prefix, suffix = f".{final.stem}.", f".tmp{final.suffix}"
    _remove_stale(final, prefix, suffix)
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.chmod(0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield tmp_path
        _hold(final)
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` whole."""
    final = Path(path)
    prefix = f".{final.name}."
    _remove_stale(final, prefix, "")
    tmp_path = Path(tempfile.mkdtemp(prefix=prefix, dir=final.parent))
    try:
        yield tmp_path
        _hold(final)
        if final.exists():
            shutil.rmtree(final)
        tmp_path.rename(final)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _remove_stale(final: Path, prefix: str, suffix: str) -> None:
    """Create final's folder and remove temporaries a killed earlier attempt left there (a dump
    can be gigabytes). Only one job writes a given output, so any such temporary is stale."""
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f"{glob.escape(prefix)}*{glob.escape(suffix)}"):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


def _hold(final: Path) -> None:
    spec = os.environ.get("GRAPHATTN_HOLD_WRITES")
    if spec:
        pattern, seconds = spec.rsplit("=", 1)
        if re.search(pattern, str(final)):
            time.sleep(float(seconds))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Compressed npz without object arrays (loadable with allow_pickle=False)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}
