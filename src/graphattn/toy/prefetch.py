"""An iterator run in a forked child process, so that making its items overlaps their use.

The toy's training draws fresh graphs, questions and token ids for every batch, about a
fifth of a training step on one thread; drawn by a child, they are ready when the step
wants them, while the training keeps its one thread. The items are the iterator's own,
in its order: only the process that draws them changes.
"""

from __future__ import annotations

import multiprocessing
import queue as queues

_END = "__prefetch_end__"


def _produce(items: multiprocessing.Queue, make, args: tuple) -> None:
    for item in make(*args):
        items.put(item)
    items.put(_END)


class Prefetched:
    """``Prefetched(make, *args)`` yields the items of ``make(*args)``, drawn in a child
    process up to ``depth`` items ahead. Forked, not spawned: ``make`` needs no pickling and
    the child does not re-run the parent's main script (a Snakemake script is one). ``make``
    must not use torch in the child (its thread pool does not survive a fork); items are
    pickled across. Use as a context manager, or call ``close``, to stop the child."""

    def __init__(self, make, *args, depth: int = 8):
        context = multiprocessing.get_context("fork")
        self._items = context.Queue(maxsize=depth)
        self._process = context.Process(target=_produce, args=(self._items, make, args), daemon=True,
                                        name=f"prefetch {getattr(make, '__qualname__', make)}")
        self._process.start()

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            try:
                item = self._items.get(timeout=1.0)
            except queues.Empty:
                if not self._process.is_alive():
                    raise RuntimeError(f"{self._process.name}: the child process drawing the items stopped "
                                       f"(exit code {self._process.exitcode}); its error is printed above") from None
                continue
            if isinstance(item, str) and item == _END:
                raise StopIteration
            return item

    def close(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._items.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
