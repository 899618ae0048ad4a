"""dockfix's parse agrees with BuildKit's own parser on what every corpus file means.

BuildKit's parser (the `dockerfile` package) runs only in a subprocess
(tests/oracle_parse.py). Its `original` field is not the source text, so we
compare meanings: instruction names, flags, heredoc names and bodies, start
and end lines, and the value of each instruction as dockfix's views read it.
"""

from __future__ import annotations

import pytest

from dockfix import ParseError, parse
from dockfix.syntax import Instruction
from dockfix.views import Copy, Run, key_values, stages

from .conftest import read_exact
from .oracle_parse import parse_many

# Reasons dockfix may refuse a file BuildKit's parser reads: its parser does not
# know the instruction set (a Jinja template's `{% if %}` is an "instruction" to
# it), and it rejects a file with only comments just like BuildKit.
EXPECTED_REFUSALS = ("unknown instruction", "file with no instructions")


def shell_unquote(word: str, escape: str = "\\") -> str:
    """Quote removal as BuildKit's shell lexer does it (no expansion)."""
    out, i, n = [], 0, len(word)
    while i < n:
        c = word[i]
        if c == escape and i + 1 < n:
            out.append(word[i + 1])
            i += 2
        elif c == "'":
            end = word.find("'", i + 1)
            end = n if end < 0 else end
            out.append(word[i + 1 : end])
            i = end + 1
        elif c == '"':
            i += 1
            while i < n and word[i] != '"':
                if word[i] == escape and i + 1 < n and word[i + 1] in f'"$`{escape}':
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def dockfix_value(instr: Instruction, tree) -> tuple | None:
    """What dockfix's views say an instruction's arguments are, in BuildKit's terms."""
    name = instr.name
    if name == "FROM":
        stage = next(s for s in stages(tree) if s.from_ is instr)
        words = [stage.base]
        if stage.name is not None:
            words += ["AS", stage.name]
        return ("FROM", tuple(w.lower() if i == 1 else w for i, w in enumerate(words)))
    if name in ("RUN", "CMD", "ENTRYPOINT"):
        if name == "RUN" and Run(instr).form == "exec" or name != "RUN" and instr.exec_form is not None:
            return ("exec", tuple(instr.exec_form))
        return ("shell", (instr.args,))
    if name in ("COPY", "ADD"):
        view = Copy(instr)
        return ("paths", tuple(view.sources), view.destination)
    if name in ("ENV", "LABEL", "ARG"):
        return ("pairs", tuple(key_values(instr)))
    return None


def oracle_value(command: dict, escape: str) -> tuple | None:
    """The same meaning, read from BuildKit's parse."""
    name, value = command["cmd"].upper(), command["value"]
    if name == "FROM":
        words = list(value)
        if len(words) >= 3 and words[1].lower() == "as":
            words = [words[0], "AS", words[2]]
        return ("FROM", tuple(w.lower() if i == 1 else w for i, w in enumerate(words[:3])))
    if name in ("RUN", "CMD", "ENTRYPOINT"):
        # `RUN` with nothing after it: BuildKit has no words, dockfix an empty script.
        return ("exec", tuple(value)) if command["json"] else ("shell", tuple(value) or ("",))
    if name in ("COPY", "ADD"):
        paths = list(value) if command["json"] else [shell_unquote(w, escape) for w in value]
        return ("paths", tuple(paths[:-1]), paths[-1] if paths else "")
    if name in ("ENV", "LABEL"):
        pairs = zip(value[::2], value[1::2])
        return ("pairs", tuple((shell_unquote(k, escape), shell_unquote(v, escape)) for k, v in pairs))
    if name == "ARG":
        pairs = []
        for word in value:
            key, eq, val = word.partition("=")
            pairs.append((shell_unquote(key, escape), shell_unquote(val, escape) if eq else None))
        return ("pairs", tuple(pairs))
    return None


def _c_strings(value):
    """The Python binding hands Go strings over as C strings: they end at a NUL ("\\u0000" in JSON)."""
    if isinstance(value, str):
        return value.split("\x00", 1)[0]
    if isinstance(value, tuple):
        return tuple(_c_strings(v) for v in value)
    return value


