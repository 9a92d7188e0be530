"""Working keys and MACs for a replayed session, so that a field recording verifies here.

A trace cannot be replayed byte for byte where MACs are on: the working keys in
the recorded sign-on response (field 62) are encrypted under the *field*
terminal's master key, and each recorded MAC (field 64) was computed over card
data that the trace holds only masked. :class:`Resigner` is the replaying
device's key office instead: it issues working keys under the master key
configured here, by the simulator's own sign-on (a
:class:`~simulator.host.VirtualTerminal` with private in-memory books, so the
laptop's simulator books are not touched), and seals every replayed response
that carries a MAC with a MAC over the bytes actually sent.

A MAC fault stays reproducible: a response recorded with the verdict ``bad``
(the recording host found its MAC wrong, :mod:`terminal.trace.file`) keeps its
recorded field 64, which fails here too. Card data is never unmasked: the MAC
is computed over the masked bytes that are sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from simulator.config import SimulatorSettings
from simulator.host import VirtualTerminal
from simulator.ledger import Ledger
from terminal.errors import ProtocolError
from terminal.protocol import Message, encode
from terminal.protocol.catalogue import Kind, identify
from terminal.protocol.response_codes import APPROVED, Rc
from terminal.protocol.security import MAC_FIELD, MacAlgorithm, WorkingKeys, sign, verify

__all__ = ["BAD", "KEYS_FIELD", "Resigner"]

log = logging.getLogger("simulator.replay")

#: The field a sign-on response delivers the working keys in.
KEYS_FIELD = 62
#: The trace's verdict on a response whose MAC did not verify where it was recorded.
BAD = "bad"
DIALECT = "cup"


class Resigner:
    """The replay's own working keys; re-keys sign-ons and re-signs MAC'd responses."""

    def __init__(
        self,
        settings: SimulatorSettings | None = None,
        *,
        batch: int | None = None,
        wall_time: Callable[[], datetime] = datetime.now,
    ) -> None:
        settings = settings or SimulatorSettings()
        if batch is not None:
            settings = replace(settings, batch=batch)
        self._office = VirtualTerminal(settings, ledger=Ledger())
        self._algorithm = MacAlgorithm(settings.mac_algorithm)
        self._wall_time = wall_time
        #: Responses sent with a MAC computed here / with their recorded (bad) MAC kept.
        self.resigned = 0
        self.kept_bad = 0

    @property
    def keys(self) -> WorkingKeys | None:
        """The working keys the replay issued last (``None`` before a sign-on, after a
        sign-off)."""
        return self._office.working_keys

    def own_answer(self, live: Message, *, next_recorded: Message | None) -> Message | None:
        """An answer the replay gives itself, outside the recording, or ``None``.

        Keys are the laptop's business, not the field problem's, so two requests
        are answered here without using up a recorded exchange: a sign-on where
        the recording has none next (the field session was recorded after its
        sign-on) gets an approval with fresh keys; a MAC'd request while the
        replay has issued no keys gets ``A0``, as from a terminal that restarted,
        which makes the host sign on and send it again.

        ``next_recorded`` is the recorded request that decides the sign-on: the
        first unplayed one that is of the live request's kind or a money message
        (:meth:`simulator.recording.Recording.next_bearing_on_keys`), so that an
        echo test recorded before the sign-on does not hide it.
        """
        if _kind(live) is Kind.SIGN_ON and (
            next_recorded is None or _kind(next_recorded) is not Kind.SIGN_ON
        ):
            log.info("sign-on not in the recording: answered by the replay, with its own keys")
            return self._office.handle(live, self._wall_time())
        if MAC_FIELD in live and self.keys is None:
            log.info("MAC'd %s before any sign-on with the replay: A0 (sign on again)", live.mti)
            return self._office.reject(live, self._wall_time(), Rc.MAC_ERROR)
        return None

    def rekey(self, live: Message, recorded: Message) -> Message:
        """``recorded`` (the answer to ``live``) with the keys it delivers issued here.

        An approved sign-on gets field 62 from the replay's own sign-on (keys
        under this host's master key); an approved sign-off makes the replay
        drop its keys too. Anything else is returned as it is.
        """
        kind = _kind(live)
        if kind not in (Kind.SIGN_ON, Kind.SIGN_OFF) or recorded.get(39) != APPROVED:
            return recorded
        if kind is Kind.SIGN_ON and KEYS_FIELD not in recorded:
            return recorded
        issued = self._office.handle(live, self._wall_time())
        if kind is Kind.SIGN_OFF:
            return recorded
        if issued.get(39) != APPROVED or KEYS_FIELD not in issued:
            log.warning(
                "the replay could not issue working keys (its sign-on answered %s): the "
                "recorded field 62 is sent, which only the field terminal's master key opens",
                issued.get(39),
            )
            return recorded
        log.info("sign-on replayed with working keys issued under this host's master key")
        return recorded.with_fields({KEYS_FIELD: issued[KEYS_FIELD]})

    def seal(self, response: Message, verdict: str = "") -> bytes:
        """``response`` encoded, its MAC computed over these very bytes with the replay's
        MAC key, or its recorded MAC kept (and failing) when the verdict is ``bad``.

        A response recorded without field 64, or one replayed before the replay
        issued any keys, is encoded as it is.
        """
        keys = self.keys
        if MAC_FIELD not in response or keys is None:
            return encode(response, DIALECT)
        if verdict == BAD:
            data = encode(response, DIALECT)
            if _verifies(data, keys.mac_key, self._algorithm):
                # 1 in 2**32: the recorded value happens to fit these keys; keep it failing.
                data = data[:-1] + bytes([data[-1] ^ 0x01])
            self.kept_bad += 1
            log.info("%s sent with its recorded MAC, which failed in the field too", response.mti)
            return data
        _, data = sign(response, keys.mac_key, self._algorithm, DIALECT)
        self.resigned += 1
        log.info("%s re-signed: MAC computed here over the bytes sent", response.mti)
        return data


def _kind(message: Message) -> Kind | None:
    row = identify(message)
    return row.kind if row is not None else None


def _verifies(data: bytes, key: bytes, algorithm: MacAlgorithm) -> bool:
    try:
        return verify(data, key, algorithm, DIALECT)
    except ProtocolError:
        return False
