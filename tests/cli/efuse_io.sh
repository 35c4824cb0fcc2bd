# espsec efuse import / export: a real chip's state from espefuse's summary JSON, its joint
# dump or Espressif QEMU's eFuse file, and back to QEMU's file. The summaries in the
# efuse and efuse_chips vector sets are espefuse v5.3.1's own output.
. "$(dirname "$0")/lib.inc"
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
CMP="$TESTS_DIR/cli/efuse_json_compare.py"

# every espefuse summary of the vector sets imports to a chip that summarises the same, field by
# field, and whose registers (joint dump) equal those of the eFuse file the summary was made from
for j in "$VECTORS"/efuse/expected/*.summary.json "$VECTORS"/efuse_chips/expected/*.summary.json; do
    b=$(basename "$j" .summary.json)
    chip=${b%%_*}
    d=$(dirname "$j")
    rm -f imp.efuse imp.efuse.hidden
    ok $ESPSEC efuse --chip "$chip" import "$j" -o imp.efuse || continue
    contains "$T/out" "($chip summary JSON)"
    ok $EF --chip "$chip" --path-efuse-file imp.efuse summary --format json
    CHECKS=$((CHECKS + 1))
    python3 "$CMP" "$T/out" "$j" >/dev/null || fail "$b: the imported summary differs from espefuse's"
    cp "$d/$b.efuse.bin" orig.efuse
    chmod u+w orig.efuse
    ok $EF --chip "$chip" --path-efuse-file orig.efuse dump --format joint --file-name want.joint
    ok $EF --chip "$chip" --path-efuse-file imp.efuse dump --format joint --file-name got.joint
    same got.joint want.joint
done

# espefuse's banner before the JSON (its stdout saved as it is) is skipped; lines count from the top
{
    printf 'espefuse v5.3.1\n\n=== Run "summary" command ===\n'
    cat "$VECTORS/efuse_chips/expected/esp32c6_xts_key.summary.json"
} >banner.json
ok $ESPSEC efuse --chip esp32c6 import banner.json -o b.efuse
ok $ESPSEC efuse --chip esp32c6 import --format json banner.json -o b2.efuse
same b.efuse b2.efuse

# a summary made with --extend-efuse-table lists custom fields (category User): they are placed
# where the summary says and must agree with their block's own field
printf 'BOARD_REV, EFUSE_BLK3, 0, 8, Board revision\nSERIAL, EFUSE_BLK3, 64, 8, [SN] sn\n, EFUSE_BLK3, 72, 8, [SN] sn\n' >cu.csv
for chip in esp32 esp32c3 esp32c2; do
    rm -f cu.efuse cu2.efuse
    ok $EF --chip $chip --extend-efuse-table cu.csv --path-efuse-file cu.efuse burn-efuse BOARD_REV 0x12 SN_1 7
    ok $EF --chip $chip --extend-efuse-table cu.csv --path-efuse-file cu.efuse summary --format json
    cp "$T/out" cu.json
    ok $ESPSEC efuse --chip $chip import cu.json -o cu2.efuse
    ok $EF --chip $chip --extend-efuse-table cu.csv --path-efuse-file cu2.efuse summary --format json
    CHECKS=$((CHECKS + 1))
    python3 "$CMP" "$T/out" cu.json >/dev/null || fail "$chip: a summary with custom fields imports differently"
done
python3 - cu.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["BOARD_REV"]["raw_value"] = "0x13"
json.dump(d, open("cu_bad.json", "w"), indent=4, sort_keys=True)
PY
bad "cu_bad.json: line [0-9]*: .* disagrees with another field on bit 0 of BLOCK3" \
    $ESPSEC efuse --chip esp32c2 import cu_bad.json -o x.efuse

# read-protected keys come in as unknown: the imported file shows zeros and has no companion,
# QEMU export refuses to invent the key, doctor says it could not check the flash
head -c 32 /dev/urandom >k.bin
ok $EF --chip esp32c3 --path-efuse-file fe.efuse burn-key BLOCK_KEY0 k.bin XTS_AES_128_KEY
ok $EF --chip esp32c3 --path-efuse-file fe.efuse burn-efuse SPI_BOOT_CRYPT_CNT 1
ok $EF --chip esp32c3 --path-efuse-file fe.efuse summary --format json
cp "$T/out" fe.json
ok $ESPSEC efuse --chip esp32c3 import fe.json -o fej.efuse
absent fej.efuse.hidden
ok $EF --chip esp32c3 --path-efuse-file fej.efuse summary BLOCK_KEY0
contains "$T/out" "?? ?? ??"
bad "fej.efuse: BLOCK_KEY0 is read-protected and unknown to espsec" \
    $EF --chip esp32c3 --path-efuse-file fej.efuse export --format qemu -o fej.qemu
absent fej.qemu
truncate -s 4M flash.bin
ok $ESPSEC doctor --chip esp32c3 --efuse fej.efuse --flash flash.bin
contains "$T/out" "\[fe-key-unknown\] flash encryption is on but its key is not known"

# QEMU: the file ESP-IDF's 'idf.py qemu' writes for a fresh chip (revision v3.0 / v0.3 as
# tools/idf_py_actions/qemu_ext.py has it) imports; export gives the same bytes back
printf '%0248d' 0 | sed 's/^\(.\{26\}\)00/\180/; s/^\(.\{44\}\)00/\110/' | xxd -r -p >esp32.qemu
printf '%02048d' 0 | sed 's/^\(.\{76\}\)00/\10c/' | xxd -r -p >esp32c3.qemu
cp esp32c3.qemu esp32s3.qemu
for chip in esp32 esp32c3 esp32s3; do
    rm -f q.efuse
    ok $ESPSEC efuse --chip $chip import $chip.qemu -o q.efuse
    ok $EF --chip $chip --path-efuse-file q.efuse summary
    if [ $chip = esp32 ]; then
        contains "$T/out" "WAFER_VERSION_MAJOR (BLOCK0).* = 3 R/W"
    else
        contains "$T/out" "WAFER_VERSION_MINOR (BLOCK0).* = 3 R/W"
    fi
    rm -f back.qemu
    ok $EF --chip $chip --path-efuse-file q.efuse export --format qemu -o back.qemu
    same back.qemu $chip.qemu
done
# QEMU's file holds read-protected keys in clear: through it and back, the key survives
# (the virtual file keeps it in its companion, mode 0600) and the export is a key file
ok $EF --chip esp32c3 --path-efuse-file fe.efuse export --format qemu -o fe.qemu
CHECKS=$((CHECKS + 1))
[ "$(stat -c %a fe.qemu)" = 600 ] || fail "the QEMU export holding a key is not mode 0600"
bad "already exists" $EF --chip esp32c3 --path-efuse-file fe.efuse export --format qemu -o fe.qemu
ok $ESPSEC efuse --chip esp32c3 import fe.qemu -o feq.efuse
contains "$T/out" "(esp32c3 QEMU eFuse file)"
CHECKS=$((CHECKS + 1))
[ -f feq.efuse.hidden ] || fail "a QEMU import with a protected key keeps no companion"
rm -f feq.qemu
ok $EF --chip esp32c3 --path-efuse-file feq.efuse export --format qemu -o feq.qemu
same feq.qemu fe.qemu
ok $EF --chip esp32c3 --path-efuse-file fe.efuse dump --format joint --file-name a.joint
ok $EF --chip esp32c3 --path-efuse-file feq.efuse dump --format joint --file-name b.joint
same a.joint b.joint
# the key itself sits in QEMU's file where the silicon keeps BLOCK_KEY0 (offset 0x70)
CHECKS=$((CHECKS + 1))
python3 - fe.qemu k.bin <<'PY' || fail "the key is not in QEMU's BLOCK_KEY0 words"
import sys
q = open(sys.argv[1], "rb").read()
k = open(sys.argv[2], "rb").read()
sys.exit(0 if q[0x70:0x90] == k[::-1] else 1)
PY
# an ESP32 QEMU file is a joint dump's size: a read-protected block holding data tells them apart
head -c 32 /dev/urandom >k32.bin
ok $EF --chip esp32 --path-efuse-file e.efuse burn-key flash_encryption k32.bin
ok $EF --chip esp32 --path-efuse-file e.efuse export --format qemu -o e.qemu
ok $ESPSEC efuse --chip esp32 import e.qemu -o eq.efuse
contains "$T/out" "(esp32 QEMU eFuse file)"
CHECKS=$((CHECKS + 1))
[ -f eq.efuse.hidden ] || fail "the ESP32 QEMU import lost the protected key"
ok $EF --chip esp32 --path-efuse-file eq.efuse export --format qemu -o eq.qemu
same eq.qemu e.qemu

# refusals: one line naming the file and where
bad "Espressif QEMU models the eFuses of esp32, esp32s3, esp32c3, not esp32h2" \
    $EF --chip esp32h2 --path-efuse-file "$VECTORS/efuse_chips/expected/esp32h2_fresh.efuse.bin" export --format qemu -o h.qemu
bad "nothing.efuse: no such virtual eFuse file" $EF --chip esp32c3 --path-efuse-file nothing.efuse export -o n.qemu
absent nothing.efuse
bad "esp32h2 has no eFuse model\|Espressif QEMU has no eFuse model of esp32h2" \
    $ESPSEC efuse --chip esp32h2 import --format qemu esp32c3.qemu -o x.efuse
cp esp32c3.qemu pad.qemu
printf '\001' | dd of=pad.qemu bs=1 seek=$((0x200)) conv=notrunc 2>/dev/null
bad "pad.qemu: offset 0x200: QEMU keeps no esp32c3 eFuse data past 0x150" \
    $ESPSEC efuse --chip esp32c3 import pad.qemu -o x.efuse
bad "wrong.json: line 296: DIS_USB_JTAG: at BLOCK0 word 1 bit 9" \
    sh -c "cp '$VECTORS/efuse/expected/esp32c3_fresh.summary.json' wrong.json && $ESPSEC efuse --chip esp32s3 import wrong.json -o x.efuse"
python3 - "$VECTORS/efuse/expected/esp32c3_fresh.summary.json" <<'PY'
import sys
t = open(sys.argv[1]).read()
open("trunc.json", "w").write(t[:3000])
open("hex.json", "w").write(t.replace('"raw_value": "0x0"', '"raw_value": "0xz"', 1))
open("wide.json", "w").write(t.replace('"raw_value": "0x0"', '"raw_value": "0x00"', 1))
open("other.json", "w").write(t.replace('"BLK_VERSION_MAJOR"', '"NOT_A_FUSE"', 1))
open("tail.json", "w").write(t + "\n]\n")
PY
bad "trunc.json: line [0-9]*: .* expected (the text ends early)" $ESPSEC efuse --chip esp32c3 import trunc.json -o x.efuse
bad "hex.json: line 2: BLK_VERSION_MAJOR: raw_value '0xz' is not hex" $ESPSEC efuse --chip esp32c3 import hex.json -o x.efuse
bad "wide.json: line 2: BLK_VERSION_MAJOR: raw_value has 2 hex digits, its 2 bits take 1" \
    $ESPSEC efuse --chip esp32c3 import wide.json -o x.efuse
bad "other.json: line 2: NOT_A_FUSE is not an eFuse of esp32c3" $ESPSEC efuse --chip esp32c3 import other.json -o x.efuse
bad "tail.json: line [0-9]*: text after the JSON object" $ESPSEC efuse --chip esp32c3 import tail.json -o x.efuse
cp "$VECTORS/efuse_chips/expected/esp32c6_fresh.efuse.bin" virt.bin
bad "virt.bin: 512 bytes is the size of an espefuse virtual eFuse file of esp32c6" \
    $ESPSEC efuse --chip esp32c6 import virt.bin -o x.efuse
head -c 77 virt.bin >odd.bin
bad "odd.bin: 77 bytes and not JSON: none of what import takes for esp32c6" $ESPSEC efuse --chip esp32c6 import odd.bin -o x.efuse
bad "joint dump of esp32c6 is" $ESPSEC efuse --chip esp32c6 import --format joint banner.json -o x.efuse
bad "--format 'xml': auto, joint, json or qemu expected" $ESPSEC efuse --chip esp32c6 import --format xml odd.bin -o x.efuse
absent x.efuse
finish
