"""Build one fixture variant, smoke-test it, and time its rebuilds.

Variants: ``original`` (the naive Dockerfile), ``dockfix`` (the same after
``dockfix --write --unsafe-fixes``: every rewrite, the multi-stage split included) and ``expert`` (expert.Dockerfile).  A cold build starts
from an empty build cache (``docker builder prune -af``; base images stay),
then the lab times a rebuild after a code-only change and one after a
dependency change, in that order, in the same context.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import bases
from .engine import Engine
from .fixtures import Fixture, Smoke

VARIANTS = ("original", "dockfix", "expert")
CONFIG_KEYS = ("Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Env", "Labels",
               "Volumes", "Healthcheck", "StopSignal", "Shell")
SYNTAX_LINE = re.compile(rb"^\s*#\s*syntax\s*=.*(\r?\n|$)", re.IGNORECASE)
DIRECTIVE_LINE = re.compile(rb"^\s*#\s*[a-zA-Z]+\s*=.*(\r?\n|$)")


@dataclass
class VariantResult:
    fixture: str
    variant: str
    status: str = "not run"  # ok | build failed | smoke failed | not run | error
    reason: str = ""
    dockfix_exit: int | None = None
    changed: bool | None = None  # dockfix variant: dockfix changed the Dockerfile
    dropped_syntax: bool = False
    size_bytes: int | None = None
    cold_s: float | None = None
    code_rebuild_s: float | None = None
    code_reruns: list[str] | None = None  # RUN steps a code-only change re-ran (not CACHED)
    dep_rebuild_s: float | None = None
    smoke_output: str = ""
    smoke_after_changes: str = ""  # "ok", "failed: ...", "" when not run
    config: dict = field(default_factory=dict)
    config_diff: list[str] = field(default_factory=list)
    log: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def drop_syntax_directive(dockerfile: Path) -> bool:
    """Remove a ``# syntax=`` parser directive (BuildKit would pull the frontend
    image, and there is no registry here); the built-in frontend builds instead."""
    data = dockerfile.read_bytes()
    head, pos, dropped = b"", 0, False
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        pos = 3
    out = bytearray(data[:pos])
    while True:
        m = DIRECTIVE_LINE.match(data, pos)
        if not m:
            break
        line = data[pos:m.end()]
        if SYNTAX_LINE.match(line):
            dropped = True
        else:
            out += line
        pos = m.end()
    del head
    if dropped:
        dockerfile.write_bytes(bytes(out) + data[pos:])
    return dropped


def dockfix_command() -> list[str] | None:
    """How to run the dockfix CLI, or None if it is not installed."""
    exe = shutil.which("dockfix", path=str(Path(sys.executable).parent))
    if exe:
        return [exe]
    try:
        import dockfix.cli  # noqa: F401
    except Exception:
        return None
    return [sys.executable, "-m", "dockfix"]


def run_dockfix(dockerfile: Path) -> tuple[int | None, str]:
    cmd = dockfix_command()
    if cmd is None:
        return None, "dockfix CLI is not installed in this environment"
    r = subprocess.run([*cmd, "--write", "--unsafe-fixes", str(dockerfile)], capture_output=True, text=True,
                       timeout=300, cwd=dockerfile.parent)
    return r.returncode, (r.stdout + r.stderr)[-4000:]


_STEP = re.compile(r"^#(\d+) \[[^\]]*\] (RUN .*)$", re.MULTILINE)
_CACHED = re.compile(r"^#(\d+) CACHED$", re.MULTILINE)


def rerun_steps(log: str) -> list[str]:
    """The RUN steps a build executed rather than took from the cache, from a
    `--progress=plain` log: the mechanism behind a slow or fast rebuild, and
    unlike wall-clock seconds it does not depend on how fast the network is."""
    cached = set(_CACHED.findall(log))
    seen: dict[str, str] = {}
    for step, command in _STEP.findall(log):
        seen.setdefault(step, command)
    return [command[:100] for step, command in seen.items() if step not in cached]


def build(engine: Engine, ctx: Path, tag: str, log_path: Path | None,
          build_args: tuple[tuple[str, str], ...] = ()) -> tuple[bool, float, str]:
    """Build on the engine's own BuildKit, or on the buildx builder `engine.builder` names
    (`--load` brings the image back to the engine for the smoke test, size and config);
    `build_args` are the fixture's [build] args."""
    on = ("buildx", "build", "--builder", engine.builder, "--load") if engine.builder else ("build",)
    args = [f"--build-arg={k}={v}" for k, v in build_args]
    t0 = time.monotonic()
    r = engine.docker(*on, "--progress=plain", *args, "-t", tag, "-f", str(ctx / "Dockerfile"),
                      str(ctx), check=False, timeout=1800)
    elapsed = time.monotonic() - t0
    text = r.stdout + r.stderr
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(text)
    return r.returncode == 0, elapsed, text


