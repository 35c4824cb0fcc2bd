# espsec secure-cert: esp_secure_cert partitions against configure_esp_secure_cert.py's outputs.
. "$(dirname "$0")/lib.inc"
V=$VECTORS/secure_cert
I=$V/input
cd "$V" || exit 1

# byte-identical with the reference
ok "$ESPSEC" secure-cert generate --ca-cert input/ca.pem --device-cert input/dev.pem --private-key input/dev.key --target_chip esp32c3 -o "$T/plain.bin"
same "$T/plain.bin" expected/plain.bin
[ "$(stat -c %a "$T/plain.bin")" = 600 ] || fail "a partition with a private key is not 0600"
ok "$ESPSEC" secure-cert generate --device-cert input/dev.pem --private-key input/dev.key --target-chip esp32s3 -o "$T/devonly.bin"
same "$T/devonly.bin" expected/devonly.bin
(cd input/espressif && "$ESPSEC" secure-cert generate --esp_secure_cert_csv esp_secure_cert_config_examples.csv --target_chip esp32c3 -o "$T/csv.bin" >/dev/null) || fail "CSV generate"
same "$T/csv.bin" expected/espressif_csv.bin
ok "$ESPSEC" secure-cert generate --ca-cert input/ca.pem --device-cert input/rsa_dev.pem --private-key input/rsa2048.key --configure_ds --priv_key_algo RSA 2048 --efuse_key_file input/hmac.bin --efuse_key_id 1 --target_chip esp32s3 --ds-iv 41dcd5492230559d58208ab93a6ee70e -o "$T/ds_s3.bin"
same "$T/ds_s3.bin" expected/rsa_ds_s3.bin
contains "$T/out" "burn-key BLOCK_KEY1 input/hmac.bin HMAC_DOWN_DIGITAL_SIGNATURE"
ok "$ESPSEC" secure-cert generate --device-cert input/rsa_dev.pem --private-key input/rsa2048.key --configure-ds --priv-key-algo RSA 2048 --hmac-key input/hmac.bin --efuse-key-id 3 --target-chip esp32c3 --ds-iv 829cea891c46b50da2eba19dbd136078 -o "$T/ds_c3.bin"
same "$T/ds_c3.bin" expected/rsa_ds_c3.bin
ok "$ESPSEC" secure-cert generate --ca-cert input/ca.pem --device-cert input/dev.pem --private-key input/dev.key --configure_ds --priv_key_algo ECDSA 256 --efuse_key_id 2 --target_chip esp32h2 --store-peripheral-key -o "$T/ec_ref.bin"
same "$T/ec_ref.bin" expected/ecdsa_peripheral_h2.bin
# by default the peripheral's key stays out of flash: same layout, empty PRIV_KEY value
ok "$ESPSEC" secure-cert generate --ca-cert input/ca.pem --device-cert input/dev.pem --private-key input/dev.key --configure_ds --priv_key_algo ECDSA 256 --efuse_key_id 2 --target_chip esp32h2 -o "$T/ec.bin"
ok "$ESPSEC" secure-cert info "$T/ec.bin"
contains "$T/out" "PRIV_KEY_TLV             subtype 0, 0 bytes, flags 0x08 (ECDSA peripheral key)"
contains "$T/out" "key in eFuse block 6 (BLOCK_KEY2)"
grep -q "PRIVATE KEY" "$T/ec.bin" && fail "the ECDSA-peripheral key was stored in the partition"

# the reference's partitions parse and verify; DS parameters open with the HMAC key
for f in plain devonly espressif_csv rsa_ds_s3 ecdsa_peripheral_h2 signed; do
    ok "$ESPSEC" secure-cert verify "expected/$f.bin"
