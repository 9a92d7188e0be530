"""Transaction-level errors."""

from __future__ import annotations

from terminal.errors import LinkError, ProtocolError, TerminalError

__all__ = ["NotSignedOn", "ResponseMismatch", "TransactionInDoubt"]


class TransactionInDoubt(LinkError):
    """The request may have reached the terminal but no usable answer came back.

    Money may have moved. The caller must resolve it (reversal or enquiry with
    the same ``trace``), never simply retry the sale.
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: str,
        trace: str,
        amount_fen: int | None,
        field: str | None = None,
    ) -> None:
        self.kind = kind
        self.field = field
        self.trace = trace
        self.amount_fen = amount_fen
        super().__init__(f"{kind} trace {trace} is in doubt: {reason}")


class ResponseMismatch(ProtocolError):
    """A well-formed response that does not answer our request (trace, MTI, ids, amount)."""


class NotSignedOn(TerminalError):
    """A money request needs working keys and the terminal gave none; nothing was sent."""
