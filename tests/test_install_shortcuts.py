"""_installs.may_set_variable: a file it clears sets no variable of that prefix.

pip-to-uv asks it before listing an install's PIP_ variables (a look at every variable per
install was quadratic over many `export`s); here each way of setting one, quoted or split,
is checked to be seen, against the environment the model gives the install.
"""

from __future__ import annotations

import pytest

from dockfix.model import command_env, installs
from dockfix.syntax import parse
from dockfix.transforms._installs import may_set_variable

SETS = [
    "ENV PIP_INDEX_URL=https://x\nRUN pip install a\n",
    'ENV "PIP_INDEX_URL"=https://x\nRUN pip install a\n',
    "ENV P\"IP_\"INDEX_URL=https://x\nRUN pip install a\n",
    "ENV PIP_INDEX_URL https://x\nRUN pip install a\n",
    "ARG PIP_INDEX_URL=https://x\nRUN pip install a\n",
    "ENV PI\\\n# a comment\nP_INDEX_URL=https://x\nRUN pip install a\n",
    "RUN export PIP_NO_CACHE_DIR=1 && pip install a\n",
    "RUN export 'PIP_'NO_CACHE_DIR=1 && pip install a\n",
    "RUN export PI\\\nP_NO_CACHE_DIR=1 && pip install a\n",
    "RUN PIP_NO_CACHE_DIR=1 pip install a\n",
    "RUN P\\IP_NO_CACHE_DIR=1 pip install a\n",
    "RUN <<EOF\nexport PIP_NO_CACHE_DIR=1\npip install a\nEOF\n",
    "RUN <<EOF\nexport PI\\\nP_NO_CACHE_DIR=1\npip install a\nEOF\n",
]


@pytest.mark.parametrize("body", SETS)
def test_a_pip_variable_the_install_sees_is_one_the_file_may_set(body):
    tree = parse("FROM python:3.12\n" + body)
    run = tree.instructions[-1]
    env = command_env(tree, run, installs(tree, run)[0])
    assert any(k.startswith("PIP_") for k in env), "the case must set one"
    assert may_set_variable(tree, "PIP_")


@pytest.mark.parametrize("body", ["ENV PATH=/v/bin:$PATH\nRUN pip install a\n",
                                  "RUN export K=$PIP && pip install a  # PIP install\n"])
def test_a_file_that_never_writes_the_prefix_sets_none(body):
    assert not may_set_variable(parse("FROM python:3.12\n" + body), "PIP_")
