# espsec nvs: nvs_partition_gen's reference outputs byte for byte, its bad inputs refused
# cleanly, and offline editing of images through the NVS store.
. "$(dirname "$0")/lib.inc"
X=$VECTORS/nvs/expected
NVS="$ESPSEC nvs"
# the CSVs name their files relative to the vectors folder, as the MANIFEST commands ran
cd "$VECTORS/nvs"

# ---- generate / encrypt / decrypt: the reference vectors ----
ok $NVS generate input/types.csv "$T/types_0x3000.bin" 0x3000
same "$T/types_0x3000.bin" "$X/types_0x3000.bin"
ok $NVS generate input/types.csv "$T/types_0x6000.bin" 0x6000
same "$T/types_0x6000.bin" "$X/types_0x6000.bin"
ok $NVS generate input/bigblob.csv "$T/bigblob_v2.bin" 0x6000 --version 2
same "$T/bigblob_v2.bin" "$X/bigblob_v2.bin"
ok $NVS generate input/v1blob.csv "$T/v1blob_v1.bin" 0x3000 --version 1
same "$T/v1blob_v1.bin" "$X/v1blob_v1.bin"
ok $NVS generate input/many.csv "$T/many.bin" 65536
same "$T/many.bin" "$X/many_0x10000.bin"
ok $NVS encrypt input/types.csv "$T/enc_types.bin" 0x6000 --inputkey input/nvs_keys.bin
same "$T/enc_types.bin" "$X/enc_types_0x6000.bin"
ok $NVS encrypt input/bigblob.csv "$T/enc_bigblob.bin" 0x6000 --inputkey input/nvs_keys.bin
same "$T/enc_bigblob.bin" "$X/enc_bigblob.bin"
ok $NVS encrypt input/many.csv "$T/enc_many.bin" 0x10000 --inputkey input/nvs_keys.bin
same "$T/enc_many.bin" "$X/enc_many.bin"
ok $NVS decrypt "$X/enc_types_0x6000.bin" input/nvs_keys.bin "$T/dec_types.bin"
same "$T/dec_types.bin" "$X/dec_types_0x6000.bin"
same "$T/dec_types.bin" "$X/types_0x6000.bin"
[ "$(stat -c %a "$T/dec_types.bin")" = 600 ] || fail "a decrypted partition must be private (0600)"
# --outdir as nvs_partition_gen: the output lands under it
ok $NVS generate input/types.csv out.bin 0x3000 --outdir "$T/od"
same "$T/od/out.bin" "$X/types_0x3000.bin"

