# espsec secure: espsecure's commands, both spellings, against the vectors.
. "$(dirname "$0")/lib.inc"
S=$VECTORS/secure_boot/ed1
E=$VECTORS/flash_encryption/ed1

# key digests, public keys (v4 and v5 spellings)
for s in rsa3072 ecdsa192 ecdsa256 ecdsa384; do
    ok "$ESPSEC" secure digest-sbv2-public-key --keyfile "$S/input/key_$s.pem" --output "$T/d_$s.bin"
    same "$T/d_$s.bin" "$S/expected/digest_$s.bin"
    ok "$ESPSEC" secure extract_public_key --version 2 --keyfile "$S/input/key_$s.pem" "$T/p_$s.pem"
    same "$T/p_$s.pem" "$S/expected/pub_$s.pem"
    ok "$ESPSEC" secure verify_signature --version 2 --keyfile "$S/input/key_$s.pem" "$S/expected/app_8k_$s.signed"
    ok "$ESPSEC" secure verify-signature -v 2 -k "$T/p_$s.pem" "$S/expected/app_8k_$s.signed"
    # sign and verify our own output; byte layout checked in the unit test
    ok "$ESPSEC" secure sign-data -v 2 -k "$S/input/key_$s.pem" -o "$T/s_$s.signed" "$S/input/app_8k.bin"
    ok "$ESPSEC" secure verify-signature -v 2 -k "$T/p_$s.pem" "$T/s_$s.signed"
done
ok "$ESPSEC" secure digest_rsa_public_key -k "$S/input/key_rsa3072.pem" -o "$T/rd.bin"
same "$T/rd.bin" "$S/expected/rsa_digest.bin"

# several keys, options before and after the data file
ok "$ESPSEC" secure sign_data --version 2 --keyfile "$S/input/key_rsa3072.pem" "$S/input/key_rsa3072_b.pem" "$S/input/key_rsa3072_c.pem" --output "$T/3.signed" "$S/input/app_8k.bin"
ok "$ESPSEC" secure sign-data -v 2 -o "$T/3b.signed" -k "$S/input/key_rsa3072.pem" "$S/input/key_rsa3072_b.pem" "$S/input/app_8k.bin"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072_b.pem" "$T/3b.signed"
for k in "" _b _c; do ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072$k.pem" "$T/3.signed"; done
ok "$ESPSEC" secure signature_info_v2 "$T/3.signed"
contains "$T/out" "Public key digest for block 2"
ok "$ESPSEC" secure signature-info-v2 "$S/expected/app_8k_3keys.signed"
sed 's/^espsecure v5.3.1$//' "$S/expected/info_3keys.log" | sed '/^$/d' > "$T/info_expected"
same "$T/out" "$T/info_expected"
# append to an espsecure-signed image (v4 spelling of the option)
ok "$ESPSEC" secure sign-data -v 2 --append_signatures -k "$S/input/key_rsa3072_b.pem" -o "$T/app.signed" "$S/expected/app_8k_rsa3072.signed"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072.pem" "$T/app.signed"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072_b.pem" "$T/app.signed"
# in place when no --output
cp "$S/input/app_8k.bin" "$T/inplace.bin"
ok "$ESPSEC" secure sign-data -v 2 -k "$S/input/key_ecdsa256.pem" "$T/inplace.bin"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_ecdsa256.pem" "$T/inplace.bin"
# skip padding
ok "$ESPSEC" secure verify-signature -v 2 --skip-padding -k "$S/input/key_rsa3072.pem" "$S/expected/app_8k_rsa_nopad.signed"
# detached signatures made by openssl, as a signing server would
openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sign "$S/input/key_rsa3072.pem" -out "$T/sig.bin" "$S/input/app_8k.bin"
ok "$ESPSEC" secure sign-data -v 2 --pub-key "$S/expected/pub_rsa3072.pem" --signature "$T/sig.bin" -o "$T/det.signed" "$S/input/app_8k.bin"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/expected/pub_rsa3072.pem" "$T/det.signed"
openssl dgst -sha256 -sign "$S/input/key_ecdsa256.pem" -out "$T/sig2.bin" "$S/input/app_8k.bin"
ok "$ESPSEC" secure sign-data -v 2 --pub_key "$S/expected/pub_ecdsa256.pem" --signature "$T/sig2.bin" -o "$T/det2.signed" "$S/input/app_8k.bin"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_ecdsa256.pem" "$T/det2.signed"
bad "not made with the given public key" "$ESPSEC" secure sign-data -v 2 --pub-key "$S/expected/pub_rsa3072.pem" --signature "$T/sig2.bin" -o "$T/det3.signed" "$S/input/app_8k.bin"
absent "$T/det3.signed"

