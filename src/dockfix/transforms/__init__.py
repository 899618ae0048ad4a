"""The pipeline: every transform, in the one order they run.

A transform is a module of this package (its name not starting with `_`) with
`TRANSFORM = Transform(NAME, summary, find, RULES)`: it is found here, so adding
one touches its module, its page (transforms/NAME.md) and its golden cases only
(docs/design.md, "Adding a transform").

Order matters where transforms interact, and `ORDER` says it in one place:
dependency installs are moved before the code is copied first, then the RUNs
that install get their cache mounts and bytecode settings, and the multi-stage
split runs last on the finished single-stage file. A transform that depends on
no other's rewrite needs no entry: those run after ORDER's, by name.

Each transform declares its rules (`RULES` in its module); the catalogue of
codes, `--select`/`--ignore` and `--explain` are derived from them here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import replace

from dockfix.diagnostics import DISPLAY_ONLY, GENERAL, Catalog, Rule
from dockfix.engine import Transform

ORDER = ("lockfile-first", "apt", "cache-mounts", "bytecode", "dockerignore", "multistage", "pip-to-uv",
         "ci-cache")  # ci-cache: CI files only (find_ci), nothing to do on a Dockerfile


def _discover() -> tuple[Transform, ...]:
    """Every transform module's TRANSFORM, in ORDER, then the others by name."""
    found: list[Transform] = []
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            found.append(importlib.import_module(f"{__name__}.{module.name}").TRANSFORM)
    rank = {name: i for i, name in enumerate(ORDER)}
    unknown = set(ORDER) - {t.name for t in found}
    if unknown:
        raise ImportError(f"transforms.ORDER names no transform module: {', '.join(sorted(unknown))}")
    return tuple(sorted(found, key=lambda t: (rank.get(t.name, len(ORDER)), t.name)))


PIPELINE: tuple[Transform, ...] = _discover()
BY_NAME = {t.name: t for t in PIPELINE}
CATALOG = Catalog([r for t in PIPELINE for r in t.rules], [t.name for t in PIPELINE])
RULES: tuple[Rule, ...] = tuple(sorted((r for t in PIPELINE for r in t.rules), key=lambda r: r.code))


def choose(select: Sequence[str] | None, ignore: Sequence[str] = ()) -> tuple[Transform, ...]:
    """The pipeline, each transform narrowed to its selected rules (`Transform.selected`; one with
    none selected is kept, so the engine knows every name a pragma may use, but does not run).

    A name is a code, a code prefix, a rule's or a transform's name, or a hadolint code (see
    dockfix.diagnostics); `ignore` wins over `select`. Unknown names raise UnknownNames (a
    KeyError) naming each, with a did-you-mean."""
    CATALOG.check([*(select or ()), *ignore])
    if select is None and not ignore:
        return PIPELINE
    chosen = CATALOG.codes(select) if select is not None else frozenset(CATALOG.by_code)
    chosen -= CATALOG.codes(ignore)
    return tuple(replace(t, selected=frozenset(r.code for r in t.rules if r.code in chosen) if t.rules
                         else _all_or_none(t, select, ignore)) for t in PIPELINE)


def _all_or_none(transform: Transform, select: Sequence[str] | None, ignore: Sequence[str]) -> frozenset[str] | None:
    """A transform that declares no rules is chosen by its name alone."""
    named = {n.lower() for n in ignore}
    wanted = select is None or transform.name in {n.lower() for n in select}
    return None if wanted and transform.name not in named else frozenset()


def rule(name: str) -> Rule | None:
    """The one rule a code, a rule's name or a hadolint code designates (None: none, or several)."""
    codes = CATALOG.codes([name])
    return CATALOG.by_code[next(iter(codes))] if len(codes) == 1 else None


def explain(name: str) -> str | None:
    """The page `--explain NAME` prints: a transform's page; for a rule (code, name, or the one
    rule fixing a hadolint code), its transform's page after a header pointing at the rule."""
    from dockfix.pages import page  # importlib.resources: only for --explain

    if name.lower() in BY_NAME:
        return page(name.lower())
    found = rule(name)
    if found is None:
        return None
    if not found.transform:  # the pipeline's own codes have no page
        return f"{_header(found)}\n"
    text = page(found.transform) or ""
    return f"{_header(found)}\nIt is a rule of the {found.transform} transform, whose page follows " \
           f"(its \"Rules\" table lists every rule).\n\n{text}"


def _header(found: Rule) -> str:
    kind = "notes only" if found.applicability == DISPLAY_ONLY else f"{found.applicability} fix"
    hadolint = f"; fixes hadolint {', '.join(found.hadolint)}" if found.hadolint else ""
    return f"{found.code} {found.name} ({kind}{hadolint})\n    {found.summary}\n"


__all__ = ["BY_NAME", "CATALOG", "GENERAL", "ORDER", "PIPELINE", "RULES", "choose", "explain", "rule"]