# ---- bad input: one error line naming the file and row, no output left behind ----
bad "many.csv: line .*increase the size" $NVS generate input/many.csv "$T/small.bin" 0x3000
absent "$T/small.bin"
bad "bad_keylen.csv: line 3: .*this_key_is_too_long.*15" $NVS generate input/bad_keylen.csv "$T/kl.bin" 0x3000
absent "$T/kl.bin"
bad "bad_range.csv: line 3: key x: value 256 is out of range for u8" $NVS generate input/bad_range.csv "$T/r.bin" 0x3000
absent "$T/r.bin"
bad "bad_nonamespace.csv: line 2: .*before any namespace" $NVS generate input/bad_nonamespace.csv "$T/nn.bin" 0x3000
absent "$T/nn.bin"
bad "multiple of 4096" $NVS generate input/types.csv "$T/sz.bin" 0x3100
absent "$T/sz.bin"
bad "read-only NVS 0x1000" $NVS generate input/types.csv "$T/tiny.bin" 0
absent "$T/tiny.bin"
bad "nothere.csv: cannot open" $NVS generate input/nothere.csv "$T/no.bin" 0x3000
bad "not a number" $NVS generate input/types.csv "$T/no.bin" 12k
bad "1 or 2" $NVS generate input/types.csv "$T/no.bin" 0x3000 --version 3
# an existing output is left as it was when generation fails
printf 'precious' >"$T/keep.bin"
bad "out of range" $NVS generate input/bad_range.csv "$T/keep.bin" 0x3000
[ "$(cat "$T/keep.bin")" = precious ] || fail "a failed generate damaged the existing output"
# a malformed CSV
printf 'key,type,encoding,value\nns,namespace,,\nk,data,u8,"12\n' >"$T/unterminated.csv"
bad "unterminated.csv" $NVS generate "$T/unterminated.csv" "$T/u.bin" 0x3000
absent "$T/u.bin"
printf 'key,type,encoding,value\nns,namespace,,\nk,data,float,1.5\n' >"$T/enc.csv"
bad "enc.csv: line 3: .*unsupported encoding 'float'" $NVS generate "$T/enc.csv" "$T/u.bin" 0x3000
# keys: wrong size, wrong CRC, both or neither of --keygen/--inputkey
head -c 40 input/nvs_keys.bin >"$T/short_keys.bin"
bad "short_keys.bin: .*64 key bytes and a CRC-32 expected" $NVS encrypt input/types.csv "$T/e.bin" 0x3000 --inputkey "$T/short_keys.bin"
absent "$T/e.bin"
cp input/nvs_keys.bin "$T/crc_keys.bin"
printf '\x00' | dd of="$T/crc_keys.bin" bs=1 seek=3 conv=notrunc status=none
bad "crc_keys.bin: .*offset 0x40: CRC-32" $NVS encrypt input/types.csv "$T/e.bin" 0x3000 --inputkey "$T/crc_keys.bin"
bad "--keygen or --inputkey" $NVS encrypt input/types.csv "$T/e.bin" 0x3000
bad "both" $NVS encrypt input/types.csv "$T/e.bin" 0x3000 --keygen --inputkey input/nvs_keys.bin
absent "$T/e.bin"

# ---- keys: generated ones are private and usable; a bad CSV writes no key ----
ok $NVS encrypt input/types.csv enc.bin 0x6000 --keygen --keyfile k.bin --outdir "$T/kg"
[ "$(stat -c %a "$T/kg/keys/k.bin")" = 600 ] || fail "generated NVS keys are not mode 0600"
ok $NVS decrypt "$T/kg/enc.bin" "$T/kg/keys/k.bin" "$T/kg/dec.bin"
same "$T/kg/dec.bin" "$X/types_0x6000.bin"
bad "bad_range.csv" $NVS encrypt input/bad_range.csv enc.bin 0x3000 --keygen --keyfile k.bin --outdir "$T/kgbad"
absent "$T/kgbad/keys/k.bin"
absent "$T/kgbad/enc.bin"
# generate-key never overwrites an existing key file
bad "exists" $NVS generate-key --keyfile k.bin --outdir "$T/kg"
# the HMAC scheme: keys = HMAC-SHA256(hmac_key, 0x5A5ABEAE x8) || HMAC-SHA256(hmac_key, 0xA5A5DECE x8)
ok $NVS generate_key --key_protect_hmac --kp_hmac_keygen --keyfile hk.bin --outdir "$T/hm"
CHECKS=$((CHECKS + 1))
python3 - "$T/hm/keys/hmac-hk.bin" "$T/hm/keys/hk.bin" <<'EOF' || fail "HMAC-derived NVS keys differ from the scheme"
import hashlib, hmac, sys, zlib
hk = open(sys.argv[1], 'rb').read()
part = open(sys.argv[2], 'rb').read()
assert len(hk) == 32 and len(part) == 4096
want = hmac.new(hk, b'\x5a\x5a\xbe\xae' * 8, hashlib.sha256).digest() + hmac.new(hk, b'\xa5\xa5\xde\xce' * 8, hashlib.sha256).digest()
assert part[:64] == want
assert part[64:68] == zlib.crc32(want, 0xFFFFFFFF).to_bytes(4, 'little')
assert part[68:] == b'\xff' * (4096 - 68)
EOF
ok $NVS generate-key --key-protect-hmac --kp-hmac-inputkey "$T/hm/keys/hmac-hk.bin" --keyfile again.bin --outdir "$T/hm"
same "$T/hm/keys/again.bin" "$T/hm/keys/hk.bin"
head -c 16 "$T/hm/keys/hmac-hk.bin" >"$T/hm16.bin"
bad "hm16.bin: HMAC key is 16 bytes; 32 expected" $NVS generate-key --key-protect-hmac --kp-hmac-inputkey "$T/hm16.bin" --outdir "$T/hm2"