# failures: one line, no output
bad "Checked all blocks. Signature could not be verified with the provided key." "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072_b.pem" "$S/expected/app_8k_rsa3072.signed"
# espsecure's per-block lines, which scripts grep for
grep -qx "Signature block 0 is valid (RSA)." "$T/out" || fail "verify-signature: no 'Signature block 0 is valid (RSA).' line"
grep -qx "Signature block 0 is not signed by the supplied key. Checking the next block..." "$T/out" || fail "verify-signature: no 'not signed by the supplied key' line"
grep -qx "Signature block 1 invalid. Skipping." "$T/out" || fail "verify-signature: no 'Signature block 1 invalid. Skipping.' line"
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072.pem" "$S/expected/app_8k_rsa3072.signed"
grep -qx "Signature block 0 verification successful using the supplied key (RSA)." "$T/out" || fail "verify-signature: no success line for block 0"
V=$VECTORS/secure_boot
bad "Invalid datafile. File too small (must be at least 4096 bytes)" "$ESPSEC" secure verify-signature -v 2 --skip-padding -k "$V/input/key_rsa3072.pem" "$V/input/iv_32.bin"
ok "$ESPSEC" secure sign-data -v 2 --skip-padding -k "$V/input/key_rsa3072.pem" -o "$T/nopad.signed" "$V/input/app_unaligned.bin"
grep -qx "Skipping sector padding. Data contents are not sector aligned." "$T/out" || fail "sign-data --skip-padding: no 'Skipping sector padding' line"
bad "image digest does not match" "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072.pem" "$S/expected/app_8k_rsa3072_tampered.signed"
bad "Invalid datafile. Data size should be non-zero & a multiple of 4096" "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072.pem" "$S/input/app_64k_unaligned.bin"
bad "not a PEM key" "$ESPSEC" secure sign-data -v 2 -k "$S/input/app_8k.bin" -o "$T/x.signed" "$S/input/app_8k.bin"
absent "$T/x.signed"
bad "cannot open" "$ESPSEC" secure sign-data -v 2 -k "$T/missing.pem" -o "$T/x.signed" "$S/input/app_8k.bin"
bad "should not be the same!" "$ESPSEC" secure sign-data -v 2 -k "$S/input/key_rsa3072.pem" -o "$S/input/key_rsa3072.pem" "$S/input/app_8k.bin"
bad "version 1 or 2 is required" "$ESPSEC" secure sign-data -k "$S/input/key_rsa3072.pem" -o "$T/x.signed" "$S/input/app_8k.bin"
bad "unknown option '--bogus'" "$ESPSEC" secure sign-data --bogus
bad "unknown command 'sign-everything'" "$ESPSEC" secure sign-everything
bad "missing argument DATAFILE" "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072.pem"
head -c 1000 "$S/input/key_rsa3072.pem" > "$T/trunc.pem"
bad "could not be decoded" "$ESPSEC" secure digest-sbv2-public-key -k "$T/trunc.pem" -o "$T/x.bin"
absent "$T/x.bin"

