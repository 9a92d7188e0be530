"""Transaction-level errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from terminal.errors import LinkError, ProtocolError, TerminalError

if TYPE_CHECKING:
    from terminal.transactions.result import TransactionResult

__all__ = ["CardAlarm", "NotSignedOn", "ResponseMismatch", "TransactionInDoubt", "WrongCard"]


class TransactionInDoubt(LinkError):
    """The request may have reached the terminal but no usable answer came back.

    Money may have moved. The caller must resolve it (reversal or enquiry with
    the same ``trace``), never simply retry the sale. ``simulated``: the request
    went to the simulator, as far as was known when it was sent (test money).
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: str,
        trace: str,
        amount_fen: int | None,
        field: str | None = None,
        simulated: bool = False,
    ) -> None:
        self.kind = kind
        self.field = field
        self.trace = trace
        self.amount_fen = amount_fen
        self.simulated = simulated
        super().__init__(f"{kind} trace {trace} is in doubt: {reason}")


class ResponseMismatch(ProtocolError):
    """A well-formed response that does not answer our request (trace, MTI, ids, amount)."""


class NotSignedOn(TerminalError):
    """A money request needs working keys and the terminal gave none; nothing was sent."""


class CardAlarm(TerminalError):
    """An approval for another card than the one that paid the original.

    The acquirer should have refused it. The alarm is journaled with the entry;
    a void so approved is reversed at once (``reversal``: its answer, or None
    when it is queued for recovery)."""

    def __init__(
        self, what: str, *, result: TransactionResult, reversal: TransactionResult | None
    ) -> None:
        self.result = result
        self.reversal = reversal
        super().__init__(what)


class WrongCard(TerminalError):
    """A void or refund presented with another card than the one that paid, and declined.

    The acquirer refused it (it checks the card it read against the original's),
    so nothing moved; the host says why in the cashier's words instead of the bare
    code. ``result`` is the declined answer, its ``card`` the card presented (masked
    and token); ``original_card`` the masked card that paid."""

    def __init__(self, what: str, *, result: TransactionResult, original_card: str) -> None:
        self.result = result
        self.original_card = original_card
        super().__init__(what)