# ---- reading images through the store ----
ok $NVS list "$X/types_0x6000.bin"
contains "$T/out" "cfg_pub/u64max (u64) = 18446744073709551615"
contains "$T/out" "wifi/pass (string) = secret-pub-password"
contains "$T/out" "22 values"
ok $NVS list "$X/enc_types_0x6000.bin" --keyfile input/nvs_keys.bin --namespace wifi --json
CHECKS=$((CHECKS + 1))
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
v = {x['key']: x for x in d['values']}
assert set(v) == {'ssid', 'pass', 'f_text', 'f_hex', 'f_b64', 'f_bin'}, v.keys()
assert v['ssid']['value'] == 'ssid-pub' and v['f_bin']['type'] == 'blob'
assert v['f_bin']['value'] == open('input/blob_small.bin', 'rb').read().hex()
" "$T/out" || fail "list --json of the encrypted vector"
ok $NVS get "$X/types_0x6000.bin" cfg_pub i8min
[ "$(cat "$T/out")" = -128 ] || fail "get i8min: $(cat "$T/out")"
ok $NVS get "$X/bigblob_v2.bin" store big
CHECKS=$((CHECKS + 1))
[ "$(cat "$T/out")" = "$(od -An -v -tx1 input/blob_big.bin | tr -d ' \n')" ] || fail "multi-chunk blob read back differs"
ok $NVS get "$X/v1blob_v1.bin" store small
bad "no such key" $NVS get "$X/types_0x6000.bin" cfg_pub nope
bad "wrong NVS key" $NVS list "$X/enc_types_0x6000.bin" --keyfile "$T/kg/keys/k.bin"
bad "needs its NVS keys" $NVS list "$X/enc_types_0x6000.bin"
head -c 5000 "$X/types_0x6000.bin" >"$T/trunc.bin"
bad "trunc.bin: 5000 bytes is not a whole number of 4096-byte" $NVS list "$T/trunc.bin"
bad "trunc.bin: .*4096-byte pages" $NVS dump "$T/trunc.bin"

