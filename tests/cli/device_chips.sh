# The secured device vectors for ESP32-S3 (XTS-AES-256 over two blocks, SBv2 RSA), ESP32-C6 (XTS-AES-128,
# SBv2 ECDSA P-256) and ESP32-C2 (derived key and ECDSA digest sharing BLOCK_KEY0), made with espsecure and
# espefuse around real ESP-IDF bootloaders (tests/vectors/device_chips/MANIFEST.md). Every chip folder in
# input/ is a case: it boots and names its app with its flash key; one flipped bit in the app (0x12000) or
# the bootloader (0x400) and the plaintext flash under those eFuses do not boot (exit 1); the plaintext
# flash on fresh eFuses boots.
. "$(dirname "$0")/lib.inc"
V=$VECTORS/device_chips
E=$ESPSEC
cd "$T"

no_boot() { # no_boot ARGS...: exit 1 and a "DOES NOT BOOT" verdict
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (does not boot) from: $* (got $rc: $(head -c 300 "$T/err"))"
    grep -q "^DOES NOT BOOT" "$T/out" || fail "'$*' gave no verdict: $(tail -1 "$T/out")"
}
flip() { # flip IN OUT OFFSET
    python3 -c "
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); o = int(sys.argv[3], 0); d[o] ^= 1
open(sys.argv[2], 'wb').write(d)" "$1" "$2" "$3"
}

n=0
for dir in "$V"/input/*/; do
    chip=$(basename "$dir")
    in=$V/input/$chip
    ex=$V/expected/$chip
    # the app's name, as the manifest gives it ("app 'NAME'")
    app=$(grep -o "^- $chip: .*app '[^']*'" "$V/MANIFEST.md" | sed "s/.*app '\([^']*\)'/\1/")
    [ -n "$app" ] || fail "$chip: no app name in MANIFEST.md"
    cp "$in/efuse_secured.bin" ef.bin
    cp "$ex/flash_secured.bin" fl.bin
    ok $E boot --chip "$chip" --efuse ef.bin --flash fl.bin --flash-key "$in/flash_key.bin"
    contains "$T/out" "^BOOTED: app '$app' .*secure boot, flash encryption"
    contains "$T/out" "Signature verified successfully!"
    same ef.bin "$in/efuse_secured.bin"
    same fl.bin "$ex/flash_secured.bin"
    flip "$ex/flash_secured.bin" app.bin 0x12000
    no_boot $E boot --chip "$chip" --efuse ef.bin --flash app.bin --flash-key "$in/flash_key.bin"
    flip "$ex/flash_secured.bin" bl.bin 0x400
    no_boot $E boot --chip "$chip" --efuse ef.bin --flash bl.bin --flash-key "$in/flash_key.bin"
    contains "$T/out" "DOES NOT BOOT (rom"
    cp "$ex/flash_plain.bin" plain.bin
    no_boot $E boot --chip "$chip" --efuse ef.bin --flash plain.bin --flash-key "$in/flash_key.bin"
    cp "$in/efuse_fresh.bin" fresh.bin
    ok $E boot --chip "$chip" --efuse fresh.bin --flash plain.bin
    contains "$T/out" "^BOOTED: app '$app'"
    # doctor agrees: no errors on the secured device, errors for the plaintext flash under its eFuses
    ok $E doctor --chip "$chip" --efuse ef.bin --flash fl.bin --flash-key "$in/flash_key.bin"
    CHECKS=$((CHECKS + 1))
    $E doctor --chip "$chip" --efuse ef.bin --flash plain.bin --flash-key "$in/flash_key.bin" >"$T/out" 2>&1 &&
        fail "$chip: doctor found nothing wrong with plaintext flash under flash encryption"
    n=$((n + 1))
done
CHECKS=$((CHECKS + 1))
[ "$n" -ge 3 ] || fail "only $n chip cases in $V/input"

# ---- first-boot provisioning per chip, from the plaintext flash and a fresh chip ----
prov() { # prov CHIP EXTRA_SDKCONFIG_LINES: provision, boot again, print the summary to $T/sum
    local chip=$1
    printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n%b' \
        "$chip" "$2" >"$chip.cfg"
    cp "$V/expected/$chip/flash_plain.bin" "p_$chip.bin"
    rm -f "pe_$chip.bin" "pe_$chip.bin.hidden"
    ok $E boot --chip "$chip" --efuse "pe_$chip.bin" --flash "p_$chip.bin" --sdkconfig "$chip.cfg" --provision
    contains "$T/out" "Secure boot permanently enabled"
    contains "$T/out" "flash_encrypt: Flash encryption completed"
    ok $E boot --chip "$chip" --efuse "pe_$chip.bin" --flash "p_$chip.bin"
    contains "$T/out" "^BOOTED: .*secure boot, flash encryption"
    $E efuse --chip "$chip" --path-efuse-file "pe_$chip.bin" summary >"$T/sum" 2>&1
}
# S3: XTS-AES-256 over two key blocks, RSA digest, unused slots revoked
prov esp32s3 'CONFIG_SECURE_FLASH_ENCRYPTION_AES256=y\n'
contains "$T/sum" "XTS_AES_256_KEY_1"
contains "$T/sum" "XTS_AES_256_KEY_2"
contains "$T/sum" "SECURE_BOOT_DIGEST0"
contains "$T/sum" "SECURE_BOOT_KEY_REVOKE2 .*= True"
# C6: ECDSA P-256, XTS-AES-128, secure download mode
prov esp32c6 'CONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_ENABLE_SECURE_ROM_DL_MODE=y\n'
contains "$T/sum" "XTS_AES_128_KEY"
contains "$T/sum" "ENABLE_SECURITY_DOWNLOAD .*= True"
# C2: the 128-bit derived key and the digest in one batch into BLOCK_KEY0's halves
prov esp32c2 'CONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_AES128_DERIVED=y\n'
contains "$T/sum" "XTS_KEY_LENGTH_256 .*= 128 bits key"
contains "$T/sum" "BLOCK_KEY0_LOW_128 .*-/-\|BLOCK_KEY0_LOW_128"

finish
