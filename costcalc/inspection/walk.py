"""Finding the files to audit: a streaming, sorted, loop-safe walk that never opens anything."""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from functools import partial
from operator import attrgetter
from typing import NamedTuple

from ..errors import PatternError
from ..words import display_path, escape, file_kind, os_reason

__all__ = ["Found", "walk", "walk_fields", "check_pattern"]


class Found(NamedTuple):
    """A path the walk met: a regular file to inspect (`problem` None), or why it is not one.

    path: the path to open (may hold undecodable bytes as surrogates).
    display: the path to show, always printable UTF-8. skipped: True for what
    the options leave out on purpose (a symlink not followed), not an error.
    """

    path: str
    display: str
    problem: str | None = None
    skipped: bool = False


def check_pattern(pattern: str, kind: str = "glob") -> str:
    """`pattern` if it is a pattern a name can match; PatternError (naming `option`) when it is empty, holds a NUL
    (no file name can), or opens a '[' set it never closes (fnmatch would match a literal '[', never what was
    meant). `kind` (glob or exclude) starts the message."""
    reason = None
    if not pattern.strip():
        reason = "an empty pattern"
    elif "\0" in pattern:
        reason = "a NUL character, which no file name holds"
    else:
        at = 0
        while (at := pattern.find("[", at)) != -1:
            close = pattern.find("]", at + 2 if pattern[at + 1 : at + 2] in ("!", "]") else at + 1)
            if pattern[at + 1 : at + 3] == "!]":
                close = pattern.find("]", at + 3)
            if close == -1:
                reason = f"a '[' at position {at + 1} that no ']' closes; [[] matches a literal '['"
                break
            at = close + 1
    if reason:
        raise PatternError(f"{kind} pattern {escape(pattern)}: not a valid pattern ({reason})")
    return pattern


class _Filter:
    """--glob and --exclude: case-insensitive, on the name, or on the path below the root if the pattern has '/'."""

    def __init__(self, globs: Iterable[str], excludes: Iterable[str]):
        self.globs = [check_pattern(g, "glob").lower() for g in globs]
        self.excludes = [check_pattern(e, "exclude").lower() for e in excludes]

    @staticmethod
    def _match(patterns: list[str], name: str, relative: str) -> bool:
        name, relative = name.lower(), relative.lower()
        return any(fnmatch.fnmatchcase(relative if "/" in p else name, p) for p in patterns)

    def excluded(self, name: str, relative: str) -> bool:
        return bool(self.excludes) and self._match(self.excludes, name, relative)

    def wanted(self, name: str, relative: str) -> bool:
        return not self.globs or self._match(self.globs, name, relative)


def walk(
    paths: Iterable[str | os.PathLike],
    *,
    recursive: bool = True,
    globs: Iterable[str] = (),
    excludes: Iterable[str] = (),
    follow_symlinks: bool = False,
    hidden: bool = False,
    link_hint: str = "follow_symlinks=True follows it",
) -> Iterator[Found]:
    """Every file under `paths`, in sorted order, one `Found` each, as the walk goes.

    Paths given by name are always taken (hidden or not, whatever the globs);
    below them, hidden names (leading '.') are skipped unless `hidden`, symlinks
    are reported and not followed unless `follow_symlinks`, and folders are
    entered only when `recursive`. A folder reached twice through links is
    walked once. Nothing is opened: special files are reported, never read.
    `link_hint` ends the note on a link not followed: how the command at hand
    reaches its target.
    """
    fields = walk_fields(
        paths,
        recursive=recursive,
        globs=globs,
        excludes=excludes,
        follow_symlinks=follow_symlinks,
        hidden=hidden,
        link_hint=link_hint,
    )
    return map(_FOUND, fields)


_FOUND = partial(tuple.__new__, Found)
"""A `Found` of its four fields."""


