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
# the demo refuses to reuse a folder that holds its key
bad "exists" $E demo --dir "$T/d"
ok $E demo --help
finish
