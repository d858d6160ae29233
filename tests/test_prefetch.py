"""Items drawn in a forked child process: the same items in the same order, and a child's
failure raised in the parent rather than a hang."""

import numpy as np
import pytest

from graphattn import toy
from graphattn.toy.prefetch import Prefetched

SETTINGS = dict(min_nodes=3, max_nodes=6, edge_prob=0.4, naming="letters")


def training_batches(seed):
    return toy.ExampleStream(toy.build_tokenizer("letters"), SETTINGS, ["arrow", "to"], seed).batches(16, 4, 0.75)


def test_the_toys_prefetched_batches_are_its_batches_in_order():
    here = training_batches(seed=5)
    with Prefetched(training_batches, 5) as drawn:
        for _ in range(20):  # past the first pool of 8 batches
            assert [e.ids for e in next(drawn)] == [e.ids for e in next(here)]
    with Prefetched(training_batches, 6) as other:
        assert [e.ids for e in next(other)] != [e.ids for e in next(training_batches(seed=5))]


def test_a_finite_iterator_ends_and_items_cross_whole():
    with Prefetched(lambda n: (np.arange(i) for i in range(n)), 4) as drawn:
        assert [item.tolist() for item in drawn] == [[], [0], [0, 1], [0, 1, 2]]


def failing(n):
    yield from range(n)
    raise ValueError("no more graphs")


def test_a_child_that_fails_raises_in_the_parent():
    with Prefetched(failing, 2) as drawn:
        assert [next(drawn), next(drawn)] == [0, 1]
        with pytest.raises(RuntimeError, match=r"prefetch failing: the child process drawing the items stopped \(exit code 1\)"):
            next(drawn)