done
ok "$ESPSEC" secure-cert info expected/rsa_ds_s3.bin --hmac-key input/hmac.bin --target-chip esp32s3
contains "$T/out" "DS parameters valid with the HMAC key: RSA-2048"
ok "$ESPSEC" secure-cert info expected/rsa_ds_c3.bin --hmac-key input/hmac.bin --target-chip esp32c3
contains "$T/out" "eFuse key id 3, RSA-2048"
ok "$ESPSEC" secure-cert info --json expected/espressif_csv.bin
contains "$T/out" '"type_name": "ESP_SECURE_CERT_USER_DATA_2_TLV"'
ok "$ESPSEC" secure-cert verify expected/signed.bin -k input/sb_rsa.pem -k input/sb_ec.pem
contains "$T/out" "Signature block 0 is valid"
contains "$T/out" "Signature block 1 is valid"
# the reference's "flash this" file in signing mode does not verify (signature TLVs before the entries)
bad "failed their checks" "$ESPSEC" secure-cert verify expected/quirk_signed_unsigned_layout.bin

# signing: the layout of the reference's signed file; only signature bytes (and the CRCs/integrity over them) differ
ok "$ESPSEC" secure-cert generate --ca-cert input/ca.pem --device-cert input/dev.pem --private-key input/dev.key --secure-sign --signing-key-file input/sb_rsa.pem input/sb_ec.pem -o "$T/signed.bin"
ok "$ESPSEC" secure-cert verify "$T/signed.bin" -k input/sb_rsa.pem -k input/sb_ec.pem
cmp -s <(head -c 2200 "$T/signed.bin") <(head -c 2200 expected/signed.bin) || fail "signed partition differs before the RSA signature"
[ "$(stat -c %s "$T/signed.bin")" = "$(stat -c %s expected/signed.bin)" ] || fail "signed partition size"
ok "$ESPSEC" secure-cert generate --device-cert input/dev.pem --private-key input/dev.key --sign-key "$VECTORS/secure_boot/input/key_ecdsa384.pem" -o "$T/s384.bin"
ok "$ESPSEC" secure-cert verify "$T/s384.bin" -k "$VECTORS/secure_boot/input/key_ecdsa384.pem"
bad "No valid signature\|failed" "$ESPSEC" secure-cert verify "$T/s384.bin" -k input/sb_ec.pem
bad "P-192" "$ESPSEC" secure-cert generate --device-cert input/dev.pem --sign-key "$VECTORS/secure_boot/input/key_ecdsa192.pem" -o "$T/x.bin"
absent "$T/x.bin"

# HMAC-encrypted private key (the device's HMAC_UP AES-GCM form)
ok "$ESPSEC" secure-cert generate --device-cert input/dev.pem --private-key input/dev.key --hmac-encrypt --hmac-key input/hmac.bin -o "$T/enc.bin"
grep -q "PRIVATE KEY" "$T/enc.bin" && fail "HMAC-encrypted key stored in clear"
ok "$ESPSEC" secure-cert verify "$T/enc.bin" --hmac-key input/hmac.bin
contains "$T/out" "flags 0x80 (HMAC-encrypted)"
contains "$T/out" "decrypts with the HMAC key: yes"
head -c 32 /dev/zero > "$T/zero.key"
bad "failed their checks" "$ESPSEC" secure-cert verify "$T/enc.bin" --hmac-key "$T/zero.key"

# DS with a fresh HMAC key: written 0600 next to the output, never replaced
mkdir "$T/ds"
ok "$ESPSEC" secure-cert generate --device-cert input/rsa_dev.pem --private-key input/rsa2048.key --configure_ds --priv_key_algo RSA 2048 --target_chip esp32c6 -o "$T/ds/p.bin"
[ "$(stat -c %a "$T/ds/hmac_key.bin")" = 600 ] || fail "new HMAC key not 0600"
ok "$ESPSEC" secure-cert info "$T/ds/p.bin" --hmac-key "$T/ds/hmac_key.bin" --target-chip esp32c6
contains "$T/out" "DS parameters valid"
bad "exists" "$ESPSEC" secure-cert generate --device-cert input/rsa_dev.pem --private-key input/rsa2048.key --configure_ds --priv_key_algo RSA 2048 --target_chip esp32c6 -o "$T/ds/p2.bin"

