# Scenario tests from real bricking reports: the eFuse and flash state the report describes, what doctor
# says before the burn (or the reflash) that bricked it, and that boot fails as the device did. Each case names
# its report and says in one line what happened. Reports read in the stored copies of the GitHub threads; where
# the thread does not say something (a key, an exact image), the case says what it assumes.
. "$(dirname "$0")/lib.inc"
SB=$VECTORS/secure_boot/input
S3=$VECTORS/device_chips/input/esp32s3          # a real ESP-IDF S3 bootloader and an app, signed with sb_key.pem
S3FLASH=$VECTORS/device_chips/expected/esp32s3/flash_plain.bin
E=$ESPSEC
cd "$T"

no_boot() { # no_boot PATTERN ARGS...
    local pat=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (does not boot) from: $* (got $rc: $(head -c 300 "$T/err"))"
    grep -q "^DOES NOT BOOT.*$pat" "$T/out" || fail "'$*' did not report '$pat': $(tail -1 "$T/out")"
}
doctor_finds() { # doctor_finds ID ARGS...: exit 1 and the finding
    local id=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] || fail "doctor should report errors: $*"
    grep -q "\[$id\]" "$T/out" || fail "doctor did not find $id: $(head -c 400 "$T/out")"
}

doctor_lacks() { # doctor_lacks ID ARGS...: the finding is not there
    local id=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    grep -q "\[$id\]" "$T/out" && fail "doctor should not report $id: $*"
}
write_at() { # write_at FLASH OFFSET FILE: what esptool write-flash does without --encrypt (sectors erased, plaintext)
    python3 -c "
import sys
f, off, src = sys.argv[1], int(sys.argv[2], 0), open(sys.argv[3], 'rb').read()
d = bytearray(open(f, 'rb').read())
end = (off + len(src) + 0xfff) & ~0xfff
d[off:end] = b'\xff' * (end - off)
d[off:off + len(src)] = src
open(f, 'wb').write(d)" "$1" "$2" "$3"
}
s3_boot_fails() { # s3_boot_fails EFUSE FLASH: the S3 ROM finds no image at 0x0 (it decrypts plaintext)
    no_boot "no valid image at 0x0" $E boot --chip esp32s3 --efuse "$1" --flash "$2"
    contains "$T/out" "invalid header: 0x"
}

# an ESP32 project: signed bootloader and app (RSA-3072), factory layout
$E image sample --kind bootloader -o bl.bin >/dev/null
$E image sample --project rep_app --app-version 1.0 -o app.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o app.s app.bin >/dev/null
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >pt.csv
$E partition-table pt.csv pt.bin >/dev/null
$E image merge-bin -o plain.flash --fill-flash-size 4MB 0x1000 bl.s 0x8000 pt.bin 0x10000 app.s >/dev/null
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >sb.cfg
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >sbfe.cfg

# ---- espressif/esp-idf#11888 "Cannot enable flash encryption after secure-boot v2" (ESP32 rev 3) ----
# Secure Boot V2 was enabled alone; its first boot write-protected RD_DIS. A later firmware with flash
# encryption cannot read-protect its new key.
cp plain.flash r11888.flash
ok $E boot --efuse r11888.efuse --flash r11888.flash --sdkconfig sb.cfg --chip-rev v3.0 --provision
contains "$T/out" "Prevent read disabling of additional efuses"
doctor_finds rd-dis-locked $E doctor --efuse r11888.efuse --flash r11888.flash --sdkconfig sbfe.cfg --chip-rev v3.0
no_boot "Initialization of Flash Encryption key failed" $E boot --efuse r11888.efuse --flash r11888.flash --sdkconfig sbfe.cfg --chip-rev v3.0
# what the report was told: enable both on the same first boot
cp plain.flash both.flash
ok $E boot --efuse both.efuse --flash both.flash --sdkconfig sbfe.cfg --chip-rev v3.0 --provision
contains "$T/out" "^BOOTED: app 'rep_app'"

# ---- espressif/esp-idf#6886 "Secure boot v2 does not write BLOCK2 properly, causes device to be bricked" ----
# ABS_DONE_1 burned with an all-zero digest in BLOCK2: the ROM matches no key.
$E efuse --virt --path-efuse-file r6886.efuse --do-not-confirm burn-efuse ABS_DONE_1 1 >/dev/null
doctor_finds sb-no-digest $E doctor --efuse r6886.efuse --flash plain.flash
no_boot "Secure Boot V2 refuses the bootloader" $E boot --efuse r6886.efuse --flash plain.flash
contains "$T/out" "secure boot check fail"

