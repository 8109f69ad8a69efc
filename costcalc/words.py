"""Wording every front end shares: OS reasons, kinds of file and JSON value, printable paths.

Nothing here knows about images or prices; every layer above may use it.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

_NAMED = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _visible(char: str) -> str:
    if char.isprintable():
        return char
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (PEP 383): the byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escape(text: str) -> str:
    """`text` from outside (a file name, a custom_id, a model name from a bill, a URL, a payload string) made safe for
    a table or an `Error:` line: every character Python does not call printable shown as a visible escape — C0 and
    C1 controls (ESC starts CSI and OSC sequences, 0x9b is a one-byte CSI), DEL, newlines and tabs (`\\x1b`,
    `\\n`, `\\t`), the bidirectional and zero-width marks that reorder or hide text ("Trojan Source",
    CVE-2021-42574; `\\u202e`), line separators, and undecodable bytes of a file name (`\\xe9`); anything else
    as it is."""
    if text.isprintable():
        return text
    return "".join(map(_visible, text))

__all__ = ["os_reason", "file_kind", "json_kind", "display_path", "escape", "caught_warnings", "show_value"]

def display_path(path: str) -> str:
    """A printable form of a path (`escape`): undecodable bytes of a non-UTF-8 name shown as \\xNN, controls as
    visible escapes."""
    return escape(path)


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


@contextmanager
def caught_warnings() -> Iterator[list[str]]:
    """Warnings a third-party library (Pillow, PyAV) issues meanwhile, kept as one-line, escaped texts (filled in
    when the block ends) instead of printed raw on stderr: the caller makes them its file's `warning`."""
    found: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield found
    found.extend(dict.fromkeys(escape(" ".join(str(record.message).split())) for record in records))


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