def disagreements(text: str, answer: dict) -> list[str]:
    """Every way dockfix's reading of `text` differs from BuildKit's answer."""
    try:
        tree = parse(text)
    except ParseError as err:
        if "error" in answer:
            return []  # both refuse the file
        if any(reason in err.message for reason in EXPECTED_REFUSALS):
            return []
        return [f"dockfix refuses a file BuildKit reads: {err}"]
    if "error" in answer:
        return [f"BuildKit refuses a file dockfix reads: {answer['error']}"]
    ours, theirs = tree.instructions, answer["commands"]
    problems = []
    if len(ours) != len(theirs):
        problems.append(f"{len(ours)} instructions, BuildKit has {len(theirs)}")
    for instr, command in zip(ours, theirs):
        where = f"line {instr.line} {instr.name}"
        if instr.name != command["cmd"].upper():
            problems.append(f"{where}: BuildKit reads {command['cmd']} (line {command['start_line']})")
            break  # everything after is shifted
        if (instr.line, instr.end_line) != (command["start_line"], command["end_line"]):
            problems.append(f"{where}: lines {instr.line}-{instr.end_line}, "
                            f"BuildKit {command['start_line']}-{command['end_line']}")
        if [f.text for f in instr.flags] != command["flags"]:
            problems.append(f"{where}: flags {[f.text for f in instr.flags]}, BuildKit {command['flags']}")
        docs = [(h.name, h.body) for h in instr.heredocs]
        their_docs = [(h["name"], h["content"]) for h in command["heredocs"]]
        if docs != their_docs:
            problems.append(f"{where}: heredocs {docs!r}, BuildKit {their_docs!r}")
        if instr.name == "ONBUILD":
            if instr.args.split(None, 1)[0].upper() != (command["sub_cmd"] or "").upper():
                problems.append(f"{where}: ONBUILD {instr.args!r}, BuildKit's trigger {command['sub_cmd']}")
            continue
        mine = _c_strings(dockfix_value(instr, tree))
        if mine is not None and mine != oracle_value(command, tree.escape):
            problems.append(f"{where}: value {mine!r}, BuildKit {oracle_value(command, tree.escape)!r}")
    return problems


@pytest.fixture(scope="module")
def corpus_answers(corpus):
    texts = [read_exact(p) for p in corpus]
    return list(zip(corpus, texts, parse_many(texts)))


def test_dockfix_reads_every_corpus_file_as_buildkit_does(corpus_answers):
    failures = {}
    for path, text, answer in corpus_answers:
        problems = disagreements(text, answer)
        if problems:
            failures[path.name] = problems[:5]
    assert not failures, "\n".join(f"{name}: {p}" for name, ps in failures.items() for p in ps)


def test_the_corpus_is_mostly_readable(corpus_answers):
    # Guard against the comparison passing because both sides refuse everything.
    read = sum(1 for _, _, answer in corpus_answers if "commands" in answer)
    assert read >= len(corpus_answers) - 5


# Small files where a parser can go wrong; each is checked against BuildKit.
EDGE_CASES = {
    "end-of-flags": 'FROM x\nCOPY --chown=1 -- a /b/\nCMD --x -- [ "a", "b" ]\nRUN -- -- x\n',
    "quoted-flag-value": 'FROM x\nRUN --mount=type=cache,target="/a b" echo\n',
    "env-escapes-and-quotes": 'FROM x\nENV A="x y" B=c\\ d C=\'e f\' D="g\\"h"\nENV legacy some  "value"\n',
    "label-quoted-key": 'FROM x\nLABEL "k e y"="v" other=1\n',
    "arg-forms": 'ARG V=3\nARG W\nFROM python:${V}\nARG X="a b" Y\n',
    "copy-quoted-path": 'FROM x\nCOPY "a" b\\ c /d/\nADD ["x y", "/z"]\n',
    "crlf-heredoc": "FROM x\r\nRUN <<EOF\r\necho hi\r\nEOF\r\n",
    "two-heredocs-chomp-quoted": 'FROM x\nCOPY <<-"A" <<B /d/\n\ta $x\n\tA\nb\nB\n',
    "heredoc-fd": "FROM x\nRUN 3<<EOF cat /dev/fd/3\nhi\nEOF\n",
    "comment-blank-in-continuation": "FROM x\nRUN a \\\n  # note\n\n  && b\nCMD c\n",
    "trailing-space-after-backslash": "FROM x\nRUN a \\  \n\tb\n",
    "doubled-backslash-ends-line": "FROM x\nENV C a\\\\\nENV D x\n",
    "backtick-escape": "# escape=`\nFROM x\nRUN a `\n  b\nENV P=C:\\path\n",
    "lower-case-onbuild": "from python:3 as base\nonbuild run echo\nrun ['a']\n",
    "json-with-spaces": 'FROM x\nCMD [ "a" , "b" ]  \nENTRYPOINT ["x"] \n',
    "not-json": "FROM x\nCMD [a, b]\nRUN [\"unterminated\n",
    "continuation-at-eof": "FROM x\nRUN a \\",
    # An escape left at the very end is skipped, and a word of nothing but it is no word (found by
    # test_properties: `ARG C \ \` at the end of a file is one ARG, `C`).
    "escape-word-at-eof": "FROM x\nARG C \\ \\",
    "escape-word-at-eof-backtick": "# escape=`\nFROM x\nARG C ` `",
    "escape-ends-value-at-eof": "FROM x\nENV C=a\\ \\",
    "from-platform": "FROM --platform=$BUILDPLATFORM python:3.12 AS build\n",
    "healthcheck-shell": "FROM x\nHEALTHCHECK --interval=5s CMD curl -f x\nSHELL [\"/bin/sh\", \"-c\"]\n",
    "bom-directives": "\ufeff# syntax=docker/dockerfile:1\n# check=skip=all\nFROM x\n",
    # Go's json.Decoder reads the first JSON value and ignores the rest; NaN is not JSON to it.
    "json-then-text": 'FROM x\nRUN ["a", "b"] x\nCMD ["a"]]\nENTRYPOINT ["a"] ["b", 1]\n',
    "json-not-go-json": 'FROM x\nRUN ["a", NaN]\nCMD ["a", Infinity]\nRUN ["a" "b"]\nRUN ["a", "\\x"]\n',
    # The legacy `ENV key value` splits at the first blank even inside quotes (found by test_properties).
    "legacy-env-quoted-key": 'FROM x\nENV \'a b\'\nLABEL "k v" w\nENV a\t \t"b c"\n',
    "non-json-instructions-with-arrays": 'FROM x\nLABEL ["a", 1]\nEXPOSE ["a", 1]\nWORKDIR ["a", 1]\n',
}