def cold_build(engine: Engine, ctx: Path, tag: str, log_path: Path | None,
               build_args: tuple[tuple[str, str], ...] = ()):
    engine.docker("image", "rm", "-f", tag, check=False)
    prune_build_cache(engine)
    return build(engine, ctx, tag, log_path, build_args)


def prune_build_cache(engine: Engine) -> None:
    if engine.builder:
        engine.docker("buildx", "prune", "--builder", engine.builder, "-af", check=False, timeout=600)
    else:
        engine.docker("builder", "prune", "-af", check=False, timeout=600)


def smoke_test(engine: Engine, tag: str, smoke: Smoke) -> tuple[bool, str]:
    if smoke.command is not None:
        try:
            r = engine.docker("run", "--rm", tag, *smoke.command, check=False, timeout=smoke.timeout)
        except subprocess.TimeoutExpired:
            return False, f"command did not finish within {smoke.timeout:.0f}s"
        out = (r.stdout + r.stderr).strip()
        if r.returncode != 0:
            return False, f"exit {r.returncode}: {out[-1500:]}"
        return (smoke.expect in out), out[-1500:]
    return _smoke_http(engine, tag, smoke)


def _smoke_http(engine: Engine, tag: str, smoke: Smoke) -> tuple[bool, str]:
    r = engine.docker("run", "-d", "-p", f"127.0.0.1::{smoke.http_port}", tag, check=False)
    if r.returncode != 0:
        return False, f"docker run failed: {r.stderr.strip()}"
    cid = r.stdout.strip()
    try:
        port = engine.docker("port", cid, str(smoke.http_port)).stdout.split("\n")[0].rsplit(":", 1)[1]
        url = f"http://127.0.0.1:{port}{smoke.http_path}"
        deadline = time.monotonic() + smoke.timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    body = resp.read().decode(errors="replace")
                ok = smoke.expect in body
                return ok, f"GET {smoke.http_path} -> {resp.status}: {body[:500]}"
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = str(e)
            state = engine.docker("inspect", "-f", "{{.State.Running}}", cid, check=False).stdout.strip()
            if state == "false":
                break
            time.sleep(0.5)
        logs = engine.docker("logs", cid, check=False)
        return False, f"no answer from {url} ({last}); container log:\n{(logs.stdout + logs.stderr)[-1500:]}"
    finally:
        engine.docker("rm", "-f", "-v", cid, check=False)


def image_config(engine: Engine, tag: str) -> tuple[dict, int]:
    data = json.loads(engine.docker("image", "inspect", tag).stdout)[0]
    cfg = data.get("Config") or {}
    return {k: cfg.get(k) for k in CONFIG_KEYS}, int(data.get("Size", 0))


def _norm(v):
    return None if v in (None, {}, [], "") else v


def _venv_dir(entry: str) -> bool:
    return entry.rstrip("/").endswith(("/.venv/bin", "/venv/bin")) or "venv" in entry.split("/")


def compare_config(original: dict, candidate: dict) -> list[str]:
    """Differences that change behaviour; dockfix may add UV_* variables,
    VIRTUAL_ENV and put a virtualenv's bin folder on PATH."""
    diffs = []
    for key in CONFIG_KEYS:
        if key == "Env":
            continue
        a, b = _norm(original.get(key)), _norm(candidate.get(key))
        if a != b:
            diffs.append(f"{key}: {a!r} -> {b!r}")
    env_a = dict(e.split("=", 1) for e in original.get("Env") or [])
    env_b = dict(e.split("=", 1) for e in candidate.get("Env") or [])
    for k in sorted(env_a.keys() | env_b.keys()):
        va, vb = env_a.get(k), env_b.get(k)
        if va == vb:
            continue
        if va is None and (k.startswith("UV_") or k == "VIRTUAL_ENV"):
            continue
        if k == "PATH" and va is not None and vb is not None:
            pa = [p for p in va.split(":") if not _venv_dir(p)]
            pb = [p for p in vb.split(":") if not _venv_dir(p)]
            if pa == pb:
                continue
        diffs.append(f"Env {k}: {va!r} -> {vb!r}")
    return diffs


