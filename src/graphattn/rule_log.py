"""Send a rule's stdout, stderr (tqdm bars) and logging to its Snakemake log file."""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator


@contextlib.contextmanager
def log_to(path: str) -> Iterator[logging.Logger]:
    with open(path, "w") as fh, contextlib.redirect_stderr(fh), contextlib.redirect_stdout(fh):
        handler = logging.StreamHandler(fh)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield logging.getLogger("graphattn")
        except Exception:
            logging.getLogger("graphattn").exception("rule failed")
            raise
        finally:
            root.removeHandler(handler)
