"""The per-step build times (`python -m lab --steps`, lab/steps.py), fed fake build logs."""

from __future__ import annotations

import json

from lab import steps

COLD = """\
#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 310B done
#1 DONE 0.1s
#4 [builder 1/4] FROM docker.io/library/python:3.11
#4 DONE 0.0s
#6 [builder 3/4] RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-install-project
#6 0.301 Resolved 12 packages
#7 [stage-1 2/3] RUN apt-get update && apt-get install -y libpq5
#7 0.512 Get:1 http://deb.debian.org/debian bookworm InRelease
#6 [builder 3/4] RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-install-project
#6 DONE 2.5s
#7 DONE 12.25s
#8 [builder 4/4] COPY . .
#8 DONE 0.1s
#9 [builder 4/4] COPY . .
#9 DONE 0.2s
#10 exporting to image
#10 exporting layers 0.3s done
#10 DONE 0.4s
"""


def test_parse_reads_each_vertex_once_with_its_own_time():
    got = steps.parse(COLD)
    assert [s.name for s in got][:3] == [
        "[internal] load build definition from Dockerfile", "[builder 1/4] FROM docker.io/library/python:3.11",
        "[builder 3/4] RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-install-project"]
    by = {s.name: s for s in got}
    assert by["[stage-1 2/3] RUN apt-get update && apt-get install -y libpq5"].seconds == 12.25
    assert by["exporting to image"].seconds == 0.4  # the sub-progress line "0.3s done" is not the end
    assert len(got) == 7  # the repeated header of #6 is the same vertex; #8 and #9 are two


def test_parse_marks_cached_failed_and_unfinished_steps():
    log = "#5 [2/3] COPY a .\n#5 CACHED\n#6 [3/3] RUN false\n#6 ERROR: process did not complete\n#7 [x] RUN sleep 9\n"
    got = steps.parse(log)
    assert [(s.status, s.seconds, s.cached) for s in got] == [
        ("cached", None, True), ("error", None, False), ("running", None, False)]


def test_short_names_leave_out_mounts_and_are_cut():
    assert steps.short("[b 3/4] RUN --mount=type=cache,target=/root/.cache/uv   uv sync") == "[b 3/4] RUN uv sync"
    long = steps.short("RUN " + "x" * 200)
    assert len(long) == steps.NAME_WIDTH and long.endswith("…")


def test_table_matches_steps_across_repetitions_by_name_and_order():
    r1 = steps.parse(COLD)
    r2 = steps.parse(COLD.replace("#6 DONE 2.5s", "#6 CACHED").replace("#9 DONE 0.2s", "#9 DONE 0.7s"))
    lines = steps.table([r1, r2], walls=[14.0])
    assert lines[0] == "| step | r1 s | r2 s |"
    assert "| [builder 3/4] RUN uv sync --locked --no-install-project | 2.5 | cached |" in lines
    copies = [ln for ln in lines if ln.startswith("| [builder 4/4] COPY . . |")]
    assert copies == ["| [builder 4/4] COPY . . | 0.1 | 0.1 |", "| [builder 4/4] COPY . . | 0.2 | 0.7 |"]
    assert lines[-2] == "| *sum of step times* | 15.5 | 13.5 |"
    assert lines[-1] == "| *wall-clock build* | 14.0 |  |"


def test_a_step_only_one_repetition_ran_leaves_the_other_cell_empty():
    lines = steps.table([steps.parse("#1 [1/2] RUN a\n#1 DONE 1.0s\n"), steps.parse("#1 [1/2] RUN b\n#1 DONE 2.0s\n")])
    assert "| [1/2] RUN a | 1.0 |  |" in lines and "| [1/2] RUN b |  | 2.0 |" in lines


def test_a_pipe_in_a_step_name_does_not_break_the_table():
    lines = steps.table([steps.parse("#1 [1/1] RUN a | b\n#1 DONE 1.0s\n")])
    assert "| [1/1] RUN a \\| b | 1.0 |" in lines


def test_report_reads_the_logs_a_run_left_and_its_wall_clock_times(tmp_path):
    (tmp_path / "demo.dockfix.cold.log").write_text(COLD)
    (tmp_path / "demo.dockfix.cold.r2.log").write_text(COLD)
    (tmp_path / "demo.dockfix.cold.r3.log").write_text(COLD)  # an older run's, with --repeat 3
    (tmp_path / "demo.original.dep.log").write_text("#1 [1/1] RUN pip install -r r.txt\n#1 DONE 3.0s\n")
    (tmp_path / "latest.json").write_text(json.dumps({"meta": {"repeat": 2}, "results": [
        {"fixture": "demo", "variant": "dockfix", "cold_samples": [15.0, 16.5]}]}))
    text = steps.report(tmp_path)
    assert "### demo, cold build: dockfix" in text and "| step | r1 s | r2 s |" in text
    assert "| *wall-clock build* | 15.0 | 16.5 |" in text
    assert "### demo, dependency-change rebuild: original" in text
    assert "| [1/1] RUN pip install -r r.txt | 3.0 |" in text
    assert "expert" not in text and "code-change" not in text  # no logs: no table
    assert "No build logs" in steps.report(tmp_path, ["other"])


def test_the_steps_command_names_a_missing_folder(tmp_path, capsys):
    assert steps.main([str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    (tmp_path / "demo.original.cold.log").write_text("#1 [1/1] RUN true\n#1 DONE 0.2s\n")
    assert steps.main([str(tmp_path), "demo"]) == 0
    assert "| [1/1] RUN true | 0.2 |" in capsys.readouterr().out


def test_the_clients_own_line_and_steps_done_in_no_time_are_left_out():
    log = '#0 building with "default" instance using docker driver\n\n#1 [1/2] FROM x\n#1 DONE 0.0s\n' \
          "#2 [2/2] RUN a\n#2 DONE 0.4s\n#3 [2/2] COPY b .\n#3 CACHED\n"
    assert [s.name for s in steps.parse(log)] == ["[1/2] FROM x", "[2/2] RUN a", "[2/2] COPY b ."]
    lines = steps.table([steps.parse(log)])
    assert not any("FROM x" in ln for ln in lines) and "| [2/2] COPY b . | cached |" in lines


def test_the_lab_command_prints_and_writes_the_steps_after_its_builds(tmp_path, monkeypatch, capsys):
    from lab import __main__ as lab_main

    def fake_run(variants, rebuilds, out_dir, fxs, builder, repeat):
        (out_dir / "latest.md").write_text("the table\n")
        for fx in fxs:
            (out_dir / f"{fx.name}.original.cold.log").write_text("#1 [1/1] RUN uv sync\n#1 DONE 1.5s\n")
        return [], {}

    monkeypatch.setattr(lab_main, "run", fake_run)
    assert lab_main.main(["lab/fixtures/uv-run", "--steps", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "the table" in out and "### uv-run, cold build: original" in out and "| [1/1] RUN uv sync | 1.5 |" in out
    assert "| [1/1] RUN uv sync | 1.5 |" in (tmp_path / "steps.md").read_text()
    plain = tmp_path / "plain"
    plain.mkdir()
    assert lab_main.main(["lab/fixtures/uv-run", "--out", str(plain)]) == 0
    assert not (plain / "steps.md").exists() and "### uv-run" not in capsys.readouterr().out
