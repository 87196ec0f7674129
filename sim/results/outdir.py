"""What hedgesim may replace in an output directory, and who is writing there.

Why this module exists: ``--force`` used to mean "empty the directory", and a user who pointed
``--out`` at a folder holding their own work lost it. The rule now is that hedgesim replaces only
files it wrote itself, known by the list each directory's record keeps:

* a run directory: ``run.json``'s ``files``;
* a sweep directory: ``manifest.json``'s ``files`` plus the part files under ``runs/`` and
  ``steps/`` (named ``part-NNNNNNNNNN.*``; there can be hundreds of thousands, so they are known
  by name inside the sweep's own layout);
* any other folder hedgesim draws or exports into: a small ledger, ``.hedgesim-files.json``.

A directory written by an older version, whose record has no list, owns only the names hedgesim
writes (``LEGACY_RUN``, ``LEGACY_SWEEP``, figures named like ours under ``figures/``). Anything else
is the user's: it is kept, reported, and never overwritten — a planned output whose name is taken by
a file hedgesim did not write stops the command before any work.

Who writes a directory now is the lock's business (sim.results.lock).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from sim.errors import InputError
from sim.results.lock import LOCK_NAME, Busy, DirLock, check_target_dir

LEDGER = ".hedgesim-files.json"
RUN_MARKER = "run.json"
SWEEP_MARKER = "manifest.json"
SWEEP_KIND = "hedgesim-sweep"
MAX_RECORD_BYTES = 512 * 2**20
"""A run.json of a million replications is ~30 MB; anything far larger is not ours."""

FIGURE_RE = re.compile(
    r"^(timeline|network|partners|counterfactuals|phase|sensitivity)(_[A-Za-z0-9_.+=-]*)?"
    r"\.(png|svg|pdf)$"
)
PART_RE = re.compile(r"^part-(\d{10})\.(parquet|csv)$")
SUM_RE = re.compile(r"^\.part-(\d{10})\.sha256$")
TEMP_RE = re.compile(r"^\.(?P<name>.+)\.[A-Za-z0-9_]{8}\.tmp$")
"""``sim.results.atomic``'s temporary files: ``.<target name>.<8 random characters>.tmp``."""

LEGACY_RUN = frozenset(
    {
        "run.json",
        "summary.csv",
        "summary.txt",
        *(
            f"{t}.{fmt}"
            for t in ("system", "states", "ties", "tie_history")
            for fmt in ("parquet", "csv")
        ),
    }
)
LEGACY_SWEEP = frozenset(
    {"manifest.json", ".lock", "runs.csv", "runs.parquet", "steps.csv", "steps.parquet"}
)
SUBDIRS = ("figures", "runs", "steps")
"""Folders hedgesim creates; removed when a ``--force`` leaves them empty."""


# ------------------------------------------------------------------------------------------------
# Reading a directory's record
# ------------------------------------------------------------------------------------------------


