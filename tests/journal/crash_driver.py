"""One host operation in its own process, for the crash-consistency tests.

``python crash_driver.py ROOT OP [ARGS]``: OP is ``sale FEN``, ``void RRN``,
``refund FEN RRN`` or ``recover``. The journal and the simulator's books are
files under ROOT; as every money command does, the operation first resolves
what an earlier (perhaps killed) run left pending. ``$TERMINAL_CRASH_AT`` kills
the process at the named point (passed to the client, as the CLI does).
Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from terminal.config import TerminalSettings
from terminal.faultpoint import CRASH_ENV
from terminal.journal import Journal
from terminal.link import SerialLink
from terminal.transactions.client import Security, TerminalClient
from terminal.transactions.recovery import recover
from terminal.transport import open_port

KEY = b"k" * 32


def main(root: Path, op: str, *args: str) -> dict:
    journal = Journal(root / "journal.sqlite3")
    port = open_port(f"sim://?card=approved&ledger={root / 'books.sqlite3'}")
    try:
        client = TerminalClient(SerialLink(port), TerminalSettings(), journal=journal,
                                token_key=KEY, security=Security(), response_timeout=5.0,
                                crash_at=os.environ.get(CRASH_ENV))
        recovered = [o.to_dict() for o in recover(client, on_demand=op == "recover")]
        if op == "sale":
            result = client.sale(int(args[0])).to_dict()
        elif op == "void":
            result = client.void(rrn=args[0]).to_dict()
        elif op == "refund":
            result = client.refund(int(args[0]), rrn=args[1], reason="returned").to_dict()
        else:
            result = None
        return {"recovered": recovered, "result": result}
    finally:
        port.close()
        journal.close()


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2], *sys.argv[3:])))