# V1
ok "$ESPSEC" secure sign_data --version 1 --keyfile "$S/input/key_v1.pem" --output "$T/v1.signed" "$S/input/app_8k.bin"
same "$T/v1.signed" "$S/expected/app_8k_v1.signed"
ok "$ESPSEC" secure sign-data -v 1 -k "$S/input/key_v1.pem" -o "$T/v1h.signed" "$S/input/app_hello.bin"
same "$T/v1h.signed" "$S/expected/app_hello_v1.signed"
ok "$ESPSEC" secure verify-signature -v 1 -k "$S/input/key_v1.pem" "$S/expected/app_8k_v1.signed"
ok "$ESPSEC" secure extract-public-key -v 1 -k "$S/input/key_v1.pem" "$T/pub_v1.bin"
same "$T/pub_v1.bin" "$S/expected/pub_v1.bin"
ok "$ESPSEC" secure verify-signature -v 1 -k "$T/pub_v1.bin" "$S/expected/app_8k_v1.signed"
cp "$S/expected/app_8k_v1.signed" "$T/v1t.signed"; printf '\x00' | dd of="$T/v1t.signed" bs=1 seek=100 conv=notrunc 2>/dev/null
bad "Signature is not valid." "$ESPSEC" secure verify-signature -v 1 -k "$S/input/key_v1.pem" "$T/v1t.signed"
bad "signature block version is 4294967295" "$ESPSEC" secure verify-signature -v 1 -k "$S/input/key_v1.pem" "$S/expected/app_8k_rsa3072.signed"
ok "$ESPSEC" secure digest_private_key --keyfile "$S/input/key_v1.pem" "$T/dk.bin"
same "$T/dk.bin" "$S/expected/sb_key_from_v1.bin"
ok "$ESPSEC" secure digest-private-key -k "$S/input/key_v1.pem" --keylen 192 "$T/dk192.bin"
same "$T/dk192.bin" "$S/expected/sb_key_from_v1_192.bin"
[ "$(stat -c %a "$T/dk.bin")" = 600 ] || fail "private key digest is not mode 0600"
# the digest is a V1 key: never written over an existing file (it used to replace it)
printf 'old V1 key' > "$T/dk_old.bin"
bad "refusing to overwrite a key" "$ESPSEC" secure digest_private_key --keyfile "$S/input/key_v1.pem" "$T/dk_old.bin"
[ "$(cat "$T/dk_old.bin")" = "old V1 key" ] || fail "digest_private_key replaced an existing key file"
ls -a "$T" | grep -q '^\.dk_old' && fail "digest_private_key left its temporary file behind"
# a short IV file is used as it is, as espsecure does (esptool's own test passes 32 bytes)
P=$VECTORS/secure_boot
ok "$ESPSEC" secure digest_secure_bootloader --keyfile "$P/input/secure_boot_key.bin" --iv "$P/input/iv_32.bin" --output "$T/bd32.bin" "$P/input/bootloader.bin"
same "$T/bd32.bin" "$P/expected/bootloader_digest_iv32.bin"
head -c 40 "$P/input/iv.bin" > "$T/iv40.bin"
bad "multiple of 16" "$ESPSEC" secure digest_secure_bootloader --keyfile "$P/input/secure_boot_key.bin" --iv "$T/iv40.bin" --output "$T/bd40.bin" "$P/input/bootloader.bin"
absent "$T/bd40.bin"
ok "$ESPSEC" secure digest_secure_bootloader --keyfile "$S/input/secure_boot_key.bin" --iv "$S/input/iv.bin" --output "$T/bd.bin" "$S/input/bootloader.bin"
same "$T/bd.bin" "$S/expected/bootloader_digest.bin"
bad "magic byte is 0xda" "$ESPSEC" secure digest-secure-bootloader -k "$S/input/secure_boot_key.bin" --iv "$S/input/iv.bin" -o "$T/bd2.bin" "$S/input/bootloader_30000.bin"
absent "$T/bd2.bin"
bad "only supports ECDSA NIST P-256" "$ESPSEC" secure sign-data -v 1 -k "$S/input/key_ecdsa384.pem" -o "$T/x1.signed" "$S/input/app_8k.bin"

# key generation: mode 0600, never overwrite
for s in rsa3072 ecdsa192 ecdsa256 ecdsa384; do
    ok "$ESPSEC" secure generate_signing_key --version 2 --scheme $s "$T/k_$s.pem"
    [ "$(stat -c %a "$T/k_$s.pem")" = 600 ] || fail "$s key is not mode 0600"
    ok "$ESPSEC" secure sign-data -v 2 -k "$T/k_$s.pem" -o "$T/k_$s.signed" "$S/input/app_8k.bin"
    ok "$ESPSEC" secure verify-signature -v 2 -k "$T/k_$s.pem" "$T/k_$s.signed"
