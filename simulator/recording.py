"""The recording a replay answers from: its exchanges, each filed under the kind of request.

A POS developer reproducing a field problem on a laptop rarely sends exactly
the recorded sequence: their POS sends an echo test first, a balance enquiry,
a retry or a pending reversal the field session did not have. So the replay
(:mod:`simulator.replay`) does not answer the n-th live request with the n-th
recorded exchange: :meth:`Recording.take` gives it the earliest recorded
exchange not yet played whose request is of the same :class:`RequestKind`.
Recorded exchanges of other kinds wait, in their order, for later requests;
those the live POS never asks for stay countable (:meth:`Recording.held`).

A kind is what the terminal itself tells requests apart by: the MTI, the
processing code (field 3) and the 60.1 message type, each compared also when
only one side has it, and the catalogue row the request is
(:func:`terminal.protocol.catalogue.identify`), which adds what those three
leave open (an echo test and a sign-off are both 0820 with 60.1 ``00``; 60.3
tells them apart). A recorded request that does not decode has no kind and is
never played.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from terminal.errors import ProtocolError
from terminal.protocol import Message, decode
from terminal.protocol.catalogue import FINANCIAL_MTIS, Kind, identify, reversed_type
from terminal.trace import TraceFile

__all__ = [
    "UNDECODED",
    "Answer",
    "Exchange",
    "Recording",
    "RequestKind",
    "counted",
    "decoded",
    "exchanges_of",
]

log = logging.getLogger("simulator.replay")

# Each catalogue kind in plain words, for the replay's operator.
_WORDS: Mapping[Kind, str] = {
    Kind.SALE: "sale",
    Kind.VOID: "void",
    Kind.REFUND: "refund",
    Kind.BALANCE: "balance enquiry",
    Kind.PREAUTH: "pre-authorization",
    Kind.PREAUTH_CANCEL: "pre-authorization cancel",
    Kind.COMPLETION: "pre-authorization completion",
    Kind.COMPLETION_VOID: "completion void",
    Kind.SIGN_ON: "sign-on",
    Kind.SIGN_OFF: "sign-off",
    Kind.ECHO: "echo test",
    Kind.REVERSAL: "reversal",
    Kind.SETTLEMENT: "settlement",
    Kind.BATCH_UPLOAD: "batch upload record",
    Kind.BATCH_UPLOAD_END: "end of batch upload",
}
if set(_WORDS) != set(Kind):  # checked when loaded, not when a replay first meets the kind
    raise AssertionError(f"no words for {sorted(set(Kind) - set(_WORDS))}")

#: What :func:`counted` calls a request that does not decode.
UNDECODED = "request that does not decode"


@dataclass(frozen=True, slots=True)
class Answer:
    """A frame the terminal sent: seconds after the request, its DATA, the MAC verdict."""

    delay: float
    data: bytes
    mac: str = ""


@dataclass(frozen=True, slots=True)
class Exchange:
    """A request the POS sent and what the terminal answered."""

    request: bytes
    responses: tuple[Answer, ...]


def exchanges_of(trace: TraceFile) -> list[Exchange]:
    """The recorded exchanges: each POS frame with the terminal frames up to the next one."""
    result: list[Exchange] = []
    request: bytes | None = None
    sent_at = 0.0
    answers: list[Answer] = []
    for record in trace.frames():
        if record.direction == "tx":
            if request is not None:
                result.append(Exchange(request, tuple(answers)))
            request, sent_at, answers = record.data, record.t, []
        elif request is None:
            log.info("terminal frame before any request in the trace: not replayed")
        else:
            answers.append(Answer(max(0.0, record.t - sent_at), record.data, record.mac))
    if request is not None:
        result.append(Exchange(request, tuple(answers)))
    return result


@dataclass(frozen=True, slots=True)
class RequestKind:
    """What a live request must share with a recorded one to get its answers.

    Two kinds are the same when all their fields are equal: a request without
    field 3 is never answered from one with it, nor the other way round.
    """

    mti: str
    processing_code: str | None
    message_type: str | None
    #: The catalogue row the request is, ``None`` for one the catalogue does not know.
    transaction: Kind | None
    #: For a reversal, what it reverses (its 3, 25 and 60.1 are the original's).
    reverses: Kind | None = None

    @classmethod
    def of(cls, message: Message) -> RequestKind:
        """The kind of the (decoded) request ``message``."""
        sub60 = message.get(60)
        message_type = sub60.get("message_type") if isinstance(sub60, Mapping) else None
        processing_code = message.get(3)
        row = identify(message)
        reversed_row = reversed_type(message)
        return cls(
            message.mti,
            processing_code if isinstance(processing_code, str) else None,
            message_type if isinstance(message_type, str) else None,
            row.kind if row is not None else None,
            reversed_row.kind if reversed_row is not None else None,
        )

    @property
    def words(self) -> str:
        """The kind in plain words: ``void``, ``reversal of a sale``, ``echo test``."""
        if self.transaction is None:
            return f"unknown {self.spelling} request"
        words = _WORDS[self.transaction]
        if self.reverses is not None:
            return f"{words} of {_article(_WORDS[self.reverses])}"
        return words

    @property
    def spelling(self) -> str:
        """How it is spelled on the wire: ``0200 3=200000 60.1=23``."""
        parts = [self.mti]
        if self.processing_code is not None:
            parts.append(f"3={self.processing_code}")
        if self.message_type is not None:
            parts.append(f"60.1={self.message_type}")
        return " ".join(parts)

    @property
    def needs_keys(self) -> bool:
        """Whether the request is a money message, MAC'd under the working keys."""
        return self.mti in FINANCIAL_MTIS

    def __str__(self) -> str:
        if self.transaction is None:
            return _article(self.words)
        return f"{_article(self.words)} ({self.spelling})"


