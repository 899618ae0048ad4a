"""dockfix: rewrite Python Dockerfiles into what an expert would write."""

from __future__ import annotations

from typing import Any

__all__ = ["ParseError", "Tree", "parse"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """The parser's names, imported on first use: `dockfix --version` needs none of it (start-up)."""
    if name in __all__:
        from dockfix import syntax

        return getattr(syntax, name)
    raise AttributeError(f"module 'dockfix' has no attribute {name!r}")
