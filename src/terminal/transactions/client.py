"""The POS host's side of every transaction: build, journal, send, check, protect.

One engine (:meth:`TerminalClient.run`) driven by the protocol's catalogue row,
with thin named methods on top. For each exchange it:

1. writes the request as *pending* in the journal, in the transaction that
   draws its trace and batch (nothing is sent that the journal does not know);
2. signs money requests with the working MAC key (signing on first when no
   keys are held), sends, and waits for the answer to *this* request;
3. believes nothing that does not answer it (MTI, echoed fields, 39) and
   nothing whose MAC fails: a bad MAC leaves the exchange in doubt and the
   keys dropped, so the next exchange signs on again;
4. completes the journal row and turns the card number into a masked number
   and token right here; a response carrying the simulator's mark
   (:mod:`terminal.protocol.identity`) makes the result and the row *simulated*,
   wherever the simulator runs.

A void, refund, completion or cancel finds its original in the journal and
builds 4, 37, 38 and 61 from it; a wrong reference is an error before anything
is sent. A reversal repeats its original's request as a 0400.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, cast

from terminal import faultpoint
from terminal.card_data import protect_pan
from terminal.clock import Clock, MonotonicClock
from terminal.config import TerminalSettings
from terminal.errors import LinkError, LinkTimeout, ProtocolError
from terminal.journal import saf
from terminal.journal.entry import EntryState, JournalEntry
from terminal.journal.store import Journal, JournalStore, OriginalNotFound
from terminal.protocol import Message, Tpdu, decode, encode
from terminal.protocol.catalogue import CATALOGUE, Effect, Kind, TransactionType, identify
from terminal.protocol.identity import identifies_simulator
from terminal.protocol.json_shape import message_from_json
from terminal.protocol.response_codes import APPROVED, Action, Rc, describe
from terminal.protocol.security import (
    MAC_FIELD,
    TEST_MASTER_KEY,
    KeyCheckError,
    MacAlgorithm,
    WorkingKeys,
    sign,
    unpack_working_keys,
    verify,
)
from terminal.protocol.settlement import Reconciliation, reconciliation
from terminal.transactions.amount import MAX_AMOUNT_FEN
from terminal.transactions.errors import (
    CardAlarm,
    NotSignedOn,
    ResponseMismatch,
    TransactionInDoubt,
    WrongCard,
)
from terminal.transactions.result import SettlementTotals, TransactionResult
from terminal.transactions.rules import (
    RUNG_UP,
    HostRules,
    check_operator,
    check_reason,
    check_supervisor,
    reason_text,
)

__all__ = ["Security", "TerminalClient", "batch_totals", "settlement_field48"]

log = logging.getLogger("terminal.transactions")

CNY = "156"
DIALECT = "cup"
# Reversal reason codes (field 39 of a 0400).
REASON_NO_ANSWER, REASON_BAD_ANSWER = "98", "96"


class Link(Protocol):
    """What the client needs of the link (:class:`terminal.link.SerialLink` has it)."""

    def send(self, data: bytes) -> None: ...

    def receive(self, timeout: float | None = None) -> bytes: ...


class HoldingLink(Link, Protocol):
    """A link that can put a frame on the line but its last byte, and send or withdraw
    that byte later (:meth:`terminal.link.SerialLink.start`): the client then journals
    a request while its bytes travel. Any other link sends once the journal committed."""

    def start(self, data: bytes) -> None: ...

    def finish(self) -> None: ...

    def withdraw(self) -> None: ...


_HOLDING = ("start", "finish", "withdraw")


@dataclass(frozen=True)
class Security:
    """The terminal master key and the MAC algorithm; the master key never leaves memory."""

    master_key: bytes = TEST_MASTER_KEY
    mac_algorithm: MacAlgorithm = MacAlgorithm.CUP_ECB

    def __repr__(self) -> str:
        return f"Security(mac_algorithm={self.mac_algorithm.value!r})"


class TerminalClient:
    """Runs transactions with one terminal over ``link``, journaled in ``journal``.

    ``security`` ``None`` is a terminal that uses no MAC (field 64 neither sent
    nor required); with it, every money message is MACed both ways. ``operator``
    is journaled with every exchange: a card number typed as one is refused here
    (:func:`~terminal.transactions.rules.check_operator`), before anything is written.
    """

    def __init__(
        self,
        link: Link,
        settings: TerminalSettings,
        *,
        journal: JournalStore,
        token_key: bytes,
        security: Security | None = None,
        response_timeout: float = 60.0,
        clock: Clock | None = None,
        wall_time: Callable[[], datetime] = datetime.now,
        operator: str | None = None,
        rules: HostRules | None = None,
        crash_at: str | None = None,
        simulated: bool | None = None,
    ) -> None:
        self.link = link
        #: Whether the caller knows ``link`` leads to the simulator (``sim://``); None when
        #: it does not say. A simulator anywhere else says so itself, in each response
        #: (:mod:`terminal.protocol.identity`): see :attr:`device_is_simulator`.
        self.simulated = simulated
        #: What the last response said the device is (None before the first answer).
        self.device_is_simulator: bool | None = None
        #: A crash point for the crash-consistency tests (:mod:`terminal.faultpoint`).
        self.crash_at = crash_at
        check_operator(operator)
        #: The cashier journaled with every exchange of this client.
        self.operator = operator
        self.settings = settings
        self.journal = journal
        self.security = security
        self.lane = settings.terminal_id
        self._token_key = token_key
        self._response_timeout = response_timeout
        self._clock = clock or MonotonicClock()
        self._now = wall_time
        self._tpdu = Tpdu.fromhex(settings.tpdu)
        self._keys: WorkingKeys | None = None
        if rules is None and isinstance(journal, Journal):
            rules = HostRules(journal, self.lane, today=lambda: self._now().date())
        #: The host's void and refund rules, checked before anything is sent.
        self.rules = rules

    # -- named transactions -------------------------------------------------------

    def sign_on(self) -> TransactionResult:
        """Sign on: new working keys (checked against their check values), the terminal's batch."""
        return self.run(Kind.SIGN_ON)

    def sign_off(self) -> TransactionResult:
        return self.run(Kind.SIGN_OFF)

    def echo(self) -> TransactionResult:
        """Echo test: is the terminal there and answering?"""
        return self.run(Kind.ECHO)

    def balance(self) -> TransactionResult:
        return self.run(Kind.BALANCE)

    def sale(self, amount_fen: int) -> TransactionResult:
        """A purchase of ``amount_fen`` (integer fen)."""
        return self.run(Kind.SALE, amount_fen=amount_fen)

    def preauth(self, amount_fen: int) -> TransactionResult:
        return self.run(Kind.PREAUTH, amount_fen=amount_fen)

    def void(self, *, rrn: str | None = None, trace: str | None = None,
             date: str | None = None, supervisor: str | None = None) -> TransactionResult:
        """Void a sale of the open batch (whole amount), named by RRN or trace (and date).

        The host's rules (:mod:`terminal.transactions.rules`) are checked first:
        a refused void raises :class:`~terminal.transactions.rules.Refused` and
        sends nothing."""
        return self._void(Kind.VOID, rrn, trace, date, supervisor)

    def refund(self, amount_fen: int, *, rrn: str | None = None, trace: str | None = None,
               date: str | None = None, reason: str | None = None, note: str | None = None,
               supervisor: str | None = None) -> TransactionResult:
        """Refund ``amount_fen`` (may be part) of a sale or completion, to the card that paid.

        ``reason`` (returned, wrong-amount, duplicate, not-provided, other; ``note``
        with other) is journaled. The rules are checked before anything is sent:
        at most what is left to refund, within the refund window, not of a voided
        sale."""
        refund_reason = refund_note = said = None
        if reason is not None or note is not None:
            known, refund_note = check_reason(reason, note)
            refund_reason, said = known.value, reason_text(known, refund_note)
        if self.rules is not None:
            original = self.rules.original(Kind.REFUND, rrn=rrn, trace=trace, date_mmdd=date)
            self.rules.check_refund(original, amount_fen)
        else:
            original = self.find_original(Kind.REFUND, rrn, trace, date)
        result = self.run(Kind.REFUND, amount_fen=amount_fen, original=original,
                          reason=said, supervisor=supervisor,
                          refund_reason=refund_reason, refund_note=refund_note)
        return self._same_card(result, original)

    def _void(self, kind: Kind, rrn: str | None, trace: str | None, date: str | None,
              supervisor: str | None) -> TransactionResult:
        if self.rules is not None:
            original = self.rules.original(kind, rrn=rrn, trace=trace, date_mmdd=date)
            self.rules.check_void(original)
        else:
            original = self.find_original(kind, rrn, trace, date)
        result = self.run(kind, original=original, supervisor=supervisor)
        return self._same_card(result, original)

    def _same_card(self, result: TransactionResult, original: JournalEntry) -> TransactionResult:
        """Money back goes to the card that paid; the card is known only from the answer.

        The terminal reads the card inside the exchange (the request carries no
        card data), so the host cannot compare before sending. The acquirer refuses
        another card and names the card it read: :class:`WrongCard`, nothing moved.
        If one is approved all the same (a misconfigured or compromised acquirer),
        the host journals an alarm, says so loudly and, for a void, reverses it at
        once (:class:`CardAlarm`)."""
        token = result.card.token if result.card else None
        if not original.card_token or token in (None, original.card_token):
            return result
        if not result.approved:
            raise WrongCard(
                f"非原交易卡 wrong card: a {result.kind.value} goes back only to the card that"
                f" paid ({original.card_masked}); the card presented ({result.card}) was"
                f" refused ({result.response.code}), nothing moved",
                result=result, original_card=original.card_masked or "",
            )
        what = (f"{result.kind.value} trace {result.trace} approved for card {result.card}, "
                f"not the card that paid ({original.card_masked})")
        log.error("ALARM: %s", what)
        assert result.journal_id is not None
        self.journal.set_alarm(result.journal_id, what)  # type: ignore[attr-defined]
        reversal: TransactionResult | None = None
        if CATALOGUE[result.kind].reversible:
            try:
                reversal = self.run(Kind.REVERSAL, original=self.journal.get(result.journal_id),
                                    reason=REASON_BAD_ANSWER)
            except TransactionInDoubt as exc:
                reversal = None  # queued: recovery sends it until answered
                self._saf_queue(result.journal_id, str(exc), again=True)
        raise CardAlarm(what, result=result, reversal=reversal)

    def preauth_cancel(self, *, rrn: str | None = None, trace: str | None = None,
                       date: str | None = None) -> TransactionResult:
        return self.run(Kind.PREAUTH_CANCEL,
                        original=self.find_original(Kind.PREAUTH_CANCEL, rrn, trace, date))

    def preauth_complete(self, amount_fen: int, *, rrn: str | None = None,
                         trace: str | None = None, date: str | None = None) -> TransactionResult:
        original = self.find_original(Kind.COMPLETION, rrn, trace, date)
        return self.run(Kind.COMPLETION, amount_fen=amount_fen, original=original)

    def completion_void(self, *, rrn: str | None = None, trace: str | None = None,
                        date: str | None = None, supervisor: str | None = None,
                        ) -> TransactionResult:
        return self._void(Kind.COMPLETION_VOID, rrn, trace, date, supervisor)

    def reverse(self, trace: str, reason: str = REASON_NO_ANSWER) -> TransactionResult:
        """Reverse the journaled transaction with ``trace`` (0400, its own request again)."""
        original = self.journal.find_by_trace(self.lane, trace)
        if not original.type.reversible:
            raise OriginalNotFound(
                f"trace {original.trace} is a {original.kind.value}, which is never reversed"
            )
        if original.state in (EntryState.DECLINED, EntryState.REVERSED):
            raise OriginalNotFound(
                f"trace {original.trace} is {original.state.value}: nothing to reverse"
            )
        return self.run(Kind.REVERSAL, original=original, reason=reason)

    def settle(self, *, supervisor: str | None = None) -> TransactionResult:
        """Settle the open batch: totals from the journal, batch upload if they disagree.

        ``supervisor`` authorises it (their grant is spent, as for a void or refund)."""
        return self.run(Kind.SETTLEMENT, supervisor=supervisor)

    def find_original(
        self, kind: Kind, rrn: str | None, trace: str | None, date: str | None
    ) -> JournalEntry:
        """The journal entry a ``kind`` transaction refers to (raises OriginalNotFound)."""
        return self.journal.find_original(
            self.lane, CATALOGUE[kind].originals, rrn=rrn, trace=trace, date=date
        )

    # -- the engine --------------------------------------------------------------------

    def run(
        self,
        kind: Kind,
        *,
        amount_fen: int | None = None,
        original: JournalEntry | None = None,
        reason: str | None = None,
        supervisor: str | None = None,
        refund_reason: str | None = None,
        refund_note: str | None = None,
        _retry_on_stale_keys: bool = True,
        _authorised: bool = False,
    ) -> TransactionResult:
        """One transaction of the catalogue, from journal row to result.

        On a lane with operators, money and settlement are rung up only by a current
        operator (:meth:`~terminal.transactions.rules.HostRules.on_duty`), and a void,
        refund or settlement spends a grant of ``supervisor``
        (:meth:`~terminal.transactions.rules.HostRules.authorisation`): refused before
        anything is sent otherwise. A ``supervisor`` that holds a card number is refused
        on any lane (:func:`~terminal.transactions.rules.check_supervisor`).

        A money request answered ``A0`` (the terminal does not know our keys:
        it restarted, or another host signed on) moved nothing; when the keys
        were kept from an earlier run, the client signs on and tries once more,
        under the same authorisation.
        """
        row = CATALOGUE[kind]
        check_supervisor(supervisor)
        grant = None
        if kind in RUNG_UP and self.rules is not None and not _authorised:
            now = self._now()
            self.rules.on_duty(kind, self.operator, now=now)
            grant = self.rules.authorisation(kind, supervisor, operator=self.operator, now=now)
        if kind is Kind.SETTLEMENT:
            return self._settle(supervisor=supervisor, grant=grant)
        amount_fen = self._amount(row, amount_fen, original)
        if row.needs_original and original is None:
            raise OriginalNotFound(f"a {kind.value} needs its original")
        fresh_keys = False
        if row.mac and self.security is not None and self._session_keys() is None:
            log.info("no working keys held: signing on first")
            self.sign_on()
            fresh_keys = True
        extra = self._fields(row, amount_fen, original, reason)
        trace = original.trace if kind is Kind.REVERSAL and original is not None else None
        encoded: list[bytes] = []
        holding = self._holds_last_byte()
        try:
            entry, request = self.journal.begin(
                self.lane, kind, lambda t, b: self._request(row, extra, t, b, original),
                now=self._now(), amount_fen=amount_fen, trace=trace, original=original,
                reason=reason if kind is not Kind.REVERSAL else None,
                operator=self.operator, supervisor=supervisor, refund_reason=refund_reason,
                refund_note=refund_note, simulated=self._believed_simulated(),
                on_request=self._encode_request(encoded, start=holding), grant=grant,
            )
        except BaseException:
            if encoded and holding:
                # Not journaled: its frame must never be completed.
                cast(HoldingLink, self.link).withdraw()
            raise
        result = self._exchange(
            row, entry, request, amount_fen, original, raw=encoded[0], held=holding
        )
        if (
            result.response.code == Rc.MAC_ERROR and row.mac and self.security is not None
            and not fresh_keys and _retry_on_stale_keys
        ):
            log.info("%s answered A0 with kept keys: signing on and trying again", kind.value)
            self.sign_on()  # refused with A0: it moved nothing (its row is complete, declined)
            return self.run(kind, amount_fen=amount_fen, original=original, reason=reason,
                            supervisor=supervisor, refund_reason=refund_reason,
                            refund_note=refund_note, _retry_on_stale_keys=False,
                            _authorised=True)
        if kind is Kind.REVERSAL and original is not None and result.approved:
            # The simulator approves a reversal only of what it booked: then the original
            # went to it too, though it was sent before anything said so (in doubt).
            self.journal.mark(original.id, EntryState.REVERSED,
                              simulated=True if result.simulated else None)
        return result

    def resend(self, entry: JournalEntry) -> TransactionResult:
        """Send a journaled request again, unchanged (same trace), and complete its row.

        How an unanswered refund is recovered: never reversed, resent until the
        acquirer answers; it answers a repeat with its first answer."""
        row = CATALOGUE[entry.kind]
        original = self.journal.get(entry.original_id) if entry.original_id else None
        if row.mac and self.security is not None and self._session_keys() is None:
            self.sign_on()
        request = message_from_json(entry.request, DIALECT)
        if row.mac and self.security is not None:
            keys = self._session_keys()
            assert keys is not None
            request, _ = sign(request, keys.mac_key, self.security.mac_algorithm, DIALECT)
        return self._exchange(row, entry, request, entry.amount_fen, original)

    def _amount(
        self, row: TransactionType, amount_fen: int | None, original: JournalEntry | None
    ) -> int | None:
        if not row.has_amount:
            return None
        takes_original_amount = row.effect in (Effect.CANCEL, Effect.RELEASE) or (
            row.kind is Kind.REVERSAL
        )
        if amount_fen is None and original is not None and takes_original_amount:
            amount_fen = original.amount_fen
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
            raise TypeError("amounts are integer fen")
        if not 0 < amount_fen <= MAX_AMOUNT_FEN:
            raise ValueError(f"{row.kind.value} amount {amount_fen} fen is out of range")
        return amount_fen

    def _fields(
        self, row: TransactionType, amount_fen: int | None, original: JournalEntry | None,
        reason: str | None,
    ) -> dict[int, Any]:
        if row.kind is Kind.REVERSAL:
            assert original is not None
            request = message_from_json(original.request, DIALECT)
            fields = {n: request[n] for n in (3, 4, 25, 49, 61) if n in request}
            fields[39] = reason or REASON_NO_ANSWER
            return fields
        fields: dict[int, Any] = {}
        if row.processing_code is not None:
            fields.update({3: row.processing_code, 25: row.condition_code, 49: CNY})
        if amount_fen is not None:
            fields[4] = f"{amount_fen:012d}"
        if original is not None:
            ref = original.as_original()
            if ref.rrn:
                fields[37] = ref.rrn
            if ref.auth_code:
                fields[38] = ref.auth_code
            fields[61] = {"original_batch": ref.batch, "original_trace": ref.trace,
                          "original_date": ref.date or f"{self._now():%m%d}"}
        return fields

    def _request(
        self, row: TransactionType, extra: dict[int, Any], trace: str, batch: str,
        original: JournalEntry | None,
    ) -> Message:
        if row.kind is Kind.REVERSAL and original is not None:
            sub60 = dict(message_from_json(original.request, DIALECT)[60])
            mti = "0400"
        else:
            sub60 = {"message_type": row.message_type, "batch": batch,
                     "network_code": row.network_code}
            mti = row.mti
        fields: dict[int, Any] = {
            11: trace, 41: self.settings.terminal_id, 42: self.settings.merchant_id, 60: sub60,
        }
        fields.update(extra)
        message = Message(mti, fields, tpdu=self._tpdu, header=self.settings.header)
        if row.mac and self.security is not None:
            keys = self._session_keys()
            if keys is None:
                # Raised inside the journal's transaction: the pending row is rolled back
                # with it, and nothing is sent.
                raise NotSignedOn(f"no working keys for a {row.kind.value}: sign on first")
            message, _ = sign(message, keys.mac_key, self.security.mac_algorithm, DIALECT)
        return message

    def _holds_last_byte(self) -> bool:
        """Whether the link can put a frame on the line but its last byte (asked by name:
        isinstance() against a runtime-checkable Protocol costs a tenth of the host's
        time before the first byte goes out)."""
        return all(callable(getattr(self.link, name, None)) for name in _HOLDING)

    def _encode_request(
        self, encoded: list[bytes], *, start: bool
    ) -> Callable[[Message], None]:
        """The journal's ``on_request`` hook: the request is encoded inside the journal's
        transaction, so a request that cannot be encoded is never recorded, nor sent.
        With ``start`` its frame then goes on the line but the last byte, while the
        journal writes and commits the row (the line's time and the disk's overlap).
        ``encoded`` receives the bytes."""

        def hook(request: Message) -> None:
            raw = encode(request, DIALECT)
            if start:
                cast(HoldingLink, self.link).start(raw)
            encoded.append(raw)

        return hook

    def _exchange(
        self, row: TransactionType, entry: JournalEntry, request: Message,
        amount_fen: int | None, original: JournalEntry | None, *, raw: bytes | None = None,
        held: bool = False,
    ) -> TransactionResult:
        """Send ``request`` (encoded: ``raw``; ``held``: its frame was started, all but the
        last byte) and complete its journal row with the answer."""
        kind, trace = row.kind, entry.trace
        if raw is None:
            raw = encode(request, DIALECT)
        log.info("request %s trace=%s amount_fen=%s", kind.value, trace, amount_fen)
        try:
            faultpoint.reach("before-send", kind.value, self.crash_at)
            if held:
                cast(HoldingLink, self.link).finish()
            else:
                self.link.send(raw)
            faultpoint.reach("after-send", kind.value, self.crash_at)
            response, response_raw = self._await_response(request)
            self._check_mac(row, response, response_raw)
            result = self._result(row, request, response, entry, original)
        except (LinkError, ProtocolError, KeyboardInterrupt) as exc:
            if held:
                cast(HoldingLink, self.link).withdraw()  # unless its last byte went out
            reason = _safe_reason(exc)
            self.journal.mark(entry.id, EntryState.IN_DOUBT, reason)
            self._saf_queue(entry.id, reason)
            if row.moves_money or kind is Kind.REVERSAL:
                log.warning("%s trace=%s in doubt: %s", kind.value, trace, reason)
                raise TransactionInDoubt(
                    reason, kind=kind.value, trace=trace, amount_fen=amount_fen,
                    field=getattr(exc, "field", None), simulated=bool(entry.simulated),
                ) from None
            if isinstance(exc, ProtocolError):
                # The reason alone: the new error adds field and offset itself, once.
                raise ProtocolError(
                    exc.reason, field=exc.field, offset=exc.offset
                ) from None
            raise
        if result.response.action is Action.REVERSE and row.reversible:
            # 98: the issuer did not answer the acquirer in time, which may still book
            # it. Not a decline the cashier can rely on: in doubt, to be reversed.
            reason = f"answered {result.response.code} ({result.response.meaning})"
            self.journal.mark(entry.id, EntryState.IN_DOUBT, reason,
                              simulated=True if result.simulated else None)
            log.warning("%s trace=%s in doubt: %s", kind.value, trace, reason)
            self._saf_queue(entry.id, reason)
            raise TransactionInDoubt(reason, kind=kind.value, trace=trace, amount_fen=amount_fen,
                                     field="39", simulated=result.simulated)
        faultpoint.reach("before-commit", kind.value, self.crash_at)
        self.journal.complete(
            entry.id, now=self._now(), response_code=result.response.code, rrn=result.rrn,
            auth_code=result.auth_code, local_date=result.local_date,
            local_time=result.local_time, card=result.card,
            card_organisation=result.card_organisation, simulated=result.simulated,
        )  # and, in the same transaction, its prepared reversal or resend is not needed
        if kind is Kind.SIGN_ON and result.approved:
            self._take_keys(response)
            self.journal.set_batch(self.lane, result.batch)
        elif kind is Kind.SIGN_OFF and result.approved:
            self._drop_keys()
        if result.response.action is Action.SIGN_ON:
            self._drop_keys()
        log.info("response %s trace=%s code=%s", kind.value, trace, result.response.code)
        return result

    def _await_response(self, request: Message) -> tuple[Message, bytes]:
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
            raw = self.link.receive(remaining)
            response = decode(raw, DIALECT)
            their_trace = response.get(11)
            if their_trace is not None and their_trace != request[11]:
                log.warning(
                    "late response for trace %s (code %s) passed over while waiting for %s",
                    their_trace, response.get(39), request[11],
                )
                continue
            _check(request, response, self._echoed(request))
            return response, raw

    @staticmethod
    def _echoed(request: Message) -> tuple[int, ...]:
        """The fields a response to ``request`` must echo, from its catalogue row."""
        row = identify(request)
        return row.echoed if row is not None else (11, 41, 42)

    def _check_mac(self, row: TransactionType, response: Message, raw: bytes) -> None:
        """An approval must carry a good MAC; a decline that carries one must verify too."""
        if not row.mac or self.security is None:
            return
        if MAC_FIELD not in response:
            if response.get(39) == APPROVED:
                self._drop_keys()
                raise ResponseMismatch("an approval without a MAC is not believed", field="64")
            return
        keys = self._session_keys()
        if keys is None or not verify(raw, keys.mac_key, self.security.mac_algorithm, DIALECT):
            self._drop_keys()
            raise ResponseMismatch(
                "the response MAC does not verify: sign on again", field="64"
            )

    def mac_verdict(self, raw: bytes) -> bool | None:
        """Whether field 64 of ``raw`` (a message as it came from the terminal) verifies
        under the working keys held now, as :meth:`_check_mac` judges a response;
        ``None`` when this host checks no MAC or ``raw`` carries none (or does not
        decode: the exchange fails on that instead). Never raises.

        For a wire-trace recorder, which sees the clear bytes before it masks them:
        once the card data is masked, nobody can tell any more.
        """
        if self.security is None:
            return None
        try:
            if MAC_FIELD not in decode(raw, DIALECT):
                return None
        except ProtocolError:
            return None
        keys = self._session_keys()
        if keys is None:
            return False
        try:
            return verify(raw, keys.mac_key, self.security.mac_algorithm, DIALECT)
        except ProtocolError:
            return False

    def _result(
        self, row: TransactionType, request: Message, response: Message, entry: JournalEntry,
        original: JournalEntry | None,
    ) -> TransactionResult:
        pan = response.get(2)
        field60 = response.get(60) or {}
        amount = response.get(4, request.get(4))
        # Only a believed response gets here (its MTI, echoes and MAC were checked).
        self.device_is_simulator = identifies_simulator(response)
        return TransactionResult(
            kind=row.kind,
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
            original=original.as_original() if original is not None else None,
            journal_id=entry.id,
            simulated=bool(self.simulated) or self.device_is_simulator,
        )

    def _believed_simulated(self) -> bool | None:
        """Whether a request about to be sent goes to the simulator, as far as is known
        before its answer: the caller's word (``sim://``), else what the device said
        last in this client. The answer's own mark then completes the journal row."""
        if self.simulated:
            return True
        if self.device_is_simulator is not None:
            return self.device_is_simulator
        return self.simulated

    # -- store and forward ---------------------------------------------------------------

    def _saf_queue(self, entry_id: int, reason: str, *, again: bool = False) -> None:
        """No valid answer: the prepared reversal (or resend) is now due. ``again``: also
        an answered one (an approval for another card whose reversal got no answer)."""
        db = getattr(self.journal, "connection", None)
        item = saf.item_for(db, entry_id) if db is not None else None
        if item is not None and (again or item.state is saf.SafState.PREPARED):
            saf.set_state(db, item.id, saf.SafState.QUEUED, self._now(), error=reason)
            log.warning("%s of entry %d queued: %s", item.action.value, entry_id, reason)

    # -- working keys ------------------------------------------------------------------

    def _session_keys(self) -> WorkingKeys | None:
        """The keys of the last sign-on: in memory, else from the journal (kept there as
        delivered, encrypted under the master key)."""
        if self._keys is None and self.security is not None:
            packed = self.journal.load_keys(self.lane)
            if packed is not None:
                try:
                    self._keys = unpack_working_keys(self.security.master_key, packed)
                except KeyCheckError:
                    self.journal.forget_keys(self.lane)
        return self._keys

    def _take_keys(self, response: Message) -> None:
        if self.security is None:
            return
        packed = response.get(62)
        if not isinstance(packed, bytes):
            raise ResponseMismatch("sign-on response carries no working keys", field="62")
        self._keys = unpack_working_keys(self.security.master_key, packed)
        self.journal.save_keys(self.lane, packed, now=self._now())
        log.info("signed on: working keys checked against their check values")

    def _drop_keys(self) -> None:
        self._keys = None
        self.journal.forget_keys(self.lane)

    # -- settlement --------------------------------------------------------------------

    def _settle(self, *, supervisor: str | None, grant: int | None) -> TransactionResult:
        batch = self.journal.batch(self.lane)
        entries = self.journal.batch_entries(self.lane, batch)
        totals = batch_totals(entries)
        result, response = self._simple(
            Kind.SETTLEMENT, {15: f"{self._now():%m%d}", 48: settlement_field48(totals), 49: CNY},
            supervisor=supervisor, grant=grant,
        )
        if not result.approved:
            return result
        balanced = reconciliation(response.get(48)) is Reconciliation.BALANCED
        uploaded = 0
        if not balanced:
            for entry in _settled_money(entries):
                self._simple(Kind.BATCH_UPLOAD, _upload_fields(entry))
                uploaded += 1
            end, _ = self._simple(Kind.BATCH_UPLOAD_END, {48: f"{uploaded:04d}"})
            if not end.approved:
                return end
        self.journal.set_batch(self.lane, f"{int(batch) % 999_999 + 1:06d}")
        log.info("batch %s settled (%s, %d uploaded)", batch,
                 "balanced" if balanced else "not balanced", uploaded)
        return replace(result, totals=replace(totals, balanced=balanced, uploaded=uploaded))

    def _simple(
        self, kind: Kind, extra: dict[int, Any], *, supervisor: str | None = None,
        grant: int | None = None,
    ) -> tuple[TransactionResult, Message]:
        """A journaled exchange without money or MAC (settlement and batch upload)."""
        row = CATALOGUE[kind]
        entry, request = self.journal.begin(
            self.lane, kind, lambda t, b: self._request(row, extra, t, b, None), now=self._now(),
            simulated=self._believed_simulated(), operator=self.operator, supervisor=supervisor,
            grant=grant,
        )
        raw = encode(request, DIALECT)
        try:
            self.link.send(raw)
            response, _ = self._await_response(request)
        except (LinkError, ProtocolError, KeyboardInterrupt) as exc:
            self.journal.mark(entry.id, EntryState.IN_DOUBT, _safe_reason(exc))
            raise
        result = self._result(row, request, response, entry, None)
        self.journal.complete(
            entry.id, now=self._now(), response_code=result.response.code, rrn=result.rrn,
            auth_code=None, local_date=result.local_date, local_time=result.local_time, card=None,
            simulated=result.simulated,
        )
        return result, response