done
ok "$ESPSEC" secure generate-signing-key -v 1 "$T/k_v1.pem"
contains "$T/k_v1.pem" "BEGIN EC PRIVATE KEY"
cp "$T/k_v1.pem" "$T/k_v1.copy"
bad "already exists" "$ESPSEC" secure generate-signing-key -v 2 "$T/k_v1.pem"
same "$T/k_v1.pem" "$T/k_v1.copy"
bad "only supports ECDSA256" "$ESPSEC" secure generate-signing-key -v 1 --scheme rsa3072 "$T/k_bad.pem"

# flash encryption: every reference case, both directions
for conf in 15 0 3 10; do
    for a in 0x0 0x1000 0x10000 0x123460; do
        ok "$ESPSEC" secure encrypt_flash_data --keyfile "$E/input/key_256.bin" --address $a --flash_crypt_conf $conf --output "$T/fe.bin" "$E/input/data_4k.bin"
        same "$T/fe.bin" "$E/expected/esp32_conf${conf}_$a.bin"
        ok "$ESPSEC" secure decrypt-flash-data -k "$E/input/key_256.bin" -a $a --flash-crypt-conf $conf -o "$T/fd.bin" "$E/expected/esp32_conf${conf}_$a.bin"
        same "$T/fd.bin" "$E/input/data_4k.bin"
    done
done
ok "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_256.bin" -a 0x10000 -o "$T/fe.bin" "$E/input/data_64k.bin"
same "$T/fe.bin" "$E/expected/esp32_64k_0x10000.bin"
ok "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_256.bin" -a 0x20 -o "$T/fe.bin" "$E/input/data_96.bin"
same "$T/fe.bin" "$E/expected/esp32_96_0x20.bin"
ok "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_192.bin" -a 0x1000 -o "$T/fe.bin" "$E/input/data_4k.bin"
same "$T/fe.bin" "$E/expected/esp32_key192.bin"
ok "$ESPSEC" secure decrypt-flash-data -k "$E/input/key_256.bin" -a 0x10000 -o "$T/fd.bin" "$E/expected/esp32_64k_0x10000.bin"
same "$T/fd.bin" "$E/expected/esp32_dec.bin"
for k in 256 512; do
    for a in 0x0 0x1000 0x10000 0x123480; do
        ok "$ESPSEC" secure encrypt-flash-data --aes-xts -k "$E/input/key_$k.bin" -a $a -o "$T/fe.bin" "$E/input/data_4k.bin"
        same "$T/fe.bin" "$E/expected/xts${k}_$a.bin"
        ok "$ESPSEC" secure decrypt_flash_data --aes_xts -k "$E/input/key_$k.bin" -a $a -o "$T/fd.bin" "$T/fe.bin"
        same "$T/fd.bin" "$E/input/data_4k.bin"
    done
