# espsec doctor: every finding is triggered by a setup that has it, and a clean setup has none.
. "$(dirname "$0")/lib.inc"
V=$VECTORS/device
SB=$VECTORS/secure_boot/ed1/input
E=$ESPSEC
cd "$T"

# finding ID ARGS...: doctor reports the finding ID
finding() {
    local id=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$E" doctor "$@" --json >"$T/out" 2>"$T/err"
    local rc=$?
    if [ $rc -gt 1 ]; then
        fail "doctor $* failed: $(cat "$T/err")"
        return
    fi
    python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
ids = [f['id'] for f in r['findings']]
assert sys.argv[2] in ids, ids
f = [f for f in r['findings'] if f['id'] == sys.argv[2]][0]
assert f['message'] and f['explanation'] and f['fix']
sev = f['severity']
# errors make the exit status 1
assert (int(sys.argv[3]) == 1) == (r['errors'] > 0)
" "$T/out" "$id" "$rc" || fail "doctor $* did not report $id: $(head -c 600 "$T/out")"
}
nofinding() { # nofinding ID ARGS...
    local id=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$E" doctor "$@" --json >"$T/out" 2>"$T/err"
    python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] not in [f['id'] for f in r['findings']]
" "$T/out" "$id" || fail "doctor $* reported $id"
}
sign() { $E secure sign-data --version 2 --keyfile "$1" -o "$3" "$2" >/dev/null; }
merge() { $E image merge-bin -o "$@" >/dev/null; }

BL=$V/input/bootloader.signed   # signed with key_rsa3072
APP=$V/input/app.signed
PT=$V/input/partition_table.bin # nvs, nvs_key (encrypted), factory
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_NVS_ENCRYPTION=y\n' >full.cfg
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >sb.cfg
printf 'CONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >fe.cfg
printf 'CONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >rel.cfg
printf 'CONFIG_NVS_ENCRYPTION=y\n' >nvs.cfg
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\n' >ecc.cfg

# a clean project: no errors, no warnings
ok $E doctor --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig full.cfg
contains "$T/out" "0 errors, 0 warnings"
ok $E doctor --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig full.cfg --keyfile "$SB/key_rsa3072.pem"

# Secure Boot: unsigned bootloader, key not burned, key not planned, app unsigned, app by another key
$E image sample --kind bootloader -o bl.bin >/dev/null
merge unsigned_bl.flash --fill-flash-size 4MB 0x1000 bl.bin 0x8000 "$PT" 0x10000 "$APP"
finding sb-bootloader-unsigned --efuse fresh.efuse --flash unsigned_bl.flash --sdkconfig sb.cfg
$E efuse --path-efuse-file b.efuse --do-not-confirm burn_key_digest "$SB/key_rsa3072_b.pem" >/dev/null
$E efuse --path-efuse-file b.efuse --do-not-confirm burn_efuse ABS_DONE_1 1 >/dev/null
finding sb-key-mismatch --efuse b.efuse --flash "$V/expected/flash_plain.bin"
finding sb-key-not-planned --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig sb.cfg --keyfile "$SB/key_rsa3072_b.pem"
python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d[:len(d) - 4096])
" "$APP" app_plain.bin
merge unsigned_app.flash --fill-flash-size 4MB 0x1000 "$BL" 0x8000 "$PT" 0x10000 app_plain.bin
finding sb-app-unsigned --efuse fresh.efuse --flash unsigned_app.flash --sdkconfig sb.cfg
sign "$SB/key_rsa3072_b.pem" app_plain.bin app_b.signed
merge other_app.flash --fill-flash-size 4MB 0x1000 "$BL" 0x8000 "$PT" 0x10000 app_b.signed
finding sb-app-other-key --efuse fresh.efuse --flash other_app.flash --sdkconfig sb.cfg
finding sb-scheme-unsupported --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig ecc.cfg

# the bootloader and its signature sector run into the partition table
$E image sample --kind bootloader --extra 0x800 -o big_bl.bin >/dev/null
merge big.flash --fill-flash-size 4MB 0x1000 big_bl.bin 0x10000 "$APP"
finding bootloader-overlaps-pt --efuse fresh.efuse --flash big.flash --sdkconfig sb.cfg