def batch_totals(entries: list[JournalEntry]) -> SettlementTotals:
    """The figures of a batch from its approved journal entries.

    Sales and completions count unless voided (a void or completion void of
    them is approved in the batch); sales, completions, voids and refunds are
    each counted apart (field 48 adds sales and completions up as debits).
    """
    voided = {
        e.original_id for e in entries if e.kind in (Kind.VOID, Kind.COMPLETION_VOID)
    }
    sales = [e for e in entries if e.kind is Kind.SALE and e.id not in voided]
    completions = [e for e in entries if e.kind is Kind.COMPLETION and e.id not in voided]
    voids = [e for e in entries if e.kind in (Kind.VOID, Kind.COMPLETION_VOID)]
    refunds = [e for e in entries if e.kind is Kind.REFUND]
    return SettlementTotals(
        sales_count=len(sales), sales_fen=sum(e.amount_fen or 0 for e in sales),
        completions_count=len(completions),
        completions_fen=sum(e.amount_fen or 0 for e in completions),
        voids_count=len(voids), voids_fen=sum(e.amount_fen or 0 for e in voids),
        refunds_count=len(refunds), refunds_fen=sum(e.amount_fen or 0 for e in refunds),
    )


def settlement_field48(totals: SettlementTotals) -> str:
    """Field 48 of the 0500 (``docs/protocol.md``): domestic debits, credits, code; foreign 0."""
    domestic = (
        f"{totals.debits_fen:012d}{totals.debits_count:03d}"
        f"{totals.refunds_fen:012d}{totals.refunds_count:03d}0"
    )
    return domestic + "0" * 31


