"""The virtual terminal: a CUP request :class:`Message` in, the response out.

This is the terminal and its acquirer seen from the POS host, without any link
or transport: :meth:`VirtualTerminal.handle` takes a decoded request and the
wall-clock time, identifies it in the protocol's transaction catalogue
(:mod:`terminal.protocol.catalogue`, the table the host builds requests from),
"reads" the presented card, applies the acquirer's rules
(:mod:`simulator.acquirer`) and the issuer's (:mod:`simulator.issuer`), books
the exchange in the :class:`~simulator.ledger.Ledger` and returns what a real
terminal would send back, plus one thing a real terminal never sends: the
simulator's mark in field 59 of every response (:mod:`terminal.protocol.identity`),
so that the host knows, wherever this runs, that no money moved.

Every transaction of the catalogue is answered: sale, void, refund, balance,
pre-authorization, its cancel, completion and completion void, reversal of
each reversible one, sign-on with working keys (field 62), sign-off, echo,
settlement and batch upload. Refusals that are not the issuer's:

- 12 for a response MTI or an unknown transaction; 30 for a malformed request;
  97 for an unknown terminal id, 03 for an unknown merchant id; 13 for 0 fen;
- ``A0`` for a money request before sign-on when ``require_sign_on`` is set,
  for a request MAC that does not verify (or is missing with ``require_mac``),
  and for a MAC when no working keys were ever issued;
- the acquirer's rules (25, 12, 64: :mod:`simulator.acquirer`); a refused
  request changes nothing in the books.

An identical repeat of an answered request (same batch, trace, MTI, processing
code, amount) gets the same response again, rebuilt from the ledger so it
survives a restart; another request reusing a batch and trace gets 94. The
terminal's state (open batch, sign-on, working keys, the card presented next)
lives in the ledger too, so a simulator rebuilt for every CLI run carries on.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from simulator.acquirer import Refusal, answer_totals, check_rules, settlement_totals
from simulator.cards import CardBook, CardProfile, load_cards
from simulator.config import SimulatorSettings
from simulator.issuer import Authorisation, decide
from simulator.ledger import Ledger, LedgerEntry
from terminal.errors import ProtocolError
from terminal.protocol.catalogue import (
    FINANCIAL_MTIS,
    Effect,
    Kind,
    NetworkCode,
    TransactionType,
    identify,
    response_mti,
    reversed_type,
)
from terminal.protocol.codec import encode
from terminal.protocol.identity import SIMULATOR_FIELD, with_simulator_mark
from terminal.protocol.message import Message
from terminal.protocol.response_codes import APPROVED, Rc
from terminal.protocol.security import (
    MAC_FIELD,
    KeyCheckError,
    MacAlgorithm,
    WorkingKeys,
    pack_working_keys,
    sign,
    unpack_working_keys,
    verify,
)

__all__ = ["CURRENCY_CNY", "VirtualTerminal", "format_balance"]

log = logging.getLogger("simulator")

CURRENCY_CNY = "156"
MAX_TRACE = 999_999
MAX_BATCH = 999_999
DIALECT = "cup"

# Names of the pieces of terminal state kept in the ledger.
_BATCH, _SIGNED_ON, _KEYS, _NEXT_CARD, _LAST_TRACE = (
    "batch", "signed_on", "working_keys", "next_card", "last_trace",
)


class VirtualTerminal:
    """A CUP terminal plus acquirer, Message in, Message out."""

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
        self.lane = self.settings.terminal_id
        self._default_card = self.cards[self.settings.default_card].name
        self._presented: str | None = None
        self._master_key = self.settings.master_key_bytes
        self._algorithm = MacAlgorithm(self.settings.mac_algorithm)
        if self.ledger.state(self.lane, _BATCH) is None:
            # A restarted terminal carries on from its books rather than reusing a batch.
            last = self.ledger.last_batch(self.lane)
            start = max(self.settings.batch, int(last) if last else 0)
            self.ledger.set_state(self.lane, _BATCH, str(start))

    # -- cards ---------------------------------------------------------------

    @property
    def default_card(self) -> str:
        """The profile read when no card was presented for the exchange."""
        return self._default_card

    @default_card.setter
    def default_card(self, name: str) -> None:
        self._default_card = self.cards[name].name

    def present_card(self, name: str) -> None:
        """Use profile ``name`` for the NEXT card-reading exchange only, then the default.

        Raises :class:`~simulator.cards.UnknownCardError` (listing the known
        profiles) at once, not when the request comes.
        """
        self._presented = self.cards[name].name

    def present_card_in_books(self, name: str) -> None:
        """Like :meth:`present_card`, but through the ledger: seen by whichever simulator
        process shares these books (``terminal simulate --next-card``)."""
        self.ledger.set_state(self.lane, _NEXT_CARD, self.cards[name].name)

    @property
    def presented_card(self) -> str | None:
        """The profile waiting for the next card-reading exchange, if one was presented."""
        return self._presented or self.ledger.state(self.lane, _NEXT_CARD)

    # -- state ---------------------------------------------------------------

    @property
    def batch(self) -> str:
        """The open batch as 60.2 carries it (6 digits)."""
        return f"{int(self.ledger.state(self.lane, _BATCH) or self.settings.batch):06d}"

    @property
    def signed_on(self) -> bool:
        return self.ledger.state(self.lane, _SIGNED_ON) == "1"

    @signed_on.setter
    def signed_on(self, value: bool) -> None:
        self.ledger.set_state(self.lane, _SIGNED_ON, "1" if value else "0")

    @property
    def working_keys(self) -> WorkingKeys | None:
        """The keys of the last sign-on (kept in the books under the master key only)."""
        packed = self.ledger.state(self.lane, _KEYS)
        if packed is None:
            return None
        return unpack_working_keys(self._master_key, base64.b64decode(packed))

    def next_trace(self) -> str:
        """The terminal's own next trace (6 digits, 999999 wraps to 000001)."""
        with self.ledger.locked():
            last = int(self.ledger.state(self.lane, _LAST_TRACE, "0") or 0)
            trace = last % MAX_TRACE + 1
            self.ledger.set_state(self.lane, _LAST_TRACE, str(trace))
        return f"{trace:06d}"

    # -- requests ------------------------------------------------------------

    def handle(self, request: Message, now: datetime, *, raw: bytes | None = None) -> Message:
        """The response to ``request`` at wall-clock time ``now`` (fields 12, 13, 15, 37).

        ``raw`` is the request as it came off the wire, for its MAC; without it
        the request is encoded again (the codec writes a message back byte for byte).
        """
        mti = request.mti
        if mti[2] not in "02468":
            log.warning("message %s is a response, not a request: 12", mti)
            return self._reply(request, now, Rc.INVALID_TRANSACTION)
        refusal = self._check_identity(request)
        if refusal:
            return self._reply(request, now, refusal)
        row = identify(request)
        if row is None:
            code = Rc.INVALID_TRANSACTION
            if not isinstance(request.get(60), Mapping) or (
                mti in FINANCIAL_MTIS
                and None in (request.get(3), request.get(25), _subfield(request, "message_type"))
            ):
                code = Rc.FORMAT_ERROR
            log.info("%s is no transaction of the catalogue: %s", mti, code.value)
            return self._reply(request, now, code)
        if row.kind in (Kind.SIGN_ON, Kind.SIGN_OFF, Kind.ECHO):
            return self._network(request, row, now)
        if row.kind in (Kind.SETTLEMENT, Kind.BATCH_UPLOAD, Kind.BATCH_UPLOAD_END):
            return self._settlement(request, row, now)
        return self._financial(request, row, now, raw)

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
        is_echo = _subfield(request, "network_code") == NetworkCode.ECHO and request.mti in (
            "0800", "0820",
        )
        if (terminal_id is None or merchant_id is None) and not is_echo:
            log.warning("%s without terminal or merchant id: 30", request.mti)
            return Rc.FORMAT_ERROR
        if terminal_id is not None and terminal_id != self.settings.terminal_id:
            log.warning("unknown terminal id %r: 97", terminal_id)
            return Rc.NOT_REGISTERED
        if merchant_id is not None and merchant_id != self.settings.merchant_id:
            log.warning("unknown merchant id %r: 03", merchant_id)
            return Rc.INVALID_MERCHANT
        return None

    # -- network management -----------------------------------------------------

    def _network(self, request: Message, row: TransactionType, now: datetime) -> Message:
        extra: dict[int, Any] = {}
        if row.kind is Kind.ECHO:
            log.info("echo test")
        elif row.kind is Kind.SIGN_ON:
            double = _subfield(request, "network_code") != NetworkCode.SIGN_ON_SINGLE
            keys = WorkingKeys.generate(double_length=double)
            packed = pack_working_keys(self._master_key, keys)
            with self.ledger.locked():
                self.ledger.set_state(self.lane, _KEYS, base64.b64encode(packed).decode("ascii"))
                self.ledger.set_state(self.lane, _SIGNED_ON, "1")
            extra[62] = packed
            log.info("signed on, batch %s, new working keys issued", self.batch)
        else:
            with self.ledger.locked():
                self.ledger.set_state(self.lane, _SIGNED_ON, "0")
                self.ledger.set_state(self.lane, _KEYS, None)
            log.info("signed off, batch %s", self.batch)
        return self._reply(request, now, Rc.APPROVED, extra=extra)

    # -- settlement -----------------------------------------------------------------

    def _settlement(self, request: Message, row: TransactionType, now: datetime) -> Message:
        if row.kind is Kind.BATCH_UPLOAD:
            log.info("batch upload record for batch %s", self.batch)
            return self._reply(request, now, Rc.APPROVED)
        if row.kind is Kind.BATCH_UPLOAD_END:
            closed = self._close_batch()
            log.info("batch upload ended: batch %s closed", closed)
            return self._reply(request, now, Rc.APPROVED)
        field48 = request.get(48)
        theirs = settlement_totals(field48)
        if theirs is None:
            log.warning("settlement without readable totals in field 48: 30")
            return self._reply(request, now, Rc.FORMAT_ERROR)
        ours = self.ledger.totals(self.batch, self.lane)
        balanced = (
            theirs.debit_count, theirs.debit_amount, theirs.credit_count, theirs.credit_amount,
        ) == (ours.debit_count, ours.debit_amount, ours.credit_count, ours.credit_amount)
        answer = answer_totals(field48, balanced=balanced)
        log.info(
            "settlement of batch %s: host %d/%d fen debit, %d/%d credit; ours %d/%d, %d/%d: %s",
            self.batch, theirs.debit_count, theirs.debit_amount, theirs.credit_count,
            theirs.credit_amount, ours.debit_count, ours.debit_amount, ours.credit_count,
            ours.credit_amount, "balanced" if balanced else "not balanced",
        )
        response = self._reply(request, now, Rc.APPROVED, extra={48: answer})
        if balanced:
            self._close_batch()
        return response

    def _close_batch(self) -> str:
        with self.ledger.locked():
            closed = self.batch
            self.ledger.set_state(self.lane, _BATCH, str(int(closed) % MAX_BATCH + 1))
        return closed

    # -- money --------------------------------------------------------------------

    def _financial(
        self, request: Message, row: TransactionType, now: datetime, raw: bytes | None
    ) -> Message:
        if self.settings.require_sign_on and not self.signed_on:
            log.warning("financial request before sign-on: A0")
            return self._reply(request, now, Rc.MAC_ERROR)
        mac_refusal = self._check_mac(request, raw)
        if mac_refusal is not None:
            return self._reply(request, now, mac_refusal)

        trace = request.get(11)
        if trace is not None and not _is_digits(trace, 6):
            return self._reply(request, now, Rc.FORMAT_ERROR)
        amount = 0
        if row.has_amount:
            text = request.get(4)
            if text is None or not _is_digits(text, 12):
                log.warning("%s without a 12-digit amount: 30", row.kind.value)
                return self._reply(request, now, Rc.FORMAT_ERROR)
            amount = int(text)
            if amount == 0:
                return self._reply(request, now, Rc.INVALID_AMOUNT)
        if trace is None:
            trace = self.next_trace()
        else:
            self.ledger.set_state(self.lane, _LAST_TRACE, str(int(trace)))

        # One hold of the books from the repeat check to the booking: another
        # simulator process sharing the ledger file cannot book in between.
        with self.ledger.locked():
            if row.kind is Kind.REVERSAL:
                return self._reversal(request, now, trace, amount)
            booked = self.ledger.find(self.batch, trace, lane=self.lane)
            if booked is not None:
                return self._repeat(request, now, booked, row, amount)
            card = self._read_card()
            refusal = check_rules(
                row, request, card=card, amount=amount, now=now, batch=self.batch,
                lane=self.lane, ledger=self.ledger, settings=self.settings,
            )
            if isinstance(refusal, Refusal):
                log.warning("%s refused by the acquirer: %s (%s); nothing booked",
                            row.kind.value, refusal.code.value, refusal.reason)
                # The card was read: the answer names it, as an issuer's decline does, so
                # that the POS can tell the cashier it is not the card that paid (a
                # malformed request is answered as such, without it).
                named = refusal.code is not Rc.FORMAT_ERROR
                return self._reply(request, now, refusal.code,
                                   extra=_card_fields(card, row) if named else None)
            original = refusal  # None or the original entry the rules found
            balance = self.ledger.balance(card)
            code = APPROVED
            if row.kind in (Kind.SALE, Kind.PREAUTH, Kind.BALANCE):
                asked = None if row.kind is Kind.BALANCE else amount
                code = decide(Authorisation(card, asked, balance, now.date()))
            delta = _delta(row, amount, original) if code == APPROVED else 0
            entry = self.ledger.book(
                lambda sequence: LedgerEntry(
                    time=now, batch=self.batch, trace=trace, rrn=f"{now:%H%M%S}{sequence:06d}",
                    auth_code=_auth_code(sequence) if code == APPROVED else "",
                    mti=request.mti, processing_code=request[3], amount=amount,
                    response_code=code, card=card.name, masked_pan=card.masked_pan,
                    balance_after=balance + delta, kind=row.kind.value, lane=self.lane,
                    delta=delta, original_id=original.id if original is not None else None,
                )
            )
        log.info(
            "%s %s: card %s %s, amount %d fen, batch %s trace %s rrn %s",
            row.kind.value, code, card.name, card.masked_pan, amount, entry.batch,
            entry.trace, entry.rrn,
        )
        return self._financial_response(request, entry, card, row)

    def _reversal(self, request: Message, now: datetime, trace: str, amount: int) -> Message:
        """Undo exactly the original, once; reversing what was never booked is 25, no change."""
        repeat = self.ledger.find(self.batch, trace, lane=self.lane, mti="0400")
        if repeat is not None and repeat.amount == amount:
            log.info("repeat of the reversal of trace %s: same response again", trace)
            return self._reply(request, now, repeat.response_code, trace=trace,
                               extra={37: repeat.rrn})
        row = reversed_type(request)
        batch = _subfield(request, "batch") or self.batch
        original = self.ledger.find(batch, trace, lane=self.lane)
        if (
            row is None or original is None or original.mti != row.mti
            or original.processing_code != request.get(3) or original.amount != amount
            or original.kind != row.kind.value
        ):
            log.warning("reversal of batch %s trace %s: no such original: 25", batch, trace)
            return self._reply(request, now, Rc.ORIGINAL_NOT_FOUND)
        balance = original.balance_after
        if original.card in self.cards:
            balance = self.ledger.balance(self.cards[original.card])
        undo = -original.delta if original.approved and not original.reversed else 0
        entry = self.ledger.book(
            lambda sequence: LedgerEntry(
                time=now, batch=self.batch, trace=trace, rrn=f"{now:%H%M%S}{sequence:06d}",
                auth_code="", mti=request.mti, processing_code=request[3], amount=amount,
                response_code=APPROVED, card=original.card, masked_pan=original.masked_pan,
                balance_after=balance + undo, kind=Kind.REVERSAL.value, lane=self.lane,
                delta=undo, original_id=original.id,
            )
        )
        if original.id is not None and original.approved and not original.reversed:
            # Even when no balance moves (a completion of the whole hold): the books drop it.
            self.ledger.mark_reversed(original.id)
        log.info("reversed %s trace %s (%d fen back)", original.kind, trace, undo)
        return self._reply(request, now, Rc.APPROVED, trace=trace, extra={37: entry.rrn})

    def _repeat(
        self, request: Message, now: datetime, booked: LedgerEntry, row: TransactionType,
        amount: int,
    ) -> Message:
        """The same response again for an identical repeat, 94 for a clashing one."""
        same = (
            booked.mti == request.mti
            and booked.processing_code == request.get(3)
            and booked.amount == amount
            and booked.kind == row.kind.value
        )
        if not same or booked.card not in self.cards:
            log.warning(
                "batch %s trace %s already used by another request: 94", booked.batch, booked.trace
            )
            return self._reply(request, now, Rc.DUPLICATE, trace=booked.trace)
        log.info("repeat of batch %s trace %s: same response again", booked.batch, booked.trace)
        return self._financial_response(request, booked, self.cards[booked.card], row)

    def _read_card(self) -> CardProfile:
        """The card for this exchange: presented in-process, else via the books, else default."""
        name = self._presented or self.ledger.take_state(self.lane, _NEXT_CARD)
        self._presented = None
        if name is None or name not in self.cards:
            name = self._default_card
        return self.cards[name]

    def _check_mac(self, request: Message, raw: bytes | None) -> str | None:
        if MAC_FIELD not in request:
            if self.settings.require_mac:
                log.warning("money request without a MAC: A0")
                return Rc.MAC_ERROR
            return None
        try:
            keys = self.working_keys
        except KeyCheckError:
            keys = None
        if keys is None:
            log.warning("MAC on a request but no working keys issued yet: A0")
            return Rc.MAC_ERROR
        try:
            data = raw if raw is not None else encode(request, DIALECT)
            good = verify(data, keys.mac_key, self._algorithm, DIALECT)
        except ProtocolError:
            good = False
        if not good:
            log.warning("request MAC does not verify: A0")
            return Rc.MAC_ERROR
        return None

    # -- responses -----------------------------------------------------------

    def _financial_response(
        self, request: Message, entry: LedgerEntry, card: CardProfile, row: TransactionType
    ) -> Message:
        fields: dict[int, Any] = {**_card_fields(card, row), 15: f"{entry.time:%m%d}",
                                  37: entry.rrn}
        if entry.auth_code:
            fields[38] = entry.auth_code
        if row.kind is Kind.BALANCE:
            fields[4] = None  # an inquiry moves no money; do not echo a stray amount
            if entry.approved:
                fields[54] = format_balance(entry.balance_after)
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
        """The response envelope every answer shares: echoes, time, acquirer, 39, 60, the
        simulator's mark (59, :mod:`terminal.protocol.identity`), MAC."""
        fields: dict[int, Any] = {
            number: request[number] for number in (3, 4, 11, 25, 41, 42) if number in request
        }
        if trace is not None:
            fields[11] = trace
        fields[12] = f"{now:%H%M%S}"
        fields[13] = f"{now:%m%d}"
        fields[32] = self.settings.acquirer_id
        fields[39] = str(code)
        if 49 in request or request.mti in ("0100", "0200", "0220", "0400"):
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
        # Every answer says it comes from the simulator, wherever this runs (sim://, a pty,
        # TCP): the host marks the result, the receipt and the journal by it.
        fields[SIMULATOR_FIELD] = with_simulator_mark(fields.get(SIMULATOR_FIELD))
        response = Message(
            mti=response_mti(request.mti),
            fields=fields,
            tpdu=request.tpdu.reply() if request.tpdu is not None else None,
            header=request.header,
        )
        return self._sign(request, response)

    def _sign(self, request: Message, response: Message) -> Message:
        """MAC a money response when there are working keys (the host verifies it)."""
        row = identify(request)
        if row is None or not row.mac:
            return response
        try:
            keys = self.working_keys
        except KeyCheckError:
            keys = None
        if keys is None:
            return response
        try:
            signed, _ = sign(response, keys.mac_key, self._algorithm, DIALECT)
        except ProtocolError:
            return response  # the device reports the encoding failure without values
        return signed