# ---- espressif/esptool#640 "esp32 does not boot after read protecting block2" (ESP32 rev 3) ----
# Secure Boot V2 and flash encryption, all images encrypted and signed; `espefuse read_protect_efuse BLOCK2`
# hid the key digest: the ROM reads zeros and no signature matches. (espefuse v5 refuses this once ABS_DONE_1
# is burned; the state is rebuilt in an order both tools allow: key and counter, digest, read protection, and
# ABS_DONE_1 last, so doctor sees it before that last burn.)
head -c 32 /dev/urandom >fk640.bin
$E secure encrypt-flash-data -k fk640.bin -a 0 -o r640.flash plain.flash >/dev/null
$E efuse --virt --path-efuse-file r640.efuse --do-not-confirm burn-key flash_encryption fk640.bin >/dev/null
$E efuse --virt --path-efuse-file r640.efuse --do-not-confirm burn-efuse FLASH_CRYPT_CNT 1 FLASH_CRYPT_CONFIG 0xF >/dev/null
$E efuse --virt --path-efuse-file r640.efuse --do-not-confirm burn-key-digest "$SB/key_rsa3072.pem" >/dev/null
$E efuse --virt --path-efuse-file r640.efuse --do-not-confirm read-protect-efuse BLOCK2 >/dev/null
doctor_finds sb-digest-read-protected $E doctor --efuse r640.efuse --flash r640.flash --sdkconfig sbfe.cfg --chip-rev v3.0
contains "$T/out" "the Secure Boot digest in BLOCK2 (slot 0) is read-protected"
$E efuse --virt --path-efuse-file r640.efuse --do-not-confirm burn-efuse ABS_DONE_1 1 >/dev/null
doctor_finds sb-digest-read-protected $E doctor --efuse r640.efuse --flash r640.flash --chip-rev v3.0
no_boot "the key digest in BLOCK2 (slot 0) is read-protected" $E boot --efuse r640.efuse --flash r640.flash --chip-rev v3.0
# the same device without the read protection boots
$E efuse --virt --path-efuse-file ok640.efuse --do-not-confirm burn-key-digest "$SB/key_rsa3072.pem" >/dev/null
$E efuse --virt --path-efuse-file ok640.efuse --do-not-confirm burn-key flash_encryption fk640.bin >/dev/null
$E efuse --virt --path-efuse-file ok640.efuse --do-not-confirm burn-efuse ABS_DONE_1 1 FLASH_CRYPT_CNT 1 FLASH_CRYPT_CONFIG 0xF >/dev/null
ok $E boot --efuse ok640.efuse --flash r640.flash --chip-rev v3.0
contains "$T/out" "^BOOTED: app 'rep_app'"

# ---- espressif/esp-idf#10927 "Flash Encryption is cannot be enabled - SecureBoot Enabled before" (ESP32) ----
# FLASH_CRYPT_CNT had an odd count but BLOCK1 held no key (the counter was burned by hand): the ROM decrypts
# the plaintext bootloader with an empty key. The chip printed "flash read err, 1000"; espsec's ROM says it finds
# no image. The maintainers' way out: burn the next counter bit (even: off), and the bootloader does it right.
printf 'CONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >fe.cfg
$E efuse --virt --path-efuse-file r10927.efuse --do-not-confirm burn-efuse FLASH_CRYPT_CNT 1 >/dev/null
doctor_finds fe-on-without-key $E doctor --efuse r10927.efuse --flash plain.flash --sdkconfig fe.cfg
contains "$T/out" "FLASH_CRYPT_CNT has 1 bits set (flash encryption on) but no flash encryption key is burned"
no_boot "no valid image at 0x1000" $E boot --efuse r10927.efuse --flash plain.flash --sdkconfig fe.cfg
$E efuse --virt --path-efuse-file r10927.efuse --do-not-confirm burn-efuse FLASH_CRYPT_CNT 3 >/dev/null
doctor_lacks fe-on-without-key $E doctor --efuse r10927.efuse --flash plain.flash --sdkconfig fe.cfg
cp plain.flash r10927.flash
ok $E boot --efuse r10927.efuse --flash r10927.flash --sdkconfig fe.cfg --provision
contains "$T/out" "^BOOTED: app 'rep_app'.*flash encryption"

