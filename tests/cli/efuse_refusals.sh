# espsec efuse: the refusals espefuse v5.3.1 makes from chip rules, with its words and exit
# code, the eFuse file left as it was: fuses a chip must not have set together (the
# ESP32-S3's DIS_USB_JTAG with DIS_USB_SERIAL_JTAG, burn-efuse --force overrides), key
# purposes C2's one key block cannot take together, a key of the wrong length. With the
# reference installed, each refusal also gives espefuse's stdout, stderr and exit code.
. "$(dirname "$0")/lib.inc"
IN=$VECTORS/efuse_chips/input
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
find_espefuse_ref
head -c 32 "$IN/xts_key_256.bin" >k32.bin
head -c 16 "$IN/xts_key_256.bin" >k16.bin
head -c 24 "$IN/xts_key_256.bin" >k24.bin

# refused CHIP FILE PATTERN ARGS...: refused with PATTERN, FILE unchanged
refused() {
    local chip=$1 file=$2 pat=$3
    shift 3
    [ -f "$file" ] || $EF --chip "$chip" --path-efuse-file "$file" summary >/dev/null
    cp "$file" "$file.before"
    bad "$pat" $EF --chip "$chip" --path-efuse-file "$file" "$@"
    same "$file" "$file.before"
}

# ESP32-S3: DIS_USB_JTAG and DIS_USB_SERIAL_JTAG, together or one after the other
NOTE="DIS_USB_JTAG and DIS_USB_SERIAL_JTAG cannot be set together due to a bug in the ROM bootloader!"
ABORT="^A fatal error occurred: Incompatible eFuse settings detected, abort. (use --force flag to skip it).$"
refused esp32s3 s3.efuse "$ABORT" burn-efuse DIS_USB_JTAG 1 DIS_USB_SERIAL_JTAG 1
contains "$T/out" "^$NOTE$"
refused esp32s3 s3.efuse "$ABORT" burn-efuse DIS_USB_JTAG 1 burn-efuse DIS_USB_SERIAL_JTAG 1
# --force is the option of one command
refused esp32s3 s3.efuse "$ABORT" burn-efuse DIS_USB_SERIAL_JTAG 1 --force burn-efuse DIS_USB_JTAG 1
ok $EF --chip esp32s3 --path-efuse-file s3.efuse burn-efuse DIS_USB_JTAG 1
refused esp32s3 s3.efuse "$ABORT" burn-efuse DIS_USB_SERIAL_JTAG 1
contains "$T/out" "^$NOTE$"
# an unrelated burn is fine with one of them set; --force burns the other
ok $EF --chip esp32s3 --path-efuse-file s3.efuse burn-efuse DIS_USB_OTG 1
ok $EF --chip esp32s3 --path-efuse-file s3.efuse burn-efuse DIS_USB_SERIAL_JTAG 1 --force
contains "$T/out" "^Ignore incompatible eFuse settings.$"
ok $EF --chip esp32s3 --path-efuse-file s3.efuse summary --format value_only DIS_USB_SERIAL_JTAG
contains "$T/out" "^True$"
# a rule of the S3's chip description only: the C3 has both fuses and no such rule
ok $EF --chip esp32c3 --path-efuse-file c3.efuse burn-efuse DIS_USB_JTAG 1 DIS_USB_SERIAL_JTAG 1

# ESP32-C2: the purposes of BLOCK_KEY0's halves, and the whole-block XTS key beside nothing else
refused esp32c2 c2.efuse "^A fatal error occurred: These keypurposes are incompatible \['XTS_AES_128_KEY', 'SECURE_BOOT_DIGEST'\]$" \
    burn-key BLOCK_KEY0 k32.bin XTS_AES_128_KEY BLOCK_KEY0 k16.bin SECURE_BOOT_DIGEST
[ -s "$T/out" ] && fail "C2: output before the purpose check: $(head -c 200 "$T/out")"
refused esp32c2 c2.efuse "incompatible \['SECURE_BOOT_DIGEST', 'USER'\]$" \
    burn-key BLOCK_KEY0 k16.bin SECURE_BOOT_DIGEST BLOCK_KEY0 k32.bin USER
# a wrong length: espefuse's words after the key's line (no file name)
refused esp32c2 c2.efuse "^A fatal error occurred: Incorrect key file size 16. Key file must be 32 bytes (256 bits) of raw binary key data.$" \
    burn-key BLOCK_KEY0 k16.bin XTS_AES_128_KEY
