# espsec boot, faithful to ESP-IDF's bootloader: anti-rollback, signed apps without hardware Secure Boot,
# chip revision from the eFuses, read-protected digests, what first boot write-protects (RD_DIS, the cache
# fuse) and the eFuse order that fails on silicon, the security sdkconfig options, --idf-build.
. "$(dirname "$0")/lib.inc"
SB=$VECTORS/secure_boot/input
E=$ESPSEC
cd "$T"

booted() { contains "$T/out" "^BOOTED: app '$1' version $2"; }
no_boot() { # no_boot PATTERN ARGS...: exit 1, "DOES NOT BOOT" matching PATTERN
    local pat=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (does not boot) from: $* (got $rc: $(head -c 300 "$T/err"))"
    grep -q "^DOES NOT BOOT.*$pat" "$T/out" || fail "'$*' did not report '$pat': $(tail -1 "$T/out")"
}
field() { # field EFUSE CHIP NAME KEY EXPECTED: summary --format json value
    CHECKS=$((CHECKS + 1))
    $E efuse --chip "$2" --path-efuse-file "$1" summary --format json >"$T/sum" 2>"$T/err" || fail "summary of $1"
    python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
v = s[sys.argv[2]][sys.argv[3]]
assert str(v) == sys.argv[4], '%s.%s = %r, expected %s' % (sys.argv[2], sys.argv[3], v, sys.argv[4])
" "$T/sum" "$3" "$4" "$5" || fail "$1: $3 $4 is not $5"
}
otadata() { # otadata OUT SEQ STATE: one valid entry (seq, esp_ota_img_states_t)
    python3 -c "
import struct, zlib, sys
seq, state = int(sys.argv[2]), int(sys.argv[3])
e = struct.pack('<I', seq) + b'\xff' * 20 + struct.pack('<I', state)
e += struct.pack('<I', zlib.crc32(struct.pack('<I', seq), 0xffffffff) & 0xffffffff)
d = bytearray(b'\xff' * 0x2000)
d[0:32] = e
open(sys.argv[1], 'wb').write(d)
" "$1" "$2" "$3"
}

# ---- anti-rollback: secure_version against the SECURE_VERSION eFuse, raised when the app is confirmed ----
printf 'otadata,data,ota,0xd000,0x2000,\nota_0,app,ota_0,0x10000,0x40000,\nota_1,app,ota_1,0x50000,0x40000,\n' >ar.csv
$E partition-table ar.csv ar_pt.bin >/dev/null
$E image sample --project app_sv2 --app-version 2.0 --secure-version 2 -o sv2.bin >/dev/null
$E image sample --project app_sv1 --app-version 1.0 --secure-version 1 --seed 7 -o sv1.bin >/dev/null
otadata od_valid0.bin 1 2   # seq 1: ota_0, ESP_OTA_IMG_VALID (confirmed)
otadata od_new1.bin 2 0     # seq 2: ota_1, ESP_OTA_IMG_NEW
$E image merge-bin -o ar.flash --fill-flash-size 4MB 0x1000 "$SB/bootloader.bin" 0x8000 ar_pt.bin 0xd000 od_valid0.bin 0x10000 sv2.bin 0x50000 sv1.bin >/dev/null
$E image merge-bin -o ar1.flash --fill-flash-size 4MB 0x1000 "$SB/bootloader.bin" 0x8000 ar_pt.bin 0xd000 od_new1.bin 0x10000 sv2.bin 0x50000 sv1.bin >/dev/null
printf 'CONFIG_BOOTLOADER_APP_ANTI_ROLLBACK=y\nCONFIG_BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD=32\n' >ar.sdkconfig
ok $E boot --efuse ar.efuse --flash ar.flash --sdkconfig ar.sdkconfig --provision
booted app_sv2 2.0
contains "$T/out" "Secure version (from eFuse) = 0"
contains "$T/out" "Anti-rollback is set. eFuse field is updated(2)."
field ar.efuse esp32 SECURE_VERSION value 3
# a confirmed app bumps only once; the next boot leaves the eFuse alone
ok $E boot --efuse ar.efuse --flash ar.flash --sdkconfig ar.sdkconfig --json
contains "$T/out" '"efuse_changed": false'
# an update to secure_version 1 is refused; the bootloader falls back to the app with version 2
ok $E boot --efuse ar.efuse --flash ar1.flash --sdkconfig ar.sdkconfig
booted app_sv2 2.0
contains "$T/out" "Secure version (from eFuse) = 2"
# only the old app left: nothing boots
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[0x10000:0x50000] = b'\xff' * 0x40000
open(sys.argv[2], 'wb').write(d)" ar1.flash ar_old.flash
no_boot "secure_version 1 is below the eFuse SECURE_VERSION 2" $E boot --efuse ar.efuse --flash ar_old.flash --sdkconfig ar.sdkconfig
# without the option the bootloader does not look at secure_version
ok $E boot --efuse ar.efuse --flash ar_old.flash
booted app_sv1 1.0
# a NEW (unconfirmed) app boots but does not raise the eFuse
rm -f ar2.efuse
$E image merge-bin -o ar2.flash --fill-flash-size 4MB 0x1000 "$SB/bootloader.bin" 0x8000 ar_pt.bin 0xd000 od_new1.bin 0x10000 sv1.bin 0x50000 sv2.bin >/dev/null
ok $E boot --efuse ar2.efuse --flash ar2.flash --sdkconfig ar.sdkconfig --provision
booted app_sv2 2.0
field ar2.efuse esp32 SECURE_VERSION value 0

