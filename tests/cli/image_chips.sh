# espsec image elf2image against esptool v5.3.1's elf2image, every row of
# tests/vectors/image_chips/MANIFEST.md: same bytes (stored file or size and
# SHA-256), the same refusals; image info against esptool's image-info output.
. "$(dirname "$0")/lib.inc"
V=$VECTORS/image_chips
ESPTOOL_TEST=${ESPTOOL_SRC:-/work/ref/esptool}/test/elf2image
skipped=0
rows=0
while IFS='|' read -r _ chip args elf oarg output size sha kept _; do
    chip=$(echo $chip); elf=$(echo $elf); oarg=$(echo $oarg); output=$(echo $output)
    size=$(echo $size); sha=$(echo $sha); kept=$(echo $kept)
    case "$elf" in
    ESPTOOL_TEST/*)
        if [ ! -f "$ESPTOOL_TEST/${elf#ESPTOOL_TEST/}" ]; then
            skipped=$((skipped + 1)); continue
        fi
        elf="$ESPTOOL_TEST/${elf#ESPTOOL_TEST/}" ;;
    *) elf="$V/$elf" ;;
    esac
    rows=$((rows + 1))
    mkdir -p "$T/expected"
    out="$T/$oarg"
    # shellcheck disable=SC2086 # args is a list of words
    case "$kept" in
    refused*)
        bad "" "$ESPSEC" image elf2image --chip "$chip" $args -o "$out" "$elf"
        absent "$out"
        continue ;;
    esac
    if [ ! -f "$T/$output" ]; then
        ok "$ESPSEC" image elf2image --chip "$chip" $args -o "$out" "$elf" || continue
    fi
    got="$T/$output"
    CHECKS=$((CHECKS + 1))
    if [ "$(stat -c %s "$got")" != "$size" ] || [ "$(sha256sum < "$got" | cut -d' ' -f1)" != "$sha" ]; then
        fail "$chip $args $elf: $output differs from esptool's ($size bytes, sha256 $sha)"
    fi
    if [ "$kept" = stored ]; then
        same "$got" "$V/$output"
    fi
done < <(grep '^| esp' "$V/MANIFEST.md")
[ "$rows" -gt 100 ] || fail "only $rows manifest rows replayed"
echo "$rows rows replayed, $skipped skipped (rows on esptool's test ELFs need $ESPTOOL_TEST)"

# image info: esptool's image-info output, line for line, for each stored image (espsec's
# own "Secure Boot" section that follows is left out of the comparison)
infos=0
for info in "$V"/expected/*.info; do
    bin=${info%.info}.bin
    chip=$(basename "$info"); chip=${chip%%-*}
    ok "$ESPSEC" image info --chip "$chip" "$bin" || continue
    sed -n '/^Secure Boot$/q;p' "$T/out" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$T/got.info"
    tail -n +2 "$info" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' > "$T/want.info"
    same "$T/got.info" "$T/want.info"
    infos=$((infos + 1))
done
[ "$infos" -gt 30 ] || fail "only $infos image-info outputs compared"
# the chip detected from the image, as esptool does without --chip
ok "$ESPSEC" image info "$V/expected/esp32h4-boot.bin"
contains "$T/out" "^Detected image type: ESP32-H4$"
ok "$ESPSEC" image info "$V/expected/esp8266-app-v2.bin"
contains "$T/out" "^Detected image type: ESP8266$"
contains "$T/out" "^Image version: 2$"

# esptool's messages on the way
ok "$ESPSEC" image elf2image --chip esp32c6 -o "$T/c6.bin" "$V/input/esp32c6-app.elf"
contains "$T/out" "^Creating ESP32-C6 image...$"
contains "$T/out" "^MMU page size not specified, set to 64 KB$"
contains "$T/out" "^Merged 2 ELF sections.$"
contains "$T/out" "^Successfully created ESP32-C6 image.$"
# the default output name is the ELF's with .bin
cp "$V/input/esp32c3-boot.elf" "$T/boot.elf"
ok "$ESPSEC" image elf2image --chip esp32c3 --flash-mode dio --flash-size 2MB "$T/boot.elf"
same "$T/boot.bin" "$V/expected/esp32c3-boot.bin"
ok "$ESPSEC" image elf2image --chip esp8266 --version 2 --flash-size 2MB --flash-mode dio "$V/input/esp8266-app.elf" -o "$T/v2.bin"
cp "$V/input/esp8266-app.elf" "$T/e8266.elf"
ok "$ESPSEC" image elf2image --chip esp8266 --version 2 --flash-size 2MB --flash-mode dio "$T/e8266.elf"
same "$T/e8266-0x10000.bin" "$T/v2.bin"
ok "$ESPSEC" image elf2image --chip esp8266 "$T/e8266.elf"
same "$T/e8266.elf-0x10000.bin" "$V/expected/esp8266-app-v1-0x10000.bin"
same "$T/e8266.elf-0x00000.bin" "$V/expected/esp8266-app-v1-0x00000.bin"

# --pad-to-size without a digest: esptool v5.3.1 writes its 0xFF padding over the start
# of the image (a deliberate difference): espsec pads the end, as with a digest
ok "$ESPSEC" image elf2image --chip esp32c3 --dont-append-digest -o "$T/nd.bin" "$V/input/esp32c3-app.elf"
ok "$ESPSEC" image elf2image --chip esp32c3 --dont-append-digest --pad-to-size 4KB -o "$T/ndp.bin" "$V/input/esp32c3-app.elf"
n=$(stat -c %s "$T/nd.bin")
cp "$T/nd.bin" "$T/want.bin"
head -c $(( (4096 - n % 4096) % 4096 )) /dev/zero | tr '\0' '\377' >> "$T/want.bin"
same "$T/ndp.bin" "$T/want.bin"

# refusals, each one line naming the problem
bad "Flash size '256KB' is not supported by this chip type. Supported sizes: 1MB, 2MB, 4MB" \
    "$ESPSEC" image elf2image --chip esp32 --flash-size 256KB -o "$T/x.bin" "$V/input/esp32-app.elf"
bad "Flash frequency '26m' is not supported by this chip type" \
    "$ESPSEC" image elf2image --chip esp32c6 --flash-freq 26m -o "$T/x.bin" "$V/input/esp32c6-app.elf"
bad "65536 bytes is not a valid\|not a valid ESP32-C2 page size\|8KB" \
    "$ESPSEC" image elf2image --chip esp32c2 --flash-mmu-page-size 8KB -o "$T/x.bin" "$V/input/esp32c2-app.elf"
bad "Specify the --chip argument" "$ESPSEC" image elf2image -o "$T/x.bin" "$V/input/esp32-app.elf"
bad "not a chip esptool v5.3.1 knows" "$ESPSEC" image elf2image --chip z80 -o "$T/x.bin" "$V/input/esp32-app.elf"
bad "max-rev-full 65536: at most 65535" \
    "$ESPSEC" image elf2image --chip esp32 --max-rev-full 65536 -o "$T/x.bin" "$V/input/esp32-app.elf"
bad "invalid ELF magic header" "$ESPSEC" image elf2image --chip esp32 -o "$T/x.bin" "$V/expected/esp32-boot.bin"
head -c 3000 "$V/input/esp32-app.elf" > "$T/short.elf"
bad "short.elf: .*run past the end of the file\|short.elf: .*section header" \
    "$ESPSEC" image elf2image --chip esp32 -o "$T/x.bin" "$T/short.elf"
absent "$T/x.bin"
finish
