# espsec boot: the device vectors made with Espressif's tools, first-boot provisioning
# (ESP32 development and release, ESP32-C3), OTA selection, refusals; files untouched unless --provision.
. "$(dirname "$0")/lib.inc"
V=$VECTORS/device
SB=$VECTORS/secure_boot/ed1/input
E=$ESPSEC
cd "$T"

booted() { # booted NAME VERSION: the last run booted that app
    contains "$T/out" "^BOOTED: app '$1' version $2"
}
no_boot() { # no_boot PATTERN ARGS...: exit 1, "DOES NOT BOOT" matching PATTERN
    local pat=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (does not boot) from: $* (got $rc: $(head -c 300 "$T/err"))"
    grep -q "^DOES NOT BOOT.*$pat" "$T/out" || fail "'$*' did not report '$pat': $(tail -1 "$T/out")"
}
flip() { # flip FILE OFFSET
    python3 -c "
import sys
f = open(sys.argv[1], 'r+b'); o = int(sys.argv[2], 0); f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 1]))" "$1" "$2"
}

# ---- the secured ESP32 made with espsecure/espefuse ----
cp "$V/input/efuse_secured.bin" ef.bin
cp "$V/expected/flash_secured.bin" fl.bin
ok $E boot --efuse ef.bin --flash fl.bin --flash-key "$V/input/flash_key.bin"
booted hello_pub 1.2.3
contains "$T/out" "secure boot, flash encryption, encrypted NVS"
contains "$T/out" "secure_boot_v2: Signature verified successfully!"
contains "$T/out" "flash_encrypt: flash encryption is enabled"
contains "$T/out" "app_init: Project name:     hello_pub"
same ef.bin "$V/input/efuse_secured.bin"
same fl.bin "$V/expected/flash_secured.bin"
ok $E boot --efuse ef.bin --flash fl.bin --flash-key "$V/input/flash_key.bin" --json
CHECKS=$((CHECKS + 1))
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
assert r['booted'] and r['secure_boot'] == 2 and r['flash_encryption']
assert r['app']['project_name'] == 'hello_pub' and r['app']['offset'] == 0x10000
assert r['nvs']['encrypted'] and r['nvs']['values'] == 22
" "$T/out" || fail "boot --json of the secured vector"
# one bit flipped in the app, in the bootloader; plaintext flash under the secured eFuses
cp "$V/expected/flash_secured.bin" app_flip.bin
flip app_flip.bin 0x12000
no_boot "no bootable app" $E boot --efuse ef.bin --flash app_flip.bin --flash-key "$V/input/flash_key.bin"
cp "$V/expected/flash_secured.bin" bl_flip.bin
flip bl_flip.bin 0x1400
no_boot "(rom, offset 0x1000)" $E boot --efuse ef.bin --flash bl_flip.bin --flash-key "$V/input/flash_key.bin"
no_boot "magic 0xE9 expected (flash encryption is on" $E boot --efuse ef.bin --flash "$V/expected/flash_plain.bin" --flash-key "$V/input/flash_key.bin"
# plaintext flash on fresh eFuses: no security, boots
ok $E boot --efuse "$V/input/efuse_fresh.bin" --flash "$V/expected/flash_plain.bin"
booted hello_pub 1.2.3
# the espefuse file hides BLOCK1: without the key the simulation cannot decrypt, and says so
bad "give the key with --flash-key" $E boot --efuse ef.bin --flash fl.bin
# the secured flash on fresh eFuses: the ROM reads ciphertext
no_boot "no valid image at 0x1000" $E boot --efuse "$V/input/efuse_fresh.bin" --flash fl.bin

