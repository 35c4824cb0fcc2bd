#!/usr/bin/env bash
# clang-tidy over src/ with the checks in .clang-tidy (bugprone, cert, clang-analyzer; the ones
# switched off are listed there with the reason). Any finding fails. Usage: scripts/tidy.sh
# [BUILD_DIR] [FILE...] (default: build-tidy, every src/**/*.c).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-tidy}
shift || true
TIDY=$(command -v clang-tidy || command -v clang-tidy-14 || true)
if [ -z "$TIDY" ]; then
    echo "clang-tidy not found (scripts/setup.sh installs it)" >&2
    exit 1
fi
cmake -S . -B "$BUILD" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
if [ $# -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(find src -name '*.c' | sort)
fi
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
status=0
printf '%s\n' "${files[@]}" | xargs -P "$(nproc)" -n 4 "$TIDY" -p "$BUILD" --quiet >"$LOG" 2>&1 || status=1
n=$(grep -cE '(warning|error): .*\[[a-z]' "$LOG" || true)
if [ "$status" -ne 0 ] || [ "$n" -ne 0 ]; then
    grep -E -A3 '(warning|error): ' "$LOG" | grep -v 'warnings generated' | head -200
    echo "clang-tidy: $n finding(s) in ${#files[@]} files" >&2
    exit 1
fi
echo "clang-tidy: ${#files[@]} files clean"
