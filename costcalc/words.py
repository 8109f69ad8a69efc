"""Wording every front end shares: OS reasons, kinds of file and JSON value, printable paths.

Nothing here knows about images or prices; every layer above may use it.
"""

from __future__ import annotations

import errno
import os
import stat

__all__ = ["os_reason", "file_kind", "json_kind", "display_path"]

def display_path(path: str) -> str:
    """A printable form of a path: undecodable bytes of a non-UTF-8 name shown as \\xNN."""
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def os_reason(error: OSError) -> str:
    """A short reason for an OS error: no such file, permission denied, ..."""
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not an image"
    if isinstance(error, PermissionError):
        return "permission denied"
    if error.errno in (errno.ELOOP, errno.ENOTDIR) and error.strerror and error.strerror != os.strerror(error.errno):
        return error.strerror  # costcalc's own reason (files.LinkedFolderError)
    if error.errno == errno.ELOOP:
        return "symbolic link loop"
    return error.strerror or str(error)


def file_kind(mode: int) -> str:
    """What a non-regular file is, from its st_mode: a named pipe, a socket, a device."""
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder")):  # fmt: skip
        if test(mode):
            return name
    return "a special file"


def json_kind(value: object) -> str:
    """What a parsed JSON value is, in JSON's words (never Python's): null, true, a string, a number, a list."""
    if value is None or isinstance(value, bool):
        return "null" if value is None else "true" if value else "false"
    for kind, name in ((str, "a string"), ((int, float), "a number"), ((list, tuple), "a list"), (dict, "an object")):
        if isinstance(value, kind):
            return name
    return "not a JSON value"
