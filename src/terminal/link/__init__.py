"""The serial link: framing (STX/LEN/DATA/ETX/LRC), ACK/NAK, resends and timers.

It knows nothing of the messages it carries (``terminal.protocol``) nor of the
wire (``terminal.transport``): :class:`LinkEndpoint` is the sans-IO state
machine both ends share, :class:`SerialLink` its blocking driver over any
pyserial-like port.
"""

from terminal.link.endpoint import LinkEndpoint, LinkStats, SendFailed, SendState
from terminal.link.frame import (
    ACK,
    ETX,
    MAX_DATA_LENGTH,
    NAK,
    STX,
    AckReceived,
    BadFrame,
    FrameDecoder,
    FrameError,
    FrameReceived,
    LinkEvent,
    NakReceived,
    decode_frame,
    encode_frame,
    lrc,
)
from terminal.link.serial_link import READ_SLICE, SerialLink, SerialPortLike
from terminal.link.timers import LinkTimers

__all__ = [
    "ACK",
    "ETX",
    "MAX_DATA_LENGTH",
    "NAK",
    "READ_SLICE",
    "STX",
    "AckReceived",
    "BadFrame",
    "FrameDecoder",
    "FrameError",
    "FrameReceived",
    "LinkEndpoint",
    "LinkEvent",
    "LinkStats",
    "LinkTimers",
    "NakReceived",
    "SendFailed",
    "SendState",
    "SerialLink",
    "SerialPortLike",
    "decode_frame",
    "encode_frame",
    "lrc",
]
