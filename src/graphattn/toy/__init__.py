"""The embedded causal model: a small Llama-style LM trained here on the pipeline's prompts.

Each training text is a rendered graph followed by a question and its answer,
"A -> C, B -> C, C -> D. Parents of C: A, B." with the loss on the answer tokens
only. The model and its word-level tokenizer are saved with ``save_pretrained`` so
the dump loads them through the same TransformerBridge path as any other model.

Modules: ``tokenizer``; ``examples`` (the example stream and the held-out sets); ``model``
(build and save); ``optimisers`` with ``muon``; ``training`` (the loop) with ``prefetch`` (the
batches drawn in a child process) and ``dynamics`` (attention snapshots while it trains);
``ablation`` (the trained toy's mean-attention ablation). The names below are the ones the
rules and tests use.
"""

from .examples import (HELDOUT_SEED_OFFSETS, VALIDATION_SEED_OFFSET, Example, ExampleStream, collate,
                       graph_set_edge_sets, heldout_examples, make_example, question, toy_data)
from .model import build_model, build_untrained, save_folder, save_untrained
from .optimisers import build_optimisers
from .tokenizer import SPECIAL, WORDS, build_tokenizer
from .training import exact_accuracy, exact_match, train_toy, training_loss

__all__ = ["HELDOUT_SEED_OFFSETS", "VALIDATION_SEED_OFFSET", "Example", "ExampleStream", "collate",
           "graph_set_edge_sets", "heldout_examples", "make_example", "question", "toy_data", "build_model",
           "build_untrained", "save_folder", "save_untrained", "build_optimisers", "SPECIAL", "WORDS",
           "build_tokenizer", "exact_accuracy", "exact_match", "train_toy", "training_loss"]
