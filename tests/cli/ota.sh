# espsec ota write/confirm/rollback: esp_ota_ops on the virtual device, per chip and security configuration:
# accepted updates boot; a wrong key, a lower secure_version under anti-rollback, a corrupt image and a
# non-image are refused as esp_ota_end / esp_ota_set_boot_partition refuse them and the old app keeps booting;
# an unconfirmed update rolls back.
. "$(dirname "$0")/lib.inc"
SB=$VECTORS/secure_boot/input
E=$ESPSEC
cd "$T"

booted() { # booted VERSION PARTITION: the last boot ran that app
    contains "$T/out" "^BOOTED: app 'app' version $1 from partition '$2'"
}
refused() { # refused PATTERN CMD...: exit 1, one stderr line naming the call/error, the old app kept
    local pat=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (refused) from: $* (got $rc: $(head -c 300 "$T/err"))"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "expected one error line from: $*: $(cat "$T/err")"
    grep -q -- "$pat" "$T/err" || fail "'$*' did not say '$pat': $(cat "$T/err")"
    grep -q -- "otadata unchanged" "$T/err" || fail "'$*' does not say otadata is unchanged"
}

# story CHIP SIGNED SDKCONFIG-LINES...: one device through updates, confirmations, rollbacks and refusals
story() {
    local chip=$1 signed=$2
    shift 2
    local d="$T/$chip-$signed-$#"
    mkdir -p "$d" && cd "$d" || return
    printf 'CONFIG_IDF_TARGET="%s"\n' "$chip" >s.cfg
    for l in "$@"; do echo "CONFIG_$l" >>s.cfg; done
    local rollback=0 anti=0
    grep -q APP_ROLLBACK_ENABLE=y s.cfg && rollback=1
    grep -q APP_ANTI_ROLLBACK=y s.cfg && anti=1
    local boff=0x0
    case $chip in esp32 | esp32s2) boff=0x1000 ;; esp32c5 | esp32p4) boff=0x2000 ;; esac
    $E image sample --chip "$chip" --kind bootloader -o bl.bin >/dev/null
    for v in 1 2 3; do
        $E image sample --chip "$chip" --project app --app-version $v.0 --secure-version $v --seed $v -o a$v.bin >/dev/null
        if [ "$signed" = signed ]; then
            $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o a$v.s a$v.bin >/dev/null
        else
            cp a$v.bin a$v.s
        fi
    done
    if [ "$signed" = signed ]; then
        $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl.bin >/dev/null
        $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072_b.pem" -o a3b.s a3.bin >/dev/null
    else
        cp bl.bin bl.s
    fi
    printf 'nvs,data,nvs,0x9000,0x4000,\notadata,data,ota,0xd000,0x2000,\nphy_init,data,phy,0xf000,0x1000,\nota_0,app,ota_0,0x10000,0x100000,\nota_1,app,ota_1,0x110000,0x100000,\n' >ota.csv
    $E partition-table ota.csv pt.bin >/dev/null
    $E image merge-bin -o fl.bin --fill-flash-size 4MB $boff bl.s 0x8000 pt.bin 0x10000 a1.s >/dev/null
    local D="--chip $chip --efuse ef.bin --flash fl.bin --sdkconfig s.cfg"
    ok $E boot $D --provision
    booted 1.0 ota_0
    # an update written and selected; it boots next
    ok $E ota write $D a2.s
    contains "$T/out" "^OTA ACCEPTED: 'app' version 2.0 (secure_version 2) in 'ota_1' at 0x110000"
    grep -q SECURE_FLASH_ENC_ENABLED=y s.cfg && contains "$T/out" "0x110000, encrypted"
    ok $E boot $D --provision
    booted 2.0 ota_1
    if [ $rollback = 1 ]; then
        # never confirmed: the second power-on rolls back to ota_0
        ok $E boot $D --provision
        booted 1.0 ota_0
        # written again; in its first run the new app tries to update before confirming itself:
        # esp_ota_begin refuses, and that run was its trial
        ok $E ota write $D a2.s
        refused "esp_ota_begin returned ESP_ERR_OTA_ROLLBACK_INVALID_STATE" $E ota write $D a3.s
        # every command is a power-on: the update rolled back, so it is written once more and confirmed in
        # its first run
        ok $E ota write $D a2.s
        contains "$T/out" "running partition 'ota_0'"
        ok $E ota confirm $D
        contains "$T/out" "^CONFIRMED: 'ota_1' at 0x110000, otadata\[.\] state ESP_OTA_IMG_VALID"
        if [ $anti = 1 ]; then contains "$T/out" "eFuse SECURE_VERSION 2"; fi
        ok $E boot $D --provision
        booted 2.0 ota_1
        ok $E boot $D --provision
        booted 2.0 ota_1
    else
        # esp_ota_mark_app_valid_cancel_rollback works without rollback too (the state is not looked at)
        ok $E ota confirm $D
        contains "$T/out" "^CONFIRMED: 'ota_1'"
        ok $E boot $D
        booted 2.0 ota_1
    fi
    # refusals: the old app keeps booting
    cp a3.s bad.s
    python3 -c "
