"""What every rule's script does around its library call: yield the CPU to the jobs on the
critical path, and send its output, tqdm bars and logging to the rule's log file.

Imports nothing heavy, so that a script can enter ``job`` before its own imports (of torch,
torch_geometric, scikit-learn: most of a short job's CPU time) and have those niced and logged
too."""

from __future__ import annotations

import contextlib
import logging
import os
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


@contextlib.contextmanager
def job(snakemake, nice: bool = True) -> Iterator[logging.Logger]:
    """The rule's log (its first ``log:`` file) for everything within. With ``nice`` the process
    first yields the CPU (niceness 19) to the jobs that do not: the toy's training, the default
    run's critical path, and the GGUF fetch and conversion that SmolLM2's dumps wait for, since
    Snakemake runs more jobs than a 2-core machine has cores."""
    if nice:
        os.nice(19)
    with log_to(snakemake.log[0]) as log:
        yield log