def _delta(row: TransactionType, amount: int, original: LedgerEntry | None) -> int:
    """How an approved transaction changes the card's available balance (fen)."""
    effect = row.effect
    if effect in (Effect.DEBIT, Effect.HOLD):
        if row.kind is Kind.COMPLETION and original is not None:
            return original.amount - amount  # the hold goes, the completion is taken
        return -amount
    if effect is Effect.CREDIT:
        return amount
    if effect in (Effect.CANCEL, Effect.RELEASE) and original is not None:
        return -original.delta
    return 0


def _card_fields(card: CardProfile, row: TransactionType) -> dict[int, Any]:
    if not row.reads_card:
        return {}
    # As a real terminal returns it; the POS host masks it at once.
    return {2: card.pan, 14: card.expiry, 63: card.organisation}


def format_balance(fen: int, account_type: str = "10", amount_type: str = "02") -> str:
    """Field 54 in the CUP layout: account type, amount type, currency, C/D, 12 digits.

    ``format_balance(12345)`` is ``"1002156C000000012345"``.
    """
    sign_char = "C" if fen >= 0 else "D"
    return f"{account_type}{amount_type}{CURRENCY_CNY}{sign_char}{abs(fen):012d}"


def _auth_code(sequence: int) -> str:
    """Six digits from the ledger's sequence: a bijection mod 10**6 (7919 is prime to it).

    Unique per exchange as the sequence is, yet not the RRN's digits.
    """
    return f"{(sequence * 7919 + 104729) % 1_000_000:06d}"


def _subfield(request: Message, name: str) -> str | None:
    value = request.get(60)
    return value.get(name) if isinstance(value, Mapping) else None


def _is_digits(value: Any, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and value.isdigit()