def read_record(path: Path) -> Any:
    """A JSON record (run.json, manifest.json, ledger) or None if absent; ValueError if it cannot
    be read as JSON (too large, not UTF-8, nested too deeply, not JSON)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ValueError("is a directory") from None
    except OSError as exc:
        raise ValueError(f"cannot read ({exc.strerror or exc})") from None
    if len(raw) > MAX_RECORD_BYTES:
        raise ValueError(f"larger than {MAX_RECORD_BYTES // 2**20} MiB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None


def is_run_record(meta: Any) -> bool:
    return isinstance(meta, dict) and isinstance(meta.get("identity"), str) and "status" in meta


def is_sweep_record(meta: Any) -> bool:
    return isinstance(meta, dict) and meta.get("kind") == SWEEP_KIND


@dataclass
class Contents:
    """What a directory holds, as far as hedgesim's ownership goes."""

    root: Path
    kind: str | None = None  # "run", "sweep", "folder" (ledger only) or None
    meta: dict[str, Any] | None = None
    owned: set[str] = field(default_factory=set)  # relative POSIX paths hedgesim wrote
    listed: bool = False  # owned comes from an explicit list (not legacy names)
    foreign: list[str] = field(default_factory=list)  # records here that are not hedgesim's
    why: dict[str, str] = field(default_factory=dict)  # foreign record -> why it is not ours

    @property
    def marker(self) -> Path | None:
        name = {"run": RUN_MARKER, "sweep": SWEEP_MARKER, "folder": LEDGER}.get(self.kind or "")
        return self.root / name if name else None

    def is_owned(self, rel: str) -> bool:
        """Did hedgesim write ``rel`` (a relative POSIX path)? Temporaries of owned names too."""
        if rel in self.owned:
            return True
        p = PurePosixPath(rel)
        m = TEMP_RE.match(p.name)
        if m and str(p.with_name(m["name"])) in self.owned:
            return True
        if self.kind == "sweep" and len(p.parts) == 2 and p.parts[0] in ("runs", "steps"):
            name = p.name
            if PART_RE.match(name) or SUM_RE.match(name):
                return True
            if m and (PART_RE.match(m["name"]) or SUM_RE.match(m["name"])):
                return True
        return False

    def present_owned(self) -> list[str]:
        """Owned paths that exist now as regular files (or our temporaries), sorted."""
        out = []
        for rel in iter_files(self.root):
            if self.is_owned(rel):
                out.append(rel)
        return sorted(out)

    def kept(self) -> list[str]:
        """Entries hedgesim did not write: top-level names (folders with a slash) and, inside
        hedgesim's own folders, each file it did not write."""
        out = []
        if not self.root.is_dir():
            return out
        for entry in sorted(self.root.iterdir(), key=lambda p: p.name):
            name = entry.name
            if name in (LOCK_NAME, LEDGER):
                continue
            if name in SUBDIRS and entry.is_dir() and not entry.is_symlink():
                for rel in iter_files(entry, prefix=name):
                    if not self.is_owned(rel):
                        out.append(rel)
                continue
            if entry.is_dir() and not entry.is_symlink():
                out.append(name + "/")
            elif not self.is_owned(name):
                out.append(name)
        return out


def iter_files(root: Path, prefix: str = "") -> Iterator[str]:
    """Relative paths of the files (not folders) directly in ``root`` and in hedgesim's own
    subfolders (``figures``, ``runs``, ``steps``) — never deeper, never following links."""
    try:
        entries = list(os.scandir(root))
    except (FileNotFoundError, NotADirectoryError):
        return
    for e in entries:
        rel = f"{prefix}/{e.name}" if prefix else e.name
        if e.is_dir(follow_symlinks=False):
            if not prefix and e.name in SUBDIRS:
                yield from iter_files(Path(e.path), rel)
            continue
        yield rel


def survey(root: str | Path) -> Contents:
    """Read a directory's records and say what in it hedgesim wrote."""
    root = Path(root)
    c = Contents(root)
    if not root.is_dir():
        return c
    records: dict[str, Any] = {}
    for name in (RUN_MARKER, SWEEP_MARKER, LEDGER):
        p = root / name
        if not os.path.lexists(p):
            continue
        if p.is_symlink() or not p.is_file():
            c.foreign.append(name)
            c.why[name] = "a link or not a regular file"
            continue
        try:
            records[name] = read_record(p)
        except ValueError as exc:
            c.foreign.append(name)
            c.why[name] = str(exc)
    run, sweep, ledger = (records.get(k) for k in (RUN_MARKER, SWEEP_MARKER, LEDGER))
    for name, meta, ours in (
        (RUN_MARKER, run, is_run_record(run)),
        (SWEEP_MARKER, sweep, is_sweep_record(sweep)),
    ):
        if name in records and not ours:
            c.foreign.append(name)
            c.why[name] = (
                f"expected a JSON object, got {type(meta).__name__}"
                if not isinstance(meta, dict)
                else "a JSON object that is not hedgesim's record"
            )
    if is_run_record(run) and not is_sweep_record(sweep):
        c.kind, c.meta = "run", run
        legacy = set(LEGACY_RUN)
    elif is_sweep_record(sweep) and not is_run_record(run):
        c.kind, c.meta = "sweep", sweep
        legacy = set(LEGACY_SWEEP)
    elif is_run_record(run):  # both records: neither kind may replace the other's files
        c.kind, c.meta = "mixed", run
        legacy = set()
    elif isinstance(ledger, dict):
        c.kind, c.meta = "folder", ledger
        legacy = set()
    else:
        if LEDGER in records:
            c.foreign.append(LEDGER)
        return c
    files = c.meta.get("files") if c.meta else None
    if isinstance(files, list) and all(isinstance(f, str) for f in files):
        c.owned = {f for f in files if _safe_rel(f)}
        c.listed = True
    elif c.kind in ("run", "sweep"):
        c.owned = {rel for rel in iter_files(root) if rel in legacy or _legacy_figure(rel)}
    c.owned |= {name for name in (RUN_MARKER, SWEEP_MARKER, LEDGER) if name in records} - set(
        c.foreign
    )
    return c


