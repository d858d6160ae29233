"""Interventions on the forward pass, as TransformerBridge hooks.

Sink redistribution (SLASH the Sink, arXiv 2605.10503): after the softmax, in every head of the
chosen layers, on the prompt pass only, the sink key s (the first non-pad token, which must be a
special token such as <bos>: check_sink_token) keeps p_s' = g * p_s and every other key j gets
p_j' = p_j * (1 + (1 - g) * p_s / sum_{k != s} p_k):
the mass taken from the sink goes to the other keys in proportion to what they had, so each row
still sums to 1. g = 1 changes nothing; g = 0 is the renormalisation that ``sink: drop`` applies
when reading a dump.

Head mean-ablation: the head's output (its value mix, ``hook_z``, before the output projection)
is replaced at each position by its mean over the reference prompts' tokens of the same class:
node-name tokens by the mean over node-name tokens, other tokens by the mean over other tokens.
The head still adds its average contribution for that kind of token, but no longer one that
depends on this graph. Special tokens (<bos>, the sink, whose residual stream many models treat
apart) keep their own output unless ``ablate_special``: replacing it would break the model rather
than remove what the head reads. Classes come from the token ids (``token_classes``), read at the
embedding's input, so they follow generated tokens too. Per-class means rather than resampling
from other prompts: prompts differ in length and layout, so a resampled position would carry
another graph's tokens at a different place.
"""

from __future__ import annotations

from collections import defaultdict

import torch


def sink_positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """[batch]: the index of each row's first real token (left padding puts it after the pads)."""
    return attention_mask.long().argmax(dim=1)


SWEEP_ALTERNATIVES = "behaviour.sink.g: [1.0] (no intervention), or the model left out of behaviour.models"


def check_sink_token(tokenizer, ids: list[int], model: str, what: str = "the sink sweep (behaviour.sink.g below 1)",
                     alternatives: str = SWEEP_ALTERNATIVES) -> None:
    """The sink is taken to be the prompt's first token (``ids``, as the model reads the prompt):
    refuse a model whose first token is not a special token (<bos>, [CLS], <|im_start|>), as with a
    tokenizer that adds none. There it would be the text's first word, a node's name, and moving
    attention off it would say nothing about a sink. ``alternatives``: what would do for this model."""
    first = ids[0]
    if first in set(tokenizer.all_special_ids):
        return
    raise ValueError(
        f"{what} needs a model whose prompts start with a special token (<bos>, [CLS]), the attention sink; "
        f"model {model}'s first prompt token is {tokenizer.convert_ids_to_tokens(first)!r} (id {first}), "
        f"a token of the prompt's text: its tokenizer adds no start token. Accepted: a model whose tokenizer "
        f"starts every prompt with a special token; for this model, {alternatives}")


def redistribute_sink(pattern: torch.Tensor, g: float, sink: torch.Tensor) -> torch.Tensor:
    """``pattern`` [batch, head, q, k] with the sink column ``sink`` [batch] scaled by g and its mass
    given to the other keys in proportion. A row whose only mass is on the sink stays as it is."""
    if g == 1.0:
        return pattern
    index = sink.to(pattern.device).view(-1, 1, 1, 1).expand(*pattern.shape[:3], 1)
    p_sink = pattern.gather(-1, index)
    rest = pattern.sum(dim=-1, keepdim=True) - p_sink
    scale = torch.where(rest > 0, 1 + (1 - g) * p_sink / rest.clamp_min(1e-12), torch.ones_like(rest))
    out = pattern * scale
    out = out.scatter(-1, index, torch.where(rest > 0, g * p_sink, p_sink))
    return out


def chosen_layers(layers: list[int] | str, n_layers: int, model: str | None = None) -> list[int]:
    """``layers`` ("all" or a list of layer indices) checked against the model (at planning too,
    for a model whose shape is known then: graphattn.config)."""
    chosen = list(range(n_layers)) if layers == "all" else list(layers)
    bad = [layer for layer in chosen if not 0 <= layer < n_layers]
    if bad:
        raise ValueError(f"behaviour.sink.layers: layers {bad} are out of range for "
                         f"{f'model {model}' if model else 'the model'} ({n_layers} layers: "
                         f"0..{n_layers - 1}); accepted: all, or layers 0..{n_layers - 1}")
    return chosen


