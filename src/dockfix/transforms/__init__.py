"""The pipeline: every transform, in the one order they run.

Order matters because transforms interact: dependency installs are moved
before the code is copied first, then the RUNs that install get their cache
mounts and bytecode settings, and the multi-stage split runs last on the
finished single-stage file.
"""

from __future__ import annotations

from dockfix.engine import Transform
from dockfix.transforms import apt, bytecode, cache_mounts, dockerignore, lockfile_first, multistage, pip_to_uv

PIPELINE: tuple[Transform, ...] = (
    lockfile_first.TRANSFORM,
    apt.TRANSFORM,
    cache_mounts.TRANSFORM,
    bytecode.TRANSFORM,
    dockerignore.TRANSFORM,
    multistage.TRANSFORM,
    pip_to_uv.TRANSFORM,
)

BY_NAME = {t.name: t for t in PIPELINE}


def choose(select: list[str] | tuple[str, ...] | None, ignore: list[str] | tuple[str, ...] = ()) -> tuple[Transform, ...]:
    """The pipeline, narrowed; unknown names raise KeyError naming them."""
    unknown = [n for n in [*(select or ()), *ignore] if n not in BY_NAME]
    if unknown:
        raise KeyError(", ".join(unknown))
    return tuple(t for t in PIPELINE if (select is None or t.name in select) and t.name not in ignore)
