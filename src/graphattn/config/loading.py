"""The config at workflow load: validated, checked and completed before any job is planned."""

from __future__ import annotations

import sys
from pathlib import Path

from .checks import check
from .expand import with_controls, with_finetune_paths, with_gguf_paths
from .messages import validate


def load(config: dict, schema_path: str | Path, config_files: list[str | Path] = (),
         require_models: bool = True) -> None:
    """Every check the workflow makes at load, in its order (the Snakefile calls this, and the
    tests call it in-process): raise ConfigError or ModelUnavailable naming the key and what
    would be accepted, before any job is planned. Completes ``config`` in place: the schema's
    defaults, the random-init controls as models of their own, a GGUF source's or a fine-tuned
    model's folder as path.
    Without ``require_models`` (planning a run elsewhere: scripts/cost_sheet.py) a model not
    found is a warning on stderr; its jobs would fail.
    """
    from snakemake.utils import validate as fill_defaults

    from ..models import ModelUnavailable, check_available

    # Ours first, with messages that name the key (and keys given twice in the files); then
    # Snakemake's, which fills the schema's defaults that the checks below read.
    validate(config, schema_path, config_files)
    fill_defaults(config, str(Path(schema_path).resolve()))
    check(config)
    config["models"] = with_controls(with_finetune_paths(with_gguf_paths(config["models"])))
    try:
        check_available(config["models"])
    except ModelUnavailable as err:
        if require_models:
            raise
        print(f"planning without the models (their jobs cannot run here):\n{err}", file=sys.stderr)
