"""Writing the helper functions our construct classes add to a compiled module.

construct's ``.compile()`` asks each construct for an expression
(``_emitparse``: one that reads from ``io``; ``_emitbuild``: one that writes
``obj`` to ``io``) and lets it add module-level code through its ``CodeGen``.
Ours add one function each and return a call of it: :func:`function` does
that, so every generated function has the same shape, arguments and naming
(``parse_bcdnumeric_7(io, this)``, ``build_text_12(obj, io, this)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["ARGUMENTS", "function", "indent"]

#: The arguments construct's generated code passes for parsing and for building.
ARGUMENTS = {"parse": "io, this", "build": "obj, io, this"}


def function(code: Any, kind: str, stem: str, body: str | Sequence[str], imports: str = "") -> str:
    """Add ``def <kind>_<stem>_<n>(<arguments>)`` with ``body`` (source text or
    lines, any consistent indentation) to ``code``, ``imports`` above it; the
    call expression construct splices into its caller."""
    name = f"{kind}_{stem}_{code.allocateId()}"
    arguments = ARGUMENTS[kind]
    if imports:
        code.append(imports)
    text = body if isinstance(body, str) else "\n".join(body)
    code.append(f"def {name}({arguments}):\n" + indent(text))
    return f"{name}({arguments})"


def indent(body: str) -> str:
    """``body`` (any consistent indentation) indented one level, for a ``def``."""
    lines = [line for line in body.splitlines() if line.strip()]
    trim = min(len(line) - len(line.lstrip()) for line in lines)
    return "\n".join("    " + line[trim:] for line in lines)
