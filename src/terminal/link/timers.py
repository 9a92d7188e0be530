"""The link's timers and retry count, from the ``[link]`` table of the config file.

The defaults are the UnionPay serial-link values (ACK within 1 s, 200 ms at
most between two bytes of a frame, the response within 60 s, 3 sends in all);
a slow or noisy cable may need longer ones, which is why all are configurable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from terminal.errors import ConfigError

__all__ = ["LinkTimers"]


@dataclass(frozen=True)
class LinkTimers:
    """Seconds to wait at each step of the link, and how many times to send a frame.

    Values are checked when built, so a bad config file fails at start-up and
    not in the middle of a payment. Bad values raise :class:`ConfigError`.
    """

    ack_timeout: float = 1.0
    inter_byte_timeout: float = 0.2
    response_timeout: float = 60.0
    max_sends: int = 3

    def __post_init__(self) -> None:
        for name in ("ack_timeout", "inter_byte_timeout", "response_timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"[link] {name} must be a number of seconds, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(
                    f"[link] {name} must be a positive number of seconds, got {value!r}"
                )
            object.__setattr__(self, name, float(value))
        sends = self.max_sends
        if isinstance(sends, bool) or not isinstance(sends, int) or sends < 1:
            raise ConfigError(
                f"[link] max_sends must be a whole number of at least 1, got {sends!r}"
            )

    @property
    def duplicate_window(self) -> float:
        """Seconds after its last ACK within which identical DATA is a resend, not a new message.

        The peer resends a frame only while it misses our ACK, at most
        ``max_sends`` times ``ack_timeout`` apart; past that it has given up on
        the send, so identical bytes can only be a new message. Both ends'
        duplicate filter and the simulator's fault injector (which counts
        exchanges) use this one figure.
        """
        return self.ack_timeout * self.max_sends

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LinkTimers:
        """Timers from the ``[link]`` table of the parsed config; defaults for what is absent.

        Unknown keys are an error (a misspelt ``ack_timout`` must not silently
        leave the default in force).
        """
        section = config.get("link", {})
        if not isinstance(section, dict):
            raise ConfigError(f"[link] must be a table, got {type(section).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise ConfigError(
                f"unknown [link] keys: {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        return cls(**section)
