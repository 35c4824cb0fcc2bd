#!/usr/bin/env bash
# Make tests/vectors/merge with esptool v5.3.1's merge-bin (run once, by hand;
# needs the reference tools: `source /work/ref/env.sh`). Inputs are espsec's
# own sample images and patterns; outputs are esptool's.
set -euo pipefail
ESPSEC=${ESPSEC:-build/espsec}
OUT=${1:-tests/vectors/merge}
mkdir -p "$OUT/input" "$OUT/expected"
ESPSEC=$(realpath "$ESPSEC")
cd "$OUT"
$ESPSEC image sample --chip esp32 --kind bootloader -o input/bl_esp32.bin >/dev/null
$ESPSEC image sample --chip esp32c3 --kind bootloader -o input/bl_esp32c3.bin >/dev/null
$ESPSEC image sample --chip esp32 --kind app -o input/app_esp32.bin >/dev/null
python3 -c "import sys; open('input/pt.bin','wb').write(bytes((i*7+3)&0xff for i in range(3072)))"
python3 -c "import sys; open('input/odd.bin','wb').write(bytes((i*13+1)&0xff for i in range(1001)))"
python3 -c "import sys; open('input/colon.bin','wb').write(b':not hex\n'+bytes(range(256)))"

ET="python3 -m esptool"
rows=()
run() { # name outfile args...
    local name=$1 out=$2; shift 2
    local log
    if log=$($ET "$@" 2>&1); then
        rows+=("| $name | \`esptool $*\` | 0 | $(sha256sum "$out" | cut -c1-64) |")
    else
        rows+=("| $name | \`esptool $*\` | $? | - |")
    fi
    printf '%s\n' "$log" | sed "s#$(pwd)#<cwd>#g" > "expected/$name.log"
}
run raw_esp32 expected/raw_esp32.bin --chip esp32 merge-bin -o expected/raw_esp32.bin 0x10000 input/app_esp32.bin 0x1000 input/bl_esp32.bin 0x8000 input/pt.bin
run raw_params_esp32 expected/raw_params_esp32.bin --chip esp32 merge-bin -o expected/raw_params_esp32.bin --flash-mode dout --flash-freq 80m --flash-size 8MB --target-offset 0x1000 --pad-to-size 256KB 0x1000 input/bl_esp32.bin 0x10000 input/app_esp32.bin
run raw_params_esp32c3 expected/raw_params_esp32c3.bin --chip esp32c3 merge-bin -o expected/raw_params_esp32c3.bin --flash-mode qio --flash-freq 20m --flash-size 16MB 0x0 input/bl_esp32c3.bin 0x8000 input/pt.bin
run raw_params_c2 expected/raw_params_c2.bin --chip esp32c2 merge-bin -o expected/raw_params_c2.bin --flash-freq 60m 0x0 input/bl_esp32c3.bin
run raw_not_image expected/raw_not_image.bin --chip esp32 merge-bin -o expected/raw_not_image.bin --flash-mode dio 0x1000 input/pt.bin
run raw_colon expected/raw_colon.bin --chip esp32 merge-bin -o expected/raw_colon.bin 0x2000 input/colon.bin
run hex_esp32 expected/hex_esp32.hex --chip esp32 merge-bin --format hex -o expected/hex_esp32.hex 0x10000 input/app_esp32.bin 0x1000 input/bl_esp32.bin 0x8000 input/odd.bin 0x2f808 input/pt.bin
run hex_low expected/hex_low.hex --chip esp32c3 merge-bin --format hex -o expected/hex_low.hex 0x0 input/odd.bin 0x2000 input/pt.bin
run from_hex expected/from_hex.bin --chip esp32 merge-bin -o expected/from_hex.bin 0x0 expected/hex_esp32.hex 0x40000 input/odd.bin
run uf2_esp32 expected/uf2_esp32.uf2 --chip esp32 merge-bin --format uf2 -o expected/uf2_esp32.uf2 0x10000 input/app_esp32.bin 0x1000 input/bl_esp32.bin 0x8000 input/odd.bin
run uf2_c3_chunk expected/uf2_c3_chunk.uf2 --chip esp32c3 merge-bin --format uf2 --chunk-size 256 --md5-disable -o expected/uf2_c3_chunk.uf2 0x0 input/bl_esp32c3.bin 0x9000 input/odd.bin
run uf2_params_c3 expected/uf2_params_c3.uf2 --chip esp32c3 merge-bin --format uf2 --flash-size 2MB -o expected/uf2_params_c3.uf2 0x0 input/bl_esp32c3.bin
run bad_overlap - --chip esp32 merge-bin -o expected/bad_overlap.bin 0x1000 input/bl_esp32.bin 0x1800 input/odd.bin
run bad_before_target - --chip esp32 merge-bin -o expected/bad_before_target.bin --target-offset 0x2000 0x1000 input/odd.bin
{
    echo "# merge-bin vectors"
    echo
    echo "Made by tools/make_merge_vectors.sh with esptool v5.3.1 (\`python3 -m esptool\`, Python 3.11): inputs are"
    echo "espsec's sample images (\`espsec image sample\`) and byte patterns; expected/ holds esptool's outputs"
    echo "and expected/NAME.log what it printed (paths relative to this folder)."
    echo
    echo "| case | command | exit | sha256 of output |"
    echo "|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
} > MANIFEST.md
rm -f expected/bad_*.bin
