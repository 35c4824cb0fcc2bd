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

# ---- first-boot provisioning on the chips without device vectors: sample images, signed, on a fresh chip ----
# What ESP-IDF's bootloader burns for each (components/bootloader_support/src/<chip>/secure_boot_secure_features.c
# and flash_encryption_secure_features.c), in its order, with its log lines.
SBK=$VECTORS/secure_boot/input
in_order() { # in_order FILE LINE...: each line present, in this order
    CHECKS=$((CHECKS + 1))
    python3 -c "
import sys
lines = open(sys.argv[1]).read().splitlines()
pos = 0
for want in sys.argv[2:]:
    hit = [i for i in range(pos, len(lines)) if want in lines[i]]
    assert hit, 'missing after line %d: %s' % (pos, want)
    pos = hit[0] + 1
" "$@" || fail "$1: the log lines are not there in ESP-IDF's order"
}
fields() { # fields EFUSE CHIP NAME=VALUE...: summary --format json values (VALUE 'wp' = write-protected)
    local ef=$1 chip=$2
    shift 2
    CHECKS=$((CHECKS + 1))
    $E efuse --chip "$chip" --path-efuse-file "$ef" summary --format json >"$T/sum.json" 2>"$T/err" || fail "summary of $ef"
    python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
for kv in sys.argv[2:]:
    k, v = kv.split('=', 1)
    f = s[k]
    got = ('wp' if not f['writeable'] else 'w') if v in ('wp', 'w') else str(f['value'])
    assert got == v, '%s is %s, expected %s' % (k, got, v)
" "$T/sum.json" "$@" || fail "$ef ($chip): eFuses not as the bootloader burns them"
}
no_line() { CHECKS=$((CHECKS + 1)); grep -q -- "$2" "$1" && fail "$1 has '$2'"; }
prov_sample() { # prov_sample CHIP KEY SDKCONFIG_LINES [BOOT ARGS...]: provision a fresh chip from sample images
    local chip=$1 key=$2 lines=$3
    shift 3
    local off=0x0 # the bootloader's offset in flash: 0x1000 on the S2, 0x2000 on the P4 and C5
    case $chip in esp32s2) off=0x1000 ;; esp32p4 | esp32c5) off=0x2000 ;; esac
    $E image sample --chip "$chip" --kind bootloader -o "s_$chip.bl" >/dev/null
    $E image sample --chip "$chip" --project "app_$chip" --app-version 3.1 -o "s_$chip.app" >/dev/null
    $E secure sign-data --version 2 --keyfile "$key" -o "s_$chip.bls" "s_$chip.bl" >/dev/null
    $E secure sign-data --version 2 --keyfile "$key" -o "s_$chip.apps" "s_$chip.app" >/dev/null
    printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >s_pt.csv
    $E partition-table s_pt.csv s_pt.bin >/dev/null
    $E image merge-bin -o "s_$chip.flash" --fill-flash-size 4MB "$off" "s_$chip.bls" 0x8000 s_pt.bin 0x10000 "s_$chip.apps" >/dev/null
    printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n%b' \
        "$chip" "$lines" >"s_$chip.cfg"
    rm -f "s_$chip.efuse" "s_$chip.efuse.hidden"
    ok $E boot --chip "$chip" --efuse "s_$chip.efuse" --flash "s_$chip.flash" --sdkconfig "s_$chip.cfg" --provision "$@"
    cp "$T/out" "prov_$chip.log"
    contains "prov_$chip.log" "^BOOTED: app 'app_$chip' version 3.1 .*secure boot, flash encryption"
    ok $E boot --chip "$chip" --efuse "s_$chip.efuse" --flash "s_$chip.flash" "$@"
    contains "$T/out" "^BOOTED: app 'app_$chip'.*secure boot, flash encryption"
}
# ESP32-S2 (release, XTS-AES-256): SB burns DIS_BOOT_REMAP, DIS_LEGACY_SPI_BOOT, HARD_DIS_JTAG + SOFT_DIS_JTAG,
# SECURE_BOOT_EN; FE the manual-encrypt disable, both download caches, HARD_DIS_JTAG, then RD_DIS and DIS_ICACHE
# write-protected; no pseudo rounds on this chip
prov_sample esp32s2 "$SBK/key_rsa3072.pem" 'CONFIG_SECURE_FLASH_ENCRYPTION_AES256=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n'
in_order prov_esp32s2.log "secure_boot_v2: enabling secure boot v2..." "secure_boot_v2: Burning public key hash to eFuse" \
    "secure_boot_v2: Revoking empty key digest slot (1)..." "secure_boot_v2: blowing secure boot efuse..." \
    "secure_boot: UART ROM Download mode kept enabled - SECURITY COMPROMISED" \
    "secure_boot: Disable hardware & software JTAG..." "flash_encrypt: Generating new flash encryption key..." \
    "flash_encrypt: Disable UART bootloader encryption..." "flash_encrypt: Disable UART bootloader cache..." \
    "flash_encrypt: Disable JTAG..." "flash_encrypt: bootloader encrypted successfully" \
    "flash_encrypt: Setting CRYPT_CNT for permanent encryption" "flash_encrypt: Flash encryption completed"