# ---- ESP32-C3 images for the rest ----
$E image sample --chip esp32c3 --kind bootloader -o bl.bin >/dev/null
$E image sample --chip esp32c3 --project c3app --app-version 4.2 -o app.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o app.s app.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072_b.pem" -o app_b.s app.bin >/dev/null
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >c3.csv
$E partition-table c3.csv c3pt.bin >/dev/null
$E image merge-bin -o c3.flash --fill-flash-size 4MB 0x0 bl.s 0x8000 c3pt.bin 0x10000 app.s >/dev/null
$E image merge-bin -o c3u.flash --fill-flash-size 4MB 0x0 bl.s 0x8000 c3pt.bin 0x10000 app.bin >/dev/null
$E image merge-bin -o c3b.flash --fill-flash-size 4MB 0x0 bl.s 0x8000 c3pt.bin 0x10000 app_b.s >/dev/null
C3="--chip esp32c3"

# ---- signed apps without hardware Secure Boot ----
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_SIGNED_APPS_NO_SECURE_BOOT=y\nCONFIG_SECURE_SIGNED_ON_BOOT_NO_SECURE_BOOT=y\nCONFIG_SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT=y\nCONFIG_SECURE_SIGNED_APPS_RSA_SCHEME=y\n' >nosb.sdkconfig
ok $E boot $C3 --efuse nosb.efuse --flash c3.flash --sdkconfig nosb.sdkconfig
booted c3app 4.2
contains "$T/out" "Secure boot V2 is not enabled yet and eFuse digest keys are not set"
contains "$T/out" "secure_boot_v2: Signature verified successfully!"
no_boot "without hardware Secure Boot" $E boot $C3 --efuse nosb.efuse --flash c3u.flash --sdkconfig nosb.sdkconfig
# a digest burned without SECURE_BOOT_EN is the one the bootloader trusts: key B is refused
$E secure digest-sbv2-public-key --keyfile "$SB/key_rsa3072.pem" -o digest_a.bin >/dev/null
$E efuse $C3 --virt --path-efuse-file nosb.efuse --do-not-confirm burn-key BLOCK_KEY0 digest_a.bin SECURE_BOOT_DIGEST0 >/dev/null
no_boot "signed with another key" $E boot $C3 --efuse nosb.efuse --flash c3b.flash --sdkconfig nosb.sdkconfig
ok $E boot $C3 --efuse nosb.efuse --flash c3.flash --sdkconfig nosb.sdkconfig
# only on update: the bootloader does not check (the unsigned app boots)
grep -v ON_BOOT nosb.sdkconfig >upd.sdkconfig
ok $E boot $C3 --efuse fresh.efuse --flash c3u.flash --sdkconfig upd.sdkconfig
booted c3app 4.2

# ---- chip revision from the eFuses ----
ok $E boot $C3 --efuse fresh.efuse --flash c3.flash
contains "$T/out" "boot: chip revision: v0.0"
$E efuse $C3 --virt --path-efuse-file rev4.efuse --do-not-confirm burn-efuse WAFER_VERSION_MINOR_LO 4 >/dev/null
ok $E boot $C3 --efuse rev4.efuse --flash c3.flash
contains "$T/out" "boot: chip revision: v0.4"
# the image header's revision range: an app for v1.0+ on a v0.4 chip, an app up to v0.3
python3 -c "
import hashlib, struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
lo, hi = int(sys.argv[3]), int(sys.argv[4])
d[15:17] = struct.pack('<H', lo); d[17:19] = struct.pack('<H', hi)
d[-32:] = hashlib.sha256(bytes(d[:-32])).digest()   # the appended SHA-256 covers the header
open(sys.argv[2], 'wb').write(d)" app.bin app_min100.bin 100 65535
python3 -c "
import hashlib, struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[15:17] = struct.pack('<H', 0); d[17:19] = struct.pack('<H', 3)
d[-32:] = hashlib.sha256(bytes(d[:-32])).digest()
open(sys.argv[2], 'wb').write(d)" app.bin app_max3.bin
$E image merge-bin -o min.flash --fill-flash-size 4MB 0x0 bl.bin 0x8000 c3pt.bin 0x10000 app_min100.bin >/dev/null
$E image merge-bin -o max.flash --fill-flash-size 4MB 0x0 bl.bin 0x8000 c3pt.bin 0x10000 app_max3.bin >/dev/null
no_boot "requires chip revision v1.0 or later, the chip is v0.4" $E boot $C3 --efuse rev4.efuse --flash min.flash
contains "$T/out" "Image requires chip rev >= v1.0, but chip is v0.4"
no_boot "up to v0.3, the chip is v0.4" $E boot $C3 --efuse rev4.efuse --flash max.flash
ok $E boot $C3 --efuse rev4.efuse --flash min.flash --chip-rev v1.1
contains "$T/out" "boot: chip revision: v1.1"
bad "chip-rev 'x1': a revision such as v3.0" $E boot $C3 --efuse rev4.efuse --flash min.flash --chip-rev x1

