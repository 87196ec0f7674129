"""Put the browser side of Solara into this environment's Solara cache, so `hedgesim view`
works without a network (make test runs it on machines that reach only package registries).

Why: Solara serves its front-end (the Vue app, require.js, Font Awesome, the grid layout Mesa's
SolaraViz uses) from cdn.jsdelivr.net through its own ``/_solara/cdn/`` proxy, which first looks
in ``<sys.prefix>/share/solara/cdn/<name>@<version>/``. The npm registry is reachable where the
CDN is not, so each package is fetched with ``npm pack`` at an exact version and unpacked there.
With a network the cache is only a head start; Solara fetches whatever is missing itself.

Run with the Python of the environment that has solara installed::

    .venv/bin/python scripts/solara_assets.py

It is idempotent (a package already in the cache is left alone) and fails, naming the package,
when npm is missing or a download fails. Versions: the one the installed solara's sources refer
to, else the pin below (a newer solara that moves on is followed, and says so).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PINNED: dict[str, str] = {
    "@widgetti/solara-vuetify-app": "10.1.1",  # the Vue 2 app (ipyvue < 2)
    "requirejs": "2.3.6",
    "font-awesome": "4.5.0",
    "@widgetti/vue-grid-layout": "2.3.13-alpha.2",  # Mesa's ComponentsView (GridDraggable)
}
"""npm packages and exact versions the installed solara's pages load (solara 1.64, Vue 2)."""


def wanted_versions(solara_dir: Path) -> dict[str, set[str]]:
    """Every version of a pinned package that the installed solara refers to."""
    found: dict[str, set[str]] = {name: set() for name in PINNED}
    patterns = {
        name: re.compile(re.escape(name) + r"@(\d+\.\d+\.\d+[\w.-]*?)(?=[/\"'`])")
        for name in PINNED
    }
    for path in solara_dir.rglob("*"):
        if path.suffix not in {".j2", ".html", ".vue", ".py", ".js"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name, pattern in patterns.items():
            for m in pattern.finditer(text):
                # "solara-vuetify-app@" must not match inside "solara-vuetify3-app@"
                before = text[max(0, m.start() - 1) : m.start()]
                if before not in ("/", "") and not name.startswith("@"):
                    continue
                found[name].add(m.group(1))
    return found


def fetch(name: str, version: str, cache: Path, npm: str) -> None:
    """npm-pack ``name@version`` and unpack its package root into the cache, atomically."""
    dest = cache / f"{name}@{version}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent) as tmp:
        out = subprocess.run(
            [npm, "pack", "--silent", f"{name}@{version}", "--pack-destination", tmp],
            capture_output=True,
            text=True,
        )
        tgz = [p for p in Path(tmp).iterdir() if p.suffix == ".tgz"]
        if out.returncode != 0 or len(tgz) != 1:
            sys.exit(f"npm pack {name}@{version} failed:\n{out.stderr.strip()}")
        unpacked = Path(tmp) / "package"
        with tarfile.open(tgz[0]) as tar:
            tar.extractall(tmp, filter="data")
        if not unpacked.is_dir():  # npm tarballs hold one top folder, almost always "package"
            tops = [p for p in Path(tmp).iterdir() if p.is_dir()]
            if len(tops) != 1:
                sys.exit(f"{tgz[0].name}: expected one top-level folder, found {tops}")
            unpacked = tops[0]
        unpacked.rename(dest)


def main() -> int:
    import solara
    from solara.server import settings

    cache = Path(settings.assets.proxy_cache_dir)
    wanted = wanted_versions(Path(solara.__file__).parent)
    ambiguous = {n: sorted(v) for n, v in wanted.items() if len(v) > 1}
    if ambiguous:
        sys.exit(f"solara {solara.__version__} refers to several versions: {ambiguous}")
    # the version the installed solara loads (a newer solara may move on), else the pin
    versions = {n: next(iter(wanted[n])) if wanted[n] else v for n, v in PINNED.items()}
    moved = {n: v for n, v in versions.items() if v != PINNED[n]}
    if moved:
        print(f"solara assets: solara {solara.__version__} loads {moved} (pinned: {PINNED})")
    missing = {n: v for n, v in versions.items() if not (cache / f"{n}@{v}").is_dir()}
    if not missing:
        print(f"solara assets: all {len(PINNED)} packages in {cache}")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(
            "solara assets: npm is needed to fetch "
            + ", ".join(f"{n}@{v}" for n, v in missing.items())
            + " (install Node.js/npm, e.g. apt-get install -y npm)"
        )
    for name, version in missing.items():
        print(f"solara assets: {name}@{version} -> {cache}")
        fetch(name, version, cache, npm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
