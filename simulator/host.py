"""The virtual terminal: a CUP request :class:`Message` in, the response out.

This is the terminal and its acquirer seen from the POS host, without any link
or transport: :meth:`VirtualTerminal.handle` takes a decoded request and the
wall-clock time, "reads" the presented card, asks the simulated issuer, books
the exchange in the :class:`~simulator.ledger.Ledger` and returns what a real
terminal would send back. Keeping it Message-level means the rules are tested
without bytes, and the same object serves the device, a pty or a TCP server.

What it answers (``shared/reference/cup-pos.md``):

- 0800 sign-on (60.3 ``001``), sign-off (``002``), echo (``301``; 0820 too);
- 0200 balance inquiry (3 = 310000, 25 = 00, 60.1 = 01), with field 54;
- 0200 sale (3 = 000000, 25 = 00, 60.1 = 22), debiting the card's balance.

Other CUP transactions get 40 (function not supported); anything unrecognised
12; a malformed request 30; an unknown terminal id 97, merchant id 03; a sale
of 0 fen 13. With ``require_sign_on`` a financial request before sign-on gets
``A0`` ("校验错，请重新签到": its operator text tells the cashier to sign on,
which is the remedy). An identical repeat of an answered request (same batch,
trace, MTI, processing code, amount) gets the same response again, rebuilt from
the ledger so it survives a restart; another request reusing a batch and trace
gets 94.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from simulator.cards import CardBook, CardProfile, load_cards
from simulator.config import SimulatorSettings
from simulator.issuer import APPROVED, Authorisation, decide
from simulator.ledger import Ledger, LedgerEntry
from terminal.protocol.message import Message

__all__ = ["CURRENCY_CNY", "VirtualTerminal", "format_balance"]

log = logging.getLogger("simulator")

CURRENCY_CNY = "156"
MAX_TRACE = 999_999

SIGN_ON, SIGN_OFF, ECHO = "001", "002", "301"
BALANCE_INQUIRY, SALE = "balance inquiry", "sale"

# (processing code, POS condition code, 60.1) -> the 0200 transactions answered.
_FINANCIAL: dict[tuple[str, str, str], str] = {
    ("310000", "00", "01"): BALANCE_INQUIRY,
    ("000000", "00", "22"): SALE,
}
# CUP transactions a real terminal knows but this simulator does not do yet: 40.
_NOT_SUPPORTED_0200 = {("000000", "06", "20"), ("200000", "06", "21"), ("200000", "00", "23")}
_NOT_SUPPORTED_MTIS = {"0100", "0220", "0320", "0400", "0500"}

# Response codes this module gives itself (the issuer's are in simulator.issuer).
RC_INVALID_MERCHANT = "03"
RC_INVALID_TRANSACTION = "12"
RC_INVALID_AMOUNT = "13"
RC_FORMAT_ERROR = "30"
RC_NOT_SUPPORTED = "40"
RC_DUPLICATE = "94"
RC_NOT_REGISTERED = "97"
RC_SIGN_ON_FIRST = "A0"


class VirtualTerminal:
    """A CUP terminal plus acquirer, Message in, Message out.

    State: the open batch (60.2), whether the POS has signed on, the last trace
    used, the card presented for the next financial exchange. Money state lives
    in the ledger.
    """

    def __init__(
        self,
        settings: SimulatorSettings | None = None,
        *,
        cards: CardBook | None = None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings or SimulatorSettings()
        self.cards = cards if cards is not None else load_cards(self.settings.cards_file)
        self.ledger = ledger if ledger is not None else Ledger(self.settings.ledger_file)
        self._default_card = self.cards[self.settings.default_card].name
        self._presented: str | None = None
        self.signed_on = False
        # A restarted terminal carries on from its books rather than reusing a batch.
        last_batch = self.ledger.last_batch()
        self._batch = max(self.settings.batch, int(last_batch) if last_batch else 0)
        entries = self.ledger.entries()
        self._last_trace = int(entries[-1].trace) if entries else 0

    # -- cards ---------------------------------------------------------------

    @property
    def default_card(self) -> str:
        """The profile read when no card was presented for the exchange."""
        return self._default_card

    @default_card.setter
    def default_card(self, name: str) -> None:
        self._default_card = self.cards[name].name

    def present_card(self, name: str) -> None:
        """Use profile ``name`` for the NEXT financial exchange only, then the default again.

        Raises :class:`~simulator.cards.UnknownCardError` (listing the known
        profiles) at once, not when the request comes.
        """
        self._presented = self.cards[name].name

    @property
    def presented_card(self) -> str | None:
        """The profile waiting for the next financial exchange, if one was presented."""
        return self._presented

    # -- state ---------------------------------------------------------------

    @property
    def batch(self) -> str:
        """The open batch as 60.2 carries it (6 digits)."""
        return f"{self._batch:06d}"

    def next_trace(self) -> str:
        """The terminal's own next trace (6 digits, 999999 wraps to 000001)."""
        self._last_trace = self._last_trace % MAX_TRACE + 1
        return f"{self._last_trace:06d}"

    # -- requests ------------------------------------------------------------

    def handle(self, request: Message, now: datetime) -> Message:
        """The response to ``request`` at wall-clock time ``now`` (fields 12, 13, 15, 37)."""
        mti = request.mti
        if mti[2] not in "02468":
            log.warning("message %s is a response, not a request: 12", mti)
            return self._reply(request, now, RC_INVALID_TRANSACTION)
        refusal = self._check_identity(request)
        if refusal:
            return self._reply(request, now, refusal)
        if mti in ("0800", "0820"):
            return self._network(request, now)
        if mti == "0200":
            return self._financial(request, now)
        code = RC_NOT_SUPPORTED if mti in _NOT_SUPPORTED_MTIS else RC_INVALID_TRANSACTION
        log.info("%s not handled by the simulator: %s", mti, code)
        return self._reply(request, now, code)

    def reject(self, request: Message, now: datetime, code: str) -> Message:
        """A response refusing ``request`` with ``code``, touching neither books nor state.

        For a caller that could only partly read a request (the device, when
        fields fail to decode) and must still answer it, e.g. with 30.
        """
        return self._reply(request, now, code)

    def _check_identity(self, request: Message) -> str | None:
        """97 for another terminal's id, 03 for another merchant's, 30 if either is missing.

        An echo test may leave the ids out: it proves the link, and a POS may
        send one before it knows which terminal is at the end of the cable.
        """
        terminal_id, merchant_id = request.get(41), request.get(42)
        is_echo = _subfield(request, "network_code") == ECHO and request.mti in ("0800", "0820")
        if (terminal_id is None or merchant_id is None) and not is_echo:
            log.warning("%s without terminal or merchant id: 30", request.mti)
            return RC_FORMAT_ERROR
        if terminal_id is not None and terminal_id != self.settings.terminal_id:
            log.warning("unknown terminal id %r: 97", terminal_id)
            return RC_NOT_REGISTERED
        if merchant_id is not None and merchant_id != self.settings.merchant_id:
            log.warning("unknown merchant id %r: 03", merchant_id)
            return RC_INVALID_MERCHANT
        return None

    def _network(self, request: Message, now: datetime) -> Message:
        code = _subfield(request, "network_code")
        if code is None:
            return self._reply(request, now, RC_FORMAT_ERROR)
        if code == ECHO:
            log.info("echo test")
        elif request.mti == "0800" and code == SIGN_ON:
            self.signed_on = True
            log.info("signed on, batch %s", self.batch)
        elif request.mti == "0800" and code == SIGN_OFF:
            self.signed_on = False
            log.info("signed off, batch %s", self.batch)
        else:
            log.info("network management %s/%s not handled: 12", request.mti, code)
            return self._reply(request, now, RC_INVALID_TRANSACTION)
        return self._reply(request, now, APPROVED)

    def _financial(self, request: Message, now: datetime) -> Message:
        if self.settings.require_sign_on and not self.signed_on:
            log.warning("financial request before sign-on: A0")
            return self._reply(request, now, RC_SIGN_ON_FIRST)
        key = (request.get(3), request.get(25), _subfield(request, "message_type"))
        if None in key:
            log.warning("0200 without field 3, 25 or 60.1: 30")
            return self._reply(request, now, RC_FORMAT_ERROR)
        kind = _FINANCIAL.get(key)
        if kind is None:
            code = RC_NOT_SUPPORTED if key in _NOT_SUPPORTED_0200 else RC_INVALID_TRANSACTION
            log.info("0200 %s/%s/%s not handled: %s", *key, code)
            return self._reply(request, now, code)

        trace = request.get(11)
        if trace is not None and not _is_digits(trace, 6):
            return self._reply(request, now, RC_FORMAT_ERROR)
        amount = 0
        if kind == SALE:
            raw = request.get(4)
            if raw is None or not _is_digits(raw, 12):
                log.warning("sale without a 12-digit amount: 30")
                return self._reply(request, now, RC_FORMAT_ERROR)
            amount = int(raw)
            if amount == 0:
                return self._reply(request, now, RC_INVALID_AMOUNT)

        if trace is None:
            trace = self.next_trace()
        else:
            self._last_trace = int(trace)
        # One hold of the ledger's lock from the repeat check to the booking: another
        # simulator process sharing the ledger file cannot book in between.
        with self.ledger.locked():
            booked = self.ledger.find(self.batch, trace)
            if booked is not None:
                return self._repeat(request, now, booked, kind, amount)

            card_name = self._presented or self._default_card
            self._presented = None
            card = self.cards[card_name]
            balance = self.ledger.balance(card)
            code = decide(
                Authorisation(card, amount if kind == SALE else None, balance, now.date())
            )
            debit = amount if kind == SALE and code == APPROVED else 0

            booked_trace: str = trace

            def build(sequence: int) -> LedgerEntry:
                return LedgerEntry(
                    time=now,
                    batch=self.batch,
                    trace=booked_trace,
                    rrn=f"{now:%H%M%S}{sequence:06d}",
                    auth_code=_auth_code(sequence) if code == APPROVED else "",
                    mti=request.mti,
                    processing_code=key[0],
                    amount=amount,
                    response_code=code,
                    card=card.name,
                    masked_pan=card.masked_pan,
                    balance_after=balance - debit,
                )

            entry = self.ledger.book(build)
        log.info(
            "%s %s: card %s %s, amount %d fen, batch %s trace %s rrn %s",
            kind,
            code,
            card.name,
            card.masked_pan,
            amount,
            entry.batch,
            entry.trace,
            entry.rrn,
        )
        return self._financial_response(request, entry, card, kind)

    def _repeat(
        self, request: Message, now: datetime, booked: LedgerEntry, kind: str, amount: int
    ) -> Message:
        """The same response again for an identical repeat, 94 for a clashing one."""
        same = (
            booked.mti == request.mti
            and booked.processing_code == request.get(3)
            and booked.amount == amount
        )
        if not same or booked.card not in self.cards:
            log.warning(
                "batch %s trace %s already used by another request: 94", booked.batch, booked.trace
            )
            return self._reply(request, now, RC_DUPLICATE, trace=booked.trace)
        log.info("repeat of batch %s trace %s: same response again", booked.batch, booked.trace)
        return self._financial_response(request, booked, self.cards[booked.card], kind)

    # -- responses -----------------------------------------------------------

    def _financial_response(
        self, request: Message, entry: LedgerEntry, card: CardProfile, kind: str
    ) -> Message:
        fields: dict[int, Any] = {
            2: card.pan,  # as a real terminal returns it; the POS host masks it at once
            14: card.expiry,
            15: f"{entry.time:%m%d}",
            37: entry.rrn,
            63: card.organisation,
        }
        if entry.auth_code:
            fields[38] = entry.auth_code
        if kind == BALANCE_INQUIRY and entry.approved:
            fields[54] = format_balance(entry.balance_after)
        if kind == BALANCE_INQUIRY:
            fields[4] = None  # an inquiry moves no money; do not echo a stray amount
        return self._reply(
            request, entry.time, entry.response_code, trace=entry.trace, extra=fields
        )

    def _reply(
        self,
        request: Message,
        now: datetime,
        code: str,
        *,
        trace: str | None = None,
        extra: Mapping[int, Any] | None = None,
    ) -> Message:
        """The response envelope every answer shares: echoes, time, acquirer, 39, 60."""
        fields: dict[int, Any] = {
            number: request[number] for number in (3, 4, 11, 25, 41, 42) if number in request
        }
        if trace is not None:
            fields[11] = trace
        fields[12] = f"{now:%H%M%S}"
        fields[13] = f"{now:%m%d}"
        fields[32] = self.settings.acquirer_id
        fields[39] = code
        if 49 in request or request.mti == "0200":
            fields[49] = CURRENCY_CNY
        original_60 = request.get(60)
        if isinstance(original_60, Mapping):
            fields[60] = {**original_60, "batch": self.batch}
        elif original_60 is not None:
            fields[60] = original_60
        for number, value in (extra or {}).items():
            if value is None:
                fields.pop(number, None)
            else:
                fields[number] = value
        return Message(
            mti=_response_mti(request.mti),
            fields=fields,
            tpdu=request.tpdu.reply() if request.tpdu is not None else None,
            header=request.header,
        )


def format_balance(fen: int, account_type: str = "10", amount_type: str = "02") -> str:
    """Field 54 in the CUP layout: account type, amount type, currency, C/D, 12 digits.

    ``format_balance(12345)`` is ``"1002156C000000012345"``.
    """
    sign = "C" if fen >= 0 else "D"
    return f"{account_type}{amount_type}{CURRENCY_CNY}{sign}{abs(fen):012d}"


def _auth_code(sequence: int) -> str:
    """Six digits from the ledger's sequence: a bijection mod 10**6 (7919 is prime to it).

    Unique per exchange as the sequence is, yet not the RRN's digits.
    """
    return f"{(sequence * 7919 + 104729) % 1_000_000:06d}"


def _response_mti(mti: str) -> str:
    """0200 -> 0210, 0820 -> 0830; a message that is already a response keeps its MTI."""
    function = int(mti[2])
    return mti if function % 2 else f"{mti[:2]}{function + 1}{mti[3]}"


def _subfield(request: Message, name: str) -> str | None:
    value = request.get(60)
    return value.get(name) if isinstance(value, Mapping) else None


def _is_digits(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and value.isdigit()