# ---- espressif/esp-idf#13284 "Flash Encryption invalid header: 0x6b6df5f7" (ESP32, v5.1.2) ----
# The flash_encryption example with development mode: FLASH_CRYPT_CONFIG 0xF and FLASH_CRYPT_CNT burned by hand
# before any key, then the plaintext build flashed: invalid header. Same mistake as #10927, different words.
$E efuse --virt --path-efuse-file r13284.efuse --do-not-confirm burn-efuse FLASH_CRYPT_CONFIG 0xF >/dev/null
$E efuse --virt --path-efuse-file r13284.efuse --do-not-confirm burn-efuse FLASH_CRYPT_CNT 1 >/dev/null
doctor_finds fe-on-without-key $E doctor --efuse r13284.efuse --flash plain.flash --sdkconfig fe.cfg
contains "$T/out" "Burn the next crypt counter bit only after the key"
no_boot "flash encryption is on" $E boot --efuse r13284.efuse --flash plain.flash --sdkconfig fe.cfg
contains "$T/out" "^invalid header: 0x"

# ---- espressif/esp-idf#9499 "Secure Boot causes invalid header" (ESP32) ----
# Flash encryption in release mode (FLASH_CRYPT_CNT 127, table at 0xC000) worked; a new build with Secure Boot
# V1 (reflashable) was then written over the serial port in plaintext: the ROM decrypts it to garbage. In
# release mode the serial loader cannot encrypt (DISABLE_DL_ENCRYPT): nothing written that way boots again.
printf 'CONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\nCONFIG_PARTITION_TABLE_OFFSET=0xc000\n' >rel9499.cfg
cat rel9499.cfg >sbv1_9499.cfg
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V1_ENABLED=y\nCONFIG_SECURE_BOOTLOADER_REFLASHABLE=y\n' >>sbv1_9499.cfg
printf 'nvs,data,nvs,0xd000,0x3000,\nfactory,app,factory,0x10000,1M,\n' >pt9499.csv
$E partition-table pt9499.csv pt9499.bin >/dev/null
$E image merge-bin -o r9499.flash --fill-flash-size 4MB 0x1000 bl.bin 0xc000 pt9499.bin 0x10000 app.bin >/dev/null
ok $E boot --efuse r9499.efuse --flash r9499.flash --sdkconfig rel9499.cfg --provision
contains "$T/out" "Setting CRYPT_CNT for permanent encryption"
ok $E boot --efuse r9499.efuse --flash r9499.flash --sdkconfig rel9499.cfg
write_at r9499.flash 0x1000 bl.bin
doctor_finds plaintext-under-fe $E doctor --efuse r9499.efuse --flash r9499.flash --sdkconfig sbv1_9499.cfg
contains "$T/out" "the bootloader at 0x1000 is plaintext but flash encryption is on"
doctor_finds serial-flash-plaintext $E doctor --efuse r9499.efuse --flash r9499.flash --sdkconfig sbv1_9499.cfg --plan-serial-flash
no_boot "no valid image at 0x1000" $E boot --efuse r9499.efuse --flash r9499.flash --sdkconfig sbv1_9499.cfg
contains "$T/out" "^invalid header: 0x"

# ---- espressif/esp-idf#10535 "Invalid header when using Secure Boot and Flash Encryption" (ESP32-S3) ----
# Secure Boot V2 and release-mode flash encryption on the first boot; the bootloader and app were then flashed
# again (plaintext, esptool without --encrypt) with esp_secure_cert: invalid header, and with a key the chip made
# itself there is nothing to encrypt with. (Which write came after the first boot the thread leaves open; the
# case flashes the bootloader again.)
printf 'CONFIG_IDF_TARGET="esp32s3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n' >s3rel.cfg
cp "$S3FLASH" r10535.flash
ok $E boot --chip esp32s3 --efuse r10535.efuse --flash r10535.flash --sdkconfig s3rel.cfg --provision
contains "$T/out" "^BOOTED: app 'dev_s3_pub'.*secure boot, flash encryption"
cp r10535.efuse r15756.efuse
cp r10535.efuse.hidden r15756.efuse.hidden
cp r10535.flash r15756.flash
doctor_finds serial-flash-plaintext $E doctor --chip esp32s3 --efuse r10535.efuse --flash r10535.flash --sdkconfig s3rel.cfg --plan-serial-flash
contains "$T/out" "DIS_DOWNLOAD_MANUAL_ENCRYPT"
write_at r10535.flash 0x0 "$S3/bootloader.signed"
doctor_finds plaintext-under-fe $E doctor --chip esp32s3 --efuse r10535.efuse --flash r10535.flash --sdkconfig s3rel.cfg
s3_boot_fails r10535.efuse r10535.flash

