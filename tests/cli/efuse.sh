# espsec efuse: replay espefuse's reference steps; same file bytes, same summaries.
. "$(dirname "$0")/lib.inc"
X=$VECTORS/efuse/expected
IN=$VECTORS/efuse/input
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
step() { # step NAME CHIP FILE ARGS...: run, then compare with expected/NAME.*
    local name=$1 chip=$2 file=$3
    shift 3
    ok $EF --chip "$chip" --path-efuse-file "$file" "$@"
    same "$file" "$X/$name.efuse.bin"
    ok $EF --chip "$chip" --path-efuse-file "$file" summary --format json
    cp "$T/out" "$T/$name.json"
    CHECKS=$((CHECKS + 1))
    python3 "$TESTS_DIR/cli/efuse_json_compare.py" "$T/$name.json" "$X/$name.summary.json" || fail "summary of $name differs from espefuse's"
}
step esp32_fresh esp32 esp32.efuse summary
step esp32_fe_key esp32 esp32.efuse burn_key flash_encryption "$IN/flash_key_256.bin"
step esp32_fe_conf esp32 esp32.efuse burn_efuse FLASH_CRYPT_CONFIG 0xF FLASH_CRYPT_CNT 1
step esp32_sbv2_digest esp32 esp32.efuse burn_key_digest "$IN/sb_key_rsa3072.pem"
step esp32_abs_done_1 esp32 esp32.efuse burn-efuse ABS_DONE_1 1
step esp32_release esp32 esp32.efuse burn_efuse DISABLE_DL_ENCRYPT 1 DISABLE_DL_DECRYPT 1 DISABLE_DL_CACHE 1 JTAG_DISABLE 1 CONSOLE_DEBUG_DISABLE 1
step esp32_wr_protect esp32 esp32.efuse write_protect_efuse FLASH_CRYPT_CNT
bad "FLASH_CRYPT_CNT is write-protected" $EF --chip esp32 --path-efuse-file esp32.efuse burn_efuse FLASH_CRYPT_CNT 3
same esp32.efuse "$X/esp32_burn_protected.efuse.bin"
step esp32c3_fresh esp32c3 esp32c3.efuse summary
step esp32c3_xts_key esp32c3 esp32c3.efuse burn_key BLOCK_KEY0 "$IN/xts_key_256.bin" XTS_AES_128_KEY
step esp32c3_sb_digest esp32c3 esp32c3.efuse burn_key_digest BLOCK_KEY1 "$IN/sb_key_rsa3072.pem" SECURE_BOOT_DIGEST0
step esp32c3_enable esp32c3 esp32c3.efuse burn_efuse SPI_BOOT_CRYPT_CNT 1 SECURE_BOOT_EN 1

# the key espsec burned read-protected is kept for the (virtual) hardware in FILE.hidden, mode 0600
[ -f esp32.efuse.hidden ] || fail "no hidden companion for the read-protected BLOCK1"
[ "$(stat -c %a esp32.efuse.hidden)" = 600 ] || fail "hidden companion is not mode 0600"
# and an espefuse-made file (no companion) still summarises identically
ok $EF --chip esp32 --path-efuse-file "$X/esp32_wr_protect.efuse.bin" summary --format value_only BLOCK1
contains "$T/out" "?? ?? ??"

# confirmation: without --do-not-confirm, anything but BURN cancels and changes nothing
cp "$X/esp32_fresh.efuse.bin" conf.efuse
CHECKS=$((CHECKS + 1))
if echo no | $ESPSEC efuse --chip esp32 --virt --path-efuse-file conf.efuse burn_efuse JTAG_DISABLE 1 >/dev/null 2>&1; then
    fail "burn went ahead without BURN"
fi
same conf.efuse "$X/esp32_fresh.efuse.bin"
CHECKS=$((CHECKS + 1))
echo BURN | $ESPSEC efuse --chip esp32 --virt --path-efuse-file conf.efuse burn_efuse JTAG_DISABLE 1 >/dev/null 2>&1 || fail "BURN did not confirm"
ok $EF --chip esp32 --path-efuse-file conf.efuse summary --format value_only JTAG_DISABLE
contains "$T/out" True

# refusals, each one line, file untouched
cp "$X/esp32_fe_conf.efuse.bin" r.efuse
bad "bits that cannot be cleared" $EF --chip esp32 --path-efuse-file r.efuse burn_efuse FLASH_CRYPT_CNT 2
bad "Invalid eFuse name 'NOT_A_FUSE'" $EF --chip esp32 --path-efuse-file r.efuse burn_efuse NOT_A_FUSE 1
bad "will always burn 0->1" $EF --chip esp32 --path-efuse-file r.efuse burn_efuse JTAG_DISABLE 2
bad "already holds a key" $EF --chip esp32 --path-efuse-file r.efuse burn_key flash_encryption "$IN/flash_key_256.bin"
head -c 16 "$IN/flash_key_256.bin" > k16.bin
bad "Key file must be 32 bytes" $EF --chip esp32 --path-efuse-file r.efuse burn_key BLOCK3 k16.bin
same r.efuse "$X/esp32_fe_conf.efuse.bin"
head -c 100 "$X/esp32_fresh.efuse.bin" > short.efuse
bad "an esp32 eFuse file is 288 bytes" $EF --chip esp32 --path-efuse-file short.efuse summary
bad "esp32 eFuse file is 288 bytes" $EF --chip esp32 --path-efuse-file "$X/esp32c3_fresh.efuse.bin" summary
bad "no eFuse key blocks" $EF --chip esp8266 --path-efuse-file x.efuse summary
absent x.efuse
bad "KEY_PURPOSE_5 can not have XTS_AES_128_KEY key due to a hardware bug" $EF --chip esp32c3 --path-efuse-file c3b.efuse burn_key BLOCK_KEY5 "$IN/xts_key_256.bin" XTS_AES_128_KEY
# 3/4 coding scheme: keys are 192 bits
ok $EF --chip esp32 --path-efuse-file cs34.efuse burn_efuse CODING_SCHEME 1
bad "Key file must be 24 bytes" $EF --chip esp32 --path-efuse-file cs34.efuse burn_key BLOCK3 "$IN/flash_key_256.bin"
head -c 24 "$IN/flash_key_256.bin" > k24.bin
ok $EF --chip esp32 --path-efuse-file cs34.efuse burn_key BLOCK3 k24.bin --no-protect-key
ok $EF --chip esp32 --path-efuse-file cs34.efuse summary --format json
contains "$T/out" '"bytes:24"'
ok $ESPSEC efuse --help
ok $ESPSEC efuse burn_key --help
contains "$T/out" "Usage: espsec efuse burn-key"
finish