def walk_fields(
    paths: Iterable[str | os.PathLike],
    *,
    recursive: bool = True,
    globs: Iterable[str] = (),
    excludes: Iterable[str] = (),
    follow_symlinks: bool = False,
    hidden: bool = False,
    link_hint: str = "follow_symlinks=True follows it",
) -> Iterator[tuple[str, str, str | None, bool]]:
    """`walk`, each `Found`'s four fields as a plain tuple (path, display, problem, skipped): what a folder audit
    hands its workers (a named tuple pickles through Python code, ten times slower)."""
    rules = _Filter(globs, excludes)
    for top in paths:
        top = os.fspath(top)
        try:
            info = os.stat(top)
        except OSError as error:
            yield (top, display_path(top), _missing(top, error), False)
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(
                top, rules, recursive, follow_symlinks, hidden, {(info.st_dev, info.st_ino)}, link_hint
            )
        elif stat.S_ISREG(info.st_mode):
            yield (top, display_path(top), None, False)
        else:
            yield (top, display_path(top), f"not a regular file ({file_kind(info.st_mode)})", False)


def _walk_folder(root, rules, recursive, follow_symlinks, hidden, seen, link_hint) -> Iterator[tuple]:
    stack = [(root, "")]
    every = not rules.globs and not rules.excludes  # no pattern to match: a regular file is taken as listed
    while stack:
        folder, relative = stack.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=_NAME)
        except OSError as error:
            yield (folder, display_path(folder), f"cannot list folder: {error.strerror or error}", False)
            continue
        folders = []
        for entry in entries:
            name = entry.name
            if not hidden and name.startswith("."):
                continue
            if every:  # the common case, quickly: a regular file the listing says is one (no stat)
                try:
                    regular = entry.is_file(follow_symlinks=False)
                except OSError:
                    regular = False  # the general path below words the error
                if regular:
                    path = entry.path
                    yield (path, path if path.isprintable() else escape(path), None, False)
                    continue
            below = f"{relative}/{name}" if relative else name
            if rules.excluded(name, below):
                continue
            shown = display_path(entry.path)
            try:
                is_link = entry.is_symlink()
                if is_link:
                    if not follow_symlinks:  # matched by name only: probing the target would follow it
                        if rules.wanted(name, below):
                            yield (entry.path, shown, f"symbolic link, not followed ({link_hint})", True)
                        continue
                    try:
                        target = os.stat(entry.path)
                    except OSError as error:
                        yield (entry.path, shown, _missing(entry.path, error), False)
                        continue
                    mode = target.st_mode
                else:
                    target, mode = None, _listed_mode(entry)
            except OSError as error:
                yield (entry.path, shown, error.strerror or str(error), False)
                continue
            if stat.S_ISDIR(mode):
                if not recursive:
                    continue
                if not _first_visit(entry, target, follow_symlinks, seen):
                    yield (entry.path, shown, "symbolic link loop (folder already walked)", True)
                    continue
                folders.append((entry.path, below))
            elif rules.wanted(name, below):
                if stat.S_ISREG(mode):
                    yield (entry.path, shown, None, False)
                else:
                    yield (entry.path, shown, f"not a regular file ({file_kind(mode)})", False)
        stack.extend(reversed(folders))


_NAME = attrgetter("name")


def _listed_mode(entry: os.DirEntry) -> int:
    """The file type of a listed entry that is not a link, from the listing itself: no stat for folders and files."""
    if entry.is_dir(follow_symlinks=False):
        return stat.S_IFDIR
    if entry.is_file(follow_symlinks=False):
        return stat.S_IFREG
    return entry.stat(follow_symlinks=False).st_mode


def _first_visit(entry: os.DirEntry, target: os.stat_result | None, follow_symlinks: bool, seen: set) -> bool:
    """Whether the folder `entry` (a link's `target` when it is one) is not yet walked; records it in `seen`.

    Folders are told apart by device and inode only where a link can lead back: a followed link, or any
    folder when links are followed."""
    if target is None and follow_symlinks:
        target = entry.stat()
    if target is None:
        return True
    key = (target.st_dev, target.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def _missing(path: str, error: OSError) -> str:
    """`os_reason`, telling a dangling symbolic link from a missing file."""
    if isinstance(error, FileNotFoundError) and os.path.islink(path):
        return "dangling symbolic link (its target is missing)"
    return os_reason(error)