@dataclass(frozen=True, slots=True)
class _Entry:
    order: int
    exchange: Exchange
    request: Message | None
    kind: RequestKind | None


class Recording:
    """The recorded exchanges not yet played, each found by the kind of its request."""

    def __init__(self, exchanges: Iterable[Exchange], dialect: str) -> None:
        self._by_kind: dict[RequestKind | None, deque[_Entry]] = {}
        self.total = 0
        for order, exchange in enumerate(exchanges):
            request = decoded(exchange.request, dialect)
            kind = RequestKind.of(request) if request is not None else None
            self._by_kind.setdefault(kind, deque()).append(_Entry(order, exchange, request, kind))
            self.total += 1

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._by_kind.values())

    def take(self, kind: RequestKind) -> tuple[Exchange, Message] | None:
        """The earliest unplayed exchange whose request is of ``kind``, and that request,
        now played; ``None`` when the recording holds no more of that kind."""
        entries = self._by_kind.get(kind)
        if not entries:
            return None
        entry = entries.popleft()
        assert entry.request is not None  # a kind is only filed for a decoded request
        return entry.exchange, entry.request

    def next_bearing_on_keys(self, kind: RequestKind) -> Message | None:
        """The first unplayed recorded request that is of ``kind`` or needs working keys.

        For a live sign-on: when this is a recorded sign-on, that sign-on issued
        the keys of the recorded money messages after it and is played; when it
        is a money message, the recording was made under keys from a sign-on it
        does not hold, which the replay stands in for. Echo tests and other
        requests without a MAC in between do not decide it.
        """
        heads = [
            entries[0]
            for other, entries in self._by_kind.items()
            if entries and other is not None and (other == kind or other.needs_keys)
        ]
        return min(heads, key=lambda e: e.order).request if heads else None

    def held(self) -> Counter[str]:
        """What is not yet played, counted by kind in plain words, in recorded order."""
        return Counter(e.kind.words if e.kind is not None else UNDECODED for e in self._unplayed())

    def exchanges(self) -> Iterator[Exchange]:
        """The unplayed exchanges in recorded order."""
        return (e.exchange for e in self._unplayed())

    def requests(self) -> Iterator[Message]:
        """The unplayed exchanges' requests that decode, in recorded order."""
        return (e.request for e in self._unplayed() if e.request is not None)

    def _unplayed(self) -> list[_Entry]:
        return sorted((e for q in self._by_kind.values() for e in q), key=lambda e: e.order)


def counted(counts: Counter[str]) -> str:
    """``2 sale(s), 1 echo test``: counts by kind, in the order they were counted."""
    return ", ".join(f"{n} {words}{'(s)' if n > 1 else ''}" for words, n in counts.items())


def decoded(data: bytes, dialect: str) -> Message | None:
    """``data`` decoded, or ``None`` when it is no message of ``dialect``."""
    try:
        return decode(data, dialect)
    except ProtocolError:
        return None


def _article(words: str) -> str:
    return f"{'an' if words[0] in 'aeiou' else 'a'} {words}"