no_line prov_esp32s2.log "Prevent read disabling"
fields s_esp32s2.efuse esp32s2 KEY_PURPOSE_0=SECURE_BOOT_DIGEST0 KEY_PURPOSE_1=XTS_AES_256_KEY_1 KEY_PURPOSE_2=XTS_AES_256_KEY_2 \
    DIS_BOOT_REMAP=True DIS_LEGACY_SPI_BOOT=True HARD_DIS_JTAG=True SOFT_DIS_JTAG=True SECURE_BOOT_EN=True \
    DIS_DOWNLOAD_MANUAL_ENCRYPT=True DIS_DOWNLOAD_ICACHE=True DIS_DOWNLOAD_DCACHE=True SECURE_BOOT_KEY_REVOKE2=True \
    RD_DIS=wp DIS_ICACHE=wp
# ESP32-P4 v3.0 (release): DIS_DIRECT_BOOT, pad and USB JTAG, SOFT_DIS_JTAG at its full count; FE's cache step is
# SPI_DOWNLOAD_MSPI_DIS, then XTS-AES pseudo rounds (level 1, low) from v3.0; no DIS_ICACHE on this chip
prov_sample esp32p4 "$SBK/key_rsa3072.pem" 'CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n' --chip-rev v3.0
in_order prov_esp32p4.log "secure_boot_v2: blowing secure boot efuse..." "secure_boot: Disable hardware & software JTAG..." \
    "flash_encrypt: Disable UART bootloader encryption..." "flash_encrypt: Disable UART bootloader cache..." \
    "flash_encrypt: Disable JTAG..." "flash_encrypt: Enable XTS-AES pseudo rounds function..." \
    "flash_encrypt: Flash encryption completed"
fields s_esp32p4.efuse esp32p4 KEY_PURPOSE_0=SECURE_BOOT_DIGEST0 KEY_PURPOSE_1=XTS_AES_128_KEY DIS_DIRECT_BOOT=True \
    DIS_PAD_JTAG=True DIS_USB_JTAG=True SOFT_DIS_JTAG=7 SPI_DOWNLOAD_MSPI_DIS=True DIS_DOWNLOAD_MANUAL_ENCRYPT=True \
    XTS_DPA_PSEUDO_LEVEL=1 SECURE_BOOT_SHA384_EN=False SECURE_BOOT_EN=True RD_DIS=wp