# ---- first boot: Secure Boot alone write-protects RD_DIS; flash encryption later cannot hide its key ----
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >sb.sdkconfig
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >sbfe.sdkconfig
cp c3.flash sb.flash
ok $E boot $C3 --efuse sb.efuse --flash sb.flash --sdkconfig sb.sdkconfig --provision
contains "$T/out" "secure_boot: Prevent read disabling of additional efuses..."
contains "$T/out" "Revoking empty key digest slot (2)..."
field sb.efuse esp32c3 RD_DIS writeable False
field sb.efuse esp32c3 SECURE_BOOT_KEY_REVOKE1 value True
field sb.efuse esp32c3 DIS_DIRECT_BOOT value True
field sb.efuse esp32c3 SOFT_DIS_JTAG value 7
no_boot "Initialization of Flash Encryption key failed: BLOCK_KEY1 cannot be read-disabled" $E boot $C3 --efuse sb.efuse --flash sb.flash --sdkconfig sbfe.sdkconfig
contains "$T/out" "Failed to write efuse block with purpose"
# both on the first boot: RD_DIS is protected only after the flash key is hidden; the cache fuse too
cp c3.flash both.flash
ok $E boot $C3 --efuse both.efuse --flash both.flash --sdkconfig sbfe.sdkconfig --provision
booted c3app 4.2
field both.efuse esp32c3 RD_DIS writeable False
field both.efuse esp32c3 DIS_ICACHE writeable False
CHECKS=$((CHECKS + 1))
grep -q "secure_boot: Prevent read disabling" "$T/out" && fail "RD_DIS protected before the flash key was hidden"
# SECURE_FLASH_SKIP_WRITE_PROTECTION_CACHE and SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS leave them writable
cat sbfe.sdkconfig >skip.sdkconfig
printf 'CONFIG_SECURE_FLASH_SKIP_WRITE_PROTECTION_CACHE=y\nCONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS=y\n' >>skip.sdkconfig
cp c3.flash skip.flash
ok $E boot $C3 --efuse skip.efuse --flash skip.flash --sdkconfig skip.sdkconfig --provision
field skip.efuse esp32c3 DIS_ICACHE writeable True
field skip.efuse esp32c3 RD_DIS writeable True
contains "$T/out" "Allowing read disabling of additional efuses - SECURITY COMPROMISED"

# ---- the other options that change what is burned ----
cat sb.sdkconfig >opts.sdkconfig
printf 'CONFIG_SECURE_ENABLE_SECURE_ROM_DL_MODE=y\nCONFIG_SECURE_BOOT_ENABLE_AGGRESSIVE_KEY_REVOKE=y\nCONFIG_SECURE_BOOT_ALLOW_UNUSED_DIGEST_SLOTS=y\nCONFIG_SECURE_BOOT_ALLOW_JTAG=y\n' >>opts.sdkconfig
cp c3.flash opts.flash
ok $E boot $C3 --efuse opts.efuse --flash opts.flash --sdkconfig opts.sdkconfig --provision
contains "$T/out" "Enabling Security download mode..."
contains "$T/out" "left un-revoked due to the config SECURE_BOOT_ALLOW_UNUSED_DIGEST_SLOTS"
field opts.efuse esp32c3 ENABLE_SECURITY_DOWNLOAD value True
field opts.efuse esp32c3 SECURE_BOOT_AGGRESSIVE_REVOKE value True
field opts.efuse esp32c3 SECURE_BOOT_KEY_REVOKE1 value False
field opts.efuse esp32c3 DIS_PAD_JTAG value False
# secure download mode cannot follow a disabled download mode
$E efuse $C3 --virt --path-efuse-file dl.efuse --do-not-confirm burn-efuse DIS_DOWNLOAD_MODE 1 >/dev/null
cp c3.flash dl.flash
no_boot "Could not enable Security download mode" $E boot $C3 --efuse dl.efuse --flash dl.flash --sdkconfig opts.sdkconfig