# ---- espressif/esp-idf#15756 "Secure boot and flash encrytion issue in release mode" (ESP32-S3) ----
# The bootloader had already enabled flash encryption (release) when the bootloader was flashed again in
# plaintext: the ROM decrypts it and finds garbage (the maintainers' diagnosis). Before that reflash, doctor on
# the planned flash (the plaintext bootloader) says so; the device as it was still boots.
ok $E boot --chip esp32s3 --efuse r15756.efuse --flash r15756.flash
cp r15756.flash planned15756.flash
write_at planned15756.flash 0x0 "$S3/bootloader.signed"
doctor_finds plaintext-under-fe $E doctor --chip esp32s3 --efuse r15756.efuse --flash planned15756.flash
contains "$T/out" "the bootloader at 0x0 is plaintext but flash encryption is on"
s3_boot_fails r15756.efuse planned15756.flash

# ---- espressif/esp-idf#18878 "Issues re-flashing with SecureBootv2 & Flash Encryption" (ESP32-S3) ----
# get-security-info showed key purposes (8, 4, 9, 9, 0, 0): HMAC_UP, XTS_AES_128_KEY, and SECURE_BOOT_DIGEST0 in
# two blocks, slots 1 and 2 revoked, SPI_BOOT_CRYPT_CNT 1; plaintext re-flashing gave invalid header. That order
# (flash key below the digests; ESP-IDF's first boot burns the digest first) means keys burned by hand: HMAC key,
# host flash key, digest, first boot, and the digest burned once more.
printf 'CONFIG_IDF_TARGET="esp32s3"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >s3dev.cfg
head -c 32 /dev/urandom >hmac18878.bin
head -c 32 /dev/urandom >fk18878.bin
$E secure digest-sbv2-public-key --keyfile "$S3/sb_key.pem" -o d18878.bin >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file r18878.efuse --do-not-confirm burn-key BLOCK_KEY0 hmac18878.bin HMAC_UP >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file r18878.efuse --do-not-confirm burn-key BLOCK_KEY1 fk18878.bin XTS_AES_128_KEY >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file r18878.efuse --do-not-confirm burn-key BLOCK_KEY2 d18878.bin SECURE_BOOT_DIGEST0 >/dev/null
cp "$S3FLASH" r18878.flash
ok $E boot --chip esp32s3 --efuse r18878.efuse --flash r18878.flash --sdkconfig s3dev.cfg --provision
contains "$T/out" "Using pre-loaded flash encryption key in efuse"
# before the second digest: doctor names the duplicate it would make
cp r18878.efuse dup18878.efuse
cp r18878.efuse.hidden dup18878.efuse.hidden
$E efuse --chip esp32s3 --virt --path-efuse-file dup18878.efuse --do-not-confirm burn-key BLOCK_KEY3 d18878.bin SECURE_BOOT_DIGEST0 >/dev/null
CHECKS=$((CHECKS + 1))
$E efuse --chip esp32s3 --path-efuse-file dup18878.efuse summary --format json >sum18878.json
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
got = [s['KEY_PURPOSE_%d' % k]['value'] for k in range(6)]
assert got == ['HMAC_UP', 'XTS_AES_128_KEY', 'SECURE_BOOT_DIGEST0', 'SECURE_BOOT_DIGEST0', 'USER', 'USER'], got
assert s['SECURE_BOOT_KEY_REVOKE1']['value'] and s['SECURE_BOOT_KEY_REVOKE2']['value']
assert s['SPI_BOOT_CRYPT_CNT']['value'] == 'Enable'
" sum18878.json || fail "#18878: the eFuses are not the report's (purposes 8, 4, 9, 9, 0, 0)"
doctor_finds duplicate-key-purpose $E doctor --chip esp32s3 --efuse dup18878.efuse --flash r18878.flash
contains "$T/out" "2 key blocks have the purpose SECURE_BOOT_DIGEST0"
ok $E boot --chip esp32s3 --efuse dup18878.efuse --flash r18878.flash
write_at r18878.flash 0x0 "$S3/bootloader.signed"
doctor_finds plaintext-under-fe $E doctor --chip esp32s3 --efuse dup18878.efuse --flash r18878.flash
s3_boot_fails dup18878.efuse r18878.flash
# with the host key the way back exists: the bootloader encrypted with it and written as data
$E secure encrypt-flash-data --aes-xts -k fk18878.bin -a 0 -o bl18878.enc "$S3/bootloader.signed" >/dev/null
write_at r18878.flash 0x0 bl18878.enc
ok $E boot --chip esp32s3 --efuse dup18878.efuse --flash r18878.flash

