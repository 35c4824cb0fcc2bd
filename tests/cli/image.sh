# espsec image info: esptool's image_info output for the reference images.
. "$(dirname "$0")/lib.inc"
I=$VECTORS/image/expected
for f in app_hello app_big bootloader; do
    ok "$ESPSEC" image info --chip esp32 "$I/$f.bin"
    n=$(($(wc -l < "$I/$f.info") - 1))
    tail -n +2 "$I/$f.info" > "$T/expected"
    head -n "$n" "$T/out" > "$T/got"
    same "$T/got" "$T/expected"
    ok "$ESPSEC" image info --json "$I/$f.bin"
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" || fail "image info --json is not JSON"
done
ok "$ESPSEC" image image_info "$VECTORS/secure_boot/ed1/expected/app_hello_rsa3072.signed"
contains "$T/out" "Secure Boot V2 signature sector at offset 0x15000"
contains "$T/out" "block 0: rsa3072, image digest matches"
ok "$ESPSEC" image info "$VECTORS/secure_boot/ed1/expected/app_hello_v1.signed"
contains "$T/out" "Secure Boot V1 signature block at offset 0x14050"
# defects with offsets
head -c 1000 "$I/app_hello.bin" > "$T/trunc.bin"
bad "offset 0x18: segment 0" "$ESPSEC" image info "$T/trunc.bin"
cp "$I/app_hello.bin" "$T/flip.bin"; printf '\x00' | dd of="$T/flip.bin" bs=1 seek=5000 conv=notrunc 2>/dev/null
ok "$ESPSEC" image info "$T/flip.bin"
contains "$T/out" "^Checksum: 0xd4 (invalid - calculated 0x"
bad "offset 0x1402f: image checksum byte is 0xd4" "$ESPSEC" image info --check "$T/flip.bin"
cp "$I/app_hello.bin" "$T/hash.bin"; printf '\x00' | dd of="$T/hash.bin" bs=1 seek=$((0x14040)) conv=notrunc 2>/dev/null
ok "$ESPSEC" image info "$T/hash.bin"
contains "$T/out" "^Validation hash: [0-9a-f]* (invalid)$"
bad "appended SHA-256" "$ESPSEC" image info --check "$T/hash.bin"
bad "This is not a valid image (invalid magic number: 0xaa)." "$ESPSEC" image info "$VECTORS/partition/expected/secure.bin"
: > "$T/empty.bin"
bad "Image is empty." "$ESPSEC" image info "$T/empty.bin"
finish
