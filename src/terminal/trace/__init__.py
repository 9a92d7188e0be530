"""Wire traces: record what crossed the link, masked; read a trace back; show it.

``TracingPort`` records a session (``terminal --trace FILE sale ...``), the
simulator plays one back as the device (``terminal simulate --replay FILE``),
``render_trace`` prints one (``terminal trace show FILE``). Card data is masked
before a record is written (:mod:`terminal.trace.mask`).
"""

from terminal.trace.file import (
    FORMAT,
    VERSION,
    TraceError,
    TraceFile,
    TraceRecord,
    TraceWriter,
    read_trace,
)
from terminal.trace.mask import mask_data
from terminal.trace.recorder import TracingPort
from terminal.trace.show import render_trace

__all__ = [
    "FORMAT",
    "VERSION",
    "TraceError",
    "TraceFile",
    "TraceRecord",
    "TraceWriter",
    "TracingPort",
    "mask_data",
    "read_trace",
    "render_trace",
]