import sys
f = open(sys.argv[1], 'r+b'); f.seek(0x3000); b = f.read(1); f.seek(0x3000); f.write(bytes([b[0] ^ 0x20]))" bad.s
    refused "esp_ota_end returned ESP_ERR_OTA_VALIDATE_FAILED: New image failed verification" $E ota write $D bad.s
    ok $E boot $D --provision
    booted 2.0 ota_1
    head -c 4096 /dev/zero >zero.bin
    refused "esp_ota_write returned ESP_ERR_OTA_VALIDATE_FAILED: OTA image has invalid magic byte (expected 0xE9, saw 0x00)" $E ota write $D zero.bin
    ok $E boot $D --provision
    booted 2.0 ota_1
    if [ "$signed" = signed ]; then
        refused "is not burned in eFuse (signed with another key)" $E ota write $D a3b.s
        ok $E boot $D --provision
        booted 2.0 ota_1
        # an unsigned update is refused too
        refused "ESP_ERR_OTA_VALIDATE_FAILED" $E ota write $D a3.bin
    fi
    if [ $anti = 1 ]; then
        refused "esp_ota_set_boot_partition returned ESP_ERR_OTA_SMALL_SEC_VER" $E ota write $D a1.s
        ok $E boot $D --provision
        booted 2.0 ota_1
    fi
    # a good update after all that; with rollback its first run rejects itself
    ok $E ota write $D a3.s
    contains "$T/out" "in 'ota_0' at 0x10000"
    if [ $rollback = 1 ]; then
        ok $E ota rollback $D
        contains "$T/out" "^ROLLBACK REQUESTED: 'ota_0'"
        ok $E boot $D --provision
        booted 2.0 ota_1
    else
        ok $E boot $D --provision
        booted 3.0 ota_0
    fi
    cd "$T" || return
}

# ESP32: Secure Boot V2 + flash encryption (development), rollback and anti-rollback
story esp32 signed SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    BOOTLOADER_APP_ROLLBACK_ENABLE=y BOOTLOADER_APP_ANTI_ROLLBACK=y
# ESP32: release-mode flash encryption, no Secure Boot, no rollback
story esp32 plain SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y
# ESP32-C3: Secure Boot V2 + release-mode flash encryption, rollback
story esp32c3 signed SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y BOOTLOADER_APP_ROLLBACK_ENABLE=y
# ESP32-C3: development-mode flash encryption, signed updates without hardware Secure Boot, anti-rollback
story esp32c3 signed SECURE_FLASH_ENC_ENABLED=y SECURE_SIGNED_APPS_NO_SECURE_BOOT=y \
    BOOTLOADER_APP_ROLLBACK_ENABLE=y BOOTLOADER_APP_ANTI_ROLLBACK=y
# ESP32-S3: Secure Boot V2 + development-mode XTS-AES-256 (key over two blocks), rollback and anti-rollback
story esp32s3 signed SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_ENCRYPTION_AES256=y BOOTLOADER_APP_ROLLBACK_ENABLE=y BOOTLOADER_APP_ANTI_ROLLBACK=y
# ESP32-S3: release-mode flash encryption, no Secure Boot, rollback
story esp32s3 plain SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y \
    BOOTLOADER_APP_ROLLBACK_ENABLE=y
