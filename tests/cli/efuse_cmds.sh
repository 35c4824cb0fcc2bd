# espsec efuse: espefuse's other commands and safety refusals, on several chips.
. "$(dirname "$0")/lib.inc"
IN=$VECTORS/efuse_chips/input
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
c3() { $EF --chip esp32c3 --path-efuse-file c3.efuse "$@"; }

# several commands in one invocation are burned at once; a summary among them sees the old state
ok c3 burn-bit BLOCK2 0 1 2 3 burn-bit BLOCK2 4 5 6 7 burn_bit BLOCK2 8 9 10 11 12 13 14 15
contains "$T/out" "BURN BLOCK2  - OK"
ok c3 dump
contains "$T/out" "\[2 \] read_regs: 0000ffff 00000000"
# an RS-coded block takes one write: a second burn with new bits is refused, nothing changes
cp c3.efuse before.efuse
bad "Burn into BLOCK_SYS_DATA is forbidden (RS coding scheme does not allow this)" c3 burn-bit BLOCK2 16
same c3.efuse before.efuse
# the same bits again are fine (nothing to burn)
ok c3 burn-bit BLOCK2 0

# burn-block-data: whole block, or with --offset; sizes checked
head -c 32 "$IN/xts_key_256.bin" > d32.bin
head -c 8 "$IN/xts_key_256.bin" > d8.bin
ok c3 burn-block-data BLOCK3 d32.bin
bad "Data does not fit: the block4 size is 32 bytes, data file is 8 bytes" c3 burn-block-data BLOCK4 d8.bin
ok c3 burn-block-data --offset 4 BLOCK_KEY1 d8.bin
ok c3 summary --format json BLOCK_KEY1
python3 - "$T/out" "$IN/xts_key_256.bin" <<'PY' || fail "burn-block-data --offset put the data elsewhere"
import json, sys
v = json.load(open(sys.argv[1]))["BLOCK_KEY1"]["value"].split()
want = ["00"] * 4 + ["%02x" % b for b in open(sys.argv[2], "rb").read()[:8]] + ["00"] * 20
sys.exit(0 if v == want else 1)
PY
CHECKS=$((CHECKS + 1))
bad "Invalid offset: the block5 only holds 32 bytes" c3 burn-block-data --offset 40 BLOCK5 d8.bin
bad "Expected multiple of 2 values, got 3" c3 burn-block-data BLOCK6 d8.bin BLOCK7
bad "Found repeated" c3 burn-block-data BLOCK6 d32.bin BLOCK6 d32.bin

# custom MAC: burn and read back; multicast and malformed refused
ok $EF --chip esp32c3 --path-efuse-file mac.efuse burn-custom-mac AA:CD:EF:11:22:34
contains "$T/out" "Custom MAC Address: aa:cd:ef:11:22:34 (OK)"
ok $EF --chip esp32c3 --path-efuse-file mac.efuse get-custom-mac
contains "$T/out" "Custom MAC Address: aa:cd:ef:11:22:34 (OK)"
bad "Custom MAC must be a unicast MAC!" $EF --chip esp32s3 --path-efuse-file s3.efuse burn-custom-mac AB:CD:EF:11:22:33
bad "separated by colons" $EF --chip esp32s3 --path-efuse-file s3.efuse burn-efuse CUSTOM_MAC AA:CD:EF:11:22
ok $EF --chip esp32 --path-efuse-file e32.efuse get-custom-mac
contains "$T/out" "Custom MAC Address is not set in the device."

# check-error: clean files pass; an error bit in a read-error register is reported
ok c3 check-error
contains "$T/out" "No errors detected."
ok c3 check-error --recovery
python3 - c3.efuse err.efuse <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read()[::-1])
d[0x1C0] |= 0x01  # EFUSE_RD_RS_ERR0_REG: one error in BLOCK1
open(sys.argv[2], "wb").write(bytes(d[::-1]))
PY
bad "Error(s) were detected in eFuses (MAC_SPI_8M_0)" $EF --chip esp32c3 --path-efuse-file err.efuse check-error

# dump formats
ok c3 dump --format joint --file-name joint.bin
[ "$(stat -c %s joint.bin)" = $(( (6 + 6 + 8 * 9) * 4 )) ] || fail "joint dump is not every block's registers"
ok c3 dump --format split --file-name blk.bin
[ -f blk0.bin ] && [ -f blk10.bin ] && [ "$(stat -c %s blk2.bin)" = 32 ] || fail "split dump files missing"
CHECKS=$((CHECKS + 2))
bad "default, split or joint" c3 dump --format xml

