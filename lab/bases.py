"""Honest local stand-ins for the official base images (no registry here).

* ``debian:bookworm-slim``: ``debootstrap --variant=minbase bookworm``, slimmed
  like the official image (no docs/man/locales, dpkg excludes them later too).
  Like the official image it has no ca-certificates (no CA bundle: ``curl
  https://...`` fails); the host's CA bundle waits, inert, in
  ``/usr/local/share/ca-certificates/`` and joins the bundle only when the
  ca-certificates package is installed (its postinst runs
  update-ca-certificates), so "trusts PyPI through the proxy" here means what
  "trusts PyPI" means on the official image: ca-certificates is installed.
* ``python:3.11-slim``: Debian's python3.11 (bookworm's Python *is* 3.11) with
  pip and venv; ``/usr/local/bin/python{,3,3.11}`` link to ``/usr/bin/python3.11``
  so a venv made in one image finds the same interpreter path in the other,
  as with the official images where Python lives under /usr/local.
* ``python:3.11``: the same Python plus buildpack-deps' compilers and -dev
  libraries (gcc, libpq-dev, ...), like the official full image.
* ``ghcr.io/astral-sh/uv:<version>``: ``FROM scratch`` with ``/uv`` and ``/uvx``
  taken from the PyPI wheel of that version.

All Python images trust the host's CA bundle (the TLS-intercepting proxy),
copied after ca-certificates is installed, and export SSL_CERT_FILE, PIP_CERT,
REQUESTS_CA_BUNDLE and UV_SYSTEM_CERTS; PEP 668's EXTERNALLY-MANAGED marker is
removed so ``pip install`` works system-wide as in the official images.

Every image is keyed by a hash of its recipe (recipe text, parent hash, CA
bundle): a second tag ``dockfix-lab-recipe:<hash>`` marks an image as built
from that recipe, so reruns skip it.  Nothing else of the data root is trusted.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .engine import Engine

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MIRROR = "http://deb.debian.org/debian"
DEFAULT_UV_VERSION = "0.13.9"  # what ``latest`` or a partial tag resolves to here
RECIPE_REPO = "dockfix-lab-recipe"

SLIMIFY = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
"""

# the apt.conf.d files of the official debian images (debuerreotype)
APT_CONF = {
    "docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
    ),
    "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
}

SOURCES = f"""\
Types: deb
URIs: {MIRROR}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""

PY_ENV = """\
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    LANG=C.UTF-8 \\
    PYTHON_VERSION=3.11.2 \\
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \\
    UV_SYSTEM_CERTS=1
"""

PY_LINKS = """\
    && rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED \\
    && for n in python python3 python3.11; do ln -sf /usr/bin/python3.11 /usr/local/bin/$n; done \\
    && for n in pip pip3 pip3.11; do printf '#!/bin/sh\\nexec /usr/bin/python3.11 -m pip "$@"\\n' > /usr/local/bin/$n; chmod 755 /usr/local/bin/$n; done \\
    && mkdir -p /usr/local/lib/python3.11/dist-packages \\