def _legacy_figure(rel: str) -> bool:
    p = PurePosixPath(rel)
    return len(p.parts) == 2 and p.parts[0] == "figures" and bool(FIGURE_RE.match(p.name))


def _safe_rel(rel: str) -> bool:
    """A listed path must stay inside the directory (a tampered list cannot delete elsewhere)."""
    p = PurePosixPath(rel)
    return bool(rel) and not p.is_absolute() and ".." not in p.parts and "\x00" not in rel


def conflicts(c: Contents, planned: Iterable[str]) -> list[str]:
    """Planned outputs whose path is taken by something hedgesim did not write."""
    out = []
    for rel in planned:
        if os.path.lexists(c.root / rel) and not (c.is_owned(rel) and _regular(c.root / rel)):
            out.append(rel)
    return out


def figure_conflicts(c: Contents, folder: str = "figures") -> list[str]:
    """Files under ``folder`` named like hedgesim's figures but not written by it."""
    d = c.root / folder
    if not d.is_dir():
        return [folder] if os.path.lexists(d) else []
    return sorted(
        f"{folder}/{p.name}"
        for p in d.iterdir()
        if FIGURE_RE.match(p.name) and not c.is_owned(f"{folder}/{p.name}")
    )


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def remove_owned(c: Contents, keep: Iterable[str] = ()) -> list[str]:
    """Delete the files hedgesim wrote in ``c.root`` (except ``keep``); return what was removed.

    Only regular files are removed (a path hedgesim once wrote that is now a folder or a link is
    the user's), and hedgesim's own subfolders only when nothing is left in them.
    """
    keep = set(keep) | {LOCK_NAME}
    removed = []
    for rel in c.present_owned():
        if rel in keep:
            continue
        p = c.root / rel
        if _regular(p):
            p.unlink(missing_ok=True)
            removed.append(rel)
    for sub in SUBDIRS:
        with contextlib.suppress(OSError):
            (c.root / sub).rmdir()  # only if empty
    return removed


def describe_kept(kept: list[str], limit: int = 6) -> str:
    more = f" and {len(kept) - limit} more" if len(kept) > limit else ""
    noun = "entry" if len(kept) == 1 else "entries"
    return f"kept {len(kept)} {noun} hedgesim did not write: {', '.join(kept[:limit])}{more}"


def refuse_conflicts(
    root: Path, taken: list[str], what: str = "output", instead: str = "choose another --out"
) -> None:
    if taken:
        shown = ", ".join(taken[:6]) + (f" and {len(taken) - 6} more" if len(taken) > 6 else "")
        raise InputError.plain(
            str(root),
            f"holds {shown}, not written by hedgesim, where hedgesim would write its {what}; "
            f"hedgesim never replaces files it did not write: move them or {instead}",
        )


# ------------------------------------------------------------------------------------------------
# Recording what was written
# ------------------------------------------------------------------------------------------------


def register(root: str | Path, paths: Iterable[str], drop: Iterable[str] = ()) -> None:
    """Add ``paths`` (relative to ``root``) to the record of what hedgesim wrote there, and take
    ``drop`` (files it removed) off it.

    The record is the directory's run.json or manifest.json, or else the ledger file. The caller
    holds the directory's lock.
    """
    from sim.results.atomic import sealed, write_json

    root = Path(root)
    c = survey(root)
    new = {p for p in paths if _safe_rel(p)}
    gone = set(drop) - new
    if c.kind in ("run", "sweep") and c.meta is not None:
        meta = dict(c.meta)
        meta["files"] = sorted((set(meta.get("files") or c.owned) | new) - gone)
        had_seal = "checksum" in meta
        meta.pop("checksum", None)
        write_json(c.marker, sealed(meta) if had_seal else meta)  # type: ignore[arg-type]
    else:
        files = set(c.owned) if c.kind == "folder" else set()
        files = (files | new) - gone - {LEDGER}
        write_json(root / LEDGER, {"written_by": "hedgesim", "files": sorted(files)})


# ------------------------------------------------------------------------------------------------
# Default output names
# ------------------------------------------------------------------------------------------------


