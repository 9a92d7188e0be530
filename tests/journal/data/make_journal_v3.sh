#!/bin/sh
# How journal-v3.sqlite3 and books-v3.sqlite3 were made: by the program as it was at
# schema version 3 (commit a1d0caa, digests as hex text), with the token key bytes 0..31.
# Run from a checkout of that commit:  sh make_journal_v3.sh OUT_DIR
set -eu
out=$1
mkdir -p "$out"
export TERMINAL_DATA_DIR="$out/data" TERMINAL_CONFIG="$out/config.toml"
export TERMINAL_TOKEN_KEY_FILE="$out/token.key"
echo "# defaults" > "$TERMINAL_CONFIG"
python -c "import sys; open(sys.argv[1], 'wb').write(bytes(range(32)))" "$TERMINAL_TOKEN_KEY_FILE"
echo boss-secret | python -m terminal operator add boss --role admin --password-stdin
printf 'boss-secret\nsue-secret\n' | python -m terminal operator add sue --role supervisor \
    --admin boss --password-stdin
rrn=$(python -m terminal sale 12.34 --json | python -c "import json, sys; print(json.load(sys.stdin)['rrn'])")
python -m terminal sale 56.78
echo sue-secret | python -m terminal refund 1.00 --rrn "$rrn" --reason returned \
    --supervisor sue --password-stdin
cp "$out/data/journal.sqlite3" journal-v3.sqlite3
cp "$out/data/simulator/books.sqlite3" books-v3.sqlite3