# no bootloader, a corrupt one, one for another chip
head -c 4194304 /dev/zero | tr '\0' '\377' >blank.flash
finding no-bootloader --efuse fresh.efuse --flash blank.flash
cp "$V/expected/flash_plain.bin" corrupt.flash
printf '\x55' | dd of=corrupt.flash bs=1 seek=$((0x1400)) conv=notrunc status=none
finding bootloader-corrupt --efuse fresh.efuse --flash corrupt.flash
$E image sample --chip esp32c3 --kind bootloader -o c3bl.bin >/dev/null
merge c3bl.flash --fill-flash-size 4MB 0x1000 c3bl.bin 0x8000 "$PT" 0x10000 "$APP"
finding bootloader-wrong-chip --efuse fresh.efuse --flash c3bl.flash

# flash encryption: plaintext written under it, a readable key, the last reflash cycle, the key unknown
cp "$V/input/efuse_secured.bin" sec.efuse
finding plaintext-under-fe --efuse sec.efuse --flash "$V/expected/flash_plain.bin" --flash-key "$V/input/flash_key.bin"
finding fe-key-unknown --efuse sec.efuse --flash "$V/expected/flash_secured.bin"
$E efuse --path-efuse-file open.efuse --do-not-confirm burn_key flash_encryption "$V/input/flash_key.bin" --no-protect-key >/dev/null
$E efuse --path-efuse-file open.efuse --do-not-confirm burn_efuse FLASH_CRYPT_CNT 1 FLASH_CRYPT_CONFIG 0xF >/dev/null
finding fe-key-readable --efuse open.efuse --flash "$V/expected/flash_secured.bin"
finding fe-without-sb --efuse open.efuse --flash "$V/expected/flash_secured.bin"
cp open.efuse five.efuse
$E efuse --path-efuse-file five.efuse --do-not-confirm burn_efuse FLASH_CRYPT_CNT 0x1F >/dev/null
finding fe-last-plaintext-flash --efuse five.efuse --flash "$V/expected/flash_secured.bin"
finding jtag-open --efuse sec.efuse --flash "$V/expected/flash_secured.bin" --flash-key "$V/input/flash_key.bin"
nofinding fe-key-readable --efuse sec.efuse --flash "$V/expected/flash_secured.bin" --flash-key "$V/input/flash_key.bin"
cp open.efuse rel.efuse
$E efuse --path-efuse-file rel.efuse --do-not-confirm burn_efuse FLASH_CRYPT_CNT 0x7F >/dev/null
finding dl-decrypt-open --efuse rel.efuse --flash "$V/expected/flash_secured.bin"
finding sb-without-fe --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig sb.cfg
finding fe-without-sb --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig fe.cfg

# release mode with no OTA: no way to reflash; OTA slots without otadata
finding release-no-reflash --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig rel.cfg
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,0x100000,\nota_0,app,ota_0,0x110000,0x100000,\n' >noota.csv
$E partition-table noota.csv noota.bin >/dev/null
merge noota.flash --fill-flash-size 4MB 0x1000 "$BL" 0x8000 noota.bin 0x10000 "$APP"
finding ota-without-otadata --efuse fresh.efuse --flash noota.flash
nofinding release-no-reflash --efuse fresh.efuse --flash noota.flash --sdkconfig rel.cfg

# NVS encryption: no nvs_keys partition, one not flagged encrypted, no flash encryption
merge nokeys.flash --fill-flash-size 4MB 0x1000 "$BL" 0x8000 noota.bin 0x10000 "$APP"
finding nvs-enc-no-keys-partition --efuse fresh.efuse --flash nokeys.flash --sdkconfig full.cfg
printf 'nvs,data,nvs,0x9000,0x6000,\nnvs_key,data,nvs_keys,0xf000,0x1000,\nfactory,app,factory,0x10000,0x100000,\n' >plainkeys.csv
$E partition-table plainkeys.csv plainkeys.bin >/dev/null
merge plainkeys.flash --fill-flash-size 4MB 0x1000 "$BL" 0x8000 plainkeys.bin 0x10000 "$APP"
finding nvs-keys-not-encrypted --efuse fresh.efuse --flash plainkeys.flash --sdkconfig full.cfg
finding nvs-enc-without-fe --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig nvs.cfg

# partition tables gen_esp32part refuses to write but a flash may hold: built by hand
python3 - <<'EOF'
import hashlib, struct
def entry(name, t, st, off, size, flags=0):
    return b'\xaa\x50' + bytes([t, st]) + struct.pack('<II', off, size) + name.encode().ljust(16, b'\0') + struct.pack('<I', flags)
def table(entries, path):
    body = b''.join(entries)
    body += b'\xeb\xeb' + b'\xff' * 14 + hashlib.md5(body).digest()
    open(path, 'wb').write(body.ljust(0xc00, b'\xff'))
