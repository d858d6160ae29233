"""Every head's attention, reduced on the fly to node-by-node matrices (the dump).

Modules: ``hooks`` (pattern hooks, the forward pass stopped after the last layer's pattern),
``batches`` (prompts to token batches of similar length), ``reduce`` (token patterns to node
matrices), ``storage`` (the .npy file written row by row), ``memory`` (the batch-size check
before the weights load) and ``dump`` (the rule's whole step).
"""

from ..alignment import SELECTIONS
from .batches import encode, length_batches, token_lengths
from .dump import dump_attention, node_batches, scan
from .hooks import StopForward, pattern_hooks, run_to_last_pattern
from .memory import check_memory
from .reduce import SINKS, NodeReducer, batch_weights, drop_first_token
from .storage import NpyRows

__all__ = ["SELECTIONS", "encode", "length_batches", "token_lengths", "dump_attention", "node_batches", "scan",
           "StopForward", "pattern_hooks", "run_to_last_pattern", "check_memory", "SINKS", "NodeReducer",
           "batch_weights", "drop_first_token", "NpyRows"]
