"""What a dry run (`snakemake -n`) plans, read from what Snakemake prints: each job's rule and
fields (wildcards, resources, threads, benchmark, ...), and the group jobs a cluster profile
makes of them (their member jobs are printed indented under "Group job <name>")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path


@dataclass
class PlannedJob:
    rule: str
    fields: dict[str, str]
    group: str | None = None  # the group job it travels in, if any

    @cached_property
    def wildcards(self) -> dict[str, str]:
        return dict(w.split("=", 1) for w in self.fields.get("wildcards", "").split(", ") if "=" in w)

    @cached_property
    def resources(self) -> dict[str, int | str]:
        """The "resources: name=value, ..." line, whole numbers as numbers."""
        pairs = (item.split("=", 1) for item in self.fields.get("resources", "").split(", ") if "=" in item)
        return {name: int(value) if value.isdigit() else value for name, value in pairs}

    @property
    def threads(self) -> int:
        return int(self.fields.get("threads", 1))  # printed only when above 1


@dataclass
class GroupJob:
    name: str
    jobs: list[PlannedJob] = field(default_factory=list)


HEADER = re.compile(r"\[[^\]]+\] Group job (\S+) ")
RULE = re.compile(r"( {4})?(?:local)?rule (\w+):$")


def parse(out: str) -> tuple[list[PlannedJob], list[GroupJob]]:
    """The jobs planned outside any group, and the group jobs with theirs."""
    alone, groups, current = [], [], None
    for line in out.splitlines():
        if header := HEADER.match(line):
            groups.append(GroupJob(header.group(1)))
            current = None
        elif rule := RULE.match(line):
            current = PlannedJob(rule.group(2), {})
            if rule.group(1) and groups:
                current.group = groups[-1].name
                groups[-1].jobs.append(current)
            else:
                alone.append(current)
        elif current is not None and ": " in line and line.startswith(" "):
            key, value = line.strip().split(": ", 1)
            current.fields.setdefault(key, value)
        elif not line.startswith(" "):
            current = None  # a timestamp, a blank line or a summary: the job's fields end
    return alone, groups


def local_rules(rules_dir: str | Path) -> set[str]:
    """The rules a workflow runs on the submit host, never as cluster jobs: those named in the
    `localrules:` directives of its .smk files, and `all`, which runs nothing."""
    names = {"all"}
    for path in Path(rules_dir).glob("*.smk"):
        for block in re.findall(r"^localrules:(.*?)(?:\n\s*\n|\Z)", path.read_text(), flags=re.M | re.S):
            names |= set(re.findall(r"\w+", block))  # the directive's names, up to its blank line
    return names
