"""Start and stop the lab's own Docker engine.

The lab never talks to a user's docker: its dockerd has its own data root,
exec root, socket, pidfile and bridge, and every docker command the lab runs
points at that socket through ``Engine.env``.  The data root persists between
runs as a cache (base images, nothing else is relied on).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DATA_ROOT = Path(os.environ.get("DOCKFIX_LAB_DATA_ROOT", "/var/lib/dockfix-lab"))
RUN_DIR = Path(os.environ.get("DOCKFIX_LAB_RUN_DIR", "/run/dockfix-lab"))
SOCKET = RUN_DIR / "docker.sock"
PIDFILE = RUN_DIR / "dockerd.pid"
BRIDGE = "dockfixlab0"
BRIDGE_CIDR = "10.213.77.1/24"
DOCKERD = "/usr/sbin/dockerd"
DOCKER = "/usr/bin/docker"  # Debian's docker-cli, which finds Debian's buildx plugin
SETUP = Path(__file__).resolve().parents[1] / ".ci" / "lab-setup"


class EngineUnavailable(RuntimeError):
    """No engine could be started: the reason says why."""


class BuilderUnavailable(EngineUnavailable):
    """The buildx builder --builder names is unknown or does not answer."""


@dataclass
class Engine:
    socket: Path = SOCKET
    started_here: bool = False
    proc: subprocess.Popen | None = None
    log_path: Path = RUN_DIR / "dockerd.log"
    env: dict[str, str] = field(default_factory=dict)
    lockfile: object = None
    builder: str | None = None  # a buildx builder to build on (None: this engine's own BuildKit)

    def docker(self, *args: str, check: bool = True, capture: bool = True,
               timeout: float | None = None, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(
            [DOCKER, *args], env=self.env, check=check, text=True,
            capture_output=capture, timeout=timeout, **kw,
        )

    def version(self) -> str:
        r = self.docker("version", "--format", "{{.Server.Version}}", check=False, timeout=20)
        return r.stdout.strip() if r.returncode == 0 else ""

    def stop(self) -> None:
        """Stop dockerd if this process started it (never anyone else's), and
        release the lab's lock."""
        try:
            self._stop_daemon()
        finally:
            if self.lockfile is not None:
                self.lockfile.close()
                self.lockfile = None

    def _stop_daemon(self) -> None:
        if not self.started_here:
            return
        pid = _read_pid()
        if pid:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            for _ in range(150):
                if not _alive(pid):
                    break
                time.sleep(0.2)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.started_here = False
        ip = shutil.which("ip")
        if ip:  # the bridge was made for this daemon
            subprocess.run([ip, "link", "del", BRIDGE], capture_output=True)

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def client_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DOCKER_HOST"] = f"unix://{SOCKET}"
    env["DOCKER_BUILDKIT"] = "1"
    # Own client config: no user credentials or contexts are read or written.
    cfg = RUN_DIR / "client-config"
    cfg.mkdir(parents=True, exist_ok=True)
    env["DOCKER_CONFIG"] = str(cfg)
    env.pop("DOCKER_CONTEXT", None)
    env["BUILDX_NO_DEFAULT_ATTESTATIONS"] = "1"
    return env


def lock(log=print):
    """Hold the lab's lock for one run (two runs on one engine would prune each
    other's build cache and overwrite each other's tags); close it to release."""
    import fcntl

    RUN_DIR.mkdir(parents=True, exist_ok=True)
    f = open(RUN_DIR / "lab.lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("lab: another lab run holds the engine; waiting for it")
        fcntl.flock(f, fcntl.LOCK_EX)
    return f


def use_builder(eng: Engine, name: str) -> None:
    """Build on the buildx builder `name` from now on; raises EngineUnavailable naming it
    when the engine's buildx does not know it or it does not answer."""
    r = eng.docker("buildx", "inspect", "--bootstrap", name, check=False, timeout=300)
    if r.returncode != 0:
        known = eng.docker("buildx", "ls", check=False, timeout=60).stdout.strip()
        raise BuilderUnavailable(f"buildx builder {name!r} is not usable: {(r.stdout + r.stderr).strip()[-800:]}\n"
                                f"builders known to the lab's client (`docker buildx ls`):\n{known}")
    eng.builder = name


def _read_pid() -> int | None:
    try:
        return int(PIDFILE.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as dead
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def missing_reason() -> str | None:
    """Why an engine cannot be started here, or None if it can be tried."""
    if os.geteuid() != 0:
        return "the lab starts its own dockerd and needs root"
    for path in (DOCKERD, DOCKER, "/usr/libexec/docker/cli-plugins/docker-buildx"):
        if not os.access(path, os.X_OK):
            return f"{path} is missing: run `bash .ci/lab-setup` (installs docker.io 26 + docker-buildx)"
    return None


def _ensure_bridge() -> None:
    """A bridge of the lab's own, so a user's docker0 is never touched."""
    ip = shutil.which("ip")
    if ip is None:
        raise EngineUnavailable("`ip` (iproute2) is missing: cannot create the lab's bridge")
    if subprocess.run([ip, "link", "show", BRIDGE], capture_output=True).returncode != 0:
        subprocess.run([ip, "link", "add", "name", BRIDGE, "type", "bridge"], check=True)
        subprocess.run([ip, "addr", "add", BRIDGE_CIDR, "dev", BRIDGE], check=True)
    subprocess.run([ip, "link", "set", BRIDGE, "up"], check=True)


def ensure_installed(log=print) -> None:
    """Install the engine and debootstrap with .ci/lab-setup when they are missing, so
    a clean machine runs the lab with no step by hand (root only; it uses apt).
    DOCKFIX_LAB_INSTALL=0 turns this off."""
    if missing_reason() is None and shutil.which("debootstrap"):
        return
    if os.geteuid() != 0 or os.environ.get("DOCKFIX_LAB_INSTALL") == "0":
        return
    log("lab: the Docker engine or debootstrap is missing: installing them with .ci/lab-setup")
    r = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise EngineUnavailable(f".ci/lab-setup failed with exit {r.returncode}: {(r.stdout + r.stderr)[-1500:]}")


def start(timeout: float = 60.0, log=print) -> Engine:
    """Take the lab's lock, then reuse the lab's dockerd if it already answers,
    otherwise start one (installing the engine first when it is missing).
    ``Engine.stop()`` stops what was started here and releases the lock."""
    ensure_installed(log)
    reason = missing_reason()
    if reason:
        raise EngineUnavailable(reason)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    env = client_env()
    eng = Engine(env=env, lockfile=lock(log))
    try:
        return _start(eng, timeout)
    except BaseException:
        eng.stop()
        raise


def _start(eng: Engine, timeout: float) -> Engine:
    if SOCKET.exists() and eng.version():
        return eng  # left running (e.g. by hand): reuse it, and leave it running
    pid = _read_pid()
    if pid and _alive(pid):
        raise EngineUnavailable(f"a lab dockerd (pid {pid}) is running but does not answer on {SOCKET}")
    _ensure_bridge()
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    cmd = [
        DOCKERD,
        "--data-root", str(DATA_ROOT),
        "--exec-root", str(RUN_DIR / "exec"),
        "--host", f"unix://{SOCKET}",
        "--pidfile", str(PIDFILE),
        "--bridge", BRIDGE,
        "--storage-driver", "overlay2",
        "--userland-proxy=true",
    ]
    log = open(eng.log_path, "ab")
    eng.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    eng.started_here = True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if eng.proc.poll() is not None:
            tail = eng.log_path.read_text(errors="replace")[-2000:]
            eng.started_here = False
            raise EngineUnavailable(f"dockerd exited with {eng.proc.returncode}:\n{tail}")
        if SOCKET.exists() and eng.version():
            return eng
        time.sleep(0.5)
    eng._stop_daemon()
    raise EngineUnavailable(f"dockerd did not answer on {SOCKET} within {timeout:.0f}s")
