# espsec ota encrypt/decrypt/public-key/generate-key/info: esp_encrypted_img's pre-encrypted images.
. "$(dirname "$0")/lib.inc"
V=$VECTORS/ota_enc

# decrypt what Espressif's script made: RSA-3072, ECIES-P256 (HMAC key and derived PEM), empty image
ok "$ESPSEC" ota decrypt --key "$V/input/rsa_priv_key.pem" -o "$T/d_rsa.bin" "$V/expected/app_rsa.bin"
same "$T/d_rsa.bin" "$V/input/app.bin"
ok "$ESPSEC" ota decrypt --hmac-key "$V/input/device_hmac_key.bin" -o "$T/d_ecc.bin" "$V/expected/app_ecc.bin"
same "$T/d_ecc.bin" "$V/input/app.bin"
ok "$ESPSEC" ota decrypt "$V/expected/empty_rsa.bin" "$V/input/rsa_priv_key.pem" "$T/d_empty.bin"
same "$T/d_empty.bin" "$V/input/empty.bin"
# plaintext written 0600
[ "$(stat -c %a "$T/d_rsa.bin")" = 600 ] || fail "decrypted image mode $(stat -c %a "$T/d_rsa.bin"), 600 expected"

# the derived device public key is byte-identical to the script's
ok "$ESPSEC" ota public-key --hmac-key "$V/input/device_hmac_key.bin" -o "$T/dev_pub.pem"
same "$T/dev_pub.pem" "$V/input/device_pub_key.pem"
bad "exists" "$ESPSEC" ota public-key --hmac-key "$V/input/device_hmac_key.bin" -o "$T/dev_pub.pem"

# our own images, both schemes and both argument orders, round trip
ok "$ESPSEC" ota encrypt --key "$V/input/rsa_pub_key.pem" -o "$T/e_rsa.bin" "$V/input/app.bin"
ok "$ESPSEC" ota decrypt -k "$V/input/rsa_priv_key.pem" -o "$T/r_rsa.bin" "$T/e_rsa.bin"
same "$T/r_rsa.bin" "$V/input/app.bin"
ok "$ESPSEC" ota encrypt "$V/input/app.bin" "$V/input/device_pub_key.pem" "$T/e_ecc.bin"
ok "$ESPSEC" ota decrypt --hmac-key "$V/input/device_hmac_key.bin" -o "$T/r_ecc.bin" "$T/e_ecc.bin"
same "$T/r_ecc.bin" "$V/input/app.bin"
[ "$(stat -c %s "$T/e_ecc.bin")" = $((70001 + 512)) ] || fail "encrypted size"
ok "$ESPSEC" ota info "$T/e_ecc.bin"
contains "$T/out" "plaintext size 70001 bytes"
# two encryptions of the same image differ (fresh key and IV)
ok "$ESPSEC" ota encrypt --key "$V/input/rsa_pub_key.pem" -o "$T/e_rsa2.bin" "$V/input/app.bin"
cmp -s "$T/e_rsa.bin" "$T/e_rsa2.bin" && fail "two encryptions are identical"