# ---- espressif/esp-idf#13361 "esp32s3 invalid header after enabling flash encryption" (ESP32-S3) ----
# A 512-bit key split by hand (split -b 32: .aa burned as XTS_AES_256_KEY_1, .ab as XTS_AES_256_KEY_2),
# SPI_BOOT_CRYPT_CNT 7, the app encrypted with the whole key, and the bootloader flashed plaintext with --force.
# The split is what XTS_AES_256_KEY does: the bootloader written in plaintext is what bricked it.
head -c 64 /dev/urandom >k13361.bin
head -c 32 k13361.bin >k13361.aa
tail -c 32 k13361.bin >k13361.ab
$E efuse --chip esp32s3 --virt --path-efuse-file r13361.efuse --do-not-confirm burn-key BLOCK_KEY1 k13361.aa XTS_AES_256_KEY_1 >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file r13361.efuse --do-not-confirm burn-key BLOCK_KEY2 k13361.ab XTS_AES_256_KEY_2 >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file whole13361.efuse --do-not-confirm burn-key BLOCK_KEY1 k13361.bin XTS_AES_256_KEY >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file r13361.efuse --do-not-confirm burn-efuse SPI_BOOT_CRYPT_CNT 7 >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file whole13361.efuse --do-not-confirm burn-efuse SPI_BOOT_CRYPT_CNT 7 >/dev/null
$E secure encrypt-flash-data --aes-xts -k k13361.bin -a 0 -o enc13361.flash "$S3FLASH" >/dev/null
ok $E boot --chip esp32s3 --efuse r13361.efuse --flash enc13361.flash
ok $E boot --chip esp32s3 --efuse whole13361.efuse --flash enc13361.flash
doctor_lacks xts256-halves-swapped $E doctor --chip esp32s3 --efuse r13361.efuse --flash enc13361.flash --flash-key k13361.bin
cp enc13361.flash r13361.flash
write_at r13361.flash 0x0 "$S3/bootloader.signed"
doctor_finds plaintext-under-fe $E doctor --chip esp32s3 --efuse r13361.efuse --flash r13361.flash --flash-key k13361.bin
doctor_lacks xts256-halves-swapped $E doctor --chip esp32s3 --efuse r13361.efuse --flash r13361.flash --flash-key k13361.bin
s3_boot_fails r13361.efuse r13361.flash
# the split the other way round: doctor names it when the key is given
$E efuse --chip esp32s3 --virt --path-efuse-file swap13361.efuse --do-not-confirm burn-key BLOCK_KEY1 k13361.ab XTS_AES_256_KEY_1 >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file swap13361.efuse --do-not-confirm burn-key BLOCK_KEY2 k13361.aa XTS_AES_256_KEY_2 >/dev/null
$E efuse --chip esp32s3 --virt --path-efuse-file swap13361.efuse --do-not-confirm burn-efuse SPI_BOOT_CRYPT_CNT 7 >/dev/null
doctor_finds xts256-halves-swapped $E doctor --chip esp32s3 --efuse swap13361.efuse --flash enc13361.flash --flash-key k13361.bin
no_boot "no valid image at 0x0" $E boot --chip esp32s3 --efuse swap13361.efuse --flash enc13361.flash

