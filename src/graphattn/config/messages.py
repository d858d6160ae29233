"""The schema's verdict worded for people: every problem as "key: what is wrong; accepted: what
would do". jsonschema's own report names the key only in a separate "On instance[...]" line
and the accepted values only in a dump of the schema."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .duplicates import duplicate_keys, join_key


class ConfigError(ValueError):
    pass


def validate(config: dict, schema_path: str | Path, config_files: list[str | Path] = ()) -> None:
    """Raise ConfigError listing every problem as "key: what is wrong; accepted: what would do".

    Runs before Snakemake's own ``validate`` (which fills the defaults), because jsonschema's
    report names the key only in a separate "On instance[...]" line and the accepted values
    only in a dump of the schema.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    problems = [problem for path in config_files for problem in duplicate_keys(path)]
    problems += schema_problems(config, schema)
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems) + overlay_hint(config, schema))


def overlay_hint(config: dict, schema: dict) -> str:
    """A config without a whole section is most often a file of a few keys given alone as
    --configfile, which replaces config/config.yaml instead of updating it."""
    if all(key in config for key in schema.get("required", [])):
        return ""
    return ("\n(a --configfile replaces config/config.yaml: to change a few of its keys, give your file "
            "after it, `--configfile config/config.yaml yours.yaml`; config/README.md)")


def schema_problems(config: dict, schema: dict) -> list[str]:
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(config)
    # jsonschema reports each missing key of an entry as an error of its own, and describe()
    # names all of that entry's missing keys in each: say that once.
    described = [describe(error) for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])]
    return list(dict.fromkeys(described))


def describe(error) -> str:
    key, kind, expected = key_name(error.absolute_path), error.validator, error.validator_value
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return "; ".join(f"{join_key(key, name)}: unknown key ({name!r} was unexpected); accepted keys: {allowed}"
                         for name in unknown)
    if kind == "required":
        missing = [name for name in expected if name not in error.instance]
        return "; ".join(f"{join_key(key, name)}: missing ({name!r} is a required property); "
                         f"accepted: {describe_schema(error.schema['properties'].get(name, {}))}"
                         for name in missing)
    if "propertyNames" in error.schema_path:  # a name of an entry (a model, a graph set, a probe)
        return f"{join_key(key, error.instance)}: {error.message}; accepted: names matching {expected!r}"
    if kind == "enum":  # jsonschema's message lists the values too: say them once
        return f"{key}: {error.instance!r} is not one of the accepted values; accepted: one of {expected}"
    return f"{key}: {error.message}; accepted: {accepted(kind, expected)}"


def accepted(kind: str, expected) -> str:
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if kind in bounds:
        return f"a number {bounds[kind]} {expected}"
    if kind == "enum":
        return f"one of {expected}"
    if kind == "type":
        return f"a value of type {expected}"
    if kind == "minItems":
        return f"a list of at least {expected} item(s)"
    if kind == "minProperties":
        return f"at least {expected} entr{'y' if expected == 1 else 'ies'}"
    if kind == "uniqueItems":
        return "a list without repeated items"
    if kind == "minLength":
        return f"a string of at least {expected} character(s)"
    if kind in ("oneOf", "anyOf"):
        return " or ".join(describe_schema(option) for option in expected)
    return json.dumps(expected)


def describe_schema(schema: dict) -> str:
    """{"type": "integer", "minimum": 1} -> "a value of type integer >= 1"; {"const": "none"} -> "'none'"."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return f"one of {schema['enum']}"
    words = [f"a value of type {schema['type']}" if "type" in schema else "a value"]
    words += [accepted(kind, schema[kind]).removeprefix("a number ") for kind in
              ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if kind in schema]
    if "description" in schema:
        words.append(f"({schema['description'].split('.')[0].strip()}, see config/schema.yaml)")
    return " ".join(words)


def key_name(path) -> str:
    """["graph_sets", "small", "count"] -> "graph_sets.small.count"; ["k", 1] -> "k[1]"."""
    name = ""
    for part in path:
        name = f"{name}[{part}]" if isinstance(part, int) else join_key(name, part)
    return name or "(top level)"
