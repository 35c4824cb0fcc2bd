# Secure Boot V2 signing with the key inside a PKCS#11 token: SoftHSM2 for real (a token made here, an RSA-3072
# key imported, ECDSA P-256 and P-384 keys generated inside it), signatures checked with the public keys.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
SB=$VECTORS/secure_boot/ed1/input
MOD=/usr/lib/softhsm/libsofthsm2.so
cd "$T"
CHECKS=$((CHECKS + 1))
if [ ! -f "$MOD" ] || ! command -v softhsm2-util >/dev/null || ! command -v pkcs11-tool >/dev/null; then
    fail "SoftHSM2 and OpenSC are needed (scripts/setup.sh installs softhsm2 and opensc)"
    finish
    exit 1
fi
export SOFTHSM2_CONF=$T/softhsm2.conf
mkdir tokens
echo "directories.tokendir = $T/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label espsec --pin 1234 --so-pin 5678 >/dev/null
SLOT=$(softhsm2-util --show-slots | awk '/^Slot [0-9]+$/ {s = $2} /Label: *espsec/ {print s; exit}')
openssl pkcs8 -topk8 -nocrypt -in "$SB/key_rsa3072.pem" -out rsa.p8
softhsm2-util --import rsa.p8 --token espsec --label sb-rsa --id 01 --pin 1234 >/dev/null
pkcs11-tool --module "$MOD" --token-label espsec --login --pin 1234 --keypairgen --key-type EC:prime256v1 \
    --label sb-ec --id 02 >/dev/null 2>&1
pkcs11-tool --module "$MOD" --token-label espsec --login --pin 1234 --read-object --type pubkey --label sb-ec \
    -o ec_pub.der >/dev/null 2>&1
openssl pkey -pubin -inform DER -in ec_pub.der -out ec_pub.pem 2>/dev/null
pkcs11-tool --module "$MOD" --token-label espsec --login --pin 1234 --keypairgen --key-type EC:secp384r1 \
    --label sb-p384 --id 03 >/dev/null 2>&1

# espsecure's config: slot number, label; the PIN from the environment
printf '[hsm_config]\npkcs11_lib = %s\nslot = %s\nlabel = sb-rsa\n' "$MOD" "$SLOT" >rsa.ini
printf '[hsm_config]\npkcs11_lib = %s\ntoken_label = espsec\nlabel = sb-ec\nlabel_pubkey = sb-ec\n' "$MOD" >ec.ini
printf '[hsm_config]\npkcs11_lib = %s\ntoken_label = espsec\nlabel = sb-p384\nlabel_pubkey = sb-p384\n' "$MOD" >p384.ini
export ESPSEC_HSM_PIN=1234
ok $E secure sign-data --version 2 --hsm --hsm-config rsa.ini -o app_rsa.bin "$SB/app_8k.bin"
contains "$T/out" "Signing with the rsa3072 key in the HSM"
ok $E secure verify-signature --version 2 --keyfile "$SB/key_rsa3072.pem" app_rsa.bin
ok $E secure verify-signature --version 2 --hsm --hsm-config rsa.ini app_rsa.bin
# RSA-PSS is randomised: same bytes as a file-key signature everywhere but the signature and CRC
ok $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o app_file.bin "$SB/app_8k.bin"
CHECKS=$((CHECKS + 1))
python3 -c "
import sys
a = open(sys.argv[1], 'rb').read(); b = open(sys.argv[2], 'rb').read()
s = len(a) - 4096
assert len(a) == len(b) and a[:s + 812] == b[:s + 812] and a[s + 1200:] == b[s + 1200:]
" app_rsa.bin app_file.bin || fail "the HSM-signed image differs from the file-signed one outside the signature"
ok $E secure sign-data --version 2 --hsm --hsm-config ec.ini -o app_ec.bin "$SB/app_8k.bin"
contains "$T/out" "ecdsa256"
ok $E secure verify-signature --version 2 --keyfile ec_pub.pem app_ec.bin
ok $E secure signature-info-v2 app_ec.bin
contains "$T/out" "ECDSA"
# ECDSA P-384 generated inside the token (SHA-384 digest)
ok $E secure sign-data --version 2 --hsm --hsm-config p384.ini -o app_p384.bin "$SB/app_8k.bin"
contains "$T/out" "ecdsa384"
# (this OpenSC cannot export a P-384 public key: the token's own public key verifies it)
ok $E secure verify-signature --version 2 --hsm --hsm-config p384.ini app_p384.bin
ok $E secure signature-info-v2 app_p384.bin
contains "$T/out" "ECDSA"
bad "could not be verified" $E secure verify-signature --version 2 --keyfile ec_pub.pem app_p384.bin
# a second signature appended from the HSM next to a file-key one
ok $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072_b.pem" -o two.bin "$SB/app_8k.bin"
ok $E secure sign-data --version 2 --hsm --hsm-config ec.ini --append-signatures -o two2.bin two.bin
ok $E secure verify-signature --version 2 --keyfile ec_pub.pem two2.bin
ok $E secure verify-signature --version 2 --keyfile "$SB/key_rsa3072_b.pem" two2.bin
# refusals: wrong PIN, no PIN, wrong label, wrong module, incomplete config; no output left
ESPSEC_HSM_PIN=0000 bad "CKR_PIN_INCORRECT" $E secure sign-data --version 2 --hsm --hsm-config rsa.ini -o x.bin "$SB/app_8k.bin"
absent x.bin
(unset ESPSEC_HSM_PIN; bad "no PIN: set ESPSEC_HSM_PIN" $E secure sign-data --version 2 --hsm --hsm-config rsa.ini -o x.bin "$SB/app_8k.bin")
printf '[hsm_config]\npkcs11_lib = %s\ntoken_label = espsec\nlabel = nope\n' "$MOD" >nope.ini
bad "no private key labelled 'nope'" $E secure sign-data --version 2 --hsm --hsm-config nope.ini -o x.bin "$SB/app_8k.bin"
printf '[hsm_config]\npkcs11_lib = /nonexistent/lib.so\nslot = 0\nlabel = sb-rsa\n' >nolib.ini
bad "cannot load the PKCS#11 module /nonexistent/lib.so" $E secure sign-data --version 2 --hsm --hsm-config nolib.ini -o x.bin "$SB/app_8k.bin"
printf '[hsm_config]\nlabel = sb-rsa\n' >partial.ini
bad "needs pkcs11_lib, label and slot" $E secure sign-data --version 2 --hsm --hsm-config partial.ini -o x.bin "$SB/app_8k.bin"
bad "needs --hsm-config" $E secure sign-data --version 2 --hsm -o x.bin "$SB/app_8k.bin"
bad "no --keyfile" $E secure sign-data --version 2 --hsm --hsm-config rsa.ini --keyfile "$SB/key_rsa3072.pem" -o x.bin "$SB/app_8k.bin"
bad "does not support signing with an external HSM" $E secure sign-data --version 1 --hsm --hsm-config rsa.ini -o x.bin "$SB/app_8k.bin"
absent x.bin
finish
