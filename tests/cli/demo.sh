# espsec demo: runs end to end on built-in defaults, keeps its files, and they mean what it says.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
cd "$T"
ok $E demo --dir "$T/d"
contains "$T/out" "Every step behaved as it must"
contains "$T/out" "BOOTED: 'espsec_demo' 1.0.0, secure boot V2, flash encryption, encrypted NVS"
contains "$T/out" 'factory/serial = "ESPSEC-0000001"'
contains "$T/out" "DOES NOT BOOT"
for f in sdkconfig partitions.csv partition-table.bin secure_boot_signing_key.pem bootloader-signed.bin \
    app-signed.bin nvs.csv nvs_keys.bin nvs-encrypted.bin efuse-fresh.bin flash-plain.bin efuse.bin efuse.bin.hidden \
    flash.bin boot1.log boot2.log boot3.log flash-tampered.bin; do
    CHECKS=$((CHECKS + 1))
    [ -f "d/$f" ] || fail "the demo did not keep $f"
done
for f in secure_boot_signing_key.pem nvs_keys.bin efuse.bin.hidden; do
    CHECKS=$((CHECKS + 1))
    [ "$(stat -c %a "d/$f")" = 600 ] || fail "$f is not mode 0600"
done
# the kept files replay: the secured device boots, the tampered one does not, the plain flash provisions again
ok $E boot --efuse d/efuse.bin --flash d/flash.bin
contains "$T/out" "^BOOTED: app 'espsec_demo' version 1.0.0"
CHECKS=$((CHECKS + 1))
$E boot --efuse d/efuse.bin --flash d/flash-tampered.bin >"$T/out" 2>&1
[ $? -eq 1 ] || fail "the tampered flash must not boot"
ok $E boot --efuse d/efuse-fresh.bin --flash d/flash-plain.bin --sdkconfig d/sdkconfig
contains "$T/out" "Dry run"
ok $E secure verify-signature --version 2 --keyfile d/secure_boot_signing_key.pem d/app-signed.bin
ok $E nvs list d/nvs-encrypted.bin --keyfile d/nvs_keys.bin
contains "$T/out" "wifi/pass (string) = correct horse battery staple"
ok $E doctor --efuse d/efuse.bin --flash d/flash.bin
# every chip: the story with that chip's choices (issue 12: "demo --chip C runs the whole story for each chip")
while read -r chip display boff scheme fe; do
    scheme=${scheme//_/ }
    ok $E demo --chip "$chip" --dir "$T/$chip" || continue
    cp "$T/out" "$T/$chip.story"
    S=$T/$chip.story
    contains "$S" "^espsec demo: securing an $display end to end"
    contains "$S" "Every step behaved as it must"
    contains "$S" "BOOTED: 'espsec_demo' 1.0.0, secure boot V2, flash encryption, encrypted NVS"
    contains "$S" "flash image (4 MiB: bootloader $boff,"
    contains "$S" "signing key ($scheme)"
    contains "$S" "DOES NOT BOOT"
    contains "$S" "boot --chip $chip --efuse"
    contains "$T/$chip/sdkconfig" "^CONFIG_IDF_TARGET=\"$chip\"$"
    [ "$fe" = - ] || contains "$T/$chip/sdkconfig" "^CONFIG_SECURE_FLASH_ENCRYPTION_$fe=y$"
    [ "$scheme" = RSA-3072 ] || contains "$T/$chip/sdkconfig" "^CONFIG_SECURE_BOOT_V2_ECC_ENABLED=y$"
    # the C61 has ECDSA only, which ESP-IDF offers there only as an insecure option (hardware erratum)
    if [ "$chip" = esp32c61 ]; then
        contains "$T/$chip/sdkconfig" "^CONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA=y$"
        contains "$S" "warning \[sb-ecdsa-errata\]"
    fi
    # its files replay on the device: secured boots, tampered does not; the bootloader where the ROM looks
    ok $E boot --chip "$chip" --efuse "$T/$chip/efuse.bin" --flash "$T/$chip/flash.bin"
    contains "$T/out" "^BOOTED: app 'espsec_demo' version 1.0.0 .*secure boot, flash encryption"
    CHECKS=$((CHECKS + 1))
    $E boot --chip "$chip" --efuse "$T/$chip/efuse.bin" --flash "$T/$chip/flash-tampered.bin" >"$T/out" 2>&1
    [ $? -eq 1 ] || fail "$chip: the tampered flash must not boot"
    ok $E image info "$T/$chip/bootloader-signed.bin"
    contains "$T/out" "^Chip ID: .* ($display)$"
    CHECKS=$((CHECKS + 1))
    [ "$(tail -c +$((boff + 1)) "$T/$chip/flash-plain.bin" | head -c 1 | od -An -tx1 | tr -d ' ')" = e9 ] ||
        fail "$chip: no image magic at $boff in flash-plain.bin"
done <<'EOF'
esp32 ESP32 0x1000 RSA-3072 -
esp32s2 ESP32-S2 0x1000 RSA-3072 AES256
esp32s3 ESP32-S3 0x0 RSA-3072 AES256
esp32c2 ESP32-C2 0x0 ECDSA_P-256 AES128_DERIVED
esp32c3 ESP32-C3 0x0 RSA-3072 AES128
esp32c5 ESP32-C5 0x2000 RSA-3072 AES128
esp32c6 ESP32-C6 0x0 RSA-3072 AES128
esp32c61 ESP32-C61 0x0 ECDSA_P-256 AES128
esp32h2 ESP32-H2 0x0 RSA-3072 AES128
esp32p4 ESP32-P4 0x2000 RSA-3072 AES256
EOF
bad "ESP8266" $E demo --chip esp8266 --dir "$T/e8266"
bad "--chip 'esp31'" $E demo --chip esp31 --dir "$T/e31"

# the demo refuses to reuse a folder that holds its key
bad "exists" $E demo --dir "$T/d"
ok $E demo --help
finish