"""

PY_SLIM = f"""\
FROM debian:bookworm-slim
{PY_ENV}RUN apt-get update \\
    && apt-get install -y --no-install-recommends ca-certificates netbase tzdata \\
       python3 python3-pip python3-venv \\
{PY_LINKS}    && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
"""

# buildpack-deps:bookworm (curl + scm + the compilers and -dev libraries)
BUILDPACK = (
    "ca-certificates curl gnupg netbase wget git openssh-client procps "
    "autoconf automake bzip2 dpkg-dev file g++ gcc libbz2-dev libc6-dev "
    "libcurl4-openssl-dev libdb-dev libevent-dev libffi-dev libgdbm-dev libglib2.0-dev "
    "libgmp-dev libjpeg-dev libkrb5-dev liblzma-dev libmaxminddb-dev libncurses5-dev "
    "libncursesw5-dev libpng-dev libpq-dev libreadline-dev libsqlite3-dev libssl-dev "
    "libtool libwebp-dev libxml2-dev libxslt1-dev libyaml-dev make patch unzip xz-utils "
    "zlib1g-dev default-libmysqlclient-dev imagemagick libmagickwand-dev"
)

PY_FULL = f"""\
FROM debian:bookworm-slim
{PY_ENV}RUN rm -f /etc/dpkg/dpkg.cfg.d/docker-slim \\
    && apt-get update \\
    && apt-get install -y --no-install-recommends {BUILDPACK} \\
       python3 python3-dev python3-pip python3-venv tzdata \\
{PY_LINKS}    && rm -rf /var/lib/apt/lists/*
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
CMD ["python3"]
"""

UV_IMAGE = """\
FROM python:3.11-slim AS fetch
ARG UV_VERSION
RUN pip download --no-deps --only-binary=:all: --dest /w "uv==${UV_VERSION}" \\
    && python3 -m zipfile -e /w/uv-*.whl /x \\
    && mkdir /out && install -m 755 /x/uv-*.data/scripts/uv /x/uv-*.data/scripts/uvx /out/

FROM scratch
COPY --from=fetch /out/uv /out/uvx /
ENTRYPOINT ["/uv"]
"""


@dataclass
class Recipe:
    tags: list[str]
    kind: str  # "debootstrap" or "dockerfile"
    text: str
    parents: list["Recipe"] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    needs_ca: bool = False

    def digest(self) -> str:
        h = hashlib.sha256()
        h.update(json.dumps([self.tags, self.kind, self.text, sorted(self.build_args.items())]).encode())
        for p in self.parents:
            h.update(p.digest().encode())
        if self.needs_ca:
            h.update(hashlib.sha256(ca_bytes()).hexdigest().encode())
        return h.hexdigest()[:20]


def ca_bytes() -> bytes:
    try:
        return CA_BUNDLE.read_bytes()
    except OSError:
        return b""


LOCAL_CA = "usr/local/share/ca-certificates/dockfix-lab-host.crt"
DEBIAN_SLIM = Recipe(
    tags=["debian:bookworm-slim", "debian:12-slim"],
    kind="debootstrap",
    text=f"debootstrap --variant=minbase bookworm {MIRROR}\n{SOURCES}\n{SLIMIFY}\n{APT_CONF}\n/{LOCAL_CA}",
    needs_ca=True,
)
PYTHON_SLIM = Recipe(
    tags=["python:3.11-slim", "python:3.11-slim-bookworm"],
    kind="dockerfile", text=PY_SLIM, parents=[DEBIAN_SLIM], needs_ca=True,
)
PYTHON_FULL = Recipe(
    tags=["python:3.11", "python:3.11-bookworm"],
    kind="dockerfile", text=PY_FULL, parents=[DEBIAN_SLIM], needs_ca=True,
)


def uv_recipe(tag: str) -> Recipe:
    version = uv_version_for_tag(tag)
    return Recipe(
        tags=[f"ghcr.io/astral-sh/uv:{tag}"], kind="dockerfile", text=UV_IMAGE,
        parents=[PYTHON_SLIM], build_args={"UV_VERSION": version},
    )


def uv_version_for_tag(tag: str) -> str:
    if re.fullmatch(r"\d+\.\d+\.\d+", tag):
        return tag
    if tag == "latest" or re.fullmatch(r"\d+\.\d+", tag):
        return DEFAULT_UV_VERSION
    raise ValueError(f"uv image tag {tag!r} has no local stand-in (use a plain version)")


STANDARD = {t: r for r in (DEBIAN_SLIM, PYTHON_SLIM, PYTHON_FULL) for t in r.tags}
IMAGE_REF = re.compile(r"(?im)^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)|--from=(\S+)")


GLOBAL_ARG = re.compile(r"""(?im)^\s*ARG\s+([A-Za-z_]\w*)=("[^"]*"|'[^']*'|\S*)\s*$""")
ARG_REF = re.compile(r"\$(?:\{([A-Za-z_]\w*)(?::?-([^}]*))?\}|([A-Za-z_]\w*))")


def global_args(dockerfile_text: str) -> dict[str, str]:
    """Defaults of the ARGs declared before the first FROM (the only ones a FROM line reads)."""
    head = re.split(r"(?im)^\s*FROM\s", dockerfile_text, maxsplit=1)[0]
    return {m[1]: m[2].strip("\"'") for m in GLOBAL_ARG.finditer(head)}


def resolve_args(ref: str, defaults: dict[str, str]) -> str:
    """`python:${PYTHON_VERSION}-slim` with ARG PYTHON_VERSION=3.11 -> `python:3.11-slim`, as a
    build without --build-arg resolves it; a variable without a default stays as written."""
    def one(m: re.Match) -> str:
        name = m[1] or m[3]
        if name in defaults and (defaults[name] or m[2] is None):
            return defaults[name]
        return m[2] if m[2] is not None else m[0]
    return ARG_REF.sub(one, ref)


def images_used(dockerfile_text: str) -> set[str]:
    """Image references in FROM lines and COPY --from= (stage names included), with the
    global ARGs' defaults filled in."""
    defaults = global_args(dockerfile_text)
    refs = set()
    for m in IMAGE_REF.finditer(dockerfile_text):
        ref = (m.group(1) or m.group(2)).strip().strip('"')
        refs.add(resolve_args(ref, defaults))
    return refs


def recipe_for(ref: str) -> Recipe | None:
    """The recipe that provides ``ref`` or None if it is not an image we make."""
    if ref in STANDARD:
        return STANDARD[ref]
    if ref.startswith("ghcr.io/astral-sh/uv:"):
        return uv_recipe(ref.split(":", 1)[1])
    if ref == "ghcr.io/astral-sh/uv":
        return uv_recipe("latest")
    return None


def _image_id(engine: Engine, ref: str) -> str | None:
    r = engine.docker("image", "inspect", "--format", "{{.Id}}", ref, check=False)
    return r.stdout.strip() if r.returncode == 0 else None


def is_current(engine: Engine, recipe: Recipe) -> bool:
    marker = _image_id(engine, f"{RECIPE_REPO}:{recipe.digest()}")
    return marker is not None and all(_image_id(engine, t) == marker for t in recipe.tags)


def ensure(engine: Engine, recipe: Recipe, log=print) -> bool:
    """Build ``recipe`` (and its parents) unless current; True if built now."""
    for p in recipe.parents:
        ensure(engine, p, log)
    if is_current(engine, recipe):
        return False
    log(f"lab: building base image {recipe.tags[0]} (recipe {recipe.digest()})")
    with tempfile.TemporaryDirectory(prefix="dockfix-lab-base-") as tmp:
        if recipe.kind == "debootstrap":
            _debootstrap(engine, recipe, Path(tmp))
        else:
            ctx = Path(tmp)
            (ctx / "Dockerfile").write_text(recipe.text)
            (ctx / "ca-certificates.crt").write_bytes(ca_bytes())
            args = [a for k, v in recipe.build_args.items() for a in ("--build-arg", f"{k}={v}")]
            tag_args = [a for t in recipe.tags for a in ("-t", t)]
            r = engine.docker("build", "--progress=plain", *args, *tag_args, str(ctx),
                              check=False, timeout=1800)
            if r.returncode != 0:
                raise RuntimeError(f"building {recipe.tags[0]} failed:\n{r.stderr[-4000:]}")
    engine.docker("tag", recipe.tags[0], f"{RECIPE_REPO}:{recipe.digest()}")
    return True


def _debootstrap(engine: Engine, recipe: Recipe, tmp: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is missing: run `bash .ci/lab-setup`")
    root = tmp / "rootfs"
    subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(root), MIRROR],
                   check=True, capture_output=True, timeout=1200)
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d/debian.sources").write_text(SOURCES)
    (root / "etc/dpkg/dpkg.cfg.d/docker-slim").write_text(SLIMIFY)
    for name, text in APT_CONF.items():
        (root / "etc/apt/apt.conf.d" / name).write_text(text)
    for d in ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
              "var/cache/apt/archives", "var/lib/apt/lists"):
        p = root / d
        if p.is_dir():
            for child in p.iterdir():
                if child.name in ("locale.alias", "partial", "lock"):
                    continue
                if child.is_dir() and d == "usr/share/doc":
                    for f in child.iterdir():
                        if f.name != "copyright":
                            shutil.rmtree(f) if f.is_dir() and not f.is_symlink() else f.unlink()
                    continue
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    # The proxy's CA, inert until the ca-certificates package is installed (no bundle before).
    local_ca = root / LOCAL_CA
    local_ca.parent.mkdir(parents=True, exist_ok=True)
    local_ca.write_bytes(ca_bytes())
    for f in (root / "var/cache/apt").glob("*.bin"):
        f.unlink()
    for f in (root / "var/log").rglob("*"):
        if f.is_file():
            f.write_bytes(b"")
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."],
                           stdout=subprocess.PIPE)
    r = engine.docker("import", "--change", 'CMD ["bash"]', "-", recipe.tags[0],
                      stdin=tar.stdout, check=False, timeout=600)
    tar.stdout.close()
    tar.wait()
    if r.returncode != 0:
        raise RuntimeError(f"docker import failed: {r.stderr}")
    for t in recipe.tags[1:]:
        engine.docker("tag", recipe.tags[0], t)


def prune_stale(engine: Engine) -> None:
    """Drop recipe markers (and so their images) that no current tag uses."""
    r = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", check=False)
    markers, live = [], set()
    for line in r.stdout.splitlines():
        ref, _, image_id = line.partition(" ")
        if ref.startswith(RECIPE_REPO + ":"):
            markers.append((ref, image_id))
        elif not ref.startswith("<none>"):
            live.add(image_id)
    stale = [ref for ref, image_id in markers if image_id not in live]
    if stale:
        engine.docker("image", "rm", *stale, check=False)


def ensure_for(engine: Engine, dockerfile_texts: list[str], log=print) -> list[str]:
    """Build every base image these Dockerfiles use; returns refs we cannot make."""
    missing = []
    seen: set[str] = set()
    stages = set()
    for text in dockerfile_texts:
        stages |= {m.lower() for m in re.findall(r"(?im)^\s*FROM\s+\S+\s+AS\s+(\S+)", text)}
    for text in dockerfile_texts:
        for ref in sorted(images_used(text)):
            if ref in seen or ref.lower() in stages or ref == "scratch" or ref.isdigit():
                continue
            seen.add(ref)
            recipe = recipe_for(ref)
            if recipe is None:
                if _image_id(engine, ref) is None:
                    missing.append(ref)
                continue
            ensure(engine, recipe, log)
    return missing
