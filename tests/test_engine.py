"""The fix engine: rounds, clashes, the fixpoint cap, dockfix's own bugs, suppressions and config.

Small made-up transforms make each rule visible on its own; the real
pipeline checks the suppressions and the [tool.dockfix] table end to end.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dockfix.config as config_module
from dockfix import parse
from dockfix.config import ConfigError, find_config
from dockfix.context import Context
from dockfix.edits import Edit, add_flag, replace_instruction
from dockfix.engine import MAX_ROUNDS, EngineBug, Fix, Transform, run_pipeline
from dockfix.runner import FAILED, Options, process_file
from dockfix.transforms import PIPELINE, choose

APT = "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl\nCMD [\"python\"]\n"
APT_FIXED = ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*\n"
             'CMD ["python"]\n')


def _transform(name, find):
    return Transform(name, "", find)


def _upper_runs(tree, context):
    """Upper-cases every lower-case `run` keyword: one fix per instruction, no clashes."""
    for instr in tree.instructions:
        if instr.keyword == "run":
            yield Fix("upper", "upper-case", instr.line, (Edit(instr.start, instr.start + 3, "RUN"),))


def test_non_overlapping_fixes_all_apply_in_one_round():
    outcome = run_pipeline("FROM x\nrun a\nrun b\n", Context(), [_transform("upper", _upper_runs)])
    assert outcome.output == "FROM x\nRUN a\nRUN b\n"
    assert len(outcome.fixes) == 2 and outcome.rounds == 2  # the second round finds nothing


def _two_flags_on_one_spot(tree, context):
    """Two fixes whose edits hit the same RUN: the second waits for the next round."""
    run = next(i for i in tree.instructions if i.name == "RUN")
    for name in ("a", "b"):
        if run.flag(name) is None:
            yield Fix("flags", f"add --{name}", run.line, (replace_instruction(run, tree.text_of(run).rstrip("\n")
                                                                           .replace("RUN ", f"RUN --{name} ", 1)),))


def test_overlapping_fixes_wait_for_the_next_round():
    outcome = run_pipeline("FROM x\nRUN a\n", Context(), [_transform("flags", _two_flags_on_one_spot)])
    assert outcome.output == "FROM x\nRUN --b --a a\n"
    assert [f.message for f in outcome.fixes] == ["add --a", "add --b"] and outcome.rounds == 3


def _grows_forever(tree, context):
    run = next(i for i in tree.instructions if i.name == "RUN")
    yield Fix("grow", "one more flag", run.line, (add_flag(run, f"--x{len(run.flags)}"),))


def _breaks_syntax(tree, context):
    yield Fix("break", "unknown instruction", 1, (Edit(0, 0, "NOPE\n"),))


@pytest.mark.parametrize("find, message", [(_grows_forever, f"did not converge in {MAX_ROUNDS} rounds"),
                                           (_breaks_syntax, "transform t produced a file that does not parse")])
def test_an_output_that_never_settles_or_does_not_parse_is_dockfix_bug(find, message):
    with pytest.raises(EngineBug, match=message):
        run_pipeline("FROM x\nRUN a\n", Context(), [_transform("t", find)])


def test_a_dockfix_bug_leaves_the_file_untouched(tmp_path, monkeypatch):
    import dockfix.runner as runner
    path = tmp_path / "Dockerfile"
    path.write_text("FROM x\nRUN a\n")
    monkeypatch.setattr(runner, "choose", lambda select, ignore: (_transform("grow", _grows_forever),))
    result = process_file(path, Options(mode="write"))
    assert result.status == FAILED and result.bug and "did not converge" in result.error
    assert path.read_text() == "FROM x\nRUN a\n"


def test_unsafe_fixes_only_on_request():
    def unsafe(tree, context):
        if "RUN b" not in tree.source:
            run = tree.instructions[-1]
            yield Fix("u", "change meaning", run.line, (replace_instruction(run, "RUN b"),), safe=False)

    assert run_pipeline("FROM x\nRUN a\n", Context(), [_transform("u", unsafe)]).output == "FROM x\nRUN a\n"
    assert run_pipeline("FROM x\nRUN a\n", Context(), [_transform("u", unsafe)], unsafe=True).output == "FROM x\nRUN b\n"


# --- suppressions ----------------------------------------------------------------

def _apt(text):
    return run_pipeline(text, Context(), choose(["apt"])).output


@pytest.mark.parametrize("comment, suppressed", [
    ("# dockfix: ignore", True),
    ("# dockfix: ignore=apt", True),
    ("#dockfix:ignore = cache-mounts, apt", True),
    ("# dockfix: ignore=bytecode", False),  # another transform: apt still applies
    ("# hadolint ignore=DL3009", True),  # the user told hadolint the lists are meant to stay: DF101 fixes DL3009
    ("# hadolint ignore=DL3008,DL3015", False),  # DL3015 is DF102's (unsafe, not run here); DL3008 no rule's
    ("# dockfix: ignore=DF101", True),
    ("# dockfix: ignore=df1", True),  # a code prefix, in any case
    ("# dockfix: ignore=DF102", False),  # another rule of the same transform
])
def test_a_comment_suppresses_the_next_instruction(comment, suppressed):
    lines = APT.splitlines(keepends=True)
    text = lines[0] + comment + "\n" + "".join(lines[1:])
    out = _apt(text + lines[1])  # the same RUN again, without a comment: always fixed
    fixed_line = APT_FIXED.splitlines(keepends=True)[1]
    assert out.endswith(fixed_line)
    assert (lines[1] in out.splitlines(keepends=True)) == suppressed


def test_a_blank_line_ends_a_suppression():
    text = APT.replace("RUN", "# dockfix: ignore\n\nRUN", 1)
    assert "rm -rf /var/lib/apt/lists/*" in _apt(text)


@pytest.mark.parametrize("comment, suppressed", [("# dockfix: ignore-file", True),
                                                 ("# dockfix: ignore-file=apt,bytecode", True),
                                                 ("# dockfix: ignore-file=bytecode", False)])
def test_a_comment_anywhere_suppresses_the_whole_file(comment, suppressed):
    text = APT + comment + "\n"
    assert (_apt(text) == text) == suppressed


# --- [tool.dockfix] ------------------------------------------------------------------

def _project(tmp_path, table: str):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = \"x\"\n\n{table}")
    docker = tmp_path / "docker"
    docker.mkdir()
    path = docker / "Dockerfile"
    path.write_text(APT)
    return path


def test_config_select_and_ignore_narrow_the_pipeline(tmp_path):
    path = _project(tmp_path, '[tool.dockfix]\nselect = ["apt", "bytecode"]\nignore = ["bytecode"]\n')
    config = find_config(path.parent)
    assert config.select == ("apt", "bytecode") and config.ignore == ("bytecode",)
    assert config.source == tmp_path / "pyproject.toml"
    result = process_file(path, Options(mode="diff"))
    assert {f.transform for f in result.fixes} == {"apt"}


def test_config_ignore_alone_keeps_the_rest_of_the_pipeline(tmp_path):
    path = _project(tmp_path, '[tool.dockfix]\nignore = ["bytecode", "dockerignore"]\n')
    assert {f.transform for f in process_file(path, Options(mode="diff")).fixes} == {"apt"}
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nignore = ["apt"]\n')
    config_module._load.cache_clear()  # a batch reads each pyproject.toml once
    assert process_file(path, Options(mode="diff")).status == "unchanged"


def test_the_command_line_select_wins_over_the_config(tmp_path):
    path = _project(tmp_path, '[tool.dockfix]\nselect = ["bytecode"]\n')
    result = process_file(path, Options(mode="diff", select=("apt",)))
    assert {f.transform for f in result.fixes} == {"apt"}


def test_the_search_stops_at_the_repository_root(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dockfix]\nselect = ["apt"]\n')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_config(repo).select is None


@pytest.mark.parametrize("table, message", [('[tool.dockfix]\nselekt = ["apt"]\n', "unknown [tool.dockfix] keys: selekt"),
                                            ("[tool.dockfix\n", "pyproject.toml")])
def test_a_bad_config_is_an_error_naming_the_file(tmp_path, table, message):
    path = _project(tmp_path, table)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        find_config(path.parent)
    result = process_file(path, Options(mode="write"))
    assert result.status == FAILED and message in result.error and path.read_text() == APT


def test_an_unknown_transform_name_in_the_config_fails_the_file(tmp_path):
    path = _project(tmp_path, '[tool.dockfix]\nignore = ["apt-cleanup"]\n')
    result = process_file(path, Options(mode="write"))
    assert result.status == FAILED and "apt-cleanup" in result.error and path.read_text() == APT


def test_the_real_pipeline_is_a_fixpoint_on_its_own_output():
    out = run_pipeline(APT, Context(), PIPELINE)
    assert parse(out.output).render() == out.output
    assert run_pipeline(out.output, Context(), PIPELINE).output == out.output


# --- reports in the user's coordinates (issue: one understanding of each Dockerfile) ---------

POSITIONS = ('FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y gcc\n'
             'ENV X=1\nRUN pip install -r requirements.txt\nCMD ["python", "app.py"]\n')


def _full(text: str, files: dict[str, str]):
    from dockfix.transforms import PIPELINE

    return run_pipeline(text, Context(files=files), PIPELINE, unsafe=True)


def test_fix_lines_are_the_users_lines_sorted_whatever_ran_before():
    outcome = _full(POSITIONS, {"requirements.txt": "flask\n", "app.py": "print(1)\n"})
    lines = [(f.line, f.transform) for f in outcome.fixes]
    assert lines == sorted(lines, key=lambda x: x[0])
    assert {t for line, t in lines if line == 4} == {"apt"}  # the apt RUN is line 4 of the user's file
    assert {t for line, t in lines if line == 6} >= {"cache-mounts", "lockfile-first"}  # not 7, the CMD


def test_notes_describe_the_users_file_not_dockfixs_rewrite():
    outcome = _full(POSITIONS, {"requirements.txt": "flask\n", "app.py": "print(1)\n"})
    assert any(f.transform == "multistage" for f in outcome.fixes)
    assert not [n for n in outcome.notes if "already multi-stage" in n.message]


def test_a_suppressed_install_stops_the_split_that_would_move_it():
    text = ('FROM python:3.12\nWORKDIR /app\nCOPY requirements.txt .\n# dockfix: ignore\n'
            'RUN pip install -r requirements.txt\nCOPY . .\nCMD ["python", "app.py"]\n')
    from dockfix.transforms import multistage

    outcome = run_pipeline(text, Context(files={"requirements.txt": "flask\n"}), [multistage.TRANSFORM], unsafe=True)
    assert outcome.output == text
    other = text.replace("# dockfix: ignore\n", "# dockfix: ignore=apt\n")  # another transform's suppression
    assert run_pipeline(other, Context(files={"requirements.txt": "flask\n"}), [multistage.TRANSFORM],
                        unsafe=True).output != other


CONTINUED = ('FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN apt-get update \\\n    && apt-get install -y gcc\n'
             'RUN pip install \\\n    -r requirements.txt\nCMD ["python", "app.py"]\n')


def test_end_lines_are_the_users_lines_of_the_instructions_end():
    outcome = _full(CONTINUED, {"requirements.txt": "flask\n", "app.py": "print(1)\n"})
    spans = {(f.transform, f.line, f.end_line) for f in outcome.fixes}
    assert ("apt", 4, 5) in spans  # the apt RUN: lines 4-5 of the user's file
    # found after lockfile-first moved the install above the code copy: still lines 6-7 as written
    assert ("cache-mounts", 6, 7) in spans
    assert all(f.end_line is not None and f.end_line >= f.line for f in outcome.fixes)
    notes = [n for n in outcome.notes if n.line is not None]
    assert all(n.end_line is not None and n.end_line >= n.line for n in notes)


def _rewrite_then_note(tree, context):
    """Rewrites the file from FROM on in one edit, as the split does: RUN b moves up into a
    first stage; the rest stays in the second."""
    if "AS one" not in tree.source:
        start = tree.instructions[0].start
        yield Fix("rewrite", "two stages", 2, (Edit(start, len(tree.source),
                                                    "FROM x AS one\nRUN b\n\nFROM x\nRUN a\n\nCOPY --from=one /b /b\nCMD c\n"),))


def _note_run_b(tree, context):
    from dockfix.engine import Note

    for instr in tree.instructions:
        if instr.logical == "RUN b":
            yield Note("later", f"line {instr.line}: RUN b noted", instr.line)
            return


def test_a_note_after_a_whole_file_rewrite_names_the_users_line():
    """Issue 12, 'Also': a line the rewrite kept as written maps to where it was, in the note's
    line and in the `line N` its message names (the rewrite's own text moved it down)."""
    text = "# top\nFROM x\nRUN a\n\nRUN b\nCMD c\n"
    outcome = run_pipeline(text, Context(), [_transform("rewrite", _rewrite_then_note),
                                             _transform("later", _note_run_b)])
    assert outcome.output != text
    [note] = outcome.notes
    assert (note.line, note.message) == (5, "line 5: RUN b noted")


def _asker_and_answerer(added: str = ""):
    """Two made-up transforms with rules: `ask` (safe) adds a comment naming what the run would
    apply of `answer`'s unsafe rule (DF992) to its tree, through Context.fixes_of."""
    from dockfix.diagnostics import UNSAFE, Rule

    ask_rule = Rule("DF991", "ask", "ask-rule", "")
    answer_rule = Rule("DF992", "answer", "answer-rule", "", UNSAFE)
    seen: list[list[str]] = []

    def ask(tree, context):
        edits = (Edit(len(tree.source), len(tree.source), added),) if added else ()  # asked of the text with it
        seen.append([f.message for f in context.findings_of("DF992", tree, edits) if isinstance(f, Fix)])
        return iter(())

    def answer(tree, context):
        for instr in tree.instructions:
            if instr.name == "RUN":
                yield answer_rule.fix("upper-case the run", instr.line, (Edit(instr.start, instr.start + 3, "RUN"),))

    return (Transform("ask", "", ask, (ask_rule,)), Transform("answer", "", answer, (answer_rule,))), seen


def test_a_transform_asks_what_the_run_would_apply_of_another_rule():
    """Context.fixes_of: the fixes of a rule the run would take, filtered as the engine filters
    them: unsafe off, the rule not selected or suppressed by a pragma in the tree asked about: none."""
    text = "FROM x\nrun a\n"
    transforms, seen = _asker_and_answerer()
    run_pipeline(text, Context(), transforms, unsafe=True)
    assert seen[0] == ["upper-case the run"]
    for unsafe, chosen, source in [(False, transforms, text),
                                   (True, tuple(t if t.name == "ask" else Transform(t.name, "", t.find, t.rules,
                                                                                   frozenset()) for t in transforms), text),
                                   (True, transforms, "FROM x\n# dockfix: ignore=DF992\nrun a\n")]:
        seen.clear()
        run_pipeline(source, Context(), chosen, unsafe=unsafe)
        assert seen[0] == [], (unsafe, source)
    context = Context()
    assert context.findings_of("DF992", parse(text)) == [] and context.run_findings is None  # outside a run


def test_asking_about_an_unsafe_rule_in_a_safe_run_says_something_may_be_hidden():
    """The asker may decide otherwise with unsafe fixes on: the safe run's proposed_unsafe says so
    (the runner's hidden-fix count), though the answer proposed no fix in it."""
    transforms, seen = _asker_and_answerer(added="run a\n")  # (the file itself has no RUN: nothing to propose)
    asker_only = tuple(t if t.name == "ask" else Transform(t.name, "", t.find, t.rules, frozenset()) for t in transforms)
    run_pipeline("FROM x\n", Context(), transforms, unsafe=True)
    assert seen[-1] == ["upper-case the run"]  # (asked of the text with the RUN added)
    assert run_pipeline("FROM x\n", Context(), transforms).proposed_unsafe
    assert seen[-1] == []
    assert not run_pipeline("FROM x\n", Context(), asker_only).proposed_unsafe  # the rule is not selected


# The runner's hidden-fix count: the unsafe run goes on from where the safe run met its first unsafe
# fix or question (Outcome.divergence), not from the start; it must be the run from the start.
_RESUMED = [
    "FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
    "FROM python:3.12\nRUN apt-get update && apt-get install -y gcc\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
    "COPY . .\nCMD [\"python\", \"app.py\"]\n",
    "FROM python:3.12-slim\nENV A=1\nRUN pip install flask\nUSER 1000\nRUN pip install --user gunicorn\n",
]


def _files() -> Context:
    return Context(files={"requirements.txt": "flask\n", "app.py": "print(1)\n"})


def _whole(outcome):
    return outcome.output, outcome.fixes, outcome.notes, outcome.files, outcome.warnings, outcome.ignored_file


@pytest.mark.parametrize("text", _RESUMED)
def test_the_unsafe_run_resumed_where_the_safe_run_parted_is_the_run_from_the_start(text):
    from dataclasses import replace

    turns: list[str] = []
    counted = tuple(replace(t, find=lambda tree, context, f=t.find: turns.append("") or f(tree, context))
                    for t in PIPELINE)
    memo: dict = {}
    safe = run_pipeline(text, _files(), counted, memo=memo)
    assert safe.proposed_unsafe and safe.divergence is not None
    turns.clear()
    fresh = run_pipeline(text, _files(), counted, unsafe=True)
    from_start = len(turns)
    turns.clear()
    again = run_pipeline(text, _files(), counted, unsafe=True, memo=memo, previous=safe.first, resume=safe.divergence)
    assert _whole(again) == _whole(fresh) and any(not f.safe for f in again.fixes)
    assert len(turns) < from_start or safe.divergence.round_number == 1 and safe.divergence.index == 0


def test_a_resumed_run_whose_tree_ran_out_of_expansions_is_run_from_the_start():
    """The tree the resumed run starts on spends again what the safe run's had spent (its model is
    new): when that runs out, the answers may not be the run's from the start, which is made instead."""
    from dataclasses import replace

    from dockfix.engine import _resume

    text = _RESUMED[0]
    safe = run_pipeline(text, _files(), PIPELINE)
    spent = replace(safe.divergence, budget=(-1, -1))
    assert _resume(text, _files(), PIPELINE, spent) is None
    fresh = run_pipeline(text, _files(), PIPELINE, unsafe=True)
    context = _files()
    assert _whole(run_pipeline(text, context, PIPELINE, unsafe=True, resume=spent)) == _whole(fresh)
    assert context.overlay == fresh_overlay(text)


def fresh_overlay(text):
    context = _files()
    run_pipeline(text, context, PIPELINE, unsafe=True)
    return context.overlay


def _reference_after(origin: list[int], old: str, edits) -> list[int]:
    """_LineMap.after as first written: every line's start listed, an offset's line by bisection,
    each copied line appended one by one (the engine now counts newlines; the same map)."""
    import bisect

    starts = [0] + [i + 1 for i, c in enumerate(old) if c == "\n"]

    def old_line(offset):
        return origin[bisect.bisect_right(starts, offset) - 1]

    out: list[int] = []
    line_starts = True
    pos = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        for k in range(pos, edit.start):  # copy: a line starts at pos (if one was starting) and after each newline
            if (k == pos and line_starts) or (k > pos and old[k - 1] == "\n"):
                out.append(old_line(k))
        if edit.start > pos:
            line_starts = old[edit.start - 1] == "\n"
        was: dict[str, list[int]] = {}
        if edit.text.count("\n") > 1:
            begin = edit.start if edit.start == 0 or old[edit.start - 1] == "\n" else old.find("\n", edit.start, edit.end) + 1
            while not (begin == 0 and edit.start > 0) and begin < edit.end:
                end = old.find("\n", begin, edit.end)
                if end == -1:
                    if edit.end < len(old):
                        break
                    end = edit.end
                text = old[begin:end].rstrip("\r")
                if text.strip():
                    was.setdefault(text, []).append(old_line(begin))
                begin = end + 1
        if edit.text:
            starts_new = ([0] if line_starts else []) + [i + 1 for i, c in enumerate(edit.text[:-1]) if c == "\n"]
            for start in starts_new:
                end = edit.text.find("\n", start)
                lines = was.get(edit.text[start: end if end != -1 else len(edit.text)].rstrip("\r"))
                out.append(lines.pop(0) if lines and len(lines) > 1 else lines[0] if lines else old_line(edit.start))
            line_starts = edit.text[-1] == "\n"
        pos = edit.end
    for k in range(pos, len(old)):
        if (k == pos and line_starts) or (k > pos and old[k - 1] == "\n"):
            out.append(old_line(k))
    if len(old) > pos:
        line_starts = old[-1] == "\n"
    if line_starts:
        out.append(old_line(len(old)))
    return out


_PIECES = st.sampled_from(["a", "b c", "\n", "\r\n", "RUN x", "\n\n", " ", "FROM y\n"])


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_the_line_map_after_edits_is_the_reference_one(data):
    from dockfix.engine import _LineMap

    old = "".join(data.draw(st.lists(_PIECES, max_size=12)))
    origin = data.draw(st.lists(st.integers(1, 50), min_size=old.count("\n") + 1, max_size=old.count("\n") + 1))
    edits, pos = [], 0
    while pos <= len(old) and data.draw(st.booleans()):
        start = data.draw(st.integers(pos, len(old)))
        end = data.draw(st.integers(start, min(len(old), start + 6)))
        text = "".join(data.draw(st.lists(_PIECES, max_size=4)))
        if data.draw(st.booleans()):
            text = old[start:end] + text  # a rewrite that keeps lines (the split's)
        edits.append(Edit(start, end, text))
        pos = end + 1
    assert _LineMap("", origin).after(old, edits).origin == _reference_after(origin, old, edits)
