"""Build Traefik, the ingress and Gateway API controller of the test and kind clusters.

A plain ``go build`` of cmd/traefik fails against the module proxy: Traefik's own
replace directives are ignored in a dependency, and 16 module versions it needs are
refused. tools/go/traefik/go.mod replaces three modules instead (its comment says
which and why). Two of them are patched copies of public modules: they are generated
here from the Go module cache into our cache, never committed, and reached through
the git-ignored link tools/go/traefik/_generated.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from panel_dask_testcluster.build import BuildError, build_tool, module_source
from panel_dask_testcluster.pins import GO_MODULES, TRAEFIK_VERSION, Tool, cache_root

# Codename of the 3.7 releases (CODENAME in Traefik's release workflow).
TRAEFIK_CODENAME = "langres"
TRAEFIK_MODULE_PATH = "github.com/traefik/traefik/v3"
TRAEFIK_PACKAGE = f"{TRAEFIK_MODULE_PATH}/cmd/traefik"
TRAEFIK_MODULE = GO_MODULES / "traefik"
STUBS = TRAEFIK_MODULE / "stubs"
GENERATED_LINK = TRAEFIK_MODULE / "_generated"

# The lego version Traefik v3.7.13 requires; go-http-auth's last upstream release.
LEGO = ("github.com/go-acme/lego/v5", "v5.4.1")
GO_HTTP_AUTH = ("github.com/abbot/go-http-auth", "v0.4.0")

# Upstream's RequireAuth writes the digest nonce map without the lock CheckAuth
# takes; concurrent challenges would crash the proxy, so it uses our locked helper.
_NONCE_UNLOCKED = """\
	if len(a.clients) > a.ClientCacheSize+a.ClientCacheTolerance {
		a.Purge(a.ClientCacheTolerance * 2)
	}
	nonce := RandomKey()
	a.clients[nonce] = &digest_client{nc: 0, last_seen: time.Now().UnixNano()}
"""
_NONCE_LOCKED = "\tnonce := a.issueNonce()\n"

LDFLAGS = (
    f"-X github.com/traefik/traefik/v3/pkg/version.Version={TRAEFIK_VERSION}",
    f"-X github.com/traefik/traefik/v3/pkg/version.Codename={TRAEFIK_CODENAME}",
)


def _copy_writable(source: Path, target: Path, skip: tuple[str, ...] = ()) -> None:
    """Copy a module-cache folder (read-only files and dirs) into a writable tree.

    ``skip`` names top-level entries to leave out.
    """

    def ignore(folder: str, names: list[str]) -> list[str]:
        return [name for name in names if name in skip] if Path(folder) == source else []

    shutil.copytree(source, target, ignore=ignore, copy_function=shutil.copyfile)
    for folder, _, _ in os.walk(target):
        os.chmod(folder, 0o755)


def _generate_lego(target: Path) -> None:
    """Lego without its DNS-01 providers (their SDKs are refused) nor its own CLI."""
    source = module_source(*LEGO)
    _copy_writable(source, target, skip=("cmd",))
    shutil.rmtree(target / "providers" / "dns")
    shutil.copytree(STUBS / "lego" / "providers" / "dns", target / "providers" / "dns")


def _generate_go_http_auth(target: Path) -> None:
    """Upstream go-http-auth plus the fork's two functions and a locked nonce map."""
    _copy_writable(module_source(*GO_HTTP_AUTH), target)
    digest = target / "digest.go"
    text = digest.read_text()
    if text.count(_NONCE_UNLOCKED) != 1:
        raise BuildError(f"{digest}: RequireAuth no longer looks as expected; update the patch")
    digest.write_text(text.replace(_NONCE_UNLOCKED, _NONCE_LOCKED))
    shutil.copy(STUBS / "go-http-auth" / "traefik_compat.go", target)
    (target / "go.mod").write_text(f"module {GO_HTTP_AUTH[0]}\n")


def generation_key() -> str:
    """Digest of everything the generated copies depend on: versions, stubs, this file."""
    digest = hashlib.sha256(f"{LEGO}{GO_HTTP_AUTH}".encode())
    digest.update(Path(__file__).read_bytes())
    for path in sorted(STUBS.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(STUBS)).encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def prepare_traefik_module(cache: Path) -> Path:
    """Generate the patched lego and go-http-auth under ``cache`` once; return the module.

    The copies live in ``cache/traefik-deps/<key>`` (reused until a version, stub or
    patch changes) and tools/go/traefik/_generated points at them, so go.mod keeps
    relative replace paths. Returns tools/go/traefik, ready for go build.
    """
    folder = cache.resolve() / "traefik-deps" / generation_key()
    if not (folder / ".complete").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix="staging.", dir=folder.parent))
        staging.chmod(0o755)
        try:
            _generate_lego(staging / "lego")
            _generate_go_http_auth(staging / "go-http-auth")
            (staging / ".complete").touch()
            try:
                staging.rename(folder)
            except OSError:  # another build generated the same key meanwhile
                if not (folder / ".complete").exists():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    if not GENERATED_LINK.is_symlink() or GENERATED_LINK.resolve() != folder.resolve():
        temporary_link = GENERATED_LINK.with_name(f"_generated.{os.getpid()}")
        temporary_link.unlink(missing_ok=True)
        temporary_link.symlink_to(folder, target_is_directory=True)
        temporary_link.replace(GENERATED_LINK)
    return TRAEFIK_MODULE


def build_traefik(out_dir: Path) -> Path:
    """Compile cmd/traefik into ``out_dir`` with a progress bar; returns the binary's path."""
    pinned = rf"^\s*{re.escape(TRAEFIK_MODULE_PATH)} {re.escape(TRAEFIK_VERSION)}\b"
    if not re.search(pinned, (TRAEFIK_MODULE / "go.mod").read_text(), re.MULTILINE):
        raise BuildError(f"tools/go/traefik/go.mod does not require Traefik {TRAEFIK_VERSION}")
    prepare_traefik_module(cache_root())
    out_dir.mkdir(parents=True, exist_ok=True)
    build_tool(
        Tool(module=TRAEFIK_MODULE.name, packages=(TRAEFIK_PACKAGE,), ldflags=LDFLAGS), out_dir
    )
    return out_dir / "traefik"
