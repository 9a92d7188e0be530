"""No test id spells a card number: pytest keeps every id in ``.pytest_cache``."""

from __future__ import annotations

import re

import pytest

from simulator import load_cards
from terminal.card_data import luhn_valid

_RUN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")


def _card_like(text: str) -> list[str]:
    return [run for run in _RUN.findall(text) if luhn_valid(run) and len(set(run)) > 2]


def test_no_collected_test_id_holds_a_card_number(request: pytest.FixtureRequest):
    ids = [item.nodeid for item in request.session.items]
    assert len(ids) > 0
    pans = [card.pan for card in load_cards()]
    offending = [i for i in ids if _card_like(i) or any(pan in i for pan in pans)]
    assert offending == []


def test_the_id_hook_replaces_long_digit_runs(pytestconfig: pytest.Config):
    hook = pytestconfig.pluginmanager.hook.pytest_make_parametrize_id
    assert hook(config=pytestconfig, val="6214830117451467", argname="pan") == "pan16"
    assert hook(config=pytestconfig, val=b"166214830117451467", argname="wire") == "pan18"
    assert hook(config=pytestconfig, val="000000001234", argname="amount") is None  # default
