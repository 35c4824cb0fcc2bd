# espsec image merge-bin: every row of tests/vectors/merge (esptool v5.3.1's outputs) byte for byte,
# the notes and warnings esptool prints, and the refusals.
. "$TESTS_DIR/cli/lib.inc"
cd "$VECTORS/merge"
E="$ESPSEC"

# the MANIFEST's rows: | name | `esptool --chip C merge-bin ARGS` | exit | sha256 |
rows=0
while IFS='|' read -r _ name cmd code sha _; do
    name=$(echo $name); code=$(echo $code); sha=$(echo $sha)
    cmd=${cmd#*\`esptool }; cmd=${cmd%\`*}
    case $cmd in --chip*) ;; *) continue ;; esac
    rows=$((rows + 1))
    read -r -a args <<<"$cmd"
    chip=${args[1]}
    rest=("${args[@]:3}")
    out=""
    for i in "${!rest[@]}"; do
        if [ "${rest[$i]}" = "-o" ]; then out=${rest[$((i + 1))]}; rest[$((i + 1))]="$T/$(basename "$out")"; fi
    done
    if [ "$code" = 0 ]; then
        ok $E image merge-bin --chip "$chip" "${rest[@]}" || continue
        same "$T/$(basename "$out")" "$out"
        [ "$(sha256sum <"$out" | cut -c1-64)" = "$sha" ] || fail "$name: expected/ file does not match its MANIFEST sha256"
        # esptool's notes and warnings, word for word (its colour codes dropped)
        while IFS= read -r line; do
            line=$(printf '%s' "$line" | sed 's/\x1b\[[0-9;]*m//g' | sed "s#'expected/#'$T/#")
            case $line in
            "Flash parameters set to"* | "SHA digest in image updated." | "Adding '"* | "Warning: Image file"* | "Warning: Only one input"* | Wrote*)
                grep -qxF -- "$line" "$T/out" || fail "$name: espsec does not print '$line'" ;;
            esac
        done <"expected/$name.log"
        if ! grep -q Warning "expected/$name.log" && grep -q Warning "$T/out"; then
            fail "$name: espsec warns where esptool does not: $(cat "$T/out")"
        fi
    else
        bad "" $E image merge-bin --chip "$chip" "${rest[@]}"
        absent "$T/$(basename "$out")"
    fi
done <MANIFEST.md
[ "$rows" -ge 14 ] || fail "only $rows MANIFEST rows replayed"

# esptool's words for the refusals
bad "Detected overlap at address: 0x1800 for file: input/odd.bin." $E image merge-bin --chip esp32 -o "$T/o.bin" 0x1800 input/odd.bin 0x1000 input/bl_esp32.bin
bad "Output data target offset is 0x2000. Input data offset 0x1000 is before this." $E image merge-bin -o "$T/o.bin" -t 0x2000 0x1000 input/odd.bin
bad "Flash frequency '26m' is not supported by this chip type. Supported frequencies: 60m, 30m, 20m, 15m" $E image merge-bin --chip esp32c2 --flash-freq 26m -o "$T/o.bin" 0x0 input/bl_esp32c3.bin
bad "Flash size '3MB' is not supported by this chip type" $E image merge-bin --chip esp32 --flash-size 3MB -o "$T/o.bin" 0x1000 input/bl_esp32.bin
bad "flash mode 'qqq'" $E image merge-bin --chip esp32 --flash-mode qqq -o "$T/o.bin" 0x1000 input/bl_esp32.bin
bad "need --chip" $E image merge-bin --flash-mode dio -o "$T/o.bin" 0x1000 input/bl_esp32.bin
bad "Invalid format: 'elf'" $E image merge-bin --format elf -o "$T/o.bin" 0x1000 input/bl_esp32.bin
bad "--chunk-size 1000: a multiple of 4, at most 452" $E image merge-bin --chip esp32 --format uf2 --chunk-size 1000 -o "$T/o.uf2" 0x1000 input/odd.bin
bad "--chunk-size 254" $E image merge-bin --chip esp32 --format uf2 --chunk-size 254 -o "$T/o.uf2" 0x1000 input/odd.bin
# past the flash the chip addresses, past 32 bits (issue 10: these wrote huge files)
bad "end past 0x8000000, the largest flash the esp32 addresses" $E image merge-bin --chip esp32 -o "$T/o.bin" 0xFFFFFFFF input/odd.bin
bad "past the 32-bit flash address space" $E image merge-bin -o "$T/o.bin" 0x100000000 input/odd.bin
bad "the largest flash the esp8266 addresses" $E image merge-bin --chip esp8266 -o "$T/o.bin" 0x1000000 input/odd.bin
absent "$T/o.bin"
absent "$T/o.uf2"

# an Intel HEX input goes at its own addresses; the address given is ignored, as esptool does
ok $E image merge-bin -o "$T/h.bin" 0x5000 expected/hex_low.hex
cmp -s <(head -c 1001 "$T/h.bin") input/odd.bin || fail "hex input: run at 0x0 not placed at 0x0"
# a hex file defining one address twice is refused (esptool: a traceback)
printf ':0100000041BE\n:0100000042BD\n:00000001FF\n' >"$T/dup.hex"
bad "line 2: address 0x0 is defined twice" $E image merge-bin -o "$T/o.bin" 0x0 "$T/dup.hex"
finish
