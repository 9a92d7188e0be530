"""A field session with MACs on, recorded over a pty and replayed on "a laptop" over a pty.

The field: ``terminal simulate --pty`` with one master key and MACs required,
the POS host recording sign-on, sale and void into one trace file. The
laptop: another data directory and another master key, ``terminal simulate
--pty --replay`` of that file, and the same host commands against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terminal.cli.app import app
from terminal.trace import read_trace
from tests.lane import add_staff
from tests.trace.replay_rig import simulate

FIELD_KEY = "00112233445566778899AABBCCDDEEFF"
LAPTOP_KEY = "FEDCBA98765432100123456789ABCDEF"
BAD_SALE_MAC = """version = 1
name = "bad sale MAC"
description = "The first sale response carries a MAC that does not verify."

[[faults]]
kind = "bad_mac"
point = "response"
mti = "0200"
times = 1
"""

runner = CliRunner()


class Site:
    """A POS host (config, data directory, supervisor) whose commands run in this process."""

    def __init__(self, root: Path, master_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
        root.mkdir()
        self.config = root / "config.toml"
        self.config.write_text(
            f'[security]\nmaster_key = "{master_key}"\n\n[simulator]\nrequire_mac = true\n'
            '\n[operators]\ndefault_operator = "sue"\n'  # sue rings up the sales too
        )
        self.data = root / "data"
        self._monkeypatch = monkeypatch
        self.enter()
        add_staff(default=None)  # the config above names sue

    def enter(self) -> None:
        self._monkeypatch.setenv("TERMINAL_CONFIG", str(self.config))
        self._monkeypatch.setenv("TERMINAL_DATA_DIR", str(self.data))

    def run(self, port: str, *args: str, trace: Path | None = None) -> tuple[int, dict, str]:
        self.enter()
        head = ["--trace", str(trace)] if trace is not None else []
        stdin = None
        if args[0] == "void":
            args = (*args, "--supervisor", "sue", "--password-stdin")
            stdin = "sue-pw\n"
        outcome = runner.invoke(app, [*head, *args, "--port", port, "--json"], input=stdin)
        return outcome.exit_code, json.loads(outcome.stdout), outcome.output

    def session(self, port: str, trace: Path | None = None) -> list[tuple[int, dict, str]]:
        """Sign-on, a 12.34 sale, its void."""
        results = [self.run(port, "sign-on", trace=trace), self.run(port, "sale", "12.34",
                                                                     trace=trace)]
        results.append(self.run(port, "void", "--rrn", results[1][1]["rrn"], trace=trace))
        return results


@contextmanager
def _simulate(site: Site, *options: str) -> Iterator[tuple[str, list[str]]]:
    """``terminal simulate --pty OPTIONS`` in its own process, under ``site``'s config;
    yields the pty's path and a list that holds the process's stderr once it stopped."""
    env = {"TERMINAL_CONFIG": str(site.config), "TERMINAL_DATA_DIR": str(site.data)}
    with simulate(*options, env=env) as served:
        yield served


@pytest.fixture
def field(tmp_path, monkeypatch) -> Site:
    return Site(tmp_path / "field", FIELD_KEY, monkeypatch)


@pytest.fixture
def laptop(tmp_path, monkeypatch) -> Site:
    return Site(tmp_path / "laptop", LAPTOP_KEY, monkeypatch)


def _money(result: tuple[int, dict, str]) -> tuple:
    code, shown, _ = result
    return (code, shown.get("transaction"), shown.get("response_code"), shown.get("amount_fen"),
            shown.get("card"), shown.get("rrn"), shown.get("auth_code"))


def test_a_recorded_session_with_macs_replays_on_a_laptop_with_another_master_key(
    field, laptop, tmp_path
):
    trace = tmp_path / "field.trace"
    books = tmp_path / "field-books.sqlite3"
    with _simulate(field, "--ledger", str(books)) as (port, _):
        recorded = field.session(port, trace)
    assert [r[0] for r in recorded] == [0, 0, 0], [r[2] for r in recorded]
    verdicts = [r.mac for r in read_trace(trace).frames() if r.direction == "rx"]
    assert verdicts == ["", "ok", "ok"]  # the sign-on response carries keys, no MAC

    with _simulate(laptop, "--replay", str(trace)) as (port, stderr):
        replayed = laptop.session(port)
    assert [r[0] for r in replayed] == [0, 0, 0], [r[2] for r in replayed]
    assert [_money(r) for r in replayed] == [_money(r) for r in recorded]
    assert replayed[2][1]["original"]["rrn"] == recorded[1][1]["rrn"]
    assert "MACs re-signed" in stderr[0] and "card data stays masked" in stderr[0]


def test_the_recorded_keys_and_macs_unchanged_do_not_open_on_the_laptop(field, laptop, tmp_path):
    trace = tmp_path / "field.trace"
    with _simulate(field, "--ledger", str(tmp_path / "books.sqlite3")) as (port, _):
        assert field.run(port, "sign-on", trace=trace)[0] == 0
    with _simulate(laptop, "--replay", str(trace), "--keep-macs") as (port, stderr):
        code, shown, _ = laptop.run(port, "sign-on")
    # The keys in field 62 are under the field's master key: their check values fail here.
    assert code == 2 and "check value" in shown["error"], shown
    assert "played as recorded" in stderr[0]


def test_a_response_whose_mac_failed_in_the_field_fails_again_in_the_replay(
    field, laptop, tmp_path
):
    scenario = tmp_path / "bad-sale-mac.toml"
    scenario.write_text(BAD_SALE_MAC)
    trace = tmp_path / "field.trace"
    books = tmp_path / "books.sqlite3"
    with _simulate(field, "--ledger", str(books), "--scenario", str(scenario)) as (port, _):
        recorded = [field.run(port, "sign-on", trace=trace),
                    field.run(port, "sale", "12.34", trace=trace)]
    assert recorded[1][0] == 3 and "MAC" in recorded[1][1]["error"], recorded[1][2]
    assert [r.mac for r in read_trace(trace).frames() if r.direction == "rx"] == ["", "bad"]
    shown = runner.invoke(app, ["trace", "show", str(trace)]).output
    assert "frame 0210" in shown and "MAC did NOT verify" in shown

    with _simulate(laptop, "--replay", str(trace)) as (port, stderr):
        replayed = [laptop.run(port, "sign-on"), laptop.run(port, "sale", "12.34")]
    assert replayed[0][0] == 0, replayed[0][2]  # re-keyed: the sign-on itself works here
    assert replayed[1][0] == 3 and "MAC" in replayed[1][1]["error"], replayed[1][2]
    assert replayed[1][1]["in_doubt"] is True
    assert "1 whose MAC failed in the field keep it failing" in stderr[0]