# ---- espressif/esp-idf#5771 "Invalid header error when flashing with Secure Boot + Flash Encryption + custom
# partition table" (ESP32-WROOM-32E, v4.3-dev) ----
# Not a state a user put the chip in: ESP-IDF's ESP32 Secure Boot V2 first boot wrote its eFuses through raw
# registers outside the eFuse manager's batch the flash-encryption code used (fixed by esp-idf f1dae0d6e12,
# "Closes #5771"). espsec models the fixed bootloader, so what it can honestly say: the reporter's configuration
# (release mode, table moved to 0x9000) fits, provisions in one batch and boots; and the plaintext reflash that
# follows such a first boot is what doctor refuses.
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\nCONFIG_PARTITION_TABLE_OFFSET=0x9000\nCONFIG_NVS_ENCRYPTION=y\n' >r5771.cfg
printf 'nvs,data,nvs,0xa000,0x6000,\nnvs_key,data,nvs_keys,0x10000,0x1000,encrypted\notadata,data,ota,0x11000,0x2000,\nota_0,app,ota_0,0x20000,1M,\nota_1,app,ota_1,0x120000,1M,\n' >pt5771.csv
$E partition-table pt5771.csv pt5771.bin >/dev/null
$E image merge-bin -o r5771.flash --fill-flash-size 4MB 0x1000 bl.s 0x9000 pt5771.bin 0x20000 app.s >/dev/null
ok $E doctor --efuse r5771.efuse --flash r5771.flash --sdkconfig r5771.cfg --chip-rev v3.0 --keyfile "$SB/key_rsa3072.pem"
contains "$T/out" "0 errors"
ok $E boot --efuse r5771.efuse --flash r5771.flash --sdkconfig r5771.cfg --chip-rev v3.0 --provision
contains "$T/out" "^BOOTED: app 'rep_app'.*secure boot, flash encryption"
CHECKS=$((CHECKS + 1))
$E efuse --path-efuse-file r5771.efuse summary --format json >sum5771.json
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s['ABS_DONE_1']['value'] is True and s['FLASH_CRYPT_CNT']['value'] == 127, (s['ABS_DONE_1'], s['FLASH_CRYPT_CNT'])
assert any(v != '00' for v in s['BLOCK2']['value'].split()), s['BLOCK2']   # the digest, readable
" sum5771.json || fail "#5771: the first boot did not burn the digest, ABS_DONE_1 and the release counter together"
write_at r5771.flash 0x1000 bl.s
doctor_finds plaintext-under-fe $E doctor --efuse r5771.efuse --flash r5771.flash --sdkconfig r5771.cfg --chip-rev v3.0
no_boot "no valid image at 0x1000" $E boot --efuse r5771.efuse --flash r5771.flash --chip-rev v3.0

# ---- espressif/esp-idf#13909 "Error writing HMAC NVS encryption key in efuse" (ESP32-C6, v5.2.1) ----
# NVS encryption with the HMAC scheme on a board with Secure Boot enabled: when the app generated its HMAC key,
# the eFuse write failed. The maintainer's diagnosis: Secure Boot V2's first boot write-protected RD_DIS
# (CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS not set), so the key's read protection cannot be burned; burn the
# HMAC key first, or set that option. Assumed (the thread does not say): Secure Boot V2 alone (ECDSA, as the C6
# vectors are signed), the key in BLOCK_KEY1, everything on one first boot, nvs_flash_init (the report's app made
# the same two calls, nvs_flash_read_security_cfg_v2 and nvs_flash_generate_keys_v2, itself). What ESP-IDF's eFuse
# code does then
# (esp_efuse_write_key's batch, BLOCK0 programmed last, its check failing): the key and HMAC_UP burn, the read
# protection does not, nvs_flash_init fails that boot, and the key stays readable; the next boot uses it.
# (ESP-IDF's 03a15664ee2, Aug 2024, which does not name the issue, moved that option out of the insecure ones;
# its help now says it must be set to program HMAC or ECDSA keys after Secure Boot is enabled.)
C6=$VECTORS/device_chips/expected/esp32c6/flash_plain.bin
printf 'CONFIG_IDF_TARGET="esp32c6"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_NVS_ENCRYPTION=y\nCONFIG_NVS_SEC_KEY_PROTECT_USING_HMAC=y\nCONFIG_NVS_SEC_HMAC_EFUSE_KEY_ID=1\n' >c6hmac.cfg
cp "$C6" r13909.flash
doctor_finds nvs-hmac-rd-dis-locked $E doctor --chip esp32c6 --efuse r13909.efuse --flash r13909.flash --sdkconfig c6hmac.cfg
contains "$T/out" "into BLOCK_KEY1 after Secure Boot V2's first boot write-protects RD_DIS"
no_boot "nvs_flash_init fails: the HMAC key was burned into BLOCK_KEY1 but RD_DIS is write-protected" \
    $E boot --chip esp32c6 --efuse r13909.efuse --flash r13909.flash --sdkconfig c6hmac.cfg --provision