table([entry('nvs', 1, 2, 0x9000, 0x5800, 1), entry('factory', 0, 0, 0x10000, 0x100000)], 'unaligned.bin')
table([entry('nvs', 1, 2, 0x9000, 0x6000), entry('factory', 0, 0, 0x18000, 0x100000)], 'appunaligned.bin')
table([entry('nvs', 1, 2, 0x7000, 0x3000), entry('factory', 0, 0, 0x10000, 0x100000)], 'overlap.bin')
table([entry('nvs', 1, 2, 0x9000, 0x6000), entry('factory', 0, 0, 0x10000, 0x800000)], 'past.bin')
table([entry('nvs', 1, 2, 0x9000, 0x6000), entry('factory', 0, 0, 0x10000, 0x10000)], 'small.bin')
table([entry('nvs', 1, 2, 0x9000, 0x6000)], 'noapp.bin')
EOF
for t in unaligned appunaligned overlap past small noapp; do
    merge $t.flash --fill-flash-size 4MB 0x1000 "$BL" 0x8000 $t.bin 0x10000 "$APP"
done
finding encrypted-partition-unaligned --efuse fresh.efuse --flash unaligned.flash
finding app-unaligned --efuse fresh.efuse --flash appunaligned.flash
finding partition-overlaps-pt --efuse fresh.efuse --flash overlap.flash
finding partition-past-flash --efuse fresh.efuse --flash past.flash
finding app-too-big --efuse fresh.efuse --flash small.flash --sdkconfig sb.cfg
finding no-app-partition --efuse fresh.efuse --flash noapp.flash
finding no-partition-table --efuse fresh.efuse --flash big.flash

head -c 32 /dev/urandom >k32.bin
# ---- issue 12's eFuse list, every chip through the chip model ----
S3V=$VECTORS/device_chips
S3F=$S3V/expected/esp32s3/flash_plain.bin
set_nibble() { # set_nibble EFUSE CHIP FIELD VALUE: a KEY_PURPOSE value espefuse refuses, written into the file
    # the field's place is found by burning a value the tool allows (HMAC_UP, 8) into a copy and diffing
    cp "$1" nib.probe
    $E efuse --chip "$2" --virt --path-efuse-file nib.probe --do-not-confirm burn-efuse "$3" 8 >/dev/null
    python3 -c "
import sys
a, b = bytearray(open(sys.argv[1], 'rb').read()), open(sys.argv[2], 'rb').read()
diff = [i for i in range(len(a)) if a[i] != b[i]]
assert len(diff) == 1, diff
i = diff[0]; d = a[i] ^ b[i]; s = (d & -d).bit_length() - 1 - 3   # the nibble's low bit
a[i] = (a[i] & ~(0xF << s) & 0xFF) | (int(sys.argv[3]) << s)
open(sys.argv[1], 'wb').write(a)" "$1" nib.probe "$4"
    rm -f "$1.hidden" # the key it hid is still read-protected; espsec refuses a companion that no longer matches
}
# BLOCK_KEY5 with an XTS key purpose (S3's BLOCK9 quirk; espefuse refuses it, a chip can still have it)
$E efuse --chip esp32s3 --virt --path-efuse-file k5.efuse --do-not-confirm burn-key BLOCK_KEY0 k32.bin HMAC_UP >/dev/null
bad "KEY_PURPOSE_5 can not have XTS_AES_128_KEY key due to a hardware bug" \
    $E efuse --chip esp32s3 --virt --path-efuse-file k5.efuse --do-not-confirm burn-efuse KEY_PURPOSE_5 4
