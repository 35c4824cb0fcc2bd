# espsec efuse --extend-efuse-table CSV: custom fields from an esp_efuse_custom_table.csv, shown by
# summary (category User) and taken by name by burn-efuse, write-protect-efuse and
# read-protect-efuse, on every chip. With espefuse v5.3.1 installed: the same bytes and the same
# summary (JSON, field by field) after the same commands.
. "$(dirname "$0")/lib.inc"
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
CMP="$TESTS_DIR/cli/efuse_json_compare.py"
find_espefuse_ref
refrun() { espefuse_ref "$@" >"$T/ref.out" 2>&1; }

# a table as ESP-IDF's efuse_custom_table writes them: an empty name continues the field above
# (SERIAL_0..2, their alternative names too), [ALT] names, a dotted sub-field, hex numbers
cat >custom.csv <<'EOF'
# field_name,      | efuse_block, | bit_start, | bit_count, | comment
BOARD_REV,            EFUSE_BLK3,      0,          8,          Board revision
HW_FLAGS,             EFUSE_BLK3,      8,          3,          [HWF] Hardware flags
PROVISIONED,          EFUSE_BLK3,      0x0b,       1,          Provisioned at the factory
SERIAL,               EFUSE_BLK3,      64,         8,          [SN] serial number
,                     EFUSE_BLK3,      72,         8,          [SN] serial number
,                     EFUSE_BLK3,      80,         8,          [SN] serial number
DEVICE_KEY_ID,        EFUSE_BLK3,      96,         64,         Key id
CERT_HASH,            EFUSE_BLK3,      160,        96,         Certificate hash prefix
CONFIG,               EFUSE_BLK3,      16,         16,         Config word
CONFIG.MODE,          EFUSE_BLK3,      16,         4,          Mode
EOF
for chip in esp32 esp32s2 esp32s3 esp32c2 esp32c3 esp32c5 esp32c6 esp32c61 esp32h2 esp32p4; do
    X="--chip $chip --extend-efuse-table custom.csv"
    rm -f e.efuse
    ok $EF $X --path-efuse-file e.efuse summary
    contains "$T/out" "^User fuses:"
    contains "$T/out" "^SERIAL_2 (BLOCK3) *\[SN\] serial number (80-87) *= 0 R/W (0x00)"
    contains "$T/out" "^CERT_HASH (BLOCK3) *Certificate hash prefix (160-255)"
    ok $EF $X --path-efuse-file e.efuse burn-efuse BOARD_REV 0x12 HWF 5 PROVISIONED 1 SN_1 0xab CONFIG_MODE 3 \
        DEVICE_KEY_ID 0x1122334455667788
    ok $EF $X --path-efuse-file e.efuse summary --format json BOARD_REV SERIAL_1 CONFIG DEVICE_KEY_ID HW_FLAGS
    CHECKS=$((CHECKS + 1))
    python3 - "$T/out" <<'PY' || fail "$chip: custom fields read back other values"
import json, sys
v = json.load(open(sys.argv[1]))
want = {"BOARD_REV": 0x12, "SERIAL_1": 0xab, "CONFIG": 3, "HW_FLAGS": 5}
bad = {k: v[k]["value"] for k in want if v[k]["value"] != want[k]}
bad.update({k: v[k]["efuse_type"] for k, t in (("BOARD_REV", "uint:8"), ("DEVICE_KEY_ID", "bytes:8")) if v[k]["efuse_type"] != t})
sys.exit(1 if bad else 0)
PY
    # the bits sit where the table says: BLOCK3 (C2: BLOCK_KEY0) word 0 = 0x00030d12, word 2 = 0x0000ab00
    ok $EF $X --path-efuse-file e.efuse dump
    grep -E "\[3 \] read_regs:" "$T/out" | grep -q "read_regs: 00030d12 00000000 0000ab00" ||
        fail "$chip: BLOCK3 words differ: $(grep -E '\[3 \] read_regs' "$T/out")"
    ok $EF $X --path-efuse-file e.efuse write-protect-efuse SN_2
    ok $EF $X --path-efuse-file e.efuse summary BOARD_REV
    contains "$T/out" "BOARD_REV (BLOCK3).*R/- "
    bad "BOARD_REV" $EF $X --path-efuse-file e.efuse burn-efuse BOARD_REV 0xff
    if [ $REF = 1 ]; then
        rm -f r.efuse
        refrun $X --virt --do-not-confirm --path-efuse-file r.efuse burn-efuse BOARD_REV 0x12 HWF 5 PROVISIONED 1 \
            SN_1 0xab CONFIG_MODE 3 DEVICE_KEY_ID 0x1122334455667788 || fail "espefuse refused the burn on $chip"
        refrun $X --virt --do-not-confirm --path-efuse-file r.efuse write-protect-efuse SN_2
        same e.efuse r.efuse
        refrun $X --virt --path-efuse-file r.efuse summary --format json --file ref.json
        ok $EF $X --path-efuse-file e.efuse summary --format json
        CHECKS=$((CHECKS + 1))
        python3 "$CMP" "$T/out" ref.json >cmp.txt || fail "$chip: summary differs from espefuse's: $(head -3 cmp.txt)"
    fi
