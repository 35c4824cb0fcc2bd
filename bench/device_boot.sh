#!/usr/bin/env bash
# Boot of a secured 4 MiB and 16 MiB flash per chip family (flash encryption + Secure Boot V2 on):
# wall time and peak memory of `espsec boot`, best of 3. Usage: bench/device_boot.sh BUILD_DIR
set -eu
B=${1:?build dir}
E=$B/espsec
R=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
V=$R/tests/vectors
SB=$V/secure_boot/input

case_dir() { # case_dir NAME CHIP EFUSE FLASH KEY
    mkdir -p "$T/$1"
    cp "$3" "$T/$1/ef.bin"
    cp "$4" "$T/$1/fl4.bin"
    cp "$5" "$T/$1/key.bin"
    # 16 MiB: the same device with 12 MiB more of erased flash after it
    python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d + b'\xff' * (16 * 1024 * 1024 - len(d)))" "$T/$1/fl4.bin" "$T/$1/fl16.bin"
    echo "$2" >"$T/$1/chip"
}

case_dir esp32 esp32 "$V/device/input/efuse_secured.bin" "$V/device/expected/flash_secured.bin" "$V/device/input/flash_key.bin"
for c in esp32s3 esp32c6 esp32c2; do
    case_dir $c $c "$V/device_chips/input/$c/efuse_secured.bin" "$V/device_chips/expected/$c/flash_secured.bin" \
        "$V/device_chips/input/$c/flash_key.bin"
done
# ESP32-C3: provisioned by the virtual device's first boot (XTS-AES-128 + Secure Boot V2 RSA)
mkdir -p "$T/esp32c3" && cd "$T/esp32c3"
$E image sample --chip esp32c3 --kind bootloader -o bl.bin >/dev/null
$E image sample --chip esp32c3 -o app.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o app.s app.bin >/dev/null
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >pt.csv
$E partition-table pt.csv pt.bin >/dev/null
$E image merge-bin -o fl4.bin --fill-flash-size 4MB 0x0 bl.s 0x8000 pt.bin 0x10000 app.s >/dev/null
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >s.cfg
$E boot --chip esp32c3 --efuse ef.bin --flash fl4.bin --sdkconfig s.cfg --provision >/dev/null
cp ef.bin.hidden key.hidden 2>/dev/null || true
python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d + b'\xff' * (16 * 1024 * 1024 - len(d)))" fl4.bin fl16.bin
echo esp32c3 >chip
cd "$T"

printf '%-9s %-6s %10s %12s\n' chip flash "time (ms)" "peak RSS (KiB)"
for d in esp32 esp32c3 esp32s3 esp32c6 esp32c2; do
    chip=$(cat "$T/$d/chip")
    for sz in 4 16; do
        best_t=999999 best_m=0
        for _ in 1 2 3; do
            key=()
            [ -f "$T/$d/key.bin" ] && key=(--flash-key "$T/$d/key.bin")
            /usr/bin/time -o "$T/time" -f "%e %M" "$E" boot --chip "$chip" --efuse "$T/$d/ef.bin" \
                --flash "$T/$d/fl$sz.bin" "${key[@]}" >"$T/log" 2>/dev/null || true
            out=$(cat "$T/time")
            grep -q "^BOOTED" "$T/log" || { echo "$d $sz MiB did not boot" >&2; exit 1; }
            t=$(echo "$out" | tail -1 | awk '{printf "%d", $1 * 1000}')
            m=$(echo "$out" | tail -1 | awk '{print $2}')
            [ "$t" -lt "$best_t" ] && best_t=$t && best_m=$m
        done
        printf '%-9s %3s MiB %10s %12s\n' "$d" "$sz" "$best_t" "$best_m"
    done
done