set_nibble k5.efuse esp32s3 KEY_PURPOSE_5 4
finding key5-purpose-unusable --chip esp32s3 --efuse k5.efuse --flash "$S3F"
contains "$T/out" "BLOCK_KEY5 has the purpose XTS_AES_128_KEY, which the ESP32-S3 cannot use in that block"
# ... HMAC_UP there is fine; the ESP32-S2 has no such quirk
$E efuse --chip esp32s3 --virt --path-efuse-file hm5.efuse --do-not-confirm burn-key BLOCK_KEY5 k32.bin HMAC_UP >/dev/null
nofinding key5-purpose-unusable --chip esp32s3 --efuse hm5.efuse --flash "$S3F"
$E efuse --chip esp32s2 --virt --path-efuse-file s2k5.efuse --do-not-confirm burn-key BLOCK_KEY5 k32.bin XTS_AES_128_KEY >/dev/null
nofinding key5-purpose-unusable --chip esp32s2 --efuse s2k5.efuse --flash "$S3F"
# a purpose value the chip does not define
cp hm5.efuse kx.efuse
set_nibble kx.efuse esp32s3 KEY_PURPOSE_3 15
finding key-purpose-unknown --chip esp32s3 --efuse kx.efuse --flash "$S3F"
contains "$T/out" "KEY_PURPOSE_3 is 15, which the ESP32-S3 does not define"
# five key blocks taken by HMAC keys: BLOCK_KEY5 cannot take the flash key, the first boot stops (boot agrees)
for k in 0 1 2 3 4; do
    head -c 32 /dev/urandom >h$k.bin
    $E efuse --chip esp32s3 --virt --path-efuse-file full.efuse --do-not-confirm burn-key BLOCK_KEY$k h$k.bin HMAC_UP >/dev/null
done
printf 'CONFIG_IDF_TARGET="esp32s3"\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >s3fe.cfg
printf 'CONFIG_IDF_TARGET="esp32s3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >s3sbfe.cfg
finding key-blocks-exhausted --chip esp32s3 --efuse full.efuse --flash "$S3F" --sdkconfig s3fe.cfg
contains "$T/out" "needs a key block for the flash encryption key but none is left that can hold it (free: BLOCK_KEY5)"
finding key-blocks-exhausted --chip esp32s3 --efuse full.efuse --flash "$S3F" --sdkconfig s3sbfe.cfg
cp "$S3F" full.flash
CHECKS=$((CHECKS + 1))
$E boot --chip esp32s3 --efuse full.efuse --flash full.flash --sdkconfig s3fe.cfg >"$T/out" 2>&1
[ $? -eq 1 ] || fail "boot should stop where doctor said"
contains "$T/out" "Initialization of Flash Encryption key failed: no free eFuse key block"
# Secure Boot alone fits (a digest may live in BLOCK_KEY5)
printf 'CONFIG_IDF_TARGET="esp32s3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >s3sb.cfg
nofinding key-blocks-exhausted --chip esp32s3 --efuse full.efuse --flash "$S3F" --sdkconfig s3sb.cfg
# the flash key given is not the burned one; the 512-bit key's halves burned the wrong way round
head -c 64 /dev/urandom >k64.bin
head -c 32 k64.bin >k64.lo
tail -c 32 k64.bin >k64.hi
$E efuse --chip esp32s3 --virt --path-efuse-file swap.efuse --do-not-confirm burn-key BLOCK_KEY1 k64.hi XTS_AES_256_KEY_1 BLOCK_KEY2 k64.lo XTS_AES_256_KEY_2 >/dev/null
finding xts256-halves-swapped --chip esp32s3 --efuse swap.efuse --flash "$S3F" --flash-key k64.bin
$E efuse --chip esp32s3 --virt --path-efuse-file right.efuse --do-not-confirm burn-key BLOCK_KEY1 k64.bin XTS_AES_256_KEY >/dev/null
nofinding xts256-halves-swapped --chip esp32s3 --efuse right.efuse --flash "$S3F" --flash-key k64.bin
nofinding fe-key-not-burned --chip esp32s3 --efuse right.efuse --flash "$S3F" --flash-key k64.bin
head -c 64 /dev/urandom >other64.bin
finding fe-key-not-burned --chip esp32s3 --efuse right.efuse --flash "$S3F" --flash-key other64.bin

# Secure Boot V2 on a chip revision that ignores it (ESP32 before v3.0), planned on one too old (C3 v0.2)
$E efuse --virt --path-efuse-file v1.efuse --do-not-confirm burn-key-digest "$SB/key_rsa3072.pem" >/dev/null
$E efuse --virt --path-efuse-file v1.efuse --do-not-confirm burn-efuse ABS_DONE_1 1 >/dev/null
finding sb-rev-ignored --efuse v1.efuse --flash "$V/expected/flash_plain.bin" --chip-rev v1.0
contains "$T/out" "ABS_DONE_1 is burned but the chip is v1.0; Secure Boot V2 needs v3.0 or later"
nofinding sb-rev-ignored --efuse v1.efuse --flash "$V/expected/flash_plain.bin" --chip-rev v3.0
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >c3sb.cfg
finding sb-rev-too-old --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig c3sb.cfg --chip-rev v0.2
contains "$T/out" "Secure Boot V2 with rsa3072 is configured but the chip is v0.2 (v0.3 or later needed)"
nofinding sb-rev-too-old --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig c3sb.cfg --chip-rev v0.3