# ESP32-S3: Secure Boot V2 + release-mode flash encryption, anti-rollback without app rollback
story esp32s3 signed SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y BOOTLOADER_APP_ANTI_ROLLBACK=y

# ---- the signature blocks an update check reads: esp_secure_boot_verify_signature reads as many as the chip
# has key digest slots, so on the ESP32-C2 (one slot) only block 0 counts; on the C3 (three) any block ----
blocks() { # blocks CHIP KEY-A KEY-B SDKCONFIG-LINES...: Secure Boot V2 with key A; updates signed [B, A] and [A, B]
    local chip=$1 ka=$SB/$2 kb=$SB/$3
    shift 3
    local d="$T/blocks-$chip"
    mkdir -p "$d" && cd "$d" || return
    printf 'CONFIG_IDF_TARGET="%s"\nCONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' "$chip" >s.cfg
    for l in "$@"; do echo "CONFIG_$l" >>s.cfg; done
    $E image sample --chip "$chip" --kind bootloader -o bl.bin >/dev/null
    $E image sample --chip "$chip" --project app --app-version 1.0 -o a1.bin >/dev/null
    $E image sample --chip "$chip" --project app --app-version 2.0 --seed 2 -o a2.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$ka" -o bl.s bl.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$ka" -o a1.s a1.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$kb" "$ka" -o a2.ba a2.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$ka" "$kb" -o a2.ab a2.bin >/dev/null
    printf 'otadata,data,ota,0xd000,0x2000,\nota_0,app,ota_0,0x10000,0x100000,\nota_1,app,ota_1,0x110000,0x100000,\n' >ota.csv
    $E partition-table ota.csv pt.bin >/dev/null
    $E image merge-bin -o fl.bin --fill-flash-size 4MB 0x0 bl.s 0x8000 pt.bin 0x10000 a1.s >/dev/null
    local D="--chip $chip --efuse ef.bin --flash fl.bin --sdkconfig s.cfg"
    ok $E boot $D --provision
    booted 1.0 ota_0
    cd "$T" || return
}
blocks esp32c2 key_ecdsa256.pem key_ecdsa256_b.pem SECURE_SIGNED_APPS_ECDSA_V2_SCHEME=y SECURE_BOOT_V2_ECC_ENABLED=y \
    SECURE_BOOT_ECDSA_KEY_LEN_256_BITS=y
cd "$T/blocks-esp32c2" || exit 1
D="--chip esp32c2 --efuse ef.bin --flash fl.bin --sdkconfig s.cfg"
refused "signature block 0: key digest .* is not burned in eFuse" $E ota write $D a2.ba
ok $E ota write $D a2.ab
contains "$T/out" "^OTA ACCEPTED: 'app' version 2.0"
ok $E boot $D
booted 2.0 ota_1
blocks esp32c3 key_rsa3072.pem key_rsa3072_b.pem
cd "$T/blocks-esp32c3" || exit 1
D="--chip esp32c3 --efuse ef.bin --flash fl.bin --sdkconfig s.cfg"
ok $E ota write $D a2.ba
contains "$T/out" "^OTA ACCEPTED: 'app' version 2.0"
ok $E boot $D
booted 2.0 ota_1
cd "$T" || exit 1

# ---- the device must run an app to update itself; no OTA slot ----
$E image sample --kind bootloader -o bl.bin >/dev/null
$E image sample --project app --app-version 1.0 -o f.bin >/dev/null
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >f.csv
$E partition-table f.csv f.pt >/dev/null
$E image merge-bin -o nota.bin --fill-flash-size 4MB 0x1000 bl.bin 0x8000 f.pt 0x10000 f.bin >/dev/null
bad "has no OTA app partition" $E ota write --efuse n.efuse --flash nota.bin f.bin
dd if=/dev/zero of=blank.bin bs=1M count=4 2>/dev/null
bad "the device does not boot, so no app runs the update" $E ota write --efuse n.efuse --flash blank.bin f.bin
bad "nothere.bin: cannot open" $E ota write --efuse n.efuse --flash nota.bin nothere.bin
ok $E ota --help
contains "$T/out" "write"
ok $E ota write --help
contains "$T/out" "esp_ota_end"
finish
