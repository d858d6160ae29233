"""Reading and scoring a model's answer to "Parents of X:": a set of node names, order-free.

"A, B", "B and A", "A, B and C" and "none" are read, as a person would, also after a leading
newline; a name given twice ("A, A", as SmolLM2 answers) is read once and the repeat counted.
Anything else (an unknown name, an empty answer, prose) is unparseable: it scores 0 and is
counted, never dropped.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import NamedTuple

NONE_WORDS = {"none", "nothing", "no parents", "no children"}


class Reading(NamedTuple):
    names: frozenset[str] | None  # None: the answer cannot be read
    repeated: bool  # a name given more than once: read as the set, but counted


def read_answer(text: str, names: list[str]) -> Reading:
    """The set of node names an answer gives (frozenset() for "none", None if it cannot be read)
    and whether it gives a name twice. Whitespace before the answer is skipped (a model may start
    on a new line); the answer ends at the next newline or full stop (the model may go on with a
    new question)."""
    answer = re.split(r"[\n.]", text.lstrip(), maxsplit=1)[0].strip()
    if answer.lower() in NONE_WORDS:
        return Reading(frozenset(), False)
    parts = [p.strip() for p in re.split(r",|\band\b|&", answer)]
    parts = [p for p in parts if p]
    known = set(names)
    if not parts or any(p not in known for p in parts):
        return Reading(None, False)
    return Reading(frozenset(parts), len(set(parts)) < len(parts))


def parse_answer(text: str, names: list[str]) -> frozenset[str] | None:
    """The set of node names an answer gives, frozenset() for "none", None if it cannot be read."""
    return read_answer(text, names).names


def answer_text(answer: frozenset[str]) -> str:
    """How an answer is written: names in alphabetical order, separated by ", ", or "none"."""
    return ", ".join(sorted(answer)) if answer else "none"


def set_f1(predicted: frozenset[str] | None, gold: frozenset[str]) -> float:
    """Per-question F1 of the predicted set against the gold set; both empty is a perfect answer,
    an unparseable answer scores 0."""
    if predicted is None:
        return 0.0
    if not predicted and not gold:
        return 1.0
    hits = len(predicted & gold)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(gold)
    return 2 * precision * recall / (precision + recall)


def score(predicted: list[frozenset[str] | None], gold: list[frozenset[str]], repeated: list[bool] = ()) -> dict:
    """Exact-match accuracy, mean per-question F1, the count of unparseable answers and of those
    that gave a name twice (``repeated``, one flag per answer; none given, 0)."""
    n = len(gold)
    if n == 0:
        raise ValueError("no questions to score")
    return {
        "n_questions": n,
        "accuracy": sum(p == g for p, g in zip(predicted, gold)) / n,
        "f1": sum(set_f1(p, g) for p, g in zip(predicted, gold)) / n,
        "unparseable": sum(p is None for p in predicted),
        "repeats": sum(repeated),
    }


def graph_blind(questions: list[str], reference: list[tuple[str, frozenset[str]]]) -> list[frozenset[str]]:
    """The answers of a reader who sees the question but not the graph: for each question text
    ("Parents of C:") its commonest answer among the ``reference`` (question text, answer) pairs,
    those of other graphs (the training split; ties: the first seen), and for a text the
    reference never asks, the commonest answer of all."""
    by_text: dict[str, Counter] = defaultdict(Counter)
    for text, answer in reference:
        by_text[text][answer] += 1
    overall = Counter(answer for _, answer in reference).most_common(1)[0][0]
    best = {text: counts.most_common(1)[0][0] for text, counts in by_text.items()}
    return [best.get(text, overall) for text in questions]
