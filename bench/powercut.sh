#!/usr/bin/env bash
# The provisioning power-cut sweep (espsec boot --powercut-sweep) per chip and configuration: its size
# (cut points: eFuse block programs + flash operations of the first boot), its outcomes and its time.
# Usage: bench/powercut.sh BUILD_DIR   (a 4 MiB flash: signed bootloader, table, a 100 KiB signed factory app)
set -eu
B=$(cd "${1:?build directory}" && pwd)
E=$B/espsec
SB=$(cd "$(dirname "$0")/.." && pwd)/tests/vectors/secure_boot/input
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"
printf 'nvs,data,nvs,0x9000,0x4000,\notadata,data,ota,0xd000,0x2000,\nphy_init,data,phy,0xf000,0x1000,\nfactory,app,factory,0x10000,1M,\n' >p.csv
$E partition-table p.csv p.bin >/dev/null
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%-9s %-34s %6s %6s %6s %9s %9s %8s %8s %8s\n' chip configuration points efuse flash recovers plaintext reflash bricked seconds
for chip in esp32 esp32s3 esp32c3; do
    boff=0x0
    [ "$chip" = esp32 ] && boff=0x1000
    $E image sample --chip $chip --kind bootloader -o bl >/dev/null
    $E image sample --chip $chip --project app -o app >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o app.s app >/dev/null
    $E image merge-bin -o fl --fill-flash-size 4MB $boff bl.s 0x8000 p.bin 0x10000 app.s >/dev/null
    confs=("development" "release" "development, SBv2" "release, SBv2" "release, SBv2, ROM download off")
    [ "$chip" = esp32s3 ] && confs+=("release, SBv2, XTS-AES-256")
    for conf in "${confs[@]}"; do
        printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' $chip >s.cfg
        case $conf in development*) echo CONFIG_SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y >>s.cfg ;;
        *) echo CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y >>s.cfg ;; esac
        case $conf in *SBv2*) printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >>s.cfg ;; esac
        case $conf in *"download off"*) echo CONFIG_SECURE_DISABLE_ROM_DL_MODE=y >>s.cfg ;; esac
        case $conf in *XTS-AES-256*) echo CONFIG_SECURE_FLASH_ENCRYPTION_AES256=y >>s.cfg ;; esac
        t0=$(date +%s.%N)
        $E boot --chip $chip --efuse ef --flash fl --sdkconfig s.cfg --powercut-sweep --json >r.json
        t1=$(date +%s.%N)
        python3 - r.json "$chip" "$conf" "$(echo "$t1 - $t0" | bc)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print('%-9s %-34s %6d %6d %6d %9d %9d %8d %8d %8.2f' % (sys.argv[2], sys.argv[3], r['points'], r['efuse_programs'],
      r['flash_ops'], r['recovers'], r['stays_plaintext'], r['reflash'], r['bricked'], float(sys.argv[4])))
PY
    done
done