# JSON arrays of non-strings: BuildKit refuses the file (it does not fall back to the shell form).
REFUSED_ARRAYS = ['RUN ["a", 1]', 'CMD ["a", null]', 'ENTRYPOINT ["a", {"b": 1}]', 'SHELL ["sh", 1]',
                  'COPY ["a", 1, "/b"]', 'ADD ["a", 2]', 'VOLUME [1]', 'RUN [1]x',
                  'RUN --mount=type=cache,target=/x ["a", 1]', 'HEALTHCHECK --interval=5s CMD ["a", 2]',
                  'ONBUILD COPY --chown=1 ["a", 1, "b"]']


def test_edge_cases_agree_with_buildkit():
    answers = parse_many(list(EDGE_CASES.values()))
    failures = {name: disagreements(text, answer) for (name, text), answer in zip(EDGE_CASES.items(), answers)}
    assert not any(failures.values()), {k: v for k, v in failures.items() if v}
    assert all("commands" in a for a in answers)  # BuildKit reads all of them: the comparison is real


@pytest.mark.parametrize("line", REFUSED_ARRAYS)
def test_a_json_array_of_non_strings_is_refused_like_buildkit(line):
    text = f"FROM x\n{line}\n"
    with pytest.raises(ParseError, match="arrays must be comprised of strings only") as err:
        parse(text)
    assert err.value.line == 2


def test_buildkit_refuses_the_same_arrays():
    answers = parse_many([f"FROM x\n{line}\n" for line in REFUSED_ARRAYS])
    assert all("strings only" in a.get("error", "") for a in answers), answers


# Lines BuildKit trims as Go's unicode.IsSpace does (found by test_properties: a "\x1f" line was
# blank to dockfix, an instruction to BuildKit; a "\v" line ended a continuation).
GO_BLANKS = {
    "vertical-tab-line": "FROM x\n\v\nRUN a\n",
    "nbsp-and-ideographic-space-in-continuation": "FROM x\nRUN a \\\n\xa0\n\u3000\n b\n",
    "comment-after-vertical-tab": "FROM x\n\v# c\nRUN a \\\n\f# d\n b\n",
    "line-separator": "FROM x\n\u2028\nCMD b\n",
}


def test_unicode_blanks_are_read_as_buildkit_does():
    answers = parse_many(list(GO_BLANKS.values()))
    for text, answer in zip(GO_BLANKS.values(), answers):
        assert parse(text).render() == text  # read, not refused as an unknown instruction
        assert "commands" in answer and not disagreements(text, answer)
    with pytest.raises(ParseError, match="unknown instruction"):  # not blank to Go: BuildKit's instruction "\x1f"
        parse("FROM x\n\x1f\n")


def test_the_comparison_notices_a_difference():
    text = "FROM x\nRUN --mount=type=cache,target=/a echo\n"
    answer = parse_many([text])[0]
    answer["commands"][1]["flags"] = ["--mount=type=cache,target=/b"]
    answer["commands"][1]["end_line"] = 3
    problems = disagreements(text, answer)
    assert any("flags" in p for p in problems) and any("lines" in p for p in problems)
