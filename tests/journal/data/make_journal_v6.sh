#!/bin/sh
# How journal-v6.sqlite3 and books-v6.sqlite3 were made: by the program as it was at schema version 6 (commit
# 5b8f655), with the token key bytes 0..31 and all-digit operator ids: cashier 4000100 and
# supervisor 700117 (their ids side by side, as version 6 writes a void's row and an
# authorisation's audit row, read as a Luhn-valid number, and so does the lane with the
# cashier's id in the operators' unique index).
# Run from a checkout of that commit:  sh make_journal_v6.sh OUT_DIR
set -eu
out=$1
mkdir -p "$out"
export TERMINAL_DATA_DIR="$out/data" TERMINAL_CONFIG="$out/config.toml"
export TERMINAL_TOKEN_KEY_FILE="$out/token.key"
echo "# defaults" > "$TERMINAL_CONFIG"
python -c "import sys; open(sys.argv[1], 'wb').write(bytes(range(32)))" "$TERMINAL_TOKEN_KEY_FILE"
echo boss-secret | python -m terminal operator add boss --role admin --password-stdin
printf 'boss-secret\nsue-secret\n' | python -m terminal operator add 700117 --role supervisor \
    --admin boss --password-stdin
printf 'boss-secret\ncash-secret\n' | python -m terminal operator add 4000100 --role cashier \
    --admin boss --password-stdin
rrn() { python -c "import json, sys; print(json.load(sys.stdin)['rrn'])"; }
first=$(python -m terminal sale 12.34 --operator 4000100 --json | rrn)
second=$(python -m terminal sale 56.78 --operator 4000100 --json | rrn)
echo sue-secret | python -m terminal void --rrn "$second" --operator 4000100 \
    --supervisor 700117 --password-stdin
echo sue-secret | python -m terminal refund 1.00 --rrn "$first" --reason returned \
    --operator 4000100 --supervisor 700117 --password-stdin
python -c "import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute('PRAGMA wal_checkpoint(TRUNCATE)')" \
    "$out/data/journal.sqlite3"
cp "$out/data/journal.sqlite3" journal-v6.sqlite3
cp "$out/data/simulator/books.sqlite3" books-v6.sqlite3
