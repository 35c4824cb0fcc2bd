# espsec efuse: what the burning commands print, line for line as espefuse v5.3.1 prints it -
# burn-efuse's "'NAME' (description) OLD -> NEW" rows (and the ATTENTION list of an RS- or
# 3/4-coded block), the MAC field's own rows, burn-key's per-key notes and the "The same value
# ... is already burned" ones, "Check all blocks for burn..." with each block's conclusion, the
# BURN lines (a key block read-protected by the same burn too), the postponed BLOCK0 fields, and
# the verdict when there is nothing to burn. The descriptions are espsec's own and the '=== Run'
# banner is espefuse's alone: the comparison with the reference (where installed) leaves them out.
# Without the reference the lines that say so are checked.
. "$(dirname "$0")/lib.inc"
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
find_espefuse_ref

# fixed keys: the 3/4-coded BLOCK3 key ends in 0x01, so MAC_VERSION reads 1 after it
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(0x40, 0x60)))' >k32.bin
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(0x11, 0x28)) + b"\x01")' >k24.bin
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(0x80, 0xc0)))' >k64.bin
openssl genrsa -out rsa.pem 3072 2>/dev/null

# espefuse's output without its banner lines, colours and the descriptions in the rows
cat >norm.py <<'PY'
import re, sys
t = open(sys.argv[1], errors="replace").read()
t = re.sub(r"\x1b\[[0-9;]*m", "", t)
t = re.sub(r"^espefuse v[0-9.]+\n", "", t)
t = re.sub(r"\n?=== Run \"[a-z-]+\" command ===\n", "", t)
t = re.sub(r"^(    - '[A-Z0-9_]+') \(.*\) (\S+ -> \S+)$", r"\1 (D) \2", t, flags=re.M)
t = re.sub(r"^\n+", "", t)
sys.stdout.write(t)
PY

# run CHIP CMD...: each command on both tools (file a.efuse / b.efuse), stdout and file compared
run() {
    local chip=$1 i=0
    shift
    rm -f a.efuse b.efuse a.efuse.hidden
    for cmd in "$@"; do
        i=$((i + 1))
        # shellcheck disable=SC2086
        $EF --chip $chip --path-efuse-file a.efuse $cmd >"$T/out.$i" 2>"$T/err.$i"
        echo $? >"$T/rc.$i"
        [ $REF = 1 ] || continue
        # shellcheck disable=SC2086
        espefuse_ref --chip $chip --virt --path-efuse-file b.efuse --do-not-confirm $cmd >"$T/ref.$i" 2>&1
        echo $? >"$T/refrc.$i"
        CHECKS=$((CHECKS + 1))
        python3 norm.py "$T/ref.$i" >"$T/refn.$i"
        python3 norm.py "$T/out.$i" >"$T/outn.$i"
        if [ "$(cat "$T/rc.$i")" != "$(cat "$T/refrc.$i")" ]; then
            fail "$chip $cmd: exit $(cat "$T/rc.$i"), espefuse $(cat "$T/refrc.$i")"
        elif [ "$(cat "$T/rc.$i")" = 0 ] && ! cmp -s "$T/outn.$i" "$T/refn.$i"; then
            fail "$chip $cmd: stdout differs from espefuse's: $(diff "$T/refn.$i" "$T/outn.$i" | head -12)"
        fi
        same a.efuse b.efuse
    done
}
# has N PATTERN: step N's stdout holds the line (fixed string)
has() {
    CHECKS=$((CHECKS + 1))
    grep -qxF -- "$2" "$T/out.$1" || fail "step $1 lacks the line '$2': $(head -c 600 "$T/out.$1")"
}
# has_row N REGEX: step N's stdout holds a line matching REGEX (rows whose description is espsec's own)
has_row() {
    CHECKS=$((CHECKS + 1))
    grep -q -- "$2" "$T/out.$1" || fail "step $1 has no line matching '$2'"
}

# ESP32 (v3.0 as espefuse's suite makes it): test_set_spi_flash_pin_efuses' burn, then the rest
run esp32 "burn-efuse CHIP_VER_REV1 1 CHIP_VER_REV2 1" "burn-efuse SPI_PAD_CONFIG_CS0 33" \
    "burn-efuse SPI_PAD_CONFIG_CS0 33" "burn-custom-mac AA:CD:EF:01:02:05" "burn-efuse CUSTOM_MAC AA:CD:EF:01:02:05" \
    "burn-key flash_encryption k32.bin" "burn-efuse FLASH_CRYPT_CNT 3" "burn-key-digest rsa.pem" "burn-bit BLOCK3 250" \
    "write-protect-efuse MAC_VERSION"