def sink_hooks(n_layers: int, g: float, layers: list[int] | str, prompt_mask: torch.Tensor) -> list:
    """Hooks redistributing the sink in ``layers`` on the prompt pass only: the queries at the
    prompt's positions (``prompt_mask`` [batch, P], positions 0..P-1); queries of generated
    tokens (one row per cached decoding step, or the last rows of a full pass) stay as they are."""
    sink, width = sink_positions(prompt_mask), prompt_mask.shape[1]

    def hook(pattern, hook):
        n_queries, n_keys = pattern.shape[-2:]
        in_prompt = width - (n_keys - n_queries)  # query rows whose position is below P
        if g == 1.0 or in_prompt <= 0:
            return pattern
        pattern = pattern.clone()
        pattern[:, :, :in_prompt] = redistribute_sink(pattern[:, :, :in_prompt], g, sink)
        return pattern

    return [(f"blocks.{layer}.attn.hook_pattern", hook) for layer in chosen_layers(layers, n_layers)]


CLASSES = ("special", "node", "other")


def token_classes(tokenizer, names) -> torch.Tensor:
    """[vocab] each token id's class (index into CLASSES): special tokens, the tokens of node
    ``names`` (as the first word, "A", and after a space, " A"), and every other token."""
    classes = torch.full((len(tokenizer),), CLASSES.index("other"), dtype=torch.long)
    for name in set(names):
        for text in (name, " " + name):
            classes[tokenizer(text, add_special_tokens=False)["input_ids"]] = CLASSES.index("node")
    classes[list(tokenizer.all_special_ids)] = CLASSES.index("special")
    return classes


def head_output_means(bridge, batches, classes: torch.Tensor) -> torch.Tensor:
    """[class, layer, head, d_head]: each head's ``hook_z`` averaged over the real tokens of
    ``batches`` (pairs of input ids and attention mask) of each class of ``classes`` [vocab]; a
    class without a token gets the mean over every token."""
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    sums = torch.zeros(len(CLASSES), n_layers, n_heads, bridge.cfg.d_head, dtype=torch.float64)
    counts = torch.zeros(len(CLASSES), dtype=torch.float64)

    def capture(z, hook, layer):
        real = current["mask"].to(z.device).bool()
        kinds = classes[current["ids"].cpu()].to(z.device)
        z = as_heads(z, n_heads).double()
        for c in range(len(CLASSES)):
            sums[c, layer] += z[real & (kinds == c)].sum(dim=0).cpu()
        return None

    current = {}
    hooks = [(f"blocks.{layer}.attn.hook_z", lambda z, hook, layer=layer: capture(z, hook, layer))
             for layer in range(n_layers)]
    with torch.inference_mode():
        for ids, mask in batches:
            current["mask"], current["ids"] = mask, ids
            bridge.run_with_hooks(ids, attention_mask=mask, fwd_hooks=hooks)
            kinds = classes[ids.cpu()][mask.cpu().bool()]
            counts += torch.bincount(kinds, minlength=len(CLASSES)).double()
    overall = sums.sum(0) / counts.sum().clamp_min(1)
    means = sums / counts.clamp_min(1)[:, None, None, None]
    means[counts == 0] = overall
    return means.float()


def as_heads(z: torch.Tensor, n_heads: int) -> torch.Tensor:
    """[batch, pos, head, d_head] whether the bridge hands z per head or with heads concatenated."""
    return z if z.dim() == 4 else z.view(*z.shape[:2], n_heads, -1)


def ablation_hooks(means: torch.Tensor, heads: list[tuple[int, int]], classes: torch.Tensor,
                   ablate_special: bool = False) -> list:
    """Hooks replacing the output of each (layer, head) in ``heads`` by its mean for the class of
    the token at each position (``means`` [class, layer, head, d_head], ``classes`` [vocab]);
    special tokens keep theirs unless ``ablate_special``. The token ids are read at the
    embedding's input, so the classes follow every forward pass, cached decoding steps included."""
    by_layer = defaultdict(list)
    for layer, head in heads:
        by_layer[layer].append(head)
    current = {}

    def record(ids, hook):
        current["classes"] = classes[ids.cpu()]
        return None

    def ablate(z, layer):
        view = as_heads(z.clone(), means.shape[2])
        chosen = by_layer[layer]
        kinds = current["classes"].to(z.device)  # [batch, pos]
        replacement = means[:, layer, chosen].to(z.dtype).to(z.device)[kinds]  # [batch, pos, heads, d_head]
        keep = torch.zeros_like(kinds, dtype=torch.bool) if ablate_special else kinds == CLASSES.index("special")
        view[:, :, chosen] = torch.where(keep[:, :, None, None], view[:, :, chosen], replacement)
        return view.reshape(z.shape)

    return [("embed.hook_in", record)] + [(f"blocks.{layer}.attn.hook_z", lambda z, hook, layer=layer: ablate(z, layer))
                                          for layer in sorted(by_layer)]
