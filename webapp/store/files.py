"""How every file is written: atomically, alone or as a group that lands all at once."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

JOURNAL_SUFFIX = ".journal"


def atomic_write(path: Path, content: str) -> None:
    """Replace `path` with `content`: temp file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the directory entry itself reaches the disk.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WrittenFiles:
    """Files written inside a transaction: removed again (or restored) if the block fails."""

    def __init__(self):
        # Each path written and what it held before: a second name of the old file (a hard link),
        # its text where links are not supported, or None when it did not exist.
        self.undo: list[tuple[Path, Path | str | None]] = []

    def write(self, path: Path, content: str) -> None:
        """Write `path` atomically, remembering what was there before."""
        self._remember(path)
        atomic_write(path, content)

    def write_many(self, contents: Mapping[Path, str | Path]) -> None:
        """Write many files as one: after a crash either all of them are new or none is.

        A content given as a Path is that file's bytes, copied, so a file of any size is written
        without holding it in memory.

        Every file goes to a temporary name first; one sync makes all of them durable, then a
        journal listing the renames is written before any rename. A crash before the journal
        leaves only temporary files (never read); a crash after it is completed by
        `roll_forward`, which `counterpoint load` runs. Two disk syncs in all, not two per file.
        """
        if not contents:
            return
        temps: list[tuple[Path, Path]] = []
        journal = next(iter(contents)).parent / f".{os.getpid()}-{threading.get_ident()}{JOURNAL_SUFFIX}"
        try:
            for path, content in contents.items():
                self._remember(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                # A name unique to this thread, not mkstemp's random one: creating thousands of
                # files, mkstemp takes five times as long as the writes.
                tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
                temps.append((tmp, path))
                if isinstance(content, Path):
                    shutil.copyfile(content, tmp)
                else:
                    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                        handle.write(content)
            os.sync()
            atomic_write(journal, json.dumps([[str(tmp), str(path)] for tmp, path in temps]))
            for tmp, path in temps:
                os.replace(tmp, path)
            os.sync()
        finally:
            journal.unlink(missing_ok=True)
            for tmp, _ in temps:
                tmp.unlink(missing_ok=True)

    def _remember(self, path: Path) -> None:
        if not path.exists():
            self.undo.append((path, None))
            return
        # A link keeps the old file without reading it: a label save rewrites a file of hundreds of
        # labels, and reading it back only in case of failure took a sixth of the save.
        keep = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}-{len(self.undo)}.keep")
        keep.unlink(missing_ok=True)
        try:
            os.link(path, keep)
        except OSError:
            self.undo.append((path, path.read_text(encoding="utf-8")))
            return
        self.undo.append((path, keep))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                for path, before in reversed(self.undo):
                    if before is None:
                        path.unlink(missing_ok=True)
                    elif isinstance(before, Path):
                        os.replace(before, path)
                        _fsync_dir(path.parent)
                    else:
                        atomic_write(path, before)
        finally:
            for _, before in self.undo:
                if isinstance(before, Path):
                    before.unlink(missing_ok=True)
        return False


def roll_forward(folders: list[Path]) -> list[Path]:
    """Finish the renames of any `write_many` a crash interrupted; returns the files completed."""
    done = []
    for journal in sorted(j for folder in folders if folder.is_dir() for j in folder.glob(f".*{JOURNAL_SUFFIX}")):
        try:
            pairs = json.loads(journal.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            pairs = []  # cut short before its own rename: no file was renamed yet
        for tmp, path in pairs:
            if Path(tmp).exists():
                os.replace(tmp, path)
                done.append(Path(path))
        journal.unlink()
    return done
