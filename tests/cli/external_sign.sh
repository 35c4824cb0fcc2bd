# Signing where the key never leaves the vault: --export-digest + an external signer (openssl pkeyutl standing
# in for a KMS) + --pub-key/--signature; password-protected keys (--keyfile-password-env, generate --encrypt).
. "$(dirname "$0")/lib.inc"
S=$VECTORS/secure_boot/input
APP=$VECTORS/ota_enc/input/app.bin   # 70001 bytes: not sector-aligned

for s in rsa3072 ecdsa256 ecdsa384; do
    K=$S/key_$s.pem
    ok "$ESPSEC" secure extract-public-key --version 2 -k "$K" "$T/pub_$s.pem"
    ok "$ESPSEC" secure sign-data --version 2 --export-digest "$T/d_$s.bin" --pub-key "$T/pub_$s.pem" -o "$T/pad_$s.bin" "$APP"
    want=32; [ $s = ecdsa384 ] && want=48
    [ "$(stat -c %s "$T/d_$s.bin")" = $want ] || fail "$s digest size"
    [ "$(stat -c %s "$T/pad_$s.bin")" = 73728 ] || fail "$s padded image size"
    if [ $s = rsa3072 ]; then
        openssl pkeyutl -sign -inkey "$K" -in "$T/d_$s.bin" -out "$T/sig_$s.bin" -pkeyopt digest:sha256 \
            -pkeyopt rsa_padding_mode:pss -pkeyopt rsa_pss_saltlen:32 || fail "openssl pkeyutl $s"
    else
        openssl pkeyutl -sign -inkey "$K" -in "$T/d_$s.bin" -out "$T/sig_$s.bin" || fail "openssl pkeyutl $s"
    fi
    ok "$ESPSEC" secure sign-data --version 2 --pub-key "$T/pub_$s.pem" --signature "$T/sig_$s.bin" -o "$T/signed_$s.bin" "$T/pad_$s.bin"
    ok "$ESPSEC" secure verify-signature --version 2 -k "$K" "$T/signed_$s.bin"
    contains "$T/out" "Signature block 0 is valid"
    # the same image signed with the key directly differs only in the (random) signature
    ok "$ESPSEC" secure sign-data --version 2 -k "$K" -o "$T/direct_$s.bin" "$APP"
    cmp -s <(head -c 73728 "$T/signed_$s.bin") <(head -c 73728 "$T/direct_$s.bin") || fail "$s: padded image differs"
done
# --scheme picks the hash without a public key; a wrong signature is refused
ok "$ESPSEC" secure sign-data --version 2 --export-digest "$T/d384b.bin" --scheme ecdsa384 "$APP"
same "$T/d384b.bin" "$T/d_ecdsa384.bin"
ok "$ESPSEC" secure sign-data --version 2 --export-digest "$T/d256b.bin" "$APP"
same "$T/d256b.bin" "$T/d_rsa3072.bin"
bad "verif\|signature" "$ESPSEC" secure sign-data --version 2 --pub-key "$T/pub_ecdsa256.pem" --signature "$T/sig_ecdsa384.bin" -o "$T/x.bin" "$T/pad_ecdsa256.bin"
absent "$T/x.bin"
bad "export-digest is for Secure Boot V2" "$ESPSEC" secure sign-data --version 1 --export-digest "$T/x.bin" "$APP"
bad "export-digest is for Secure Boot V2" "$ESPSEC" secure sign-data --version 2 -k "$S/key_rsa3072.pem" --export-digest "$T/x.bin" "$APP"

# password-protected keys
export ESPSEC_TEST_PW=correct-horse
ok "$ESPSEC" secure generate-signing-key --version 2 --scheme ecdsa256 --encrypt --keyfile-password-env ESPSEC_TEST_PW "$T/enc.pem"
grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$T/enc.pem" || fail "generate --encrypt wrote a clear key"
[ "$(stat -c %a "$T/enc.pem")" = 600 ] || fail "encrypted key not 0600"
bad "password-protected" "$ESPSEC" secure sign-data --version 2 -k "$T/enc.pem" -o "$T/x.bin" "$APP" </dev/null
absent "$T/x.bin"
ok "$ESPSEC" secure sign-data --version 2 -k "$T/enc.pem" --keyfile-password-env ESPSEC_TEST_PW -o "$T/e.bin" "$APP"
ok "$ESPSEC" secure verify-signature --version 2 -k "$T/enc.pem" --keyfile-password-env ESPSEC_TEST_PW "$T/e.bin"
ESPSEC_TEST_PW=wrong bad "wrong password" "$ESPSEC" secure digest-sbv2-public-key -k "$T/enc.pem" --keyfile-password-env ESPSEC_TEST_PW -o "$T/x.bin"
bad "not set" "$ESPSEC" secure digest-sbv2-public-key -k "$T/enc.pem" --keyfile-password-env ESPSEC_NO_SUCH_VAR -o "$T/x.bin"
ok "$ESPSEC" secure digest-sbv2-public-key -k "$T/enc.pem" --keyfile-password-env ESPSEC_TEST_PW -o "$T/dg.bin"
openssl pkey -in "$T/enc.pem" -passin env:ESPSEC_TEST_PW -pubout -out "$T/enc_pub.pem" 2>/dev/null || fail "openssl reads our encrypted key"
ok "$ESPSEC" secure digest-sbv2-public-key -k "$T/enc_pub.pem" -o "$T/dg2.bin"
same "$T/dg.bin" "$T/dg2.bin"
# a traditional-format encrypted key made by openssl, and an RSA key
openssl genrsa -aes256 -passout env:ESPSEC_TEST_PW -traditional -out "$T/rsa_enc.pem" 3072 2>/dev/null || openssl genrsa -aes256 -passout env:ESPSEC_TEST_PW -out "$T/rsa_enc.pem" 3072 2>/dev/null
ok "$ESPSEC" secure sign-data --version 2 -k "$T/rsa_enc.pem" --keyfile-password-env ESPSEC_TEST_PW -o "$T/r.bin" "$APP"
ok "$ESPSEC" secure extract-public-key --version 2 -k "$T/rsa_enc.pem" --keyfile-password-env ESPSEC_TEST_PW "$T/r_pub.pem"
ok "$ESPSEC" secure verify-signature --version 2 -k "$T/r_pub.pem" "$T/r.bin"
bad "empty password\|needs a password" "$ESPSEC" secure generate-signing-key --version 2 --encrypt "$T/k2.pem" </dev/null
absent "$T/k2.pem"
# secure-cert takes an encrypted device key the same way
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -aes256 -passout env:ESPSEC_TEST_PW -out "$T/dev_enc.key" 2>/dev/null
ok "$ESPSEC" secure-cert generate --device-cert "$VECTORS/secure_cert/input/dev.pem" --private-key "$T/dev_enc.key" --keyfile-password-env ESPSEC_TEST_PW -o "$T/sc.bin"
grep -q "BEGIN EC PRIVATE KEY" "$T/sc.bin" || fail "secure-cert did not store the decrypted key as the reference does"
bad "encrypted: give its password" "$ESPSEC" secure-cert generate --private-key "$T/dev_enc.key" -o "$T/x.bin"
finish