# KEY_PURPOSE by name; several digest triples in one burn-key-digest
ok $EF --chip esp32s3 --path-efuse-file s3.efuse burn-efuse KEY_PURPOSE_2 HMAC_UP
ok $EF --chip esp32s3 --path-efuse-file s3.efuse summary --format value_only KEY_PURPOSE_2
contains "$T/out" HMAC_UP
ok $EF --chip esp32s3 --path-efuse-file s3.efuse burn-key-digest BLOCK_KEY0 "$IN/sb_rsa3072.pem" SECURE_BOOT_DIGEST0 BLOCK_KEY1 "$IN/sb_rsa3072.pem" SECURE_BOOT_DIGEST1
ok $EF --chip esp32s3 --path-efuse-file s3.efuse summary --format value_only KEY_PURPOSE_1
contains "$T/out" SECURE_BOOT_DIGEST1

# write-protecting what is already protected is a notice, exit 0
ok $EF --chip esp32s3 --path-efuse-file s3.efuse write-protect-efuse BLOCK_KEY0
contains "$T/out" "is already write protected"
# read protection that would brick the chip is refused
bad "BLOCK_KEY1 must be readable, stop this operation!" $EF --chip esp32s3 --path-efuse-file s3.efuse read-protect-efuse BLOCK_KEY1
bad "BLOCK_KEY3 must be readable" $EF --chip esp32s3 --path-efuse-file s3.efuse read-protect-efuse BLOCK_KEY3
# a key block whose purpose needs read protection may be read-protected
ok $EF --chip esp32s3 --path-efuse-file s3.efuse read-protect-efuse BLOCK_KEY2
E32="$EF --chip esp32 --path-efuse-file e32.efuse"
ok $E32 burn-efuse CHIP_VER_REV1 1 CHIP_VER_REV2 1 ABS_DONE_1 1
bad "Secure Boot V2 is on (ABS_DONE_1 = True), BLOCK2 must be readable" $E32 read-protect-efuse BLOCK2
ok $EF --chip esp32c2 --path-efuse-file c2.efuse burn-key-digest "$IN/sb_ecdsa256.pem"
bad "BLOCK_KEY0 must be readable" $EF --chip esp32c2 --path-efuse-file c2.efuse read-protect-efuse BLOCK_KEY0
# RD_DIS write-protected: no read protection any more
ok $EF --chip esp32c6 --path-efuse-file c6.efuse write-protect-efuse RD_DIS
bad "due to the RD_DIS field being already write-disabled" $EF --chip esp32c6 --path-efuse-file c6.efuse read-protect-efuse BLOCK_SYS_DATA2

# ESP32 SPI pad pins: 30/31 cannot be routed, 32/33 are stored as 30/31
bad "IO pins 30 & 31 cannot be set for SPI flash" $E32 burn-efuse SPI_PAD_CONFIG_CLK 30
bad "IO pin 34 cannot be set for SPI flash" $E32 burn-efuse SPI_PAD_CONFIG_CLK 34
ok $E32 burn-efuse SPI_PAD_CONFIG_CLK 33
ok $E32 summary --format value_only SPI_PAD_CONFIG_CLK
contains "$T/out" 33

# ESP32 3/4 coding: a second write into a 6-byte group that holds data is refused
ok $EF --chip esp32 --path-efuse-file cs.efuse burn-efuse CODING_SCHEME 1
head -c 24 "$IN/xts_key_256.bin" > d24.bin
ok $EF --chip esp32 --path-efuse-file cs.efuse burn-block-data BLOCK3 d24.bin
cp cs.efuse cs0.efuse
bad "Burn into BLOCK3 is forbidden (3/4 coding scheme does not allow this)" $EF --chip esp32 --path-efuse-file cs.efuse burn-bit BLOCK3 191
same cs.efuse cs0.efuse
# ... while a group that holds nothing yet still takes its one write (espefuse checks per 6-byte group)
ok $EF --chip esp32 --path-efuse-file cs2.efuse burn-efuse CODING_SCHEME 1 BLK3_PART_RESERVE 1
ok $EF --chip esp32 --path-efuse-file cs2.efuse burn-efuse ADC1_TP_LOW 50
ok $EF --chip esp32 --path-efuse-file cs2.efuse burn-efuse MAC_VERSION 1
cp cs2.efuse cs3.efuse
bad "Burn into BLOCK3 is forbidden (3/4 coding scheme does not allow this)" $EF --chip esp32 --path-efuse-file cs2.efuse burn-efuse ADC1_TP_HIGH 55
same cs2.efuse cs3.efuse