# ECDSA schemes ESP-IDF warns against: P-192 (gone from newer ESP-IDF), P-384 on a P4 before v3.0 (by the
# chip's revision, or by the build's minimum), ECDSA on the chips with the ROM errata unless forced
printf 'CONFIG_IDF_TARGET="esp32c6"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_BOOT_ECDSA_KEY_LEN_192_BITS=y\n' >c6p192.cfg
finding sb-ecdsa-p192 --chip esp32c6 --efuse c6.efuse --flash blank.flash --sdkconfig c6p192.cfg
nofinding sb-ecdsa-errata --chip esp32c6 --efuse c6.efuse --flash blank.flash --sdkconfig c6p192.cfg
printf 'CONFIG_IDF_TARGET="esp32p4"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_BOOT_ECDSA_KEY_LEN_384_BITS=y\n' >p4p384.cfg
finding sb-rev-too-old --chip esp32p4 --efuse p4.efuse --flash blank.flash --sdkconfig p4p384.cfg --chip-rev v1.0
contains "$T/out" "Secure Boot V2 with ecdsa384 is configured but the chip is v1.0 (v3.0 or later needed)"
nofinding sb-rev-too-old --chip esp32p4 --efuse p4.efuse --flash blank.flash --sdkconfig p4p384.cfg --chip-rev v3.0
cat p4p384.cfg >p4min.cfg
printf 'CONFIG_ESP32P4_REV_MIN_FULL=100\n' >>p4min.cfg
finding sb-rev-too-old --chip esp32p4 --efuse p4.efuse --flash blank.flash --sdkconfig p4min.cfg
contains "$T/out" "the build allows chips from v1.0 (v3.0 or later needed)"
finding sb-ecdsa-errata --chip esp32p4 --efuse p4.efuse --flash blank.flash --sdkconfig p4p384.cfg --chip-rev v3.0
contains "$T/out" '"severity": "error", "id": "sb-ecdsa-errata", "message": "Secure Boot V2 with ecdsa384 on the ESP32-P4, which ESP-IDF refuses"'
for chip in esp32c5 esp32c61 esp32h2; do
    printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\n' $chip >$chip.cfg
    finding sb-ecdsa-errata --chip $chip --efuse $chip.efuse --flash blank.flash --sdkconfig $chip.cfg
done
printf 'CONFIG_SECURE_BOOT_INSECURE=y\nCONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA=y\n' >>esp32h2.cfg
finding sb-ecdsa-errata --chip esp32h2 --efuse esp32h2.efuse --flash blank.flash --sdkconfig esp32h2.cfg
contains "$T/out" '"severity": "warning", "id": "sb-ecdsa-errata", "message": "[^"]*forced with SECURE_BOOT_V2_FORCE_ENABLE_ECDSA'
printf 'CONFIG_IDF_TARGET="esp32h2"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >h2rsa.cfg
nofinding sb-ecdsa-errata --chip esp32h2 --efuse esp32h2.efuse --flash blank.flash --sdkconfig h2rsa.cfg

# secure download mode blocking the planned flashing; a plan that writes plaintext under flash encryption
$E efuse --chip esp32c3 --virt --path-efuse-file sdl.efuse --do-not-confirm burn-efuse ENABLE_SECURITY_DOWNLOAD 1 >/dev/null
finding download-mode-blocks-plan --chip esp32c3 --efuse sdl.efuse --flash blank.flash --plan-serial-flash
contains "$T/out" "download mode becomes secure"
nofinding download-mode-blocks-plan --chip esp32c3 --efuse sdl.efuse --flash blank.flash
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_DISABLE_ROM_DL_MODE=y\n' >c3nodl.cfg
finding download-mode-blocks-plan --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig c3nodl.cfg --plan-serial-flash
contains "$T/out" "download mode is off"
cp rel.efuse nodlenc.efuse
$E efuse --path-efuse-file nodlenc.efuse --do-not-confirm burn_efuse DISABLE_DL_ENCRYPT 1 >/dev/null
finding serial-flash-plaintext --efuse nodlenc.efuse --flash "$V/expected/flash_secured.bin" --plan-serial-flash
nofinding serial-flash-plaintext --efuse nodlenc.efuse --flash "$V/expected/flash_secured.bin"
nofinding serial-flash-plaintext --efuse rel.efuse --flash "$V/expected/flash_secured.bin" --plan-serial-flash