# ---- bad input ----
bad "ESP8266 has no Secure Boot" $E boot --chip esp8266 --efuse ef.bin --flash fl.bin
bad "esp32s9.: esp32, " $E boot --chip esp32s9 --efuse ef.bin --flash fl.bin
head -c 5000 fl.bin >short.bin
bad "short.bin: 5000 bytes is not a flash image" $E boot --efuse ef.bin --flash short.bin
bad "nothere.bin: cannot open" $E boot --efuse ef.bin --flash nothere.bin
printf 'CONFIG_SECURE_BOOT=y\nthis is not a config line\n' >broken.sdkconfig
bad "broken.sdkconfig: line 2: " $E boot --efuse ef.bin --flash fl.bin --sdkconfig broken.sdkconfig
printf 'CONFIG_IDF_TARGET="esp32c3"\n' >c3.sdkconfig
bad "targets esp32c3 but the chip is esp32" $E boot --efuse ef.bin --flash fl.bin --sdkconfig c3.sdkconfig
printf 'CONFIG_IDF_TARGET="esp8266"\n' >8266.sdkconfig
bad "ESP8266 has no Secure Boot" $E boot --efuse ef.bin --flash fl.bin --sdkconfig 8266.sdkconfig

# ---- first boot on ESP32: development mode, Secure Boot V2, NVS encryption ----
cat >dev.sdkconfig <<'EOF'
CONFIG_IDF_TARGET="esp32"
CONFIG_SECURE_BOOT=y
CONFIG_SECURE_BOOT_V2_ENABLED=y
CONFIG_SECURE_FLASH_ENC_ENABLED=y
CONFIG_SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT=y
# CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE is not set
CONFIG_NVS_ENCRYPTION=y
EOF
cp "$V/expected/flash_plain.bin" dev.flash
# a dry run changes nothing
ok $E boot --efuse dev.efuse --flash dev.flash --sdkconfig dev.sdkconfig
contains "$T/out" "Dry run"
booted hello_pub 1.2.3
absent dev.efuse
same dev.flash "$V/expected/flash_plain.bin"
ok $E boot --efuse dev.efuse --flash dev.flash --sdkconfig dev.sdkconfig --provision
contains "$T/out" "Burning public key hash to eFuse"
contains "$T/out" "Encrypting partition 2 at offset 0x10000"
contains "$T/out" "rst:0xc (SW_CPU_RESET)"
booted hello_pub 1.2.3
[ "$(stat -c %a dev.efuse.hidden)" = 600 ] || fail "the hidden key companion is not 0600"
CHECKS=$((CHECKS + 1))
if cmp -s dev.flash "$V/expected/flash_plain.bin"; then fail "provisioning did not encrypt the flash"; fi
ok $E efuse --path-efuse-file dev.efuse summary --format json
CHECKS=$((CHECKS + 1))
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
v = lambda n: s[n]['value']
assert v('ABS_DONE_1') is True and v('FLASH_CRYPT_CNT') == 1 and v('FLASH_CRYPT_CONFIG') == 15, s['FLASH_CRYPT_CNT']
assert v('DISABLE_DL_ENCRYPT') is True and v('DISABLE_DL_DECRYPT') is True and v('DISABLE_DL_CACHE') is True
assert v('JTAG_DISABLE') is True and v('CONSOLE_DEBUG_DISABLE') is True
assert s['BLOCK1']['readable'] is False and s['BLOCK1']['writeable'] is False
" "$T/out" || fail "eFuses after development-mode provisioning"
# the BLK2 digest is the signing key's
$E secure digest-sbv2-public-key -k "$SB/key_rsa3072.pem" -o digest.bin >/dev/null
ok $E efuse --path-efuse-file dev.efuse summary --format value_only BLOCK2
CHECKS=$((CHECKS + 1))
[ "$(tr -d ' \n' <"$T/out")" = "$(od -An -v -tx1 digest.bin | tr -d ' \n')" ] || fail "BLOCK2 is not the key digest"
# the second power-on boots without the project settings; nothing changes any more
cp dev.flash dev.flash.before
ok $E boot --efuse dev.efuse --flash dev.flash
booted hello_pub 1.2.3
contains "$T/out" "encrypted NVS"
same dev.flash dev.flash.before
# now a one-bit change in the encrypted app is refused
cp dev.flash dev_flip.flash
flip dev_flip.flash 0x14000
no_boot "no bootable app" $E boot --efuse dev.efuse --flash dev_flip.flash

