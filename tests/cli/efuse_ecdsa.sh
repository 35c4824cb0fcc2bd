# espsec efuse burn-key with an ECDSA private key in PEM (the ECDSA peripheral's purposes): the
# scalar is burned as espefuse v5.3.1 burns it - big-endian, reversed for the peripheral (so the
# block holds it little-endian), P-192 after 8 zero bytes, P-384 over two blocks (_H, _L) after
# 16. With the reference installed, every case also gives espefuse's bytes or refusal.
. "$(dirname "$0")/lib.inc"
cd "$T"
EF="$ESPSEC efuse --virt --do-not-confirm"
find_espefuse_ref

openssl ecparam -name prime192v1 -genkey -noout -out p192.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out p256.pem 2>/dev/null
openssl ecparam -name secp384r1 -genkey -noout -out p384.pem 2>/dev/null
openssl ecparam -name secp521r1 -genkey -noout -out p521.pem 2>/dev/null
openssl genpkey -algorithm ed25519 -out ed.pem 2>/dev/null
openssl genrsa -out rsa.pem 2048 2>/dev/null
openssl pkcs8 -topk8 -in p256.pem -out p256enc.pem -passout pass:secret 2>/dev/null
# the private scalar, big-endian in the curve's size
scalar() { openssl pkey -in "$1" -text -noout 2>/dev/null | python3 -c '
import sys
t = sys.stdin.read().split("priv:")[1].split("pub:")[0]
b = bytes.fromhex("".join(c for c in t if c in "0123456789abcdef"))
n = int(sys.argv[1])
sys.stdout.buffer.write(b[-n:].rjust(n, b"\0"))' "$2"; }
scalar p192.pem 24 >p192.d
scalar p256.pem 32 >p256.d
scalar p384.pem 48 >p384.d

# BLOCK_KEYn's bytes as software reads them (burned with --no-read-protect)
block() { $EF --chip "$1" --path-efuse-file "$2" summary --format json "$3" >"$T/blk.json" 2>/dev/null &&
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]["value"]; sys.stdout.buffer.write(bytes.fromhex(v.replace(" ","")))' "$T/blk.json" "$3"; }
# want FILE PAD SCALAR: the block holds the padded scalar reversed
want() { python3 -c 'import sys; d=bytes(int(sys.argv[2])) + open(sys.argv[3],"rb").read(); open(sys.argv[1],"wb").write(d[::-1])' "$@"; }

for chip in esp32h2 esp32c61 esp32c5 esp32p4; do
    rm -f e.efuse
    ok $EF --chip $chip --path-efuse-file e.efuse burn-key BLOCK_KEY0 p256.pem ECDSA_KEY BLOCK_KEY1 p192.pem ECDSA_KEY \
        --no-read-protect
    block $chip e.efuse BLOCK_KEY0 >k0.bin
    want w0.bin 0 p256.d
    same k0.bin w0.bin
    block $chip e.efuse BLOCK_KEY1 >k1.bin
    want w1.bin 8 p192.d
    same k1.bin w1.bin
    ok $EF --chip $chip --path-efuse-file e.efuse summary KEY_PURPOSE_0
    contains "$T/out" "= ECDSA_KEY\(_P256\)\? "
done
# C5: a P-384 key over two blocks: BLOCK_KEY0 (_H) the first 32 of 16 zero bytes + scalar, BLOCK_KEY1 (_L) the rest
rm -f e.efuse
ok $EF --chip esp32c5 --path-efuse-file e.efuse burn-key BLOCK_KEY0 p384.pem ECDSA_KEY_P384 --no-read-protect
contains "$T/out" "'KEY_PURPOSE_1': 'USER' -> 'ECDSA_KEY_P384_L'."
python3 - p384.d <<'PY' >pad384.bin
import sys
sys.stdout.buffer.write(bytes(16) + open(sys.argv[1], "rb").read())
PY
head -c 32 pad384.bin >h.d
tail -c 32 pad384.bin >l.d
want wh.bin 0 h.d
want wl.bin 0 l.d
block esp32c5 e.efuse BLOCK_KEY0 >kh.bin
same kh.bin wh.bin
block esp32c5 e.efuse BLOCK_KEY1 >kl.bin
same kl.bin wl.bin
# default: read-protected like any ECDSA key
rm -f e.efuse
ok $EF --chip esp32c5 --path-efuse-file e.efuse burn-key BLOCK_KEY2 p192.pem ECDSA_KEY_P192
contains "$T/out" "Disabling read to key block"

# espefuse's note when it reverses a key names the purpose on these chips (AES-XTS elsewhere)
rm -f e.efuse
ok $EF --chip esp32c5 --path-efuse-file e.efuse burn-key BLOCK_KEY0 p384.pem ECDSA_KEY_P384 BLOCK_KEY2 p256.d \
    XTS_AES_128_KEY
has_line() { CHECKS=$((CHECKS + 1)); grep -qxF -- "$2" "$1" || fail "$1 lacks the line '$2': $(head -c 900 "$1")"; }
lacks() { CHECKS=$((CHECKS + 1)); ! grep -qF -- "$2" "$1" || fail "$1 has '$2'"; }
has_line "$T/out" "	Reversing byte order for ECDSA_KEY_P384_H hardware peripheral..."
has_line "$T/out" "	Reversing byte order for ECDSA_KEY_P384_L hardware peripheral..."
has_line "$T/out" "	Reversing byte order for XTS_AES_128_KEY hardware peripheral..."
lacks "$T/out" "AES-XTS"
for chip in esp32h2 esp32c61 esp32p4; do
    rm -f e.efuse
    ok $EF --chip $chip --path-efuse-file e.efuse burn-key BLOCK_KEY0 p256.pem ECDSA_KEY
    has_line "$T/out" "	Reversing byte order for ECDSA_KEY hardware peripheral..."
done
rm -f e.efuse
ok $EF --chip esp32s3 --path-efuse-file e.efuse burn-key BLOCK_KEY0 p256.d XTS_AES_128_KEY
has_line "$T/out" "	Reversing byte order for AES-XTS hardware peripheral..."

# ESP32-H2 below v1.2 (a new virtual chip is v0.0): an ECDSA_KEY also burns ECDSA_FORCE_USE_HARDWARE_K,
# told once per key (a second key of the same command finds it staged); from v1.2 the chip has no such fuse
rm -f h.efuse h.efuse.hidden
ok $EF --chip esp32h2 --path-efuse-file h.efuse burn-key BLOCK_KEY0 p256.pem ECDSA_KEY BLOCK_KEY1 p192.pem ECDSA_KEY
has_line "$T/out" "	ECDSA_FORCE_USE_HARDWARE_K: 0 -> 1"
has_line "$T/out" "	The same value for ECDSA_FORCE_USE_HARDWARE_K is already burned. Do not change the eFuse."
ok $EF --chip esp32h2 --path-efuse-file h.efuse summary --format value_only ECDSA_FORCE_USE_HARDWARE_K
has_line "$T/out" "True"
ok $EF --chip esp32h2 --path-efuse-file h.efuse burn-key BLOCK_KEY2 p256.pem ECDSA_KEY BLOCK_KEY3 p256.d HMAC_UP
has_line "$T/out" "	ECDSA_FORCE_USE_HARDWARE_K is already '1'"
CHECKS=$((CHECKS + 1))
[ "$(grep -c ECDSA_FORCE_USE_HARDWARE_K "$T/out")" = 1 ] || fail "ECDSA_FORCE_USE_HARDWARE_K told for the HMAC key"
# BLOCK0 word 3 bit 18 is the fuse
hwk() {
    local w
    w=$($EF --chip esp32h2 --path-efuse-file "$1" dump | awk '$1 == "BLOCK0" { print $8 }')
    echo $(((0x$w >> 18) & 1))
}
for rev in "1 1 1" "1 2 0" "2 1 0"; do
    # shellcheck disable=SC2086
    set -- $rev
    rm -f h.efuse h.efuse.hidden
    ok $EF --chip esp32h2 --path-efuse-file h.efuse burn-efuse WAFER_VERSION_MAJOR "$1" WAFER_VERSION_MINOR "$2"
    ok $EF --chip esp32h2 --path-efuse-file h.efuse burn-key BLOCK_KEY0 p256.pem ECDSA_KEY
    if [ "$3" = 1 ]; then
        has_line "$T/out" "	ECDSA_FORCE_USE_HARDWARE_K: 0 -> 1"
    else
        lacks "$T/out" "ECDSA_FORCE_USE_HARDWARE_K"
    fi
    CHECKS=$((CHECKS + 1))
    [ "$(hwk h.efuse)" = "$3" ] || fail "H2 v$1.$2: ECDSA_FORCE_USE_HARDWARE_K is $(hwk h.efuse), expected $3"
    if [ $REF = 1 ]; then
        rm -f b.efuse
        { espefuse_ref --chip esp32h2 --virt --path-efuse-file b.efuse --do-not-confirm \
            burn-efuse WAFER_VERSION_MAJOR "$1" WAFER_VERSION_MINOR "$2" >/dev/null 2>&1 &&
            espefuse_ref --chip esp32h2 --virt --path-efuse-file b.efuse --do-not-confirm \
                burn-key BLOCK_KEY0 p256.pem ECDSA_KEY >"$T/ref.out" 2>&1; } || fail "espefuse refused H2 v$1.$2"
        same h.efuse b.efuse
        # its notes for the key, line for line
        sed -n '/^Burn keys to blocks:/,/^$/p' "$T/ref.out" >ref.notes
        sed -n '/^Burn keys to blocks:/,/^$/p' "$T/out" >our.notes
        same our.notes ref.notes
    fi
done

# refusals, as espefuse makes them; the file is left as it was
rm -f r.efuse
ok $EF --chip esp32h2 --path-efuse-file r.efuse summary
cp r.efuse before.efuse
bad "^A fatal error occurred: Incorrect key file size 48. Key file must be 32 bytes (256 bits)" \
    $EF --chip esp32h2 --path-efuse-file r.efuse burn-key BLOCK_KEY0 p384.pem ECDSA_KEY
bad "rsa.pem: Supports NIST192p, NIST256p and NIST384p keys only." \
    $EF --chip esp32h2 --path-efuse-file r.efuse burn-key BLOCK_KEY0 rsa.pem ECDSA_KEY
bad "p521.pem: Supports NIST192p, NIST256p and NIST384p keys only." \
    $EF --chip esp32h2 --path-efuse-file r.efuse burn-key BLOCK_KEY0 p521.pem ECDSA_KEY
bad "ed.pem: Supports NIST192p, NIST256p and NIST384p keys only." \
    $EF --chip esp32h2 --path-efuse-file r.efuse burn-key BLOCK_KEY0 ed.pem ECDSA_KEY
bad "p256.d: Incorrect ECDSA private key specified. Please check algorithm and/or format." \
    $EF --chip esp32h2 --path-efuse-file r.efuse burn-key BLOCK_KEY0 p256.d ECDSA_KEY
bad "p256enc.pem: Incorrect ECDSA private key specified." \
    $EF --chip esp32h2 --path-efuse-file r.efuse burn-key BLOCK_KEY0 p256enc.pem ECDSA_KEY </dev/null
same r.efuse before.efuse
rm -f c5.efuse
bad "p256.pem: NIST384p private key should be 48 bytes long" \
    $EF --chip esp32c5 --path-efuse-file c5.efuse burn-key BLOCK_KEY0 p256.pem ECDSA_KEY_P384
# a chip without the ECDSA peripheral has no such purpose
rm -f c3.efuse
bad "'ECDSA_KEY' is not a key purpose of esp32c3" $EF --chip esp32c3 --path-efuse-file c3.efuse burn-key BLOCK_KEY0 p256.pem ECDSA_KEY

# the reference: the same bytes (H2 below v1.2 with espefuse's ECDSA_FORCE_USE_HARDWARE_K)
if [ $REF = 1 ]; then
    refrun() { espefuse_ref "$@" >"$T/ref.out" 2>&1; }
    while read -r chip args; do
        rm -f a.efuse b.efuse a.efuse.hidden
        # shellcheck disable=SC2086
        ok $EF --chip $chip --path-efuse-file a.efuse burn-key $args
        # shellcheck disable=SC2086
        refrun --chip $chip --virt --path-efuse-file b.efuse --do-not-confirm burn-key $args ||
            fail "espefuse refused: $chip $args"
        same a.efuse b.efuse
    done <<'EOF'
esp32h2 BLOCK_KEY0 p256.pem ECDSA_KEY --no-read-protect
esp32h2 BLOCK_KEY1 p192.pem ECDSA_KEY --no-read-protect
esp32c61 BLOCK_KEY0 p256.pem ECDSA_KEY BLOCK_KEY1 p192.pem ECDSA_KEY
esp32c5 BLOCK_KEY0 p384.pem ECDSA_KEY_P384 --no-read-protect
esp32c5 BLOCK_KEY0 p384.pem ECDSA_KEY_P384
esp32c5 BLOCK_KEY0 p192.pem ECDSA_KEY_P192 BLOCK_KEY1 p256.pem ECDSA_KEY_P256 --no-read-protect
esp32p4 BLOCK_KEY0 p256.pem ECDSA_KEY BLOCK_KEY1 p192.pem ECDSA_KEY --no-read-protect
esp32h2 BLOCK_KEY0 p256.pem ECDSA_KEY BLOCK_KEY1 p192.pem ECDSA_KEY
EOF
    rm -f b.efuse
    CHECKS=$((CHECKS + 1))
    refrun --chip esp32h2 --virt --path-efuse-file b.efuse --do-not-confirm burn-key BLOCK_KEY0 p384.pem ECDSA_KEY &&
        fail "espefuse took a P-384 key for ECDSA_KEY on esp32h2"
    grep -q "Incorrect key file size 48. Key file must be 32 bytes (256 bits)" "$T/ref.out" ||
        fail "espefuse's refusal of a P-384 key changed: $(tail -2 "$T/ref.out")"
    CHECKS=$((CHECKS + 1))
    refrun --chip esp32h2 --virt --path-efuse-file b.efuse --do-not-confirm burn-key BLOCK_KEY0 p256.d ECDSA_KEY &&
        fail "espefuse took a raw key file for ECDSA_KEY"
    grep -q "Incorrect ECDSA private key specified. Please check algorithm and/or format." "$T/ref.out" ||
        fail "espefuse's refusal of a raw ECDSA key changed: $(tail -2 "$T/ref.out")"
fi
finish
