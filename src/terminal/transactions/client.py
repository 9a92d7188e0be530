"""The POS host's side of each transaction: build the request, exchange, check, protect.

Every response is checked against its request before it is believed (MTI,
trace, terminal and merchant ids, amount), because a stale or crossed answer on
a serial line is how money ends up credited to the wrong sale. The full card
number in a response is turned into a masked number and token right here.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from terminal.card_data import protect_pan
from terminal.clock import Clock, MonotonicClock
from terminal.config import TerminalSettings
from terminal.errors import LinkError, LinkTimeout, ProtocolError
from terminal.protocol import Message, Tpdu, decode, encode
from terminal.protocol.response_codes import APPROVED, describe
from terminal.transactions.amount import MAX_AMOUNT_FEN
from terminal.transactions.errors import ResponseMismatch, TransactionInDoubt
from terminal.transactions.result import TransactionKind, TransactionResult
from terminal.transactions.state import HostState

__all__ = ["TerminalClient"]

log = logging.getLogger("terminal.transactions")

# Processing code (3), condition code (25), 60.1 and 60.3 per transaction: data, not code.
_SPEC: dict[TransactionKind, dict[str, str]] = {
    TransactionKind.SIGN_ON: {"mti": "0800", "network_code": "001", "message_type": "00"},
    TransactionKind.ECHO: {"mti": "0820", "network_code": "301", "message_type": "00"},
    TransactionKind.BALANCE: {
        "mti": "0200", "processing": "310000", "condition": "00", "message_type": "01",
    },
    TransactionKind.SALE: {
        "mti": "0200", "processing": "000000", "condition": "00", "message_type": "22",
    },
}
CNY = "156"
# Fields a response must echo unchanged when the request had them.
_ECHOED = (11, 41, 42, 3, 4)
_MOVES_MONEY = frozenset({TransactionKind.SALE})


class Link(Protocol):
    """What the client needs of the link (:class:`terminal.link.SerialLink` has it)."""

    def send(self, data: bytes) -> None: ...

    def receive(self, timeout: float | None = None) -> bytes: ...


class TerminalClient:
    """Runs transactions with one terminal over ``link``."""

    def __init__(
        self,
        link: Link,
        settings: TerminalSettings,
        *,
        state: HostState,
        token_key: bytes,
        response_timeout: float = 60.0,
        clock: Clock | None = None,
    ) -> None:
        self.link = link
        self.settings = settings
        self.state = state
        self._token_key = token_key
        self._response_timeout = response_timeout
        self._clock = clock or MonotonicClock()
        self._tpdu = Tpdu.fromhex(settings.tpdu)

    def sign_on(self) -> TransactionResult:
        """Sign on; the terminal's batch number becomes the host's."""
        return self._run(TransactionKind.SIGN_ON, {})

    def echo(self) -> TransactionResult:
        """Echo test: is the terminal there and answering?"""
        return self._run(TransactionKind.ECHO, {})

    def balance(self) -> TransactionResult:
        return self._run(TransactionKind.BALANCE, {49: CNY})

    def sale(self, amount_fen: int) -> TransactionResult:
        """A purchase of ``amount_fen`` (integer fen)."""
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
            raise TypeError("amounts are integer fen")
        if not 0 < amount_fen <= MAX_AMOUNT_FEN:
            raise ValueError(f"sale amount {amount_fen} fen is out of range")
        return self._run(TransactionKind.SALE, {4: f"{amount_fen:012d}", 49: CNY}, amount_fen)

    # -- one exchange ---------------------------------------------------------

    def _run(
        self, kind: TransactionKind, extra: dict[int, Any], amount_fen: int | None = None
    ) -> TransactionResult:
        request = self._request(kind, extra)
        trace = request[11]
        raw = encode(request, self.settings.dialect)
        log.info("request %s trace=%s amount_fen=%s", kind.value, trace, amount_fen)
        try:
            self.link.send(raw)
            response = self._await_response(request)
            result = self._result(kind, request, response)
        except (LinkError, ProtocolError, KeyboardInterrupt) as exc:
            reason = _safe_reason(exc)
            if kind in _MOVES_MONEY:
                log.warning("%s trace=%s in doubt: %s", kind.value, trace, reason)
                raise TransactionInDoubt(
                    reason, kind=kind.value, trace=trace, amount_fen=amount_fen,
                    field=getattr(exc, "field", None),
                ) from None
            if isinstance(exc, ProtocolError):
                raise ProtocolError(reason, field=exc.field, offset=exc.offset) from None
            raise
        if result.approved and kind is TransactionKind.SIGN_ON:
            self.state.set_batch(result.batch)
        log.info("response %s trace=%s code=%s", kind.value, trace, result.response.code)
        return result

    def _await_response(self, request: Message) -> Message:
        """The response to ``request``, skipping well-formed answers to other traces.

        A terminal that answers late sends the response to an earlier (in-doubt)
        request while we wait for this one: it is logged and passed over, never
        taken for ours, and the wait goes on until this request's deadline.
        """
        deadline = self._clock.now() + self._response_timeout
        while True:
            remaining = deadline - self._clock.now()
            if remaining <= 0:
                raise LinkTimeout(f"no response within {self._response_timeout:g} s")
            response = decode(self.link.receive(remaining), self.settings.dialect)
            their_trace = response.get(11)
            if their_trace is not None and their_trace != request[11]:
                log.warning(
                    "late response for trace %s (code %s) passed over while waiting for %s",
                    their_trace, response.get(39), request[11],
                )
                continue
            self._check(request, response)
            return response

    def _request(self, kind: TransactionKind, extra: dict[int, Any]) -> Message:
        spec = _SPEC[kind]
        subfields = {"message_type": spec["message_type"], "batch": self.state.batch}
        if "network_code" in spec:
            subfields["network_code"] = spec["network_code"]
        fields: dict[int, Any] = {
            11: self.state.next_trace(),
            41: self.settings.terminal_id,
            42: self.settings.merchant_id,
            60: subfields,
        }
        if "processing" in spec:
            fields[3] = spec["processing"]
            fields[25] = spec["condition"]
        fields.update(extra)
        return Message(spec["mti"], fields, tpdu=self._tpdu, header=self.settings.header)

    @staticmethod
    def _check(request: Message, response: Message) -> None:
        """Believe nothing that does not answer this very request."""
        expected_mti = f"{int(request.mti) + 10:04d}"
        if response.mti != expected_mti:
            raise ResponseMismatch(
                f"response MTI {response.mti} does not answer {request.mti}", field="mti"
            )
        for number in _ECHOED:
            if number not in request:
                continue
            if number not in response:
                if number == 4 and response.get(39) != APPROVED:
                    continue  # a decline need not echo the amount
                raise ResponseMismatch("response does not echo this field", field=str(number))
            if response[number] != request[number]:
                raise ResponseMismatch(
                    f"response carries {response[number]!r}, request had {request[number]!r}",
                    field=str(number),
                )
        if 39 not in response:
            raise ResponseMismatch("response has no response code", field="39")

    def _result(
        self, kind: TransactionKind, request: Message, response: Message
    ) -> TransactionResult:
        pan = response.get(2)
        field60 = response.get(60) or {}
        amount = response.get(4, request.get(4))
        return TransactionResult(
            kind=kind,
            response=describe(response[39]),
            trace=request[11],
            batch=field60.get("batch") or request[60]["batch"],
            terminal_id=self.settings.terminal_id,
            merchant_id=self.settings.merchant_id,
            amount_fen=int(amount) if amount is not None else None,
            card=protect_pan(pan, self._token_key) if pan else None,
            rrn=_text(response.get(37)),
            auth_code=_text(response.get(38)),
            local_date=response.get(13),
            local_time=response.get(12),
            balance_fen=_balance(response.get(54)),
            card_organisation=_text(response.get(63)),
        )


def _safe_reason(exc: BaseException) -> str:
    """What went wrong, without the hex window or decoded fields a ProtocolError
    carries: around field 2 or 35 those bytes spell the card number."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted after the request was sent"
    if isinstance(exc, ProtocolError):
        where = f"field {exc.field}" if exc.field else "response"
        at = f", byte offset {exc.offset}" if exc.offset is not None else ""
        return f"{where}{at}: {exc.reason}"
    return str(exc)


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _balance(field54: Any) -> int | None:
    """The available balance from field 54's 20-character entries, in signed fen.

    Each entry: account type (2), amount type (2), currency (3), sign C/D, 12 digits.
    Amount type 02 (available) wins; otherwise the first entry.
    """
    if not isinstance(field54, str) or len(field54) < 20:
        return None
    entries = [field54[i : i + 20] for i in range(0, len(field54) - 19, 20)]
    chosen = next((e for e in entries if e[2:4] == "02"), entries[0])
    digits = chosen[8:20]
    if not digits.isdigit() or chosen[7] not in "CD":
        raise ResponseMismatch(f"balance entry {chosen!r} is malformed", field="54")
    return int(digits) * (-1 if chosen[7] == "D" else 1)
