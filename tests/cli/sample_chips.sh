# espsec image sample for every chip with security features: the app and the bootloader are valid
# images of that chip for esptool v5.3.1's image-info (when the reference is installed: same output
# as espsec image info, checksum and SHA-256 valid, the app/bootloader description read), and the
# virtual device boots them from the chip's bootloader offset (plain, and signed + encrypted).
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
SB=$VECTORS/secure_boot/input
cd "$T"
REF=0
if [ -f /work/ref/env.sh ]; then
    # shellcheck disable=SC1091
    . /work/ref/env.sh >/dev/null 2>&1 && python3 -m esptool version >/dev/null 2>&1 && REF=1
fi
[ $REF = 1 ] || echo "esptool v5.3.1 not installed: the image-info comparison is skipped"

# the chip, its name in image info, where its ROM looks for the bootloader (the issue's table)
while read -r chip display boff; do
    d="$T/$chip"
    mkdir -p "$d"
    ok $E image sample --chip "$chip" --kind bootloader -o "$d/bl.bin" || continue
    contains "$T/out" "^Wrote $display sample bootloader"
    ok $E image sample --chip "$chip" --project app --app-version 7.1 --secure-version 3 -o "$d/app.bin" || continue
    for k in bl app; do
        ok $E image info --check "$d/$k.bin"
        contains "$T/out" "^Detected image type: $display$"
        contains "$T/out" "^Chip ID: .* ($display)$"
        contains "$T/out" "^Checksum: 0x.. (valid)$"
        contains "$T/out" "^Validation hash: .* (valid)$"
        # espsec's own "Secure Boot" section is not esptool's
        sed -n '/^Secure Boot$/q;p' "$T/out" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$d/$k.ours"
        if [ $REF = 1 ]; then
            CHECKS=$((CHECKS + 1))
            python3 -m esptool image-info "$d/$k.bin" >"$d/$k.ref" 2>&1 ||
                fail "esptool image-info refuses the $chip sample $k: $(tail -1 "$d/$k.ref")"
            tail -n +2 "$d/$k.ref" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$d/$k.want"
            same "$d/$k.ours" "$d/$k.want"
        fi
    done
    contains "$d/app.ours" "^Project name: app$"
    contains "$d/app.ours" "^App version: 7.1$"
    contains "$d/app.ours" "^Secure version: 3$"
    contains "$d/bl.ours" "^Bootloader version: 1$"
    # no flash-mapped segment in a bootloader; the app's code and rodata are mapped from flash
    CHECKS=$((CHECKS + 1))
    if grep -Eq "^ +[0-9]+ .*(IROM|DROM)" "$d/bl.ours"; then fail "$chip: the sample bootloader has a flash segment"; fi
    contains "$d/app.ours" "^ *0 .*DROM"

    # the virtual device boots them from the chip's bootloader offset
    printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,0x100000,\n' >"$d/pt.csv"
    ok $E partition-table "$d/pt.csv" "$d/pt.bin"
    ok $E image merge-bin -o "$d/flash.bin" --fill-flash-size 4MB "$boff" "$d/bl.bin" 0x8000 "$d/pt.bin" 0x10000 "$d/app.bin"
    ok $E boot --chip "$chip" --efuse "$d/fresh.bin" --flash "$d/flash.bin"
    contains "$T/out" "^BOOTED: app 'app' version 7.1 from partition 'factory'"
    # and the bootloader somewhere else is not found
    if [ "$boff" != 0x1000 ]; then
        ok $E image merge-bin -o "$d/moved.bin" --fill-flash-size 4MB 0x1000 "$d/bl.bin" 0x8000 "$d/pt.bin" 0x10000 "$d/app.bin"
    else
        ok $E image merge-bin -o "$d/moved.bin" --fill-flash-size 4MB 0x0 "$d/bl.bin" 0x8000 "$d/pt.bin" 0x10000 "$d/app.bin"
    fi
    CHECKS=$((CHECKS + 1))
    $E boot --chip "$chip" --efuse "$d/fresh.bin" --flash "$d/moved.bin" >"$T/out" 2>&1
    [ $? -eq 1 ] || fail "$chip: a bootloader away from $boff must not boot"

    # signed (Secure Boot V2, RSA-3072 where the chip has it, else ECDSA P-256) and flash encryption
    # provisioned on first boot, then booted again from the secured flash
    key=$SB/key_rsa3072.pem
    printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\nCONFIG_SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT=y\n' "$chip" >"$d/s.cfg"
    case "$chip" in
    esp32c2 | esp32c61)
        key=$SB/key_ecdsa256.pem
        printf 'CONFIG_SECURE_SIGNED_APPS_ECDSA_V2_SCHEME=y\nCONFIG_SECURE_BOOT_V2_ECC_ENABLED=y\nCONFIG_SECURE_BOOT_ECDSA_KEY_LEN_256_BITS=y\n' >>"$d/s.cfg"
        # the C2's one key block takes the digest and a 128-bit flash key (ESP-IDF's only choice there)
        [ "$chip" = esp32c2 ] && echo CONFIG_SECURE_FLASH_ENCRYPTION_AES128_DERIVED=y >>"$d/s.cfg" ;;
    *) printf 'CONFIG_SECURE_BOOT_V2_RSA_ENABLED=y\n' >>"$d/s.cfg" ;;
    esac
    ok $E secure sign-data --version 2 --keyfile "$key" -o "$d/bl.s" "$d/bl.bin"
    ok $E secure sign-data --version 2 --keyfile "$key" -o "$d/app.s" "$d/app.bin"
    ok $E image merge-bin -o "$d/sec.bin" --fill-flash-size 4MB "$boff" "$d/bl.s" 0x8000 "$d/pt.bin" 0x10000 "$d/app.s"
    ok $E boot --chip "$chip" --efuse "$d/ef.bin" --flash "$d/sec.bin" --sdkconfig "$d/s.cfg" --chip-rev v3.0 --provision
    contains "$T/out" "^BOOTED: app 'app' version 7.1"
    ok $E boot --chip "$chip" --efuse "$d/ef.bin" --flash "$d/sec.bin" --sdkconfig "$d/s.cfg" --chip-rev v3.0
    contains "$T/out" "^BOOTED: app 'app' version 7.1 from partition 'factory' at 0x10000, secure boot, flash encryption"
done <<'EOF'
esp32 ESP32 0x1000
esp32s2 ESP32-S2 0x1000
esp32s3 ESP32-S3 0x0
esp32c2 ESP32-C2 0x0
esp32c3 ESP32-C3 0x0
esp32c5 ESP32-C5 0x2000
esp32c6 ESP32-C6 0x0
esp32c61 ESP32-C61 0x0
esp32h2 ESP32-H2 0x0
esp32p4 ESP32-P4 0x2000
EOF

# chips without security features or without a known link layout are refused with a reason
bad "ESP8266" $E image sample --chip esp8266 -o "$T/x.bin"
absent "$T/x.bin"
bad "esp32h4" $E image sample --chip esp32h4 -o "$T/x.bin"
absent "$T/x.bin"
bad "--chip 'esp31'" $E image sample --chip esp31 -o "$T/x.bin"
finish