# ---- release mode: the counter goes to its maximum and is write-protected ----
grep -v MODE_ dev.sdkconfig >rel.sdkconfig
echo CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y >>rel.sdkconfig
cp "$V/expected/flash_plain.bin" rel.flash
ok $E boot --efuse rel.efuse --flash rel.flash --sdkconfig rel.sdkconfig --provision
booted hello_pub 1.2.3
contains "$T/out" "flash encryption is enabled (0 plaintext flashes left)"
ok $E efuse --path-efuse-file rel.efuse summary --format json
CHECKS=$((CHECKS + 1))
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
# all seven bits; not write-protected: ESP-IDF leaves a full counter writable (on the ESP32 its
# write-protect bit also locks UART_DOWNLOAD_DIS)
assert s['FLASH_CRYPT_CNT']['value'] == 127 and s['FLASH_CRYPT_CNT']['writeable'] is True
" "$T/out" || fail "release mode counter"

# ---- Secure Boot V2 refuses an app signed by another key ----
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >sb.sdkconfig
# re-sign the app region's image with key b: strip the signature sector and sign again
python3 -c "
import sys
d = open(sys.argv[1], 'rb').read()
open(sys.argv[2], 'wb').write(d[:len(d) - 4096])
" "$V/input/app.signed" app_unsigned.bin
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072_b.pem" -o app_b.signed app_unsigned.bin >/dev/null
$E image merge-bin -o mix.flash --fill-flash-size 4MB 0x1000 "$V/input/bootloader.signed" 0x8000 "$V/input/partition_table.bin" 0x10000 app_b.signed >/dev/null
no_boot "No application key digest matches the bootloader key digest" $E boot --efuse mix.efuse --flash mix.flash --sdkconfig sb.sdkconfig --provision
absent mix.efuse
# after Secure Boot is on with key a, an app signed with key b is refused
$E image merge-bin -o sbon.flash --fill-flash-size 4MB 0x1000 "$V/input/bootloader.signed" 0x8000 "$V/input/partition_table.bin" 0x10000 "$V/input/app.signed" >/dev/null
ok $E boot --efuse sbon.efuse --flash sbon.flash --sdkconfig sb.sdkconfig --provision
booted hello_pub 1.2.3
no_boot "is not burned in eFuse" $E boot --efuse sbon.efuse --flash mix.flash

# ---- Secure Boot V1 (ESP32): first boot computes the bootloader digest; the app is checked with the V1 key ----
$E image sample --kind bootloader -o v1bl.bin >/dev/null
$E image sample --project v1app --app-version 9.1 -o v1app.bin >/dev/null
$E secure sign-data --version 1 --keyfile "$SB/key_v1.pem" -o v1app.s v1app.bin >/dev/null
$E image merge-bin -o v1.flash --fill-flash-size 4MB 0x1000 v1bl.bin 0x8000 "$V/input/partition_table.bin" 0x10000 v1app.s >/dev/null
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V1_ENABLED=y\n' >v1.sdkconfig
bad "give it with --sbv1-key" $E boot --efuse v1.efuse --flash v1.flash --sdkconfig v1.sdkconfig --provision
absent v1.efuse
ok $E boot --efuse v1.efuse --flash v1.flash --sdkconfig v1.sdkconfig --provision --sbv1-key "$SB/key_v1.pem"
contains "$T/out" "secure_boot_v1: Generating secure boot digest"
booted v1app 9.1
ok $E boot --efuse v1.efuse --flash v1.flash --sbv1-key "$SB/key_v1.pem"
contains "$T/out" "secure boot, NVS"
no_boot "Secure Boot V1 signature" $E boot --efuse v1.efuse --flash v1.flash --sbv1-key "$SB/key_ecdsa256.pem"
cp v1.flash v1digest.flash
flip v1digest.flash 0x90
no_boot "Secure Boot V1 refuses the bootloader" $E boot --efuse v1.efuse --flash v1digest.flash --sbv1-key "$SB/key_v1.pem"