# ---- editing an image: set / erase, atomically, then a second mount sees it ----
cp "$X/types_0x6000.bin" "$T/edit.bin"
ok $NVS set "$T/edit.bin" cfg_pub u8max u8 7
ok $NVS set "$T/edit.bin" newns s string "hello world"
ok $NVS set "$T/edit.bin" newns h hex2bin 00ff10
ok $NVS set "$T/edit.bin" newns b base64 aGVsbG8=
ok $NVS set "$T/edit.bin" newns f binary input/blob_big.bin
ok $NVS set "$T/edit.bin" newns n i64 -5
ok $NVS get "$T/edit.bin" cfg_pub u8max
[ "$(cat "$T/out")" = 7 ] || fail "set u8max"
ok $NVS get "$T/edit.bin" newns s
[ "$(cat "$T/out")" = "hello world" ] || fail "set string"
ok $NVS get "$T/edit.bin" newns h
[ "$(cat "$T/out")" = 00ff10 ] || fail "set hex2bin"
ok $NVS get "$T/edit.bin" newns b
[ "$(cat "$T/out")" = 68656c6c6f ] || fail "set base64"
ok $NVS get "$T/edit.bin" newns f
[ "$(cat "$T/out")" = "$(od -An -v -tx1 input/blob_big.bin | tr -d ' \n')" ] || fail "set binary file"
ok $NVS get "$T/edit.bin" newns n
[ "$(cat "$T/out")" = -5 ] || fail "set i64"
cp "$T/edit.bin" "$T/before.bin"
bad "out of range for u8" $NVS set "$T/edit.bin" cfg_pub u8max u8 256
bad "type 'float'" $NVS set "$T/edit.bin" cfg_pub x float 1
bad "should be <= 15" $NVS set "$T/edit.bin" cfg_pub a_key_that_is_too_long u8 1
bad "nothere.bin: cannot open" $NVS set "$T/edit.bin" cfg_pub x binary nothere.bin
same "$T/edit.bin" "$T/before.bin"
ok $NVS erase "$T/edit.bin" newns f
bad "no such key" $NVS get "$T/edit.bin" newns f
ok $NVS erase "$T/edit.bin" wifi
ok $NVS list "$T/edit.bin" --namespace wifi
contains "$T/out" "^0 values"
bad "NOT_FOUND\|not found" $NVS erase "$T/edit.bin" cfg_pub nope
# an in-place edit keeps the file's mode: a 0600 plaintext (nvs decrypt writes 0600) stays 0600
ok $NVS decrypt "$X/enc_types_0x6000.bin" input/nvs_keys.bin "$T/plain_secret.bin"
[ "$(stat -c %a "$T/plain_secret.bin")" = 600 ] || fail "nvs decrypt output is not 0600"
ok $NVS set "$T/plain_secret.bin" cfg_pub u8max u8 9
[ "$(stat -c %a "$T/plain_secret.bin")" = 600 ] || fail "nvs set widened a 0600 image to $(stat -c %a "$T/plain_secret.bin")"
ok $NVS erase "$T/plain_secret.bin" cfg_pub u8max
[ "$(stat -c %a "$T/plain_secret.bin")" = 600 ] || fail "nvs erase widened a 0600 image"
cp "$X/types_0x3000.bin" "$T/mode640.bin"; chmod 640 "$T/mode640.bin"
ok $NVS set "$T/mode640.bin" cfg_pub u8max u8 9
[ "$(stat -c %a "$T/mode640.bin")" = 640 ] || fail "nvs set changed mode 0640"
# encrypted images: edits stay encrypted and decrypt with the same keys
cp "$X/enc_types_0x6000.bin" "$T/edit_enc.bin"
ok $NVS set "$T/edit_enc.bin" wifi ssid string new-ssid --keyfile input/nvs_keys.bin
ok $NVS decrypt "$T/edit_enc.bin" input/nvs_keys.bin "$T/edit_dec.bin"
ok $NVS get "$T/edit_dec.bin" wifi ssid
[ "$(cat "$T/out")" = new-ssid ] || fail "encrypted set then decrypt"
CHECKS=$((CHECKS + 1))
if grep -q new-ssid "$T/edit_enc.bin"; then fail "the encrypted image holds the new value in clear"; fi
# a partition inside a whole flash image
head -c 36864 /dev/zero | tr '\0' '\377' >"$T/flash.bin"
cat "$X/types_0x6000.bin" >>"$T/flash.bin"
ok $NVS get "$T/flash.bin" wifi ssid --offset 0x9000 --size 0x6000
[ "$(cat "$T/out")" = ssid-pub ] || fail "get at an offset"
bad "runs past the end" $NVS get "$T/flash.bin" wifi ssid --offset 0x9000 --size 0x7000

# ---- dump ----
ok $NVS dump "$X/enc_many.bin" --keyfile input/nvs_keys.bin
contains "$T/out" "ACTIVE"
contains "$T/out" "k0_0"
ok $NVS dump "$X/types_0x3000.bin" --format json
CHECKS=$((CHECKS + 1))
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['size'] == 0x3000 and len(d['pages']) == 3 and d['problems'] == []
" "$T/out" || fail "dump --format json"
# a flipped bit in an entry is reported, and the store drops that entry on mount
cp "$X/types_0x6000.bin" "$T/flip.bin"
printf '\x55' | dd of="$T/flip.bin" bs=1 seek=$((64 + 32 * 2 + 24)) conv=notrunc status=none
ok $NVS dump "$T/flip.bin"
contains "$T/out" "CRC"
ok $NVS list "$T/flip.bin"
CHECKS=$((CHECKS + 1))
if grep -q "u8max" "$T/out"; then fail "an entry with a bad CRC was listed"; fi