# refusals: wrong key, modified header/body/tag, truncated, trailing data, wrong magic, public key to decrypt
ok "$ESPSEC" ota generate-key --scheme rsa3072 --dir "$T"
[ "$(stat -c %a "$T/rsa_priv_key.pem")" = 600 ] || fail "private key not 0600"
bad "exists" "$ESPSEC" ota generate-key --scheme rsa3072 --dir "$T"
bad "does not open with this RSA key" "$ESPSEC" ota decrypt -k "$T/rsa_priv_key.pem" -o "$T/x.bin" "$V/expected/app_rsa.bin"
absent "$T/x.bin"
ok "$ESPSEC" ota generate-key --dir "$T"
[ "$(stat -c %a "$T/device_hmac_key.bin")" = 600 ] || fail "HMAC key not 0600"
bad "authentication failed" "$ESPSEC" ota decrypt --hmac-key "$T/device_hmac_key.bin" -o "$T/x.bin" "$V/expected/app_ecc.bin"
absent "$T/x.bin"
flip() { cp "$1" "$2"; printf "\\x$(printf %02x $(( $(od -An -tu1 -j "$3" -N1 "$1") ^ 1 )))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none; }
for off in 20 300 390 410 600 70512; do
    flip "$V/expected/app_rsa.bin" "$T/f.bin" $off
    CHECKS=$((CHECKS + 1))
    if "$ESPSEC" ota decrypt -k "$V/input/rsa_priv_key.pem" -o "$T/x.bin" "$T/f.bin" 2>"$T/err" >/dev/null; then
        fail "bit flip at $off accepted"
    fi
    absent "$T/x.bin"
done
flip "$V/expected/app_ecc.bin" "$T/f.bin" 10
bad "not a point on P-256\|authentication failed" "$ESPSEC" ota decrypt --hmac-key "$V/input/device_hmac_key.bin" -o "$T/x.bin" "$T/f.bin"
flip "$V/expected/app_ecc.bin" "$T/f.bin" 404
bad "size field" "$ESPSEC" ota decrypt --hmac-key "$V/input/device_hmac_key.bin" -o "$T/x.bin" "$T/f.bin"
head -c 1000 "$V/expected/app_ecc.bin" > "$T/short.bin"
bad "truncated" "$ESPSEC" ota decrypt --hmac-key "$V/input/device_hmac_key.bin" -o "$T/x.bin" "$T/short.bin"
cat "$V/expected/app_ecc.bin" "$V/input/empty.bin" > "$T/long.bin"; printf 'x' >> "$T/long.bin"
bad "trailing data" "$ESPSEC" ota info "$T/long.bin"
head -c 100 "$V/expected/app_ecc.bin" > "$T/tiny.bin"
bad "512-byte header" "$ESPSEC" ota info "$T/tiny.bin"
bad "magic" "$ESPSEC" ota info "$V/input/app.bin"
bad "private key" "$ESPSEC" ota decrypt -k "$V/input/rsa_pub_key.pem" -o "$T/x.bin" "$V/expected/app_rsa.bin"
bad "P-384\|secp384r1\|P-256" "$ESPSEC" ota encrypt -k "$VECTORS/secure_boot/input/key_ecdsa384.pem" -o "$T/x.bin" "$V/input/app.bin"
bad "HMAC key file holds 32" "$ESPSEC" ota decrypt --hmac-key "$V/input/rsa_pub_key.pem" -o "$T/x.bin" "$V/expected/app_ecc.bin"
bad "one of --key" "$ESPSEC" ota decrypt -o "$T/x.bin" "$V/expected/app_ecc.bin"
ok "$ESPSEC" ota --help
ok "$ESPSEC" ota encrypt --help

# cross-check with Espressif's script when it is at hand
if [ -n "${ESP_ENC_IMG_GEN:-}" ] && [ -f "$ESP_ENC_IMG_GEN" ]; then
    ok python3 "$ESP_ENC_IMG_GEN" decrypt "$T/e_rsa.bin" "$V/input/rsa_priv_key.pem" "$T/py_rsa.bin"
    same "$T/py_rsa.bin" "$V/input/app.bin"
else
    echo "note: ESP_ENC_IMG_GEN not set; the cross-check with esp_enc_img_gen.py is skipped"
fi
# the virtual device takes a pre-encrypted update as the app does: decrypted, then esp_ota_write/esp_ota_end
D0=$T/dev
mkdir -p "$D0" && cd "$D0" || exit 1
printf 'CONFIG_IDF_TARGET="esp32c3"\n' > s.cfg
"$ESPSEC" image sample --chip esp32c3 --kind bootloader -o bl.bin >/dev/null
for v in 1 2; do "$ESPSEC" image sample --chip esp32c3 --project app --app-version $v.0 --secure-version $v --seed $v -o a$v.bin >/dev/null; done
printf 'nvs,data,nvs,0x9000,0x4000,\notadata,data,ota,0xd000,0x2000,\nphy_init,data,phy,0xf000,0x1000,\nota_0,app,ota_0,0x10000,0x100000,\nota_1,app,ota_1,0x110000,0x100000,\n' > ota.csv
"$ESPSEC" partition-table ota.csv pt.bin >/dev/null
"$ESPSEC" image merge-bin -o fl.bin --fill-flash-size 4MB 0x0 bl.bin 0x8000 pt.bin 0x10000 a1.bin >/dev/null
DEV="--chip esp32c3 --efuse ef.bin --flash fl.bin --sdkconfig s.cfg"
ok "$ESPSEC" boot $DEV --provision
ok "$ESPSEC" ota encrypt --key "$V/input/rsa_pub_key.pem" -o a2.enc a2.bin
cp fl.bin fl.before
CHECKS=$((CHECKS + 1))
"$ESPSEC" ota write $DEV a2.enc >out 2>err && fail "an encrypted image was written without the key"
grep -q "ESP_ERR_OTA_VALIDATE_FAILED: the image is pre-encrypted" err || fail "no pre-encrypted refusal: $(cat err)"
same fl.bin fl.before
head -c 30000 a2.enc > a2.short
CHECKS=$((CHECKS + 1))
"$ESPSEC" ota write $DEV --pre-encrypted-key "$V/input/rsa_priv_key.pem" a2.short >out 2>err && fail "a truncated image was accepted"
grep -q "esp_encrypted_img_decrypt_data returned ESP_FAIL.*truncated.*otadata unchanged" err || fail "truncated: $(cat err)"
CHECKS=$((CHECKS + 1))
"$ESPSEC" ota write $DEV --pre-encrypted-hmac-key "$V/input/device_hmac_key.bin" a2.enc >out 2>err && fail "wrong key accepted"
grep -q "esp_encrypted_img_decrypt_.*ESP_FAIL" err || fail "wrong key: $(cat err)"
same fl.bin fl.before
ok "$ESPSEC" ota write $DEV --pre-encrypted-key "$V/input/rsa_priv_key.pem" a2.enc
contains "$T/out" "tag verified"
contains "$T/out" "OTA ACCEPTED: 'app' version 2.0"
ok "$ESPSEC" boot $DEV
contains "$T/out" "BOOTED: app 'app' version 2.0 from partition 'ota_1'"
ok "$ESPSEC" ota encrypt --key "$V/input/device_pub_key.pem" -o a1.enc a1.bin
ok "$ESPSEC" ota write $DEV --pre-encrypted-hmac-key "$V/input/device_hmac_key.bin" a1.enc
ok "$ESPSEC" boot $DEV
contains "$T/out" "BOOTED: app 'app' version 1.0 from partition 'ota_0'"
cd "$T" || exit 1
finish