# ---- OTA: otadata picks the slot; a bad slot falls back ----
printf 'nvs,data,nvs,0x9000,0x4000,\notadata,data,ota,0xd000,0x2000,\nfactory,app,factory,0x10000,0x40000,\nota_0,app,ota_0,0x50000,0x40000,\nota_1,app,ota_1,0x90000,0x40000,\n' >ota.csv
$E partition-table ota.csv ota_pt.bin >/dev/null
$E image sample --project app_factory --app-version 1.0 -o f.bin >/dev/null
$E image sample --project app_ota0 --app-version 2.0 --seed 2 -o o0.bin >/dev/null
$E image sample --project app_ota1 --app-version 3.0 --seed 3 -o o1.bin >/dev/null
python3 -c "
import struct, zlib, sys
def entry(seq):
    e = struct.pack('<I', seq) + b'\xff' * 20 + struct.pack('<I', 0xffffffff)
    return e + struct.pack('<I', zlib.crc32(struct.pack('<I', seq), 0xffffffff) & 0xffffffff)
d = bytearray(b'\xff' * 0x2000)
d[0:32] = entry(3)   # seq 3 with two OTA slots: ota_0 ((3-1) % 2)
d[0x1000:0x1020] = entry(2)
open(sys.argv[1], 'wb').write(d)
" otadata.bin
$E image merge-bin -o ota.flash --fill-flash-size 4MB 0x1000 "$SB/bootloader.bin" 0x8000 ota_pt.bin 0xd000 otadata.bin 0x10000 f.bin 0x50000 o0.bin 0x90000 o1.bin >/dev/null
ok $E boot --efuse ota.efuse --flash ota.flash
booted app_ota0 2.0
flip ota.flash 0x51000
ok $E boot --efuse ota.efuse --flash ota.flash
booted app_factory 1.0
contains "$T/out" "OTA app partition is not bootable"
# blank otadata: the factory app
$E image merge-bin -o ota2.flash --fill-flash-size 4MB 0x1000 "$SB/bootloader.bin" 0x8000 ota_pt.bin 0x10000 f.bin 0x50000 o0.bin >/dev/null
ok $E boot --efuse ota.efuse --flash ota2.flash
booted app_factory 1.0

# ---- ESP32-C3 end to end: XTS-AES flash encryption, Secure Boot V2 in key blocks, release mode ----
$E image sample --chip esp32c3 --kind bootloader -o c3bl.bin >/dev/null
$E image sample --chip esp32c3 --project c3app --app-version 4.1 -o c3app.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o c3bl.s c3bl.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o c3app.s c3app.bin >/dev/null
printf 'nvs,data,nvs,0x9000,0x6000,\nnvs_keys,data,nvs_keys,0xf000,0x1000,encrypted\nfactory,app,factory,0x10000,1M,\n' >c3.csv
$E partition-table c3.csv c3pt.bin >/dev/null
$E image merge-bin -o c3.flash --fill-flash-size 4MB 0x0 c3bl.s 0x8000 c3pt.bin 0x10000 c3app.s >/dev/null
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\nCONFIG_NVS_ENCRYPTION=y\n' >c3full.sdkconfig
ok $E boot --chip esp32c3 --efuse c3.efuse --flash c3.flash --sdkconfig c3full.sdkconfig --provision
booted c3app 4.1
contains "$T/out" "nvs_keys partition is empty: generating NVS encryption keys"
ok $E boot --chip esp32c3 --efuse c3.efuse --flash c3.flash
booted c3app 4.1
ok $E efuse --chip esp32c3 --path-efuse-file c3.efuse summary --format json
CHECKS=$((CHECKS + 1))
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
p = [s['KEY_PURPOSE_%d' % i]['value'] for i in range(6)]
assert 'SECURE_BOOT_DIGEST0' in p and 'XTS_AES_128_KEY' in p, p
assert s['SECURE_BOOT_EN']['value'] is True and s['SECURE_BOOT_KEY_REVOKE1']['value'] is True
assert s['SPI_BOOT_CRYPT_CNT']['raw_value'] in ('0b111', '0x7', 7) or s['SPI_BOOT_CRYPT_CNT']['value'] in ('Enable', 7)
" "$T/out" || fail "ESP32-C3 eFuses after provisioning"
cp c3.flash c3flip.flash
flip c3flip.flash 0x11000
no_boot "no bootable app" $E boot --chip esp32c3 --efuse c3.efuse --flash c3flip.flash

ok $E boot --help
contains "$T/out" "exit 0 only when the app would run"
finish
