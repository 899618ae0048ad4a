"""dockfix: rewrite Python Dockerfiles into what an expert would write."""

from dockfix.syntax import ParseError, Tree, parse

__all__ = ["ParseError", "Tree", "parse"]
__version__ = "0.1.0"
