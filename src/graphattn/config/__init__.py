"""The config at workflow load: the schema's checks worded for people, and those it cannot express.

Modules: ``loading`` (``load``: every check in its order, then the config completed), ``messages``
(the schema's verdict as "key: what is wrong; accepted: ..."), ``duplicates`` (keys given twice
in a file), ``checks`` (between sections, against models' shapes and files), ``expand`` (GGUF
paths and random-init controls added at load) and ``settings`` (what the rules read of it).
"""

from .checks import check, folder_shape, model_shape
from .duplicates import duplicate_keys
from .expand import CONTROL_SUFFIX, with_controls, with_finetune_paths, with_gguf_paths
from .loading import load
from .messages import ConfigError, key_name, validate
from .settings import UNTRAINED_TOY_KEYS, answer_settings, behaviour_models, toy_graph_settings

__all__ = ["check", "folder_shape", "model_shape", "duplicate_keys", "CONTROL_SUFFIX", "with_controls",
           "with_gguf_paths", "with_finetune_paths", "load", "ConfigError", "key_name", "validate", "UNTRAINED_TOY_KEYS",
           "answer_settings", "behaviour_models", "toy_graph_settings"]