done
ok "$ESPSEC" secure encrypt-flash-data -x -k "$E/input/key_256.bin" -a 0x20000 -o "$T/fe.bin" "$E/input/data_64k.bin"
same "$T/fe.bin" "$E/expected/xts256_64k.bin"
ok "$ESPSEC" secure encrypt-flash-data -x -k "$E/input/key_512.bin" -a 0x80 -o "$T/fe.bin" "$E/input/data_96.bin"
same "$T/fe.bin" "$E/expected/xts512_96.bin"
ok "$ESPSEC" secure decrypt-flash-data -x -k "$E/input/key_512.bin" -a 0x1000 -o "$T/fd.bin" "$E/expected/xts512_0x1000.bin"
same "$T/fd.bin" "$E/expected/xts_dec.bin"
bad "must be a multiple of 16" "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_256.bin" -a 0x11 -o "$T/bad_addr.bin" "$E/input/data_4k.bin"
absent "$T/bad_addr.bin"
bad "XTS-AES key is 192 bits" "$ESPSEC" secure encrypt-flash-data --aes-xts -k "$E/input/key_192.bin" -a 0 -o "$T/bad_keylen.bin" "$E/input/data_4k.bin"
absent "$T/bad_keylen.bin"
bad "ESP32 takes 256 bits" "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_512.bin" -a 0 -o "$T/bad_keylen.bin" "$E/input/data_4k.bin"
head -c 100 "$E/input/data_4k.bin" > "$T/odd.bin"
# ESP32 mode pads the last block (espsecure with random bytes, espsec with 0xFF); XTS and decryption refuse
ok "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_256.bin" -a 0 -o "$T/odd_enc.bin" "$T/odd.bin"
[ "$(stat -c %s "$T/odd_enc.bin")" = 112 ] || fail "odd-length ESP32 encryption is not padded to 112 bytes"
ok "$ESPSEC" secure decrypt-flash-data -k "$E/input/key_256.bin" -a 0 -o "$T/odd_dec.bin" "$T/odd_enc.bin"
{ cat "$T/odd.bin"; printf '\377%.0s' $(seq 12); } > "$T/odd_padded.bin"
same "$T/odd_dec.bin" "$T/odd_padded.bin"
bad "not a multiple of 16" "$ESPSEC" secure encrypt-flash-data -x -k "$E/input/key_256.bin" -a 0 -o "$T/bad_len.bin" "$T/odd.bin"
absent "$T/bad_len.bin"
bad "not a multiple of 16" "$ESPSEC" secure decrypt-flash-data -k "$E/input/key_256.bin" -a 0 -o "$T/bad_len.bin" "$T/odd.bin"
absent "$T/bad_len.bin"
# addresses past 32 bits are refused, not wrapped (0x100000000 used to encrypt as 0x0)
bad "past the 4 GiB" "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_256.bin" -a 0x100000000 -o "$T/bad_addr.bin" "$E/input/data_4k.bin"
absent "$T/bad_addr.bin"
bad "past the 4 GiB" "$ESPSEC" secure encrypt-flash-data -x -k "$E/input/key_256.bin" -a 0xFFFFF000 -o "$T/bad_addr.bin" "$E/input/data_64k.bin"
absent "$T/bad_addr.bin"
# an XTS key whose halves are equal is weak: refused with the reason
{ head -c 32 "$E/input/key_512.bin"; head -c 32 "$E/input/key_512.bin"; } > "$T/dup512.bin"
bad "halves .* are equal" "$ESPSEC" secure encrypt-flash-data -x -k "$T/dup512.bin" -a 0 -o "$T/dup.bin" "$E/input/data_4k.bin"
absent "$T/dup.bin"
bad "0x0 to 0xF" "$ESPSEC" secure encrypt-flash-data -k "$E/input/key_256.bin" -a 0 --flash-crypt-conf 16 -o "$T/bad.bin" "$E/input/data_4k.bin"
# key generation for flash encryption
for l in 128 192 256 512; do
    ok "$ESPSEC" secure generate_flash_encryption_key --keylen $l "$T/fek_$l.bin"
    [ "$(stat -c %s "$T/fek_$l.bin")" = $((l / 8)) ] || fail "flash key of $l bits has the wrong size"
    [ "$(stat -c %a "$T/fek_$l.bin")" = 600 ] || fail "flash key is not mode 0600"
done
cmp -s "$T/fek_256.bin" "$T/fek_512.bin" && fail "two random keys are equal"
bad "already exists" "$ESPSEC" secure generate-flash-encryption-key "$T/fek_256.bin"
bad "128, 192" "$ESPSEC" secure generate-flash-encryption-key -l 100 "$T/fek_100.bin"
# espsec-signed files that espsecure accepted (tests/vectors/crosscheck/MANIFEST.md) still verify
C=$VECTORS/crosscheck
for s in rsa3072 ecdsa192 ecdsa256 ecdsa384; do
    ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_$s.pem" "$C/app_8k_$s.espsec.signed"
done
for k in "" _b _c; do ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072$k.pem" "$C/app_8k_3keys.espsec.signed"; done
ok "$ESPSEC" secure verify-signature -v 2 -k "$S/input/key_rsa3072_b.pem" "$C/appended.espsec.signed"
ok "$ESPSEC" secure verify-signature -v 2 --skip-padding -k "$S/input/key_ecdsa256.pem" "$C/hello_nopad.espsec.signed"
ESPSEC_NO_SIMD=1 ok "$ESPSEC" secure encrypt-flash-data -x -k "$E/input/key_512.bin" -a 0x1000 -o "$T/ns.bin" "$E/input/data_4k.bin"
same "$T/ns.bin" "$E/expected/xts512_0x1000.bin"
# help everywhere
for c in sign-data verify-signature encrypt-flash-data digest-secure-bootloader; do
    ok "$ESPSEC" secure $c --help
    contains "$T/out" "Usage: espsec secure $c"
done
ok "$ESPSEC" secure --help
finish