done
# read protection with the block: ESP32's BLOCK3 can be read-protected, so its custom fields can
rm -f e.efuse
ok $EF --chip esp32 --extend-efuse-table custom.csv --path-efuse-file e.efuse read-protect-efuse BOARD_REV
ok $EF --chip esp32 --extend-efuse-table custom.csv --path-efuse-file e.efuse summary BOARD_REV
contains "$T/out" "BOARD_REV (BLOCK3).*-/W "
bad "BOARD_REV" $EF --chip esp32c3 --extend-efuse-table custom.csv --path-efuse-file c3.efuse read-protect-efuse BOARD_REV

# bad tables: one line naming the table and the line; nothing is burned
rm -f c3.efuse
ok $EF --chip esp32c3 --path-efuse-file c3.efuse summary
cp c3.efuse before.efuse
t() { printf '%b' "$1" >bad.csv; bad "bad.csv: $2" $EF --chip esp32c3 --extend-efuse-table bad.csv --path-efuse-file c3.efuse \
    burn-efuse WR_DIS 1; }
t '# c\nA, EFUSE_BLK3, 0, 8, x\nB, BLOCK3, 8, 8, x\n' "line 3: Invalid field value OCK3"
t 'A, EFUSE_BLK3, 0, , x\n' "line 1: Field bit_count can't be empty"
t 'A, EFUSE_BLK3, 0, 0, x\n' "line 1: Field bit_count can't be empty"
t 'A, , 0, 8, x\n' "line 1: Field 'efuse_block' can't be left empty."
t 'A, EFUSE_BLK3, 0, 8, x\nA, EFUSE_BLK3, 8, 8, x\n' "line 2: Field names must be unique (A is on line 1 too)"
t 'A.B, EFUSE_BLK3, 0, 8, x\nA_B, EFUSE_BLK3, 8, 8, x\n' "line 2: Field names must be unique"
t 'WR_DIS, EFUSE_BLK3, 0, 8, x\n' "line 1: WR_DIS is not unique (Duplicate names found in eFuses): esp32c3 already has it"
t 'A, EFUSE_BLK3, 0, 8, [SECURE_BOOT_EN] x\n' "line 1: SECURE_BOOT_EN is not unique"
t 'A, EFUSE_BLK3, 250, 8, x\n' "line 1: bits 250-257 are outside BLOCK_USR_DATA (256 bits)"
t 'A, EFUSE_BLK1, 190, 8, x\n' "line 1: bits 190-197 are outside MAC_SPI_8M_0 (192 bits)"
t 'A, EFUSE_BLK99, 0, 8, x\n' "line 1: esp32c3 has no eFuse block 99"
t 'A, EFUSE_BLK3, 08, 8, x\n' "line 1: Invalid field value 08"
t 'A, EFUSE_BLK3, , 8, x\n' "line 1: bit_start is empty"
t 'A, EFUSE_BLK3, 0, 100, x\n' "line 1: a 100-bit field that is not whole bytes"
t '\n, EFUSE_BLK3, 0, 8, x\n' "line 2: missing field name"
t '$ESPSEC_NO_SUCH_VAR, EFUSE_BLK3, 0, 8, x\n' "line 1: unknown variable 'ESPSEC_NO_SUCH_VAR'"
t '# only a comment\n' "no custom field in the table"
same c3.efuse before.efuse
# variables come from the environment
printf '$ESPSEC_TEST_FIELD, EFUSE_BLK3, 0, 8, x\n' >var.csv
CHECKS=$((CHECKS + 1))
ESPSEC_TEST_FIELD=FROM_ENV $EF --chip esp32c3 --extend-efuse-table var.csv --path-efuse-file c3.efuse summary >"$T/out" 2>&1 &&
    grep -q "^FROM_ENV (BLOCK3)" "$T/out" || fail "a \$VAR in the table was not taken from the environment"
bad "nothing.csv" $EF --chip esp32c3 --extend-efuse-table nothing.csv --path-efuse-file c3.efuse summary
finish
