"""BuildKit's own Dockerfile parser as a test oracle, run in a subprocess.

The `dockerfile` package wraps BuildKit's Go parser in a shared object. It is
archived and a crash in Go would take the test process with it, so it is
only ever loaded here, in a child process:

    python tests/oracle_parse.py < request.json > answer.json

The request is JSON: {"texts": [...]} answers one result per text, either
{"commands": [...]} (each command as plain JSON), {"error": "..."} or, when
the binding itself cannot hand the result over, {"unanswered": "..."};
{"texts": [...], "repeat": N, "time": true} answers {"seconds": S, "files": F}
for N parses of every text (the benchmark's BuildKit figure, timed inside
the child so start-up does not count).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path


def _command(cmd) -> dict:
    return {
        "cmd": cmd.cmd,
        "sub_cmd": cmd.sub_cmd,
        "json": cmd.json,
        "flags": list(cmd.flags),
        "value": list(cmd.value),
        "start_line": cmd.start_line,
        "end_line": cmd.end_line,
        "heredocs": [{"name": h.name, "content": h.content} for h in cmd.heredocs],
    }


def _answer(request: dict) -> dict | list:
    import dockerfile

    texts = request["texts"]
    if request.get("time"):
        repeat = int(request.get("repeat", 1))
        began = time.perf_counter()
        for _ in range(repeat):
            for text in texts:
                try:
                    dockerfile.parse_string(text)
                except dockerfile.GoParseError:
                    pass
        return {"seconds": time.perf_counter() - began, "files": repeat * len(texts)}
    out = []
    for text in texts:
        try:
            out.append({"commands": [_command(c) for c in dockerfile.parse_string(text)]})
        except dockerfile.GoParseError as err:
            out.append({"error": str(err)})
        except UnicodeDecodeError as err:
            # The binding's C strings can cut a multi-byte character (seen with generated text
            # holding characters outside the BMP): no answer for this text, the others still count.
            out.append({"unanswered": str(err)})
    return out


def ask(request: dict, timeout: float = 120) -> dict | list:
    """Run the oracle in a child process (the caller never loads the Go library)."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve())],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the BuildKit oracle failed (exit {done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout)


def parse_many(texts: list[str]) -> list[dict]:
    """BuildKit's parse of each text: {"commands": [...]} or {"error": "..."}."""
    return ask({"texts": texts})  # type: ignore[return-value]


if __name__ == "__main__":
    json.dump(_answer(json.load(sys.stdin)), sys.stdout)
