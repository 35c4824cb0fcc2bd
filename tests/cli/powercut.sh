# espsec boot --powercut-sweep: the power cut at every eFuse block program and flash operation of the
# first boot, per chip (ESP32, ESP32-S3, ESP32-C3) and configuration (development/release, Secure Boot V2 on/off,
# ROM download mode disabled), judged after power-on as the bootloader would leave the device.
. "$(dirname "$0")/lib.inc"
SB=$VECTORS/secure_boot/input
E=$ESPSEC
cd "$T"

images() { # images CHIP: CHIP.flash, plaintext: signed bootloader, table, signed factory app
    local chip=$1 boff=0x0
    case $chip in esp32 | esp32s2) boff=0x1000 ;; esp32c5 | esp32p4) boff=0x2000 ;; esac
    $E image sample --chip "$chip" --kind bootloader -o "$chip.bl" >/dev/null
    $E image sample --chip "$chip" --project app --app-version 1.0 -o "$chip.app" >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o "$chip.bl.s" "$chip.bl" >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o "$chip.app.s" "$chip.app" >/dev/null
    printf 'nvs,data,nvs,0x9000,0x4000,\notadata,data,ota,0xd000,0x2000,\nphy_init,data,phy,0xf000,0x1000,\nfactory,app,factory,0x10000,1M,\n' >p.csv
    $E partition-table p.csv p.bin >/dev/null
    $E image merge-bin -o "$chip.flash" --fill-flash-size 4MB $boff "$chip.bl.s" 0x8000 p.bin 0x10000 "$chip.app.s" >/dev/null
}

# sweep CHIP NAME EXPECT SDKCONFIG-LINES...: run it, check the invariants; EXPECT: open (nothing bricks) or locked
sweep() {
    local chip=$1 name=$2 expect=$3
    shift 3
    printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' "$chip" >"$name.cfg"
    for l in "$@"; do echo "CONFIG_$l" >>"$name.cfg"; done
    cp "$chip.flash" "$name.flash"
    ok $E boot --chip "$chip" --efuse "$name.efuse" --flash "$name.flash" --sdkconfig "$name.cfg" --powercut-sweep --json
    cp "$T/out" "$name.json"
    absent "$name.efuse"
    same "$name.flash" "$chip.flash"
    CHECKS=$((CHECKS + 1))
    python3 - "$name.json" "$expect" "$name" <<'PY' || fail "sweep $name"
import json, sys
r = json.load(open(sys.argv[1])); expect = sys.argv[2]
cuts = r['cuts']
assert r['points'] == len(cuts) == r['efuse_programs'] + r['flash_ops'], r['points']
assert r['recovers'] + r['stays_plaintext'] + r['reflash'] + r['bricked'] == r['points']
assert r['efuse_programs'] >= 3 and r['flash_ops'] > 40
t = [c['flash_before'] + c['efuse_before'] for c in cuts]
assert t == sorted(t), 'not in time order'
# before the first flash write nothing is lost: cuts of the first eFuse burns recover by themselves
first_flash = next(i for i, c in enumerate(cuts) if not c['efuse'])
assert cuts[0]['efuse'] and cuts[0]['outcome'] == 'recovers', cuts[0]
# a cut while a sector is rewritten in place never boots by itself
for c in cuts:
    if not c['efuse'] and 'program' in c['what'] and 'the bootloader' in c['what']:
        assert c['outcome'] in ('recovers after re-flash', 'bricked'), c
# the last cut is the crypt counter's burn: all encrypted, counter even, the ROM reads ciphertext
assert cuts[-1]['efuse'] and cuts[-1]['outcome'] != 'recovers', cuts[-1]
if expect == 'open':
    assert r['bricked'] == 0, [c for c in cuts if c['outcome'] == 'bricked'][:1]
else:
    assert r['bricked'] > 20, r['bricked']
    assert all('download mode' in c['detail'] or 'Failed to connect' in c['detail'] for c in cuts if c['outcome'] == 'bricked')
print(sys.argv[3], r['points'], r['recovers'], r['stays_plaintext'], r['reflash'], r['bricked'])
PY
}

for chip in esp32 esp32s3 esp32c3; do
    images $chip
    sweep $chip $chip-dev open SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y
    sweep $chip $chip-rel open SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y
    sweep $chip $chip-dev-sb open SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y
    sweep $chip $chip-rel-sb open SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y
    sweep $chip $chip-rel-sb-nodl locked SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y \
        SECURE_DISABLE_ROM_DL_MODE=y
done
# ESP32-S3 with XTS-AES-256: the 512-bit key takes two key blocks, one cut point more, and a cut in
# either block's burn recovers (the next boot burns a new key into free blocks)
sweep esp32s3 esp32s3-rel-sb-256 open SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y \
    SECURE_FLASH_ENCRYPTION_AES256=y
CHECKS=$((CHECKS + 1))
python3 - esp32s3-rel-sb.json esp32s3-rel-sb-256.json <<'PY' || fail "S3 XTS-AES-256 sweep"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert b['points'] == a['points'] + 1 and b['efuse_programs'] == a['efuse_programs'] + 1, (a['points'], b['points'])
keys = [c for c in b['cuts'] if c['efuse'] and 'BLOCK_KEY' in c['what']]
assert len(keys) == 3 and all(c['outcome'] == 'recovers' for c in keys), keys
PY
# the text table names each cut and says what follows
ok $E boot --efuse t.efuse --flash esp32.flash --sdkconfig esp32-dev-sb.cfg --powercut-sweep
contains "$T/out" "^0 *eFuse BLOCK2 program *recovers"
contains "$T/out" "flash program 0x1000 (the bootloader) *recovers after re-flash *does not boot (no valid image at 0x1000"
contains "$T/out" "ESP_ERR_INVALID_STATE): the bootloader refuses to use it); boots after espefuse read/write-protect BLOCK1"
contains "$T/out" "^77 cut points (5 eFuse block programs, 72 flash operations)"
# torn flash operations: the same cut points
ok $E boot --efuse t.efuse --flash esp32.flash --sdkconfig esp32-dev-sb.cfg --powercut-sweep --tear
contains "$T/out" "^77 cut points"
bad "--powercut-sweep needs --sdkconfig" $E boot --efuse t.efuse --flash esp32.flash --powercut-sweep
finish