def run_variant(engine: Engine, fx: Fixture, variant: str, work: Path, logs: Path | None,
                rebuilds: bool = True, log=print, dependency: Path | None = None) -> VariantResult:
    """Build one variant cold, smoke-test it, then time the two rebuilds; `dependency` is the
    overlay Fixture.prepare_dependency_change made (the same lockfile for every variant)."""
    res = VariantResult(fixture=fx.name, variant=variant)
    if variant == "expert" and not fx.has_expert:
        res.reason = "no expert.Dockerfile"
        return res
    ctx = work / f"{fx.name}-{variant}"
    if ctx.exists():
        shutil.rmtree(ctx)
    dockerfile = fx.copy_context(ctx, variant)
    if variant == "dockfix":
        code, out = run_dockfix(dockerfile)
        res.dockfix_exit = code
        if code is None:
            res.reason = out
            return res
        if code not in (0, 1):
            res.status, res.reason = "error", f"dockfix --write exited {code}: {out}"
            return res
        (logs / f"{fx.name}.dockfix.Dockerfile").write_bytes(dockerfile.read_bytes()) if logs else None
        res.changed = dockerfile.read_bytes() != fx.dockerfile.read_bytes()
    res.dropped_syntax = drop_syntax_directive(dockerfile)
    missing = bases.ensure_for(engine, [dockerfile.read_text(errors="replace")], log)
    if missing:
        res.status, res.reason = "error", f"no local image for {', '.join(missing)}"
        return res
    tag = f"dockfix-lab/{fx.name}:{variant}"
    logp = (lambda step: logs / f"{fx.name}.{variant}.{step}.log") if logs else (lambda step: None)
    log(f"lab: {fx.name} [{variant}] cold build")
    ok, res.cold_s, tail = cold_build(engine, ctx, tag, logp("cold"), fx.build_args)
    if not ok:
        res.status, res.reason, res.log = "build failed", "cold build failed", tail[-3000:]
        return res
    res.config, res.size_bytes = image_config(engine, tag)
    ok, res.smoke_output = smoke_test(engine, tag, fx.smoke)
    if not ok:
        res.status, res.reason = "smoke failed", f"expected {fx.smoke.expect!r}"
        return res
    res.status = "ok"
    if not rebuilds:
        return res
    def rebuild(what: str, failed: str, step: str) -> tuple[bool, float | None, str]:
        log(f"lab: {fx.name} [{variant}] rebuild after a {what}")
        ok, secs, tail = build(engine, ctx, tag, logp(step), fx.build_args)
        if not ok:
            res.smoke_after_changes = f"failed: rebuild after {failed} failed"
            res.log = tail[-3000:]
        return ok, secs if ok else None, tail

    if fx.apply_code_change(ctx, 1):
        ok, res.code_rebuild_s, tail = rebuild("code-only change", "code change", "code")
        if not ok:
            return res
        res.code_reruns = rerun_steps(tail)
    if fx.apply_dependency_change(ctx, dependency):
        ok, res.dep_rebuild_s, _ = rebuild("dependency change", "dependency change", "dep")
        if not ok:
            return res
    ok, out = smoke_test(engine, tag, fx.smoke)
    res.smoke_after_changes = "ok" if ok else f"failed: {out[-300:]}"
    return res


def run_fixture(engine: Engine, fx: Fixture, work: Path, logs: Path | None,
                variants=VARIANTS, rebuilds: bool = True, log=print) -> list[VariantResult]:
    out = []
    try:
        dependency = fx.prepare_dependency_change(work) if rebuilds else None
    except Exception as e:  # the project's tool could not re-lock: every variant says so
        return [VariantResult(fixture=fx.name, variant=v, status="error",
                              reason=f"dependency change: {e}"[:2000]) for v in variants]
    for v in variants:
        try:
            out.append(run_variant(engine, fx, v, work, logs, rebuilds, log, dependency))
        except Exception as e:  # one bad variant never stops the batch
            out.append(VariantResult(fixture=fx.name, variant=v, status="error", reason=repr(e)[:2000]))
    by = {r.variant: r for r in out}
    orig = by.get("original")
    for r in out:
        if r.variant != "original" and r.config and orig is not None and orig.config:
            r.config_diff = compare_config(orig.config, r.config)
    return out
