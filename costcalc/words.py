"""Wording every front end shares: OS reasons, kinds of file and JSON value, printable paths.

Nothing here knows about images or prices; every layer above may use it.
"""

from __future__ import annotations

import errno
import stat

__all__ = ["os_reason", "file_kind", "json_kind", "display_path", "show_value"]

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


def show_value(value: object) -> str:
    """A short one-line rendering of a JSON value for a message, whatever it is."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if value is None or isinstance(value, bool):
        return "null" if value is None else ("true" if value else "false")
    if isinstance(value, int):
        return repr(value) if value.bit_length() < 128 else f"a number of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    return f"a {type(value).__name__}"
