"""Groups of options that several commands share, declared once as dataclasses.

A command names a group by a parameter annotated with the group's class
(``link: Link``); :func:`grouped` lays the group's options out in that place of
the command's signature, so Typer shows them, in that order, in ``--help``, and
hands the command one frozen value instead of five arguments. A field's
annotation is the option itself (:mod:`terminal.cli.options`), so the help text,
default and callback of ``--port`` are written once for every command.
``Annotated[Link, Omit("card")]`` leaves options of a group out (the commands
that read no card).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_args, get_origin, get_type_hints

import typer

from terminal.cli.authority import OperatorOption, PasswordStdinOption, SupervisorOption
from terminal.cli.options import (
    BaudrateOption,
    CardOption,
    ConfigOption,
    JsonOption,
    PortOption,
    VerboseOption,
)
from terminal.cli.print_jobs import PrinterOption, PrintOption

__all__ = [
    "NO_SLIPS",
    "AdminAuthority",
    "Authority",
    "ConfigOnly",
    "Link",
    "LinkNoCard",
    "Omit",
    "Original",
    "Output",
    "Slips",
    "grouped",
]

Command = TypeVar("Command", bound=Callable[..., Any])


@dataclass(frozen=True)
class Omit:
    """Marks options of a group a command does not take: ``Annotated[Link, Omit("card")]``."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        object.__setattr__(self, "names", names)


@dataclass(frozen=True)
class Link:
    """Where the terminal is, how to reach it and how to show the result."""

    port: PortOption = None
    as_json: JsonOption = False
    card: CardOption = None
    config: ConfigOption = None
    baudrate: BaudrateOption = None
    verbose: VerboseOption = 0


@dataclass(frozen=True)
class Slips:
    """The receipt printer: print the slips of an approved transaction, and where."""

    print_slips: PrintOption = False
    printer: PrinterOption = None


@dataclass(frozen=True)
class Authority:
    """Who rings it up and the supervisor who authorises it (their password asked)."""

    operator: OperatorOption = None
    supervisor: SupervisorOption = None
    password_stdin: PasswordStdinOption = False


@dataclass(frozen=True)
class Original:
    """The original transaction, named by RRN or by trace (and date)."""

    rrn: Annotated[
        str | None, typer.Option("--rrn", help="The original's retrieval reference number (37).")
    ] = None
    trace: Annotated[
        str | None, typer.Option("--trace", help="The original's trace number (with --date).")
    ] = None
    date: Annotated[
        str | None, typer.Option("--date", metavar="MMDD", help="The original's date, e.g. 0314.")
    ] = None

    def reference(self) -> dict[str, str | None]:
        """The keyword arguments of the client's methods that find an original."""
        return {"rrn": self.rrn, "trace": self.trace, "date": self.date}


@dataclass(frozen=True)
class AdminAuthority:
    """The admin who authorises an operator change, and where their password comes from."""

    admin: Annotated[
        str | None, typer.Option("--admin", metavar="ID", help="The admin who authorises this.")
    ] = None
    password_stdin: PasswordStdinOption = False


@dataclass(frozen=True)
class Output:
    """How a command that reads local files shows its result, and which config it reads."""

    as_json: JsonOption = False
    config: ConfigOption = None
    verbose: VerboseOption = 0


#: The link options of a command that reads no card (sign-on, echo, settle, recover, ...).
LinkNoCard = Annotated[Link, Omit("card")]
#: Only ``--config`` and ``-v`` (``config-path``).
ConfigOnly = Annotated[Output, Omit("as_json")]
#: No slips printed (commands without ``--print``).
NO_SLIPS = Slips()


def grouped(command: Command) -> Command:
    """``command`` with each group-typed parameter spread into that group's options.

    Raises TypeError at import when two groups (or a group and the command) would
    give an option the same name: Typer would otherwise take one for the other.
    """
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    groups: dict[str, tuple[type, tuple[str, ...]]] = {}
    for parameter in signature.parameters.values():
        group, omitted = _group_of(parameter.annotation)
        if group is None:
            parameters.append(parameter)
            continue
        hints = get_type_hints(group, include_extras=True)
        names = tuple(f.name for f in dataclasses.fields(group) if f.name not in omitted)
        groups[parameter.name] = (group, names)
        parameters.extend(
            inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[f.name],
                              default=f.default)
            for f in dataclasses.fields(group) if f.name in names
        )
    seen = [p.name for p in parameters]
    clashes = sorted({name for name in seen if seen.count(name) > 1})
    if clashes:
        raise TypeError(f"{command.__name__}: options named twice: {', '.join(clashes)}")

    @functools.wraps(command)
    def spread(**values: Any) -> Any:
        for name, (group, names) in groups.items():
            values[name] = group(**{field: values.pop(field) for field in names})
        return command(**values)

    spread.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]
    )
    return spread  # type: ignore[return-value]


def _group_of(annotation: Any) -> tuple[type | None, tuple[str, ...]]:
    """The group class an annotation names (and the options it omits), or None."""
    omitted: tuple[str, ...] = ()
    if get_origin(annotation) is Annotated:
        annotation, *extras = get_args(annotation)
        omitted = tuple(n for extra in extras if isinstance(extra, Omit) for n in extra.names)
    if isinstance(annotation, type) and annotation in _GROUPS:
        return annotation, omitted
    return None, ()


_GROUPS = (Link, Slips, Authority, Original, AdminAuthority, Output)
