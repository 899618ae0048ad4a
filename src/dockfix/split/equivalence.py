"""The static equivalence check: the final stage's image configuration, before and after.

The base image's own configuration is not known statically, so the check
compares what the Dockerfile sets in its final stage: CMD, ENTRYPOINT,
WORKDIR, USER, EXPOSE, ENV (resolved values, in order), LABEL, VOLUME,
HEALTHCHECK, STOPSIGNAL, SHELL and the build args the stage declares. A
split may only add what `Allowance` declares (the environment's PATH entry
and VIRTUAL_ENV) and leave out the build settings it declares (uv's, kept in
the builder); anything else is a difference and the split is refused.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass, field
from typing import Any

from dockfix.expand import Budget, expand
from dockfix.model import folder_at_end
from dockfix.syntax import Tree
from dockfix.views import key_values, stages


@dataclass(frozen=True)
class Allowance:
    """Config differences a split declares: a venv whose bin folder leads PATH."""

    virtual_env: str | None = None  # the environment a split adds to ENV (VIRTUAL_ENV and PATH)
    left_out: frozenset[str] = frozenset()  # build settings the split keeps in the builder only


@dataclass
class Config:
    env: list[tuple[str, str]] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)  # values of several shapes, compared whole


def final_config(tree: Tree) -> Config:
    stage = stages(tree)[-1]
    env: dict[str, str] = {}
    args: dict[str, str] = {}
    scope = ChainMap(env, args)  # what a value reads: ENV over ARG (a view, not a copy per instruction)
    spend = Budget()  # the expansions of the file share it (dockfix.expand)
    config = Config()
    settings = config.settings
    # the folder as dockfix.model reads it (a base's own WORKDIR when known, else a symbolic one:
    # the same in both files when the split keeps it)
    settings.update(workdir=folder_at_end(tree, stage).path, user=None, cmd=None, entrypoint=None, expose=[], labels=[], volumes=[],
                    healthcheck=None, stopsignal=None, shell=None, args=[])

    def resolve(text: str, escape: str | None = None) -> str:
        return expand(text, scope, partial=True, budget=spend, escape=escape) or ""

    for instr in stage.instructions:
        name = instr.name
        value = instr.exec_form if instr.exec_form is not None else instr.args
        if name == "ENV":
            for key, raw in key_values(instr):
                env[key] = resolve(raw or "")
        elif name == "ARG":
            for key, raw in key_values(instr):
                settings["args"].append((key, raw))
                args[key] = raw if raw is not None else f"${{{key}}}"
        elif name in ("USER", "STOPSIGNAL"):
            settings[name.lower()] = resolve(instr.args, instr.escape)
        elif name in ("CMD", "ENTRYPOINT", "HEALTHCHECK", "SHELL"):
            settings[name.lower()] = (value, tuple(f.text for f in instr.flags))
            if name == "ENTRYPOINT" and not settings.get("_cmd_set"):
                settings["cmd"] = None
            if name == "CMD":
                settings["_cmd_set"] = True
        elif name == "EXPOSE":
            settings["expose"] += [resolve(w, instr.escape) for w in instr.args.split()]
        elif name == "LABEL":
            settings["labels"] += [(k, resolve(v or "")) for k, v in key_values(instr)]
        elif name == "VOLUME":
            settings["volumes"].append(value)
    config.env = list(env.items())
    settings.pop("_cmd_set", None)
    return config


def differences(before: Tree, after: Tree, allow: Allowance) -> list[str]:
    """What the split changed in the final image configuration, beyond the allowance."""
    old, new = final_config(before), final_config(after)
    out = [f"{key.upper()}: {old.settings[key]!r} became {new.settings.get(key)!r}"
           for key in old.settings if old.settings[key] != new.settings.get(key)]
    old_env, new_env = dict(old.env), dict(new.env)
    if allow.virtual_env:
        venv_bin = allow.virtual_env.rstrip("/") + "/bin"
        if new_env.get("VIRTUAL_ENV") == allow.virtual_env and "VIRTUAL_ENV" not in old_env:
            new_env.pop("VIRTUAL_ENV")
        path = new_env.get("PATH", "")
        parts = path.split(":")
        if venv_bin in parts:
            parts.remove(venv_bin)
            stripped = ":".join(parts)
            if "PATH" not in old_env and stripped == "$PATH":
                new_env.pop("PATH")
            else:
                new_env["PATH"] = stripped
    for key in allow.left_out:
        if key not in new_env:
            old_env.pop(key, None)
    old_order = [k for k, _ in old.env if k in old_env]
    new_order = [k for k, _ in new.env if k in new_env]
    for key in sorted(set(old_env) | set(new_env)):
        if old_env.get(key) != new_env.get(key):
            out.append(f"ENV {key}: {old_env.get(key)!r} became {new_env.get(key)!r}")
    if not out and [k for k in old_order if k != "PATH"] != [k for k in new_order if k != "PATH"]:
        out.append(f"ENV order: {old_order} became {new_order}")
    return out