# nvs_tool's options: -f, -d, -i
ok $NVS dump "$X/types_0x3000.bin" -d minimal
contains "$T/out" "^cfg_pub:u8max = 255$"
ok $NVS dump "$X/types_0x3000.bin" -d minimal -f json
CHECKS=$((CHECKS + 1))
python3 -c "import json, sys; d = json.load(open(sys.argv[1])); assert len(d) == 22" "$T/out" || fail "dump -d minimal -f json"
ok $NVS dump "$X/types_0x3000.bin" -d namespaces
contains "$T/out" "(namespaces) wifi"
CHECKS=$((CHECKS + 1))
if grep -q "u8max" "$T/out"; then fail "-d namespaces shows values"; fi
ok $NVS dump "$X/types_0x3000.bin" -d storage_info
contains "$T/out" "used entries: *114"
ok $NVS dump "$X/enc_types_0x6000.bin" -d blobs --keyfile input/nvs_keys.bin
contains "$T/out" "^wifi:f_hex = ec1b7ef3"
ok $NVS dump "$X/types_0x3000.bin" -d none -i
bad "integrity check: 114 problems found" $NVS dump "$X/enc_types_0x6000.bin" -d none -i
bad "integrity check: 1 problem found" $NVS dump "$T/flip.bin" -i -d written
bad "--dump 'everything'" $NVS dump "$X/types_0x3000.bin" -d everything

ok $NVS --help
ok $NVS generate --help
contains "$T/out" "SIZE"
# ---- read-only partitions (0x1000, 0x2000): only the pages used, as nvs_partition_gen ----
ok $NVS generate input/types.csv "$T/ro_0x1000.bin" 0x1000
same "$T/ro_0x1000.bin" "$X/bad_too_small.bin"
contains "$T/err" "read-only NVS partition"
ok $NVS generate input/types.csv "$T/ro_0x2000.bin" 0x2000
same "$T/ro_0x2000.bin" "$X/quirk_readonly_0x2000.bin"
[ "$(stat -c %s "$T/ro_0x2000.bin")" = 4096 ] || fail "read-only 0x2000 image is not the one page used"
ok $NVS encrypt input/v1blob.csv "$T/ro_enc.bin" 0x1000 --inputkey input/keys_known.bin
same "$T/ro_enc.bin" "$X/enc_known_readonly.bin"
bad "less than the size of the data" $NVS generate input/many.csv "$T/ro_full.bin" 0x2000
absent "$T/ro_full.bin"
# ---- sizes past the 32-bit flash address space are refused (0x100000000 used to write a 4 GiB file) ----
bad "past the 4 GiB" $NVS generate input/types.csv "$T/huge.bin" 0x100000000
absent "$T/huge.bin"
# ---- base64 exactly as Python's binascii.a2b_base64 (non-strict), or refused naming line and key ----
printf 'key,type,encoding,value\nns,namespace,,\nk,data,base64,YW=Jj\n' > "$T/b64.csv"
ok $NVS generate "$T/b64.csv" "$T/b64.bin" 0x3000
ok $NVS get "$T/b64.bin" ns k
[ "$(cat "$T/out")" = 616263 ] || fail "base64 YW=Jj is not 'abc' as in Python"
printf 'key,type,encoding,value\nns,namespace,,\nk,data,base64,YQ=a=\n' > "$T/b64.csv"
ok $NVS generate "$T/b64.csv" "$T/b64.bin" 0x3000
ok $NVS get "$T/b64.bin" ns k
[ "$(cat "$T/out")" = 6106 ] || fail "base64 YQ=a= is not 61 06 as in Python"
printf 'key,type,encoding,value\nns,namespace,,\nk,data,base64,YW-_\n' > "$T/b64.csv"
bad "line 3: key k: invalid base64: incorrect padding" $NVS generate "$T/b64.csv" "$T/b64bad.bin" 0x3000
absent "$T/b64bad.bin"
printf 'key,type,encoding,value\nns,namespace,,\nk,data,base64,YWJjZ\n' > "$T/b64.csv"
bad "line 3: key k: invalid base64: the number of data characters is 1 more" $NVS generate "$T/b64.csv" "$T/b64bad.bin" 0x3000
bad "not valid base64" $NVS set "$T/b64.bin" ns k base64 YW-_

finish
