# espsec efuse for every chip: replay every row of espefuse's multi-chip vectors
# (tests/vectors/efuse_chips/MANIFEST.md): exit status, file bytes after each step,
# summaries (JSON field by field, value_only) equal to espefuse's.
. "$(dirname "$0")/lib.inc"
CHECKS=$((CHECKS + 1))
python3 "$TESTS_DIR/cli/efuse_replay.py" "$ESPSEC" "$VECTORS/efuse_chips" "$T/replay" >"$T/replay.out" 2>&1 || fail "$(grep -c FAIL "$T/replay.out") rows differ from espefuse: $(grep FAIL "$T/replay.out" | head -20)"
tail -1 "$T/replay.out"
finish