# ---- a read-protected Secure Boot digest is reported as such, and doctor finds it ----
printf 'CONFIG_IDF_TARGET="esp32c3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS=y\n' >rd.sdkconfig
cp c3.flash rd.flash
ok $E boot $C3 --efuse rd.efuse --flash rd.flash --sdkconfig rd.sdkconfig --provision
# RD_DIS bit 0 (BLOCK_KEY0) set and the block read as zeros, as espefuse shows a read-protected block:
# BLOCK_KEY0 is bytes 0x144..0x163 of the ESP32-C3 eFuse file, RD_DIS the low bits of byte 0x1cf
python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read())
d[0x144:0x164] = bytes(32); d[0x1cf] |= 1
open(sys.argv[1], 'wb').write(d)" rd.efuse
rm -f rd.efuse.hidden
field rd.efuse esp32c3 RD_DIS value 1
no_boot "the key digest in BLOCK4 (slot 0) is read-protected" $E boot $C3 --efuse rd.efuse --flash rd.flash
bad_doctor() { CHECKS=$((CHECKS + 1)); "$@" >"$T/out" 2>"$T/err"; [ $? -eq 1 ] || fail "doctor should find errors: $*"; }
bad_doctor $E doctor $C3 --efuse rd.efuse --flash rd.flash
contains "$T/out" "\[sb-digest-read-protected\]"

# ---- doctor: a 512-bit XTS key burned by halves, two blocks with one purpose ----
head -c 32 /dev/urandom >k32a.bin
head -c 32 /dev/urandom >k32b.bin
$E efuse --chip esp32s3 --virt --path-efuse-file half.efuse --do-not-confirm burn-key BLOCK_KEY1 k32a.bin XTS_AES_256_KEY_1 >/dev/null
bad_doctor $E doctor --chip esp32s3 --efuse half.efuse --flash c3.flash
contains "$T/out" "\[xts256-half-key\] only XTS_AES_256_KEY_1 is burned"
$E efuse $C3 --virt --path-efuse-file dup.efuse --do-not-confirm burn-key BLOCK_KEY0 k32a.bin XTS_AES_128_KEY >/dev/null
$E efuse $C3 --virt --path-efuse-file dup.efuse --do-not-confirm burn-key BLOCK_KEY1 k32b.bin XTS_AES_128_KEY >/dev/null
bad_doctor $E doctor $C3 --efuse dup.efuse --flash c3.flash
contains "$T/out" "\[duplicate-key-purpose\] 2 key blocks have the purpose XTS_AES_128_KEY"

# ---- --idf-build: an idf.py build folder ----
mkdir -p build/bootloader build/partition_table proj
cp bl.s build/bootloader/bootloader.bin
cp c3pt.bin build/partition_table/partition-table.bin
cp app.s build/c3app.bin
cp sb.sdkconfig proj/sdkconfig
cat >build/flasher_args.json <<EOF
{
    "write_flash_args" : [ "--flash_mode", "dio", "--flash_size", "4MB", "--flash_freq", "80m" ],
    "flash_settings" : { "flash_mode": "dio", "flash_size": "4MB", "flash_freq": "80m" },
    "flash_files" : {
        "0x8000" : "partition_table/partition-table.bin",
        "0x10000" : "c3app.bin"
    },
    "bootloader" : { "offset" : "0x0", "file" : "bootloader/bootloader.bin", "encrypted" : "false" },
    "app" : { "offset" : "0x10000", "file" : "c3app.bin", "encrypted" : "false" },
    "extra_esptool_args" : { "after" : "hard_reset", "before" : "default_reset", "stub" : true, "chip" : "esp32c3" }
}
EOF
cat >build/project_description.json <<EOF
{ "version": "1.2", "project_name": "c3app", "target": "esp32c3", "project_path": "$T/proj",
  "build_dir": "$T/build", "config_file": "$T/proj/sdkconfig", "app_bin": "c3app.bin" }
EOF
ok $E doctor --idf-build build
ok $E boot --idf-build build
booted c3app 4.2
contains "$T/out" "secure_boot_v2: Secure boot permanently enabled"
contains "$T/out" "Dry run"
bad "needs --efuse FILE and --flash FILE" $E boot --idf-build build --provision
ok $E boot --idf-build build --efuse idf.efuse --flash idf.flash --provision
field idf.efuse esp32c3 SECURE_BOOT_EN value True
ok $E boot $C3 --efuse idf.efuse --flash idf.flash
booted c3app 4.2
bad "targets esp32c3" $E boot --chip esp32 --idf-build build
echo '{ "flash_files": { "0x10000": ' >build/flasher_args.json
bad "flasher_args.json: offset" $E boot --idf-build build
bad "nobuild/flasher_args.json" $E doctor --idf-build nobuild

finish