def _settled_money(entries: list[JournalEntry]) -> list[JournalEntry]:
    voided = {e.original_id for e in entries if e.kind in (Kind.VOID, Kind.COMPLETION_VOID)}
    return [
        e for e in entries
        if (e.kind in (Kind.SALE, Kind.COMPLETION) and e.id not in voided)
        or e.kind is Kind.REFUND
    ]


def _upload_fields(entry: JournalEntry) -> dict[int, Any]:
    fields: dict[int, Any] = {
        3: CATALOGUE[entry.kind].processing_code,
        4: f"{entry.amount_fen or 0:012d}",
        61: {"original_batch": entry.batch, "original_trace": entry.trace,
             "original_date": entry.local_date or "0000"},
    }
    if entry.rrn:
        fields[37] = entry.rrn
    if entry.auth_code:
        fields[38] = entry.auth_code
    return fields


def _check(request: Message, response: Message, echoed: tuple[int, ...]) -> None:
    """Believe nothing that does not answer this very request: its MTI, and the fields
    the catalogue row says a response echoes (4 may be left out of a decline)."""
    expected_mti = f"{int(request.mti) + 10:04d}"
    if response.mti != expected_mti:
        raise ResponseMismatch(
            f"response MTI {response.mti} does not answer {request.mti}", field="mti"
        )
    for number in echoed:
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
        # Not echoed: a garbled field may hold any digits, a card number among them.
        raise ResponseMismatch(
            f"balance entry {entries.index(chosen) + 1} of {len(entries)} is malformed "
            "(expected account type, amount type, currency, C or D, 12 digits)",
            field="54",
        )
    return int(digits) * (-1 if chosen[7] == "D" else 1)
