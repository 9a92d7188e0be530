"""The command's own conveniences: --version, -v anywhere, --card help naming the profiles."""

from __future__ import annotations

import logging

from typer.testing import CliRunner

from simulator import load_cards
from terminal import __version__
from terminal.cli.app import app

runner = CliRunner()


def test_version_prints_the_package_version():
    outcome = runner.invoke(app, ["--version"])
    assert outcome.exit_code == 0
    assert outcome.stdout.strip() == f"terminal {__version__}"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.names: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.names.append(f"{record.name}:{record.levelname}")


def _logged(args: list[str]) -> list[str]:
    root, records = logging.getLogger(), _Records()
    old_level = root.level
    root.setLevel(logging.WARNING)
    logging.getLogger("terminal").addHandler(records)
    try:
        outcome = runner.invoke(app, args)
        assert outcome.exit_code == 0, outcome.output
    finally:
        logging.getLogger("terminal").removeHandler(records)
        root.setLevel(old_level)
    return records.names


def test_verbose_is_accepted_after_the_command_too():
    assert "terminal.transactions:INFO" not in _logged(["echo"])
    assert "terminal.transactions:INFO" in _logged(["-v", "echo"])
    assert "terminal.transactions:INFO" in _logged(["echo", "-v"])
    assert "terminal.transactions:INFO" in _logged(["sale", "1.00", "--verbose"])


def test_card_help_lists_the_profile_names():
    outcome = runner.invoke(app, ["sale", "--help"], terminal_width=200)
    assert outcome.exit_code == 0
    for card in load_cards():
        assert card.name in outcome.stdout


def _leaf_commands():
    import typer.main

    def walk(command, path):
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                yield from walk(sub, [*path, name])
        else:
            yield " ".join(path), command

    return list(walk(typer.main.get_command(app), []))


def test_every_command_accepts_verbose_after_its_name():
    commands = _leaf_commands()
    assert len(commands) > 10
    missing = [name for name, command in commands
               if "-v" not in {o for p in command.params for o in getattr(p, "opts", [])}]
    assert missing == []
