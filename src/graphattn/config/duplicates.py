"""Keys given twice in a config file, which YAML loaders resolve silently to the last one."""

from __future__ import annotations

from pathlib import Path

import yaml


def join_key(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent and parent != "(top level)" else str(name)


def duplicate_keys(path: str | Path) -> list[str]:
    """A model (or any entry) named twice in a config file: YAML loaders keep the last one silently."""
    found = []

    def walk(node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value in node.value:
                key = join_key(prefix, key_node.value)
                if key_node.value in seen:
                    found.append(f"{key}: given twice ({path}, line {key_node.start_mark.line + 1}); "
                                 f"accepted: each name once in its section (rename one of them)")
                seen.add(key_node.value)
                walk(value, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{prefix}[{i}]")

    walk(yaml.compose(Path(path).read_text(), Loader=yaml.SafeLoader), "")
    return found
