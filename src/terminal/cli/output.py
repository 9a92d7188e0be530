"""What the command line writes, written so that writing can never change the exit code.

An approved sale has charged the card whatever becomes of its output. Stdout
may not encode Chinese (a cp1252 Windows console, ``PYTHONIOENCODING=ascii``)
or nobody may read it any more (``terminal sale 1.00 --receipt | true``); both
once turned exit 0 into exit 1, "declined". Here characters the stream cannot
show are replaced (JSON falls back to ``\\uXXXX`` escapes, which lose nothing),
a closed stdout is said once on stderr, and the exit code stays the money's.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import Any

from rich.console import Console

__all__ = [
    "SIMULATOR_BANNER",
    "console",
    "dumps",
    "err",
    "out",
    "out_json",
    "prepare_streams",
]

#: First line of every human-readable result obtained from the simulator (wherever it runs:
#: ``sim://``, or a device whose answers carry its mark), and the head of its failures.
SIMULATOR_BANNER = "SIMULATOR — no money moved"

_STDOUT_GONE = "warning: stdout was closed before the result was written; the exit code stands"


def prepare_streams() -> None:
    """Make stdout and stderr replace what their encoding cannot show instead of failing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        # A stream that cannot be reconfigured is handled by _write instead.
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="replace")


def out(text: str = "", *, nl: bool = True) -> None:
    """Write ``text`` to stdout and flush; a reader that went away costs a warning only."""
    _write(sys.stdout, text + ("\n" if nl else ""))


def err(text: str) -> None:
    """Write a line to stderr; if stderr is gone too there is nobody left to tell."""
    _write(sys.stderr, text + "\n")


def dumps(obj: Any) -> str:
    """``obj`` as indented JSON, in the stream's characters when it can show them."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    if _encodable(text, sys.stdout):
        return text
    return json.dumps(obj, ensure_ascii=True, indent=2)


def out_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout."""
    out(dumps(obj))


def console() -> Console:
    """A rich console on stdout that writes through :func:`out` (colour on a terminal only)."""
    return Console(file=_SafeStdout(), highlight=False)


class _SafeStdout:
    """The file rich writes to: stdout as it is when written, through :func:`_write`."""

    def write(self, text: str) -> int:
        _write(sys.stdout, text)
        return len(text)

    def flush(self) -> None:
        _write(sys.stdout, "")

    def isatty(self) -> bool:
        try:
            return sys.stdout.isatty()
        except (ValueError, OSError):
            return False

    @property
    def encoding(self) -> str:
        return getattr(sys.stdout, "encoding", None) or "utf-8"


def _write(stream: Any, text: str) -> None:
    try:
        try:
            if text:
                stream.write(text)
        except UnicodeEncodeError:  # a stream prepare_streams could not reconfigure
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "replace").decode(encoding))
        stream.flush()
    except BrokenPipeError:
        _stream_gone(stream)
    except (ValueError, OSError):  # closed or unusable: the exit code still stands
        _stream_gone(stream)


def _stream_gone(stream: Any) -> None:
    """Point the dead stream's descriptor at the null device, so that the interpreter's
    final flush does not raise again, and say so once on stderr."""
    if getattr(stream, "_terminal_gone", False):
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, stream.fileno())
        finally:
            os.close(null)
    except (OSError, ValueError, AttributeError):
        pass
    with contextlib.suppress(AttributeError):
        stream._terminal_gone = True
    if stream is sys.stdout:
        _write(sys.stderr, _STDOUT_GONE + "\n")


def _encodable(text: str, stream: Any) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True