# burn-efuse takes NAME VALUE pairs (one name alone for a bool or bit counter), as espefuse
bad "The list does not have a valid pair" $EF --chip esp32 --path-efuse-file p32.efuse burn-efuse JTAG_DISABLE 1 ABS_DONE_0
ok $EF --chip esp32 --path-efuse-file p32.efuse burn-efuse SPI_PAD_CONFIG_CS0 33
contains "$T/out" "0b00000 -> 0b11111"
ok $EF --chip esp32 --path-efuse-file p32.efuse burn-efuse FLASH_CRYPT_CONFIG 15 RD_DIS 8
contains "$T/out" "Efuse FLASH_CRYPT_CONFIG is read-protected. Read back the burn value is not possible."
# protect commands: names without that protection bit are refused, shared bits are named
bad "Invalid value" $EF --chip esp32 --path-efuse-file p32.efuse read-protect-efuse JTAG_DISABLE
ok $EF --chip esp32 --path-efuse-file p32.efuse write-protect-efuse CODING_SCHEME
contains "$T/out" "Permanently write-disabling eFuses BLK3_PART_RESERVE, FLASH_CRYPT_CONFIG, CODING_SCHEME, KEY_STATUS"
ok $EF --chip esp32 --path-efuse-file p32.efuse write-protect-efuse WR_DIS
bad "This eFuse cannot be write-disabled due to the WR_DIS field being already write-disabled" $EF --chip esp32 --path-efuse-file p32.efuse write-protect-efuse JTAG_DISABLE
# read-protecting BLOCK2 is only a warning while Secure Boot V2 is off
ok $EF --chip esp32 --path-efuse-file sb2.efuse read-protect-efuse BLOCK2
contains "$T/out" "If Secure Boot V2 is used, BLOCK2 must be readable, please stop this operation!"
# the old spellings still run, with espefuse's notice
ok $EF --chip esp32 --path-efuse-file dep.efuse burn_bit BLOCK2 0 burn-bit BLOCK2 1
contains "$T/out" "Warning: Deprecated: Command 'burn_bit' is deprecated. Use 'burn-bit' instead."
# --help lists what a command takes on the chip of --chip
ok $EF --chip esp32 burn-key --help
contains "$T/out" "Block is one of: \[BLOCK1, flash_encryption, BLOCK2, secure_boot_v1, secure_boot_v2, BLOCK3\]"
ok $EF --chip esp32c3 burn-key --help
contains "$T/out" "BLOCK_KEY5"

# flash voltage (ESP32, S2, S3 only)
ok $EF --chip esp32s3 --path-efuse-file v.efuse set-flash-voltage 3.3V
ok $EF --chip esp32s3 --path-efuse-file v.efuse summary --format value_only VDD_SPI_TIEH
bad "Can't set regulator to 1.8V" $EF --chip esp32s3 --path-efuse-file v.efuse set-flash-voltage 1.8V
bad "not supported for this chip" $EF --chip esp32c3 --path-efuse-file c3.efuse set-flash-voltage 1.8V
bad "1.8V, 3.3V or OFF" $EF --chip esp32 --path-efuse-file e32b.efuse set-flash-voltage 5V

# --postpone is the default: BLOCK0's lock-down fuses are burned in a second step
ok $EF --chip esp32c6 --path-efuse-file p.efuse burn-efuse SECURE_BOOT_EN 1 DIS_USB_JTAG 1
contains "$T/out" "Burn postponed eFuses from BLOCK0."
ok $EF --chip esp32c6 --no-postpone --path-efuse-file p2.efuse burn-efuse SECURE_BOOT_EN 1 DIS_USB_JTAG 1
same p.efuse p2.efuse
ok $EF --chip esp32h2 --path-efuse-file h2.efuse adc-info
ok $ESPSEC efuse --chip esp32c6 --virt --path-efuse-file p.efuse -h
contains "$T/out" "COMMAND1 \[ARGS\]... \[COMMAND2"
# import: a chip's state from espefuse's joint dump (espsec's joint dump is byte-identical with
# espefuse's for the same file) into a virtual eFuse file that summarises the same
cp "$VECTORS/efuse_chips/expected/esp32s3_enable.efuse.bin" s3v.efuse
chmod u+w s3v.efuse
ok $EF --chip esp32s3 --path-efuse-file s3v.efuse dump --format joint --file-name s3v.joint
ok $ESPSEC efuse --chip esp32s3 import s3v.joint -o s3imp.efuse
ok $EF --chip esp32s3 --path-efuse-file s3imp.efuse summary --format json
cp "$T/out" imp.json
ok $EF --chip esp32s3 --path-efuse-file s3v.efuse summary --format json
CHECKS=$((CHECKS + 1))
python3 "$TESTS_DIR/cli/efuse_json_compare.py" imp.json "$T/out" || fail "imported joint dump summarises differently"
head -c 100 s3v.joint > short.joint
bad "short.joint: 100 bytes and not JSON: none of what import takes for esp32s3 (a joint dump, 336 bytes" $ESPSEC efuse --chip esp32s3 import short.joint -o x.efuse
absent x.efuse
finish