def default_out(name: str, source: str, suffix: str = "") -> Path:
    """``results/<name><suffix>``, refusing a name that is not one plain folder/file name.

    Why: a scenario's ``name`` is free text, and ``.``, ``..``, ``../../x`` or ``/tmp/x`` would
    put (and, with ``--force``, replace) outputs beside or outside ``results/``.
    """
    bad = (
        not name.strip()
        or name in (".", "..")
        or any(ch in name for ch in "/\\\x00")
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
        or name.startswith(("~", "-"))
    )
    if not bad:
        target = Path("results") / f"{name}{suffix}"
        try:
            inside = target.resolve().parent == Path("results").resolve()
        except (OSError, RuntimeError):
            inside = False
        if inside:
            return target
    raise InputError.single(
        source,
        f"scenario name {name!r} cannot name an output under results/ (it must be one plain name, "
        "without '/', '\\', control characters, '.' or '..'); give --out DIR",
        ("name",),
    )


@contextlib.contextmanager
def claim(
    root: str | Path, rels: list[str], what: str, instead: str = "choose another --out"
) -> Iterator[Contents]:
    """Write ``rels`` into ``root``: lock it when it is a run or sweep directory, refuse names
    taken by files hedgesim did not write, record the names, then let the caller write."""
    root = Path(root)
    check_target_dir(root)
    lock = None
    if (root / RUN_MARKER).exists() or (root / SWEEP_MARKER).exists():
        try:
            lock = DirLock(root, what).acquire()
        except Busy as exc:
            raise InputError.plain(
                str(root),
                f"another hedgesim process ({exc.holder}) is writing here; write elsewhere "
                "with --out, or wait for it to finish",
            ) from None
    try:
        c = survey(root)
        refuse_conflicts(root, conflicts(c, rels), what, instead)
        from sim.results.atomic import writable_target

        for rel in rels:
            writable_target(root / rel)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError.plain(str(root), f"cannot write here: {exc.strerror or exc}") from None
        register(root, rels)
        yield c
    finally:
        if lock is not None:
            lock.release()


def claim_file(path: str | Path, what: str) -> Path:
    """Check and record a single output file the user named (``analyze --csv FILE``,
    ``landscape --csv FILE``): an existing file hedgesim did not write there is refused, not
    replaced (the brief: no flag ever overwrites a file hedgesim did not write); the name is
    recorded in the folder's ledger so the same command may rewrite it later."""
    from sim.results.atomic import writable_target

    path = Path(path)
    writable_target(path)  # a device, a pipe or a broken link says so first
    with claim(path.parent, [path.name], what, "name another file"):
        pass
    return path


@contextlib.contextmanager
def claim_figures(
    folder: Path, targets: list[Path], *, force: bool, locked: bool, explicit: bool
) -> Iterator[None]:
    """Check and record the figures about to be written into ``folder``.

    The record is the run's or sweep's (``DIR/figures``), or the folder's own ledger: figures
    hedgesim drew before may be redrawn, a file of the same name that hedgesim did not write is
    never replaced, and ``--force`` also removes figures hedgesim drew there earlier that this
    command does not redraw. A single file named by ``--out FILE`` is checked the same way: a new
    path, or a figure hedgesim drew there before.
    """
    from sim.results.atomic import writable_target

    check_target_dir(folder)
    parent = survey(folder.parent) if folder.name == "figures" else None
    if parent is not None and parent.kind in ("run", "sweep"):
        root, prefix = folder.parent, "figures/"
    else:
        root, prefix = folder, ""
    for t in targets:
        writable_target(t)
    lock = None
    if not locked and ((root / "run.json").exists() or (root / "manifest.json").exists()):
        try:
            lock = DirLock(root, "plot").acquire()
        except Busy as exc:
            raise InputError.plain(
                str(root),
                f"another hedgesim process ({exc.holder}) is writing here; draw into another "
                "folder with --out, or wait for it to finish",
            ) from None
    try:
        c = survey(root)
        rels = [prefix + t.name for t in targets]
        # a file hedgesim did not write is never replaced, even one the user named
        refuse_conflicts(root, conflicts(c, rels), "figure" if explicit else "figures")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = exc.strerror or exc
            raise InputError.plain(str(folder), f"cannot write here: {why}") from None
        stale = [
            r
            for r in c.present_owned()
            if r.startswith(prefix)
            and "/" not in r[len(prefix) :]
            and (
                TEMP_RE.match(Path(r).name)
                or (force and FIGURE_RE.match(Path(r).name) and r not in rels)
            )
        ]
        for r in stale:
            (root / r).unlink(missing_ok=True)
        register(root, rels, drop=stale)
        yield
    finally:
        if lock is not None:
            lock.release()
