"""An all-repos autofixer: rewrite the Dockerfiles of every repository with dockfix.

    pip install 'dockfix[all-repos]'
    all-repos-clone -C all-repos.json
    python -m dockfix.all_repos -C all-repos.json --dry-run      # look first
    python -m dockfix.all_repos -C all-repos.json                # commit and push

all-repos (https://github.com/asottile/all-repos) clones the repositories,
makes a branch per repository, commits and pushes (or opens pull requests,
as its `push` setting says); this module only says which repositories have
Dockerfiles and runs `dockfix --write .` in each checkout. The repository's
own `[tool.dockfix]` settings apply; --unsafe-fixes, --select and --ignore
are passed on to dockfix.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
from collections.abc import Sequence

try:
    from all_repos import autofix_lib
    from all_repos.config import Config
    from all_repos.grep import repos_matching
except ImportError:  # an optional extra: say how to get it instead of a traceback
    sys.exit("dockfix.all_repos needs all-repos: pip install 'dockfix[all-repos]'")

# git pathspecs for the names dockfix looks for (discover.PATTERNS), in any folder
PATHSPECS = tuple(f":(glob)**/{pattern}" for pattern in
                  ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "*.dockerfile", "Containerfile", "Containerfile.*"))
EXIT_ERROR = 2


def find_repos(config: Config) -> set[str]:
    """Cloned repositories with a FROM line in a file named like a Dockerfile."""
    return repos_matching(config, ("-E", "-i", "-e", r"^[[:space:]]*FROM[[:space:]]", "--", *PATHSPECS))


def apply_fix(dockfix_args: tuple[str, ...]) -> None:
    """Runs in all-repos' fresh clone of one repository, on its autofix branch.

    The clone is untrusted and is the working folder: `python -m` would put it first
    on the import path, so a repository holding `dockfix/`, `typer.py` or `tomllib.py`
    would run its own code. `-I` (isolated mode) keeps the working folder, the user's
    site folder and PYTHON* variables off the path: only installed code runs.
    """
    done = autofix_lib.run(sys.executable, "-I", "-m", "dockfix", "--write", *dockfix_args, ".", check=False)
    if done.returncode == EXIT_ERROR:  # some files could not be fixed: the others still are; dockfix said which
        print("dockfix reported errors (above); the files it could fix are committed", flush=True)
    # `git commit -a` (all-repos) takes changed tracked files only: add the .dockerignore files dockfix created.
    untracked = subprocess.run(("git", "ls-files", "--others", "--exclude-standard", "-z"), capture_output=True,
                               check=True).stdout.decode().split("\0")
    created = [p for p in untracked if p.rsplit("/", 1)[-1].endswith(".dockerignore")]
    if created:
        autofix_lib.run("git", "add", "--", *created)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite the Dockerfiles of many repositories with dockfix.")
    autofix_lib.add_fixer_args(parser)
    parser.add_argument("--branch-name", default="dockfix", help="the autofix branch name (default %(default)s)")
    parser.add_argument("--commit-msg", default="Rewrite Dockerfiles with dockfix",
                        help="the commit message (default %(default)r)")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply dockfix's unsafe fixes")
    parser.add_argument("--select", help="only these dockfix transforms (comma-separated)")
    parser.add_argument("--ignore", help="skip these dockfix transforms (comma-separated)")
    args = parser.parse_args(argv)

    dockfix_args: list[str] = ["--unsafe-fixes"] if args.unsafe_fixes else []
    for name in ("select", "ignore"):
        if getattr(args, name):
            dockfix_args += [f"--{name}", getattr(args, name)]
    repos, config, commit, autofix_settings = autofix_lib.from_cli(
        args, find_repos=find_repos, msg=args.commit_msg, branch_name=args.branch_name)
    autofix_lib.fix(repos, apply_fix=functools.partial(apply_fix, tuple(dockfix_args)), config=config,
                    commit=commit, autofix_settings=autofix_settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