contains "$T/out" "^I (.*) secure_boot: Prevent read disabling of additional efuses"
contains "$T/out" "^E (.*) efuse: BURN BLOCK0 - ERROR (written bits != read bits)"
contains "$T/out" "^E (.*) nvs_sec_provider: Failed to write the HMAC key to eFuse: \[0xFFFFFFFF\] (ESP_FAIL)"
CHECKS=$((CHECKS + 1))
$E efuse --chip esp32c6 --path-efuse-file r13909.efuse summary --format json >sum13909.json
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
assert s['KEY_PURPOSE_1']['value'] == 'HMAC_UP' and not s['KEY_PURPOSE_1']['writeable'], s['KEY_PURPOSE_1']
assert s['BLOCK_KEY1']['readable'] and any(v != '00' for v in s['BLOCK_KEY1']['value'].split()), s['BLOCK_KEY1']
assert s['RD_DIS']['value'] == 0 and not s['RD_DIS']['writeable'], s['RD_DIS']
" sum13909.json || fail "#13909: not the state the failed write leaves (HMAC_UP key burned, readable, RD_DIS locked)"
ok $E boot --chip esp32c6 --efuse r13909.efuse --flash r13909.flash --sdkconfig c6hmac.cfg
contains "$T/out" "^BOOTED: app 'dev_c6_pub'.*secure boot, encrypted NVS"
doctor_finds nvs-hmac-key-readable $E doctor --chip esp32c6 --efuse r13909.efuse --flash r13909.flash --sdkconfig c6hmac.cfg
# the maintainer's two ways: the HMAC key burned (read-protected) before the first boot ...
head -c 32 /dev/urandom >hk13909.bin
$E efuse --chip esp32c6 --virt --path-efuse-file pre13909.efuse --do-not-confirm burn-key BLOCK_KEY1 hk13909.bin HMAC_UP >/dev/null
cp "$C6" pre13909.flash
doctor_lacks nvs-hmac-rd-dis-locked $E doctor --chip esp32c6 --efuse pre13909.efuse --flash pre13909.flash --sdkconfig c6hmac.cfg
doctor_lacks nvs-hmac-key-readable $E doctor --chip esp32c6 --efuse pre13909.efuse --flash pre13909.flash --sdkconfig c6hmac.cfg
ok $E boot --chip esp32c6 --efuse pre13909.efuse --flash pre13909.flash --sdkconfig c6hmac.cfg --provision
contains "$T/out" "^BOOTED: app 'dev_c6_pub'.*encrypted NVS"
# ... NVS written on the host with keys derived from that HMAC key (nvs_partition_gen's --key_protect_hmac) opens
$E nvs generate-key --key_protect_hmac --kp_hmac_inputkey hk13909.bin --keyfile nk13909.bin --outdir nk13909 >/dev/null
printf 'key,type,encoding,value\nstore,namespace,,\nserial,data,string,SN13909\n' >nvs13909.csv
$E nvs encrypt nvs13909.csv nvs13909.bin 0x6000 --inputkey nk13909/keys/nk13909.bin >/dev/null
write_at pre13909.flash 0x9000 nvs13909.bin
ok $E boot --chip esp32c6 --efuse pre13909.efuse --flash pre13909.flash --sdkconfig c6hmac.cfg
contains "$T/out" "nvs: NVS 'nvs' mounted (encrypted): 1 values"
# ... or CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS: the app's key burns read-protected
printf 'CONFIG_SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS=y\n' | cat c6hmac.cfg - >c6allow.cfg
cp "$C6" allow13909.flash
doctor_lacks nvs-hmac-rd-dis-locked $E doctor --chip esp32c6 --efuse allow13909.efuse --flash allow13909.flash --sdkconfig c6allow.cfg
ok $E boot --chip esp32c6 --efuse allow13909.efuse --flash allow13909.flash --sdkconfig c6allow.cfg --provision
contains "$T/out" "^I (.*) efuse: BURN BLOCK0 - OK"
doctor_lacks nvs-hmac-key-readable $E doctor --chip esp32c6 --efuse allow13909.efuse --flash allow13909.flash --sdkconfig c6allow.cfg
ok $E boot --chip esp32c6 --efuse allow13909.efuse --flash allow13909.flash --sdkconfig c6allow.cfg
contains "$T/out" "^BOOTED: app 'dev_c6_pub'.*secure boot, encrypted NVS"

finish