contains "$T/out" "^ - BLOCK_KEY0 -> \[?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ?? ??\]$"
refused esp32c2 c2.efuse "^A fatal error occurred: Wrong length of this file for SECURE_BOOT_DIGEST. Got 24 (expected 32 or 16)$" \
    burn-key BLOCK_KEY0 k24.bin SECURE_BOOT_DIGEST
refused esp32c3 c3k.efuse "^A fatal error occurred: Incorrect key file size 24. Key file must be 32 bytes (256 bits)" \
    burn-key BLOCK_KEY0 k24.bin HMAC_UP
refused esp32 e32.efuse "^A fatal error occurred: Incorrect key file size 24. Key file must be 32 bytes (256 bits) of raw binary key data.$" \
    burn-key BLOCK1 k24.bin
# the halves together are fine
ok $EF --chip esp32c2 --path-efuse-file c2.efuse burn-key BLOCK_KEY0 k16.bin XTS_AES_128_KEY_DERIVED_FROM_128_EFUSE_BITS \
    BLOCK_KEY0 k16.bin SECURE_BOOT_DIGEST

# the reference: the same stdout (but espefuse's banner and descriptions), stderr (but colour), exit code and file
if [ $REF = 1 ]; then
    # (espsec prints no table of the blocks to burn when not asked to confirm, nor espefuse's
    # batch-mode notice after each of several chained burn commands)
    norm_out() {
        grep -v "^espefuse v\|^=== Run\|^Sensitive data\|^Batch mode is enabled\|^$" "$1" | sed "/^Check all blocks for burn/,/irreversible/d" |
            sed "s/^\(    - '[A-Z_0-9]*'\) (.*) /\1 /"
    }
    norm_err() { sed 's/\x1b\[[0-9;]*m//g' "$1" | grep -v '^$'; }
    while read -r chip pre args; do
        pre=${pre//__/ }
        rm -f a.efuse b.efuse
        # shellcheck disable=SC2086
        [ "$pre" = - ] || { $EF --chip $chip --path-efuse-file a.efuse $pre >/dev/null 2>&1; cp a.efuse b.efuse; }
        # shellcheck disable=SC2086
        $EF --chip $chip --path-efuse-file a.efuse $args >a.out 2>a.err
        ea=$?
        # shellcheck disable=SC2086
        espefuse_ref --chip $chip --virt --path-efuse-file b.efuse --do-not-confirm $args >b.out 2>b.err
        eb=$?
        CHECKS=$((CHECKS + 3))
        [ $ea = $eb ] || fail "$chip $args: exit $ea, espefuse $eb"
        [ "$(norm_out a.out)" = "$(norm_out b.out)" ] || fail "$chip $args: stdout differs: $(diff <(norm_out a.out) <(norm_out b.out) | head -5)"
        [ "$(norm_err a.err)" = "$(norm_err b.err)" ] || fail "$chip $args: stderr differs: $(norm_err a.err) / $(norm_err b.err)"
        [ -f b.efuse ] && same a.efuse b.efuse
    done <<EOF
esp32s3 - burn-efuse DIS_USB_JTAG 1 DIS_USB_SERIAL_JTAG 1
esp32s3 burn-efuse__DIS_USB_SERIAL_JTAG burn-efuse DIS_USB_JTAG
esp32s3 - burn-efuse DIS_USB_SERIAL_JTAG 1 --force burn-efuse DIS_USB_JTAG 1
esp32s3 burn-efuse__DIS_USB_JTAG burn-efuse DIS_USB_SERIAL_JTAG 1 --force
esp32c2 - burn-key BLOCK_KEY0 k32.bin XTS_AES_128_KEY BLOCK_KEY0 k16.bin SECURE_BOOT_DIGEST
esp32c2 - burn-key BLOCK_KEY0 k16.bin SECURE_BOOT_DIGEST BLOCK_KEY0 k32.bin USER
esp32c2 - burn-key BLOCK_KEY0 k16.bin XTS_AES_128_KEY
esp32c2 - burn-key BLOCK_KEY0 k32.bin XTS_AES_128_KEY_DERIVED_FROM_128_EFUSE_BITS
esp32c2 - burn-key BLOCK_KEY0 k24.bin SECURE_BOOT_DIGEST
esp32c2 - burn-key BLOCK_KEY0 k32.bin SECURE_BOOT_DIGEST --no-write-protect
esp32c3 - burn-key BLOCK_KEY0 k24.bin XTS_AES_128_KEY
esp32 - burn-key BLOCK1 k24.bin
EOF
fi
finish