# refusals, as the reference makes them (and more)
bad "RSA-2048 was asked\|RSA-4096\|asked for" "$ESPSEC" secure-cert generate --device-cert input/rsa_dev.pem --private-key input/rsa2048.key --configure_ds --priv_key_algo RSA 4096 --efuse_key_file input/hmac.bin --target_chip esp32c3 -o "$T/x.bin"
bad "no RSA DS peripheral" "$ESPSEC" secure-cert generate --private-key input/rsa2048.key --configure_ds --priv_key_algo RSA 2048 --efuse_key_file input/hmac.bin --target_chip esp32c61 -o "$T/x.bin"
bad "ECDSA peripheral" "$ESPSEC" secure-cert generate --private-key input/dev.key --configure_ds --priv_key_algo ECDSA 256 --target_chip esp32s3 -o "$T/x.bin"
bad "takes an RSA key" "$ESPSEC" secure-cert generate --private-key input/dev.key --configure_ds --priv_key_algo RSA 2048 --efuse_key_file input/hmac.bin --target_chip esp32s3 -o "$T/x.bin"
bad "HMAC key file holds 32" "$ESPSEC" secure-cert generate --private-key input/rsa2048.key --configure_ds --priv_key_algo RSA 2048 --efuse_key_file input/dev.key --target_chip esp32s3 -o "$T/x.bin"
bad "ESP8266\|no Secure Boot\|not modelled\|security" "$ESPSEC" secure-cert generate --device-cert input/dev.pem --target_chip esp8266 -o "$T/x.bin"
bad "host only" "$ESPSEC" secure-cert generate --device-cert input/dev.pem -p /dev/ttyUSB0 -o "$T/x.bin"
bad "nothing to put" "$ESPSEC" secure-cert generate -o "$T/x.bin"
bad "input/dev.key: .*certificate" "$ESPSEC" secure-cert generate --device-cert input/dev.key -o "$T/x.bin"
printf 'tlv_type,tlv_subtype,data_value,data_type,priv_key_type,algorithm,key_size,efuse_id,efuse_key\nESP_SECURE_CERT_DEV_CERT_TLV,0,input/dev.pem,file,,,,,\nESP_SECURE_CERT_DEV_CERT_TLV,0,input/dev.pem,file,,,,,\n' > "$T/dup.csv"
bad "line 3: duplicate entry" "$ESPSEC" secure-cert generate --config "$T/dup.csv" -o "$T/x.bin"
printf 'tlv_type,tlv_subtype,data_value,data_type\nESP_SECURE_CERT_USER_DATA_1_TLV,0,zz,hex\n' > "$T/hex.csv"
bad "line 2: data_value is not valid hex" "$ESPSEC" secure-cert generate --config "$T/hex.csv" -o "$T/x.bin"
printf 'tlv_type,tlv_subtype,data_value,data_type\nNOT_A_TYPE,0,x,string\n' > "$T/type.csv"
bad "line 2: tlv_type 'NOT_A_TYPE'" "$ESPSEC" secure-cert generate --config "$T/type.csv" -o "$T/x.bin"
head -c 5000 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$T/big.hex"
printf 'tlv_type,tlv_subtype,data_value,data_type\n51,0,%s,hex\n52,0,%s,hex\n' "$(cat "$T/big.hex")" "$(cat "$T/big.hex")" > "$T/big.csv"
bad "does not fit" "$ESPSEC" secure-cert generate --config "$T/big.csv" -o "$T/x.bin"
absent "$T/x.bin"

# hostile partitions: every single-bit flip of a valid one is caught (CRC, integrity or parse error)
cp expected/plain.bin "$T/flip.bin"
n=0
for off in 0 4 8 9 10 12 100 600 1100 1360 1372 1380 1400 1407; do
    cp expected/plain.bin "$T/flip.bin"
    printf "\\x$(printf %02x $(( $(od -An -tu1 -j $off -N1 expected/plain.bin) ^ 0x10 )))" | dd of="$T/flip.bin" bs=1 seek=$off conv=notrunc status=none
    CHECKS=$((CHECKS + 1))
    if "$ESPSEC" secure-cert verify "$T/flip.bin" >/dev/null 2>&1; then fail "bit flip at $off accepted"; fi
done
head -c 700 expected/plain.bin > "$T/trunc.bin"
bad "runs past the end" "$ESPSEC" secure-cert info "$T/trunc.bin"
bad "no TLV magic" "$ESPSEC" secure-cert info input/hmac.bin
ok "$ESPSEC" secure-cert --help
ok "$ESPSEC" secure-cert generate --help
finish
