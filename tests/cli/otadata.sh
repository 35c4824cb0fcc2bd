# The otadata rows of tests/vectors/partition/MANIFEST.md ("otadata"): each expected/otadata_*.bin
# in the otadata partition of a virtual device with two OTA slots, once with a factory app and once
# without; espsec boot must pick the app the table gives and print the bootloader's line for it
# (bootloader_utility_get_selected_boot_partition). The blank otadata without a factory app makes the
# bootloader write sequence 1 (state VALID) into entry 0: that sector must be byte-identical to
# otadata_seq1.bin apart from the state word (the vector's entry is UNDEFINED, 0xFFFFFFFF).
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
V=$VECTORS/partition/expected
SB=$VECTORS/secure_boot/ed1/input
cd "$T"

printf 'nvs,data,nvs,0x9000,0x4000,\notadata,data,ota,0xd000,0x2000,\nfactory,app,factory,0x10000,0x40000,\nota_0,app,ota_0,0x50000,0x40000,\nota_1,app,ota_1,0x90000,0x40000,\n' >factory.csv
grep -v '^factory' factory.csv >nofactory.csv
ok $E partition-table factory.csv factory_pt.bin
ok $E partition-table nofactory.csv nofactory_pt.bin
ok $E image sample --project app_factory --app-version 1.0 -o f.bin
ok $E image sample --project app_ota0 --app-version 2.0 --seed 2 -o o0.bin
ok $E image sample --project app_ota1 --app-version 3.0 --seed 3 -o o1.bin

# row FILE LAYOUT APP LINE: boot FILE's otadata in LAYOUT (factory / nofactory); APP boots, LINE (if
# not "-") is printed
row() {
    local od=$1 layout=$2 app=$3 line=$4 extra=""
    [ "$layout" = factory ] && extra="0x10000 f.bin"
    # shellcheck disable=SC2086
    $E image merge-bin -o "$od.$layout.flash" --fill-flash-size 4MB 0x1000 "$SB/bootloader.bin" \
        0x8000 "${layout}_pt.bin" 0xd000 "$V/otadata_$od.bin" $extra 0x50000 o0.bin 0x90000 o1.bin >/dev/null
    ok $E boot --efuse "$T/none.efuse" --flash "$od.$layout.flash"
    contains "$T/out" "^BOOTED: app '$app' "
    if [ "$line" != - ]; then
        contains "$T/out" "boot: $line\$"
    fi
}

row blank factory app_factory "Defaulting to factory image"
row blank nofactory app_ota0 "No factory image, trying OTA 0"
contains "$T/out" "boot: Set actual ota_seq=1 in otadata\[0\]$"
row seq1 factory app_ota0 -
row seq1 nofactory app_ota0 -
row seq2 factory app_ota1 -
row seq2 nofactory app_ota1 -
row seq3 factory app_ota0 -
row seq3 nofactory app_ota0 -
row badcrc factory app_factory "ota data partition invalid, falling back to factory"
row badcrc nofactory app_ota0 "ota data partition invalid and no factory, will try all partitions"
row aborted factory app_ota0 -
row aborted nofactory app_ota0 -

# a valid entry is never the blank-otadata case: no such line and nothing written
for od in seq1 seq2 seq3 aborted; do
    CHECKS=$((CHECKS + 1))
    $E boot --efuse none.efuse --flash "$od.nofactory.flash" --provision >out.txt 2>&1
    grep -q "Set actual ota_seq\|Defaulting to factory\|No factory image" out.txt && fail "$od: blank-otadata path taken"
done
cp "$V/otadata_seq2.bin" seq2.ref
ok python3 -c "import sys; d = open(sys.argv[1], 'rb').read(); sys.exit(d[0xd000:0xf000] != open(sys.argv[2], 'rb').read())" \
    seq2.nofactory.flash seq2.ref

# the blank otadata, no factory, --provision: the write lands in the flash file, and the next boot
# takes ota_0 through otadata (no blank-otadata line any more)
cp blank.nofactory.flash fresh.flash
ok $E boot --efuse none.efuse --flash fresh.flash --provision
contains "$T/out" "Set actual ota_seq=1 in otadata\[0\]$"
ok python3 -c "
import struct, sys
d = open(sys.argv[1], 'rb').read()[0xd000:0xf000]
ref = bytearray(open(sys.argv[2], 'rb').read())
ref[24:28] = struct.pack('<I', 2)  # ESP_OTA_IMG_VALID where the vector has UNDEFINED
sys.exit(0 if d == bytes(ref) else 'otadata after the first boot differs from otadata_seq1.bin with state VALID')
" fresh.flash "$V/otadata_seq1.bin"
ok $E boot --efuse none.efuse --flash fresh.flash
contains "$T/out" "^BOOTED: app 'app_ota0' "
CHECKS=$((CHECKS + 1))
grep -q "No factory image" "$T/out" && fail "second boot still sees a blank otadata"
# without --provision the flash file is not changed
cp blank.nofactory.flash fresh2.flash
ok $E boot --efuse none.efuse --flash fresh2.flash
same fresh2.flash blank.nofactory.flash
finish
