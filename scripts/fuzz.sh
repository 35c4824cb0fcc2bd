#!/usr/bin/env bash
# Run every fuzz target of a fuzz build for N seconds, seeded from tests/vectors.
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-15}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
seeds() {
    case "$1" in
    fuzz_image) ls tests/vectors/image/expected/*.bin tests/vectors/secure_boot/ed1/input/bootloader.bin ;;
    fuzz_elf2image) for f in tests/vectors/image_chips/input/*.elf; do printf '\x06\x00' | cat - "$f" > "$WORK/seed_$(basename "$f")"; echo "$WORK/seed_$(basename "$f")"; done ;;
    fuzz_sigblock) ls tests/vectors/secure_boot/ed1/expected/app_8k_*.signed tests/vectors/secure_boot/ed1/input/*.pem ;;
    fuzz_partition) ls tests/vectors/partition/expected/*.bin tests/vectors/partition/input/*.csv ;;
    fuzz_nvs_page) ls tests/vectors/nvs/expected/*.bin ;;
    fuzz_nvs_csv) ls tests/vectors/nvs/input/*.csv ;;
    fuzz_efuse) ls tests/vectors/efuse/expected/*.efuse.bin ;;
    fuzz_sdkconfig) ls tests/vectors/device/*.sdkconfig ;;
    fuzz_boot) ls tests/vectors/device/fuzz_seed_* ;;
    fuzz_pem) ls tests/vectors/tls/*.pem ;;
    fuzz_bundle) ls tests/vectors/tls/*.bundle ;;
    fuzz_http) ls tests/vectors/tls/http/*.txt ;;
    fuzz_mfg_csv) ls tests/vectors/mfg/seed.bin ;;
    fuzz_enc_img) ls tests/vectors/ota_enc/expected/*.bin ;;
    fuzz_secure_cert) ls tests/vectors/secure_cert/expected/*.bin ;;
    fuzz_merge) ls tests/vectors/merge/expected/*.hex tests/vectors/merge/input/bl_esp32.bin ;;
    *) ;;
    esac
}
status=0
for bin in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin")
    mkdir -p "$WORK/$name"
    for s in $(seeds "$name"); do
        # keep seeds small: libFuzzer's default -max_len applies to new inputs only
        head -c 65536 "$s" > "$WORK/$name/$(basename "$s")"
    done
    echo "-- $name"
    if ! "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "$WORK/$name" >"$WORK/$name.log" 2>&1; then
        tail -40 "$WORK/$name.log"
        status=1
    else
        grep -E "stat::number_of_executed_units|Done" "$WORK/$name.log" | tail -2
    fi
done
exit $status
