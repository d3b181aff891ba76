#!/bin/sh
# demo.sh - the README's main command (`make demo`): hashes the sample photos shipped in
# datasets/samples and shows what vigil reports, including the dihedral variants.
set -eu
B=${1:-build}
echo "== vigil hash datasets/samples (fast mode, TSV; columns trimmed for the terminal)"
"$B/vigil" hash -q datasets/samples | cut -f1-5 | sed 's|datasets/samples/||' | awk -F'\t' '{ printf "%-60s %s\n", $1, substr($0, length($1) + 2) }'
echo
echo "== the same photos in exact mode, bit-exact with Meta's pdq-photo-hasher"
"$B/vigil" hash -q --exact --no-digests datasets/samples | cut -f1-3 | sed 's|datasets/samples/||' | awk -F'\t' '{ printf "%-60s %s\n", $1, substr($0, length($1) + 2) }'
echo
echo "Full output with content digests and dihedral hashes:  $B/vigil hash --dihedral datasets/samples"
echo "JSON Lines:                                          $B/vigil hash --format jsonl datasets/samples"