has 2 "Burning eFuses:"
has_row 2 "^    - 'SPI_PAD_CONFIG_CS0' (.*) 0b00000 -> 0b11111$"
has 2 "Check all blocks for burn..."
has 2 "idx, BLOCK_NAME,          Conclusion"
has 2 "[00] BLOCK0               is not empty"
has 2 "	(written ): 0x00000000001000000000000000008000000000000000000000000000"
has 2 "	(to write): 0x00000000000f80000000000000000000000000000000000000000000"
has 2 "	(coding scheme = NONE)"
has 2 ". "
has 2 "This is an irreversible operation!"
has 2 "BURN BLOCK0  - OK (all write block bits are set)"
has 3 "Nothing to burn, see messages above."
has 3 "Successful."
has_row 4 "^    - 'CUSTOM_MAC_CRC' (.*) 0x00 -> 0x8b$"
has 5 "	The same value for CUSTOM_MAC is already burned. Do not change the eFuse."
has 6 "Sensitive data will be hidden (see --show-sensitive-info)"
has 6 "The key block will be read and write protected (no further changes or readback). "
has 6 "BURN BLOCK1  - OK (write block == read block)"
has 7 "	The same value for WR_DIS is already burned. Do not change the eFuse."
has 8 " - BLOCK2 -> [?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ??]"
has 9 "bit_number:   [255]........................................................[0]"
has 9 "BLOCK3          (                ) [3 ] regs_to_write: 00000000 00000000 00000000 00000000 00000000 00000000 00000000 04000000"
has 10 "Checking eFuses..."

# ESP32 under the 3/4 coding scheme
run esp32 "burn-efuse CODING_SCHEME 1" "burn-key BLOCK3 k24.bin --no-protect-key" "burn-key BLOCK3 k24.bin" \
    "burn-block-data BLOCK2 k24.bin" "burn-bit BLOCK1 3" "burn-efuse MAC_VERSION 1"
has 2 "Key is left unprotected as per --no-protect-key argument."
has 3 "	The same value for BLOCK3 is already burned. Do not change the eFuse."
has 5 "bit_number:   [191]........................................................[0]"
has 6 "    ATTENTION! This BLOCK uses NOT the NONE coding scheme and after 'BURN', these efuses can not be burned in the feature:"
has 6 "               ['SECURE_VERSION', 'BLOCK3', 'CUSTOM_MAC_CRC', 'CUSTOM_MAC']"
has 6 "Nothing to burn, see messages above."

# ESP32-S3: RS-coded blocks, a 512-bit key over two blocks, the MAC, the postponed fields
run esp32s3 "burn-efuse DIS_USB_JTAG 1" "burn-key BLOCK_KEY0 k64.bin XTS_AES_256_KEY" \
    "burn-key-digest BLOCK_KEY2 rsa.pem SECURE_BOOT_DIGEST0 --no-write-protect" "burn-efuse SPI_BOOT_CRYPT_CNT 1" \
    "burn-custom-mac AA:CD:EF:01:02:05" "burn-efuse CUSTOM_MAC AA:CD:EF:01:02:05" \
    "burn-efuse OPTIONAL_UNIQUE_ID 0x0123456789abcdef0123456789abcdef" "burn-bit BLOCK_KEY4 1 7 255" \
    "write-protect-efuse DIS_ICACHE" "set-flash-voltage 3.3V" "burn-key BLOCK_KEY3 k32.bin HMAC_UP --no-read-protect"
has 2 "BURN BLOCK5  - OK (write block == read block)"
has 2 "BURN BLOCK4  - OK (write block == read block)"
has 3 "Keys will remain writeable (due to --no-write-protect)."
has_row 5 "^    - 'CUSTOM_MAC' (.*) 0x000000000000 -> 0x050201efcdaa$"
has 7 "               ['BLK_VERSION_MAJOR']"
has 7 "Burning eFuses (see 'ATTENTION!' above):"
has 9 "	The same value for SPI_BOOT_CRYPT_CNT is already burned. Do not change the eFuse."
has 11 "Keys will remain readable (due to --no-read-protect)."

finish
