"""LinkTimers: defaults, the [link] config table, and refusal of bad values."""

from __future__ import annotations

import pytest

from terminal.errors import ConfigError
from terminal.link import LinkTimers


def test_defaults_are_the_unionpay_values() -> None:
    timers = LinkTimers()
    assert (timers.ack_timeout, timers.inter_byte_timeout) == (1.0, 0.2)
    assert (timers.response_timeout, timers.max_sends) == (60.0, 3)


def test_from_config_reads_the_link_table_and_keeps_defaults_for_the_rest() -> None:
    timers = LinkTimers.from_config({"link": {"ack_timeout": 2, "max_sends": 5}, "terminal": {}})
    assert timers == LinkTimers(ack_timeout=2.0, max_sends=5)
    assert isinstance(timers.ack_timeout, float)


def test_from_config_without_link_table_gives_defaults() -> None:
    assert LinkTimers.from_config({}) == LinkTimers()


def test_unknown_link_key_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="ack_timout"):
        LinkTimers.from_config({"link": {"ack_timout": 2.0}})


def test_link_that_is_not_a_table_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        LinkTimers.from_config({"link": 3})


@pytest.mark.parametrize(
    "values",
    [
        {"ack_timeout": 0},
        {"inter_byte_timeout": -0.1},
        {"response_timeout": float("inf")},
        {"ack_timeout": "1"},
        {"ack_timeout": True},
        {"max_sends": 0},
        {"max_sends": 2.5},
        {"max_sends": True},
    ],
)
def test_non_positive_or_mistyped_values_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        LinkTimers.from_config({"link": values})
