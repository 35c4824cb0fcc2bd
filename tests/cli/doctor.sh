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