# crypt counter odd with no key; anti-rollback wider than its field; signatures checked on update only
$E efuse --virt --path-efuse-file cnt.efuse --do-not-confirm burn-efuse FLASH_CRYPT_CNT 1 >/dev/null
finding fe-on-without-key --efuse cnt.efuse --flash "$V/expected/flash_plain.bin"
nofinding fe-on-without-key --efuse open.efuse --flash "$V/expected/flash_secured.bin"
printf 'CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y\nCONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD=40\n' >ar.cfg
finding anti-rollback-field-size --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig ar.cfg
printf 'CONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT=y\nCONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT=y\n' >upd.cfg
finding signed-on-update-only --efuse fresh.efuse --flash "$V/expected/flash_plain.bin" --sdkconfig upd.cfg

# NVS encryption with the HMAC scheme (esp-idf#13909 in device_reports.sh): the key block id, a used block, a chip
# without HMAC, RD_DIS already write-protected, Secure Boot V2 that will protect it unless allowed
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_NVS_ENCRYPTION=y\nCONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC=y\n' >hm_noid.cfg
finding nvs-hmac-key-id --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig hm_noid.cfg
printf 'CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID=6\n' | cat hm_noid.cfg - >hm_id6.cfg
finding nvs-hmac-key-id --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig hm_id6.cfg
printf 'CONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID=0\n' | cat hm_noid.cfg - >hm_id0.cfg
nofinding nvs-hmac-key-id --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig hm_id0.cfg
nofinding nvs-hmac-rd-dis-locked --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig hm_id0.cfg
head -c 32 /dev/urandom >hm32.bin
$E efuse --chip esp32c3 --virt --path-efuse-file hmused.efuse --do-not-confirm burn-key BLOCK_KEY0 hm32.bin XTS_AES_128_KEY >/dev/null
finding nvs-hmac-key-block-used --chip esp32c3 --efuse hmused.efuse --flash blank.flash --sdkconfig hm_id0.cfg
$E efuse --chip esp32c3 --virt --path-efuse-file hmlock.efuse --do-not-confirm write-protect-efuse RD_DIS >/dev/null
finding nvs-hmac-rd-dis-locked --chip esp32c3 --efuse hmlock.efuse --flash blank.flash --sdkconfig hm_id0.cfg
contains "$T/out" "RD_DIS is already write-protected"
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' | cat hm_id0.cfg - >hm_sb.cfg
finding nvs-hmac-rd-dis-locked --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig hm_sb.cfg
printf 'CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS=y\n' | cat hm_sb.cfg - >hm_sballow.cfg
nofinding nvs-hmac-rd-dis-locked --chip esp32c3 --efuse c3.efuse --flash blank.flash --sdkconfig hm_sballow.cfg
$E efuse --chip esp32c3 --virt --path-efuse-file hmro.efuse --do-not-confirm burn-key BLOCK_KEY0 hm32.bin HMAC_UP --no-read-protect >/dev/null
finding nvs-hmac-key-readable --chip esp32c3 --efuse hmro.efuse --flash blank.flash --sdkconfig hm_id0.cfg
contains "$T/out" "read-protect-efuse BLOCK_KEYn"
printf 'CONFIG_NVS_ENCRYPTION=y\nCONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC=y\nCONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID=0\n' >hm32.cfg
finding nvs-hmac-unsupported --efuse fresh.efuse --flash blank.flash --sdkconfig hm32.cfg

# text output, exit status, refusals; nothing is written
ok $E doctor --efuse sec.efuse --flash "$V/expected/flash_secured.bin" --flash-key "$V/input/flash_key.bin"
contains "$T/out" "warning \\[jtag-open\\]"
contains "$T/out" "fix: espsec efuse burn-efuse JTAG_DISABLE"
CHECKS=$((CHECKS + 1))
$E doctor --efuse fresh.efuse --flash blank.flash >"$T/out" 2>&1
[ $? -eq 1 ] || fail "errors found must give exit status 1"
contains "$T/out" "do not burn anything yet"
same sec.efuse "$V/input/efuse_secured.bin"
absent fresh.efuse
bad "ESP8266 has no Secure Boot" $E doctor --chip esp8266 --efuse fresh.efuse --flash blank.flash
bad "keyfile.pem: cannot open" $E doctor --efuse fresh.efuse --flash blank.flash --keyfile keyfile.pem
ok $E doctor --help
finish