# ... and before v3.0 the pseudo rounds function is not there: nothing burned, nothing logged
prov_sample esp32p4 "$SBK/key_rsa3072.pem" 'CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n' --chip-rev v1.0
no_line prov_esp32p4.log "pseudo rounds"
fields s_esp32p4.efuse esp32p4 XTS_DPA_PSEUDO_LEVEL=0
# ESP32-C5 (release, ECDSA-P384 forced past the errata): SECURE_BOOT_SHA384_EN with SECURE_BOOT_EN, pseudo rounds
# at the configured strength (high: 3), SPI_DOWNLOAD_MSPI_DIS, DIS_ICACHE write-protected
prov_sample esp32c5 "$SBK/key_ecdsa384.pem" 'CONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_BOOT_ECDSA_KEY_LEN_384_BITS=y\nCONFIG_SECURE_BOOT_INSECURE=y\nCONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\nCONFIG_SECURE_FLASH_PSEUDO_ROUND_FUNC_STRENGTH_HIGH=y\n'
in_order prov_esp32c5.log "secure_boot_v2: blowing secure boot efuse..." \
    "secure_boot: Disable hardware & software JTAG..." "flash_encrypt: Disable UART bootloader cache..." \
    "flash_encrypt: Enable XTS-AES pseudo rounds function..." "flash_encrypt: Flash encryption completed"
fields s_esp32c5.efuse esp32c5 KEY_PURPOSE_0=SECURE_BOOT_DIGEST0 SECURE_BOOT_SHA384_EN=True SECURE_BOOT_EN=True \
    SPI_DOWNLOAD_MSPI_DIS=True XTS_DPA_PSEUDO_LEVEL=3 DIS_PAD_JTAG=True DIS_USB_JTAG=True DIS_DIRECT_BOOT=True \
    RD_DIS=wp DIS_ICACHE=wp
# ESP32-C61 (development, ECDSA-P256, the only scheme it has): its Secure Boot step has no SOFT_DIS_JTAG; no pseudo
# rounds unless configured (development mode)
prov_sample esp32c61 "$SBK/key_ecdsa256.pem" 'CONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_BOOT_INSECURE=y\nCONFIG_SECURE_BOOT_V2_FORCE_ENABLE_ECDSA=y\n'
in_order prov_esp32c61.log "secure_boot: Disable hardware & software JTAG..." "flash_encrypt: Disable UART bootloader cache..." \
    "flash_encrypt: Flash encryption completed"
no_line prov_esp32c61.log "pseudo rounds"
fields s_esp32c61.efuse esp32c61 KEY_PURPOSE_0=SECURE_BOOT_DIGEST0 KEY_PURPOSE_1=XTS_AES_128_KEY DIS_PAD_JTAG=True \
    DIS_USB_JTAG=True SPI_DOWNLOAD_MSPI_DIS=True XTS_DPA_PSEUDO_LEVEL=0 SECURE_BOOT_EN=True RD_DIS=wp DIS_ICACHE=wp
# ESP32-H2 v1.2 (release, RSA): no download-cache step at all; pseudo rounds from v1.2, not on v1.0
prov_sample esp32h2 "$SBK/key_rsa3072.pem" 'CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n' --chip-rev v1.2
in_order prov_esp32h2.log "secure_boot: Disable hardware & software JTAG..." "flash_encrypt: Disable UART bootloader encryption..." \
    "flash_encrypt: Disable JTAG..." "flash_encrypt: Enable XTS-AES pseudo rounds function..." "flash_encrypt: Flash encryption completed"
no_line prov_esp32h2.log "Disable UART bootloader cache"
fields s_esp32h2.efuse esp32h2 KEY_PURPOSE_0=SECURE_BOOT_DIGEST0 KEY_PURPOSE_1=XTS_AES_128_KEY SOFT_DIS_JTAG=7 \
    SPI_DOWNLOAD_MSPI_DIS=False XTS_DPA_PSEUDO_LEVEL=1 SECURE_BOOT_EN=True RD_DIS=wp DIS_ICACHE=wp
prov_sample esp32h2 "$SBK/key_rsa3072.pem" 'CONFIG_SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y\n' --chip-rev v1.0
fields s_esp32h2.efuse esp32h2 XTS_DPA_PSEUDO_LEVEL=0

finish
