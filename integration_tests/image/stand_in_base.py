"""A stand-in for airbyte/python-connector-base, built offline from Debian packages.

The real base image cannot be pulled here, but Debian's archive can be reached. debootstrap builds
a bookworm root file system (bookworm's Python is 3.11, the base image's minor version), which is
adjusted as the base image is set up and `docker import`ed. The result is cached twice, as a local
image and as a tarball, both named by a hash of the recipe: this file and the CA bundle copied in.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from integration_tests.image.engine import EngineUnavailable, docker, run_quietly

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
# The user python-connector-base creates (uid 1000, a system user with a group of its own).
USER = "airbyte"
UID = 1000
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
REPOSITORY = "source-pivotal-tracker-stand-in-base"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "source-pivotal-tracker"
IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "PIP_CACHE_DIR": "/custom_cache/pip",
}


@dataclass
class StandInBase:
    tag: str
    made_by: str  # "cached image", "cached tarball" or "debootstrap"


@dataclass
class AptSource:
    uri: str
    keyring: str | None


def recipe_key() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(HOST_CA_BUNDLE.read_bytes())
    return digest.hexdigest()[:16]


def stand_in_base() -> StandInBase:
    key = recipe_key()
    tag = f"{REPOSITORY}:{key}"
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return StandInBase(tag, "cached image")
    tarball = CACHE_DIR / f"stand-in-base-{key}.tar"
    made_by = "cached tarball"
    if not tarball.is_file():
        _build_tarball(tarball)
        made_by = "debootstrap"
    changes = [f"ENV {name}={value}" for name, value in IMAGE_ENV.items()] + ['CMD ["python"]']
    docker("import", *(arg for change in changes for arg in ("--change", change)), str(tarball), tag)
    _forget_other_recipes(tag, tarball)
    return StandInBase(tag, made_by)


def _forget_other_recipes(tag: str, tarball: Path) -> None:
    """Only the current recipe's base is kept: each is some 200 MB, as a tarball and as an image."""
    for old in CACHE_DIR.glob("stand-in-base-*.tar"):
        if old != tarball:
            old.unlink()
    listed = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", REPOSITORY).stdout.split()
    for old_tag in listed:
        if old_tag != tag:
            docker("image", "rm", old_tag, check=False)


def debian_source(suite: str = SUITE) -> AptSource:
    """Where this machine's apt gets `suite` from: debootstrap uses the same archive."""
    files = [APT_SOURCES[0], *(sorted(APT_SOURCES[1].glob("*")) if APT_SOURCES[1].is_dir() else [])]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        found = _deb822_source(text, suite) if path.suffix == ".sources" else _one_line_source(text, suite)
        if found:
            return found
    raise EngineUnavailable(f"no apt source of this machine offers Debian '{suite}' (checked {files})")


def _deb822_source(text: str, suite: str) -> AptSource | None:
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            name, _, value = line.partition(":")
            if not line.startswith(("#", " ", "\t")) and value.strip():
                fields[name.strip().lower()] = value.strip()
        if "deb" in fields.get("types", "").split() and suite in fields.get("suites", "").split():
            return AptSource(fields["uris"].split()[0], fields.get("signed-by"))
    return None


def _one_line_source(text: str, suite: str) -> AptSource | None:
    for line in text.splitlines():
        match = re.match(r"^deb\s+(?:\[(?P<options>[^\]]*)\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)\s", line)
        if match and match["suite"] == suite:
            keyring = re.search(r"signed-by=(\S+)", match["options"] or "")
            return AptSource(match["uri"], keyring.group(1) if keyring else None)
    return None


def _build_tarball(tarball: Path) -> None:
    source = debian_source()
    tarball.parent.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="stand-in-root-", dir=tarball.parent))
    try:
        keyring = [f"--keyring={source.keyring}"] if source.keyring else []
        run_quietly(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", *keyring, SUITE]
            + [str(root), source.uri],
            timeout=1800,
            what="debootstrap",
        )
        _adjust(root)
        partial = tarball.with_suffix(".partial")
        run_quietly(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."], 600, "tar")
        partial.rename(tarball)
    finally:
        _remove_root(root)


def _adjust(root: Path) -> None:
    """What python-connector-base has that a plain Debian root lacks, as far as the connector needs."""
    # `python` on the PATH: the Dockerfile's ENTRYPOINT calls it by that name.
    (root / "usr/local/bin/python").symlink_to("/usr/bin/python3")
    # The base image's pip installs system-wide; Debian marks its interpreter externally managed.
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    # pip in the build must trust the certificate authorities the host trusts.
    shutil.copyfile(HOST_CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")
    run_quietly(["chroot", str(root), "groupadd", "--system", "--gid", str(UID), USER], 60, "groupadd")
    run_quietly(
        ["chroot", str(root), "useradd", "--system", "--uid", str(UID), "--gid", USER]
        + ["--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", USER],
        60,
        "useradd",
    )
    for directory in ("airbyte", "custom_cache"):
        (root / directory).mkdir(mode=0o755, exist_ok=True)
    os.chown(root / "airbyte", UID, UID)
    os.chown(root / "tmp", UID, UID)
    for leftovers in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / leftovers).glob("*"):
            if item.is_file():
                item.unlink()


def _remove_root(root: Path) -> None:
    """Remove a debootstrap target, but never through a file system still mounted inside it."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    inside = sorted((m for m in mounts if m.startswith(f"{root}/")), reverse=True)
    for mount in inside:
        subprocess.run(["umount", "--lazy", mount], capture_output=True, timeout=60)
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    if any(m.startswith(f"{root}/") for m in mounts):
        raise EngineUnavailable(f"{root} still has mounts inside; left in place")
    shutil.rmtree(root, ignore_errors=True)
