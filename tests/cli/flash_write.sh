# espsec flash write: esptool write-flash [--encrypt] in download mode under the eFuses, per chip and
# configuration: what is written and what it means for the next boot; refusals in esptool's words.
. "$(dirname "$0")/lib.inc"
SB=$VECTORS/secure_boot/input
E=$ESPSEC
cd "$T"

refused() { # refused PATTERN CMD...: exit 1, one stderr line with the chip's answer, flash unchanged
    local pat=$1
    shift
    cp fl.bin before.bin
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (refused) from: $* (got $rc: $(head -c 300 "$T/err"))"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "expected one error line from: $*: $(cat "$T/err")"
    grep -q -- "$pat" "$T/err" || fail "'$*' did not answer '$pat': $(cat "$T/err")"
    same fl.bin before.bin
}
booted() {
    contains "$T/out" "^BOOTED: app '$1' version $2"
}
burn() { # burn EFUSE-FILE CHIP NAME [VALUE]...
    local f=$1 c=$2
    shift 2
    $E efuse --chip "$c" --path-efuse-file "$f" --do-not-confirm burn_efuse "$@" >/dev/null || fail "burn $*"
}
# device CHIP DIR SDKCONFIG-LINES...: a provisioned device in DIR (bootloader, table, factory app v1)
device() {
    local chip=$1 dir=$2
    shift 2
    mkdir -p "$T/$dir" && cd "$T/$dir" || return
    printf 'CONFIG_IDF_TARGET="%s"\n' "$chip" >s.cfg
    for l in "$@"; do echo "CONFIG_$l" >>s.cfg; done
    BOFF=0x0
    case $chip in esp32 | esp32s2) BOFF=0x1000 ;; esp32c5 | esp32p4) BOFF=0x2000 ;; esac
    $E image sample --chip "$chip" --kind bootloader -o bl.bin >/dev/null
    $E image sample --chip "$chip" --project app --app-version 1.0 -o a1.bin >/dev/null
    $E image sample --chip "$chip" --project app --app-version 2.0 --seed 2 -o a2.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o a1.s a1.bin >/dev/null
    $E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o a2.s a2.bin >/dev/null
    printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >p.csv
    $E partition-table p.csv pt.bin >/dev/null
    $E image merge-bin -o plain.bin --fill-flash-size 4MB $BOFF bl.s 0x8000 pt.bin 0x10000 a1.s >/dev/null
    cp plain.bin fl.bin
    D="--chip $chip --efuse ef.bin --flash fl.bin"
    ok $E boot $D --sdkconfig s.cfg --provision
    booted app 1.0
}

# ---- ESP32, development mode (manual encryption left on), Secure Boot V2 ----
device esp32 e32dev SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y
# --encrypt: the chip encrypts with its key; the update boots
ok $E flash write $D --encrypt 0x10000 a2.s
contains "$T/out" "Wrote .* at 0x00010000 (encrypted by the chip)"
contains "$T/out" "^WRITTEN: flash encryption on, crypt counter 1 of 7 bits, 3 development-mode plaintext re-flashes left"
ok $E boot $D
booted app 2.0
# the ROM loader cannot encrypt on this chip
refused "ROM bootloader does not support encrypted writes" $E flash write $D --encrypt --no-stub 0x10000 a1.s
refused "is not 32 byte aligned\|Can't perform encrypted flash write" $E flash write $D --encrypt 0x10010 a1.s
# plaintext over flash encryption: esptool lets it through here, the chip decrypts it to garbage
ok $E flash write $D 0x10000 a1.s
contains "$T/out" "plaintext in partition 'factory', which the chip decrypts: the next boot reads garbage there"
CHECKS=$((CHECKS + 1))
$E boot $D >"$T/out" && fail "plaintext app under flash encryption booted"
# the development-mode way back: turn flash encryption off (one counter bit), re-flash plaintext, the
# bootloader encrypts it again (another bit)
burn ef.bin esp32 FLASH_CRYPT_CNT
cp plain.bin fl.bin
ok $E flash write $D 0x10000 a2.s
contains "$T/out" "development-mode re-flash: flash encryption is off (FLASH_CRYPT_CNT has 2 of 7 bits); the next first boot encrypts in place and burns bit 3, leaving 2 more"
ok $E boot $D --sdkconfig s.cfg --provision
booted app 2.0
# esp_flash_encrypt_init runs once per chip: a re-enable keeps key and fuses and only encrypts
contains "$T/out" "bootloader encrypted successfully"
ok $E flash write $D --encrypt 0x10000 a1.s
contains "$T/out" "crypt counter 3 of 7 bits, 2 development-mode plaintext re-flashes left"

# ---- ESP32, release mode: manual encryption off, counter full ----
device esp32 e32rel SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y
refused "Detected flash encryption enabled and download manual encrypt disabled" $E flash write $D 0x10000 a2.s
refused "encrypt functionality in UART download mode disabled" $E flash write $D --encrypt 0x10000 a2.s
ok $E flash write $D --force 0x10000 a2.s
contains "$T/out" "^WRITTEN: flash encryption on, crypt counter 7 of 7 bits, 0 development-mode plaintext re-flashes left"
# release mode fills FLASH_CRYPT_CNT without write-protecting it (ESP-IDF: a full counter needs none, and on the
# ESP32 its WR_DIS bit would also lock UART_DOWNLOAD_DIS), so download mode can still be turned off
ok $E efuse --path-efuse-file ef.bin --do-not-confirm burn_efuse UART_DOWNLOAD_DIS
# a C3 image refused on an ESP32 (and --force takes it)
$E image sample --chip esp32c3 --project other -o c3.bin >/dev/null
mkdir -p "$T/e32fresh" && cd "$T/e32fresh" && cp "$T/e32rel/plain.bin" fl.bin
refused "c3.bin' is not an ESP32 image. Use the force argument" $E flash write --efuse ef.bin --flash fl.bin 0x10000 "$T/e32rel/c3.bin"
ok $E flash write --efuse ef.bin --flash fl.bin --force 0x10000 "$T/e32rel/c3.bin"
# no key to encrypt with on a fresh chip
refused "Can't perform encrypted flash write" $E flash write --efuse ef.bin --flash fl.bin --encrypt 0x10000 "$T/e32rel/a1.s"
grep -q "Flash encryption key is not programmed" "$T/out" || fail "no 'key is not programmed' note"
# Secure Boot V1 protects the bootloader region
burn ef.bin esp32 ABS_DONE_0
refused "Secure Boot V1 detected, writing to flash regions < 0x8000 is disabled" $E flash write --efuse ef.bin --flash fl.bin 0x1000 "$T/e32rel/bl.bin"
ok $E flash write --efuse ef.bin --flash fl.bin 0x10000 "$T/e32rel/a1.bin"
# download mode disabled: the chip does not answer
burn ef.bin esp32 UART_DOWNLOAD_DIS
refused "Failed to connect to ESP32: No serial data received" $E flash write --efuse ef.bin --flash fl.bin 0x10000 "$T/e32rel/a1.bin"

# ---- ESP32-C3, development mode with Secure Boot V2, then Secure Download Mode ----
device esp32c3 c3dev SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y
ok $E flash write $D --encrypt 0x10000 a2.s
contains "$T/out" "crypt counter 1 of 3 bits, 1 development-mode plaintext re-flash left"
ok $E boot $D
booted app 2.0
refused "is not 16 byte aligned\|Can't perform encrypted flash write" $E flash write $D --encrypt 0x10008 a1.s
burn ef.bin esp32c3 ENABLE_SECURITY_DOWNLOAD
refused "Detected flash encryption and secure download mode enabled" $E flash write $D 0x10000 a1.s
ok $E flash write $D --encrypt 0x10000 a1.s
contains "$T/out" "in Secure Download Mode (no stub"
contains "$T/out" "^WRITTEN in Secure Download Mode"
ok $E boot $D
booted app 1.0
refused "the ROM assumes a 2MB flash; give --flash-size" $E flash write $D --encrypt 0x300000 a1.s
ok $E flash write $D --encrypt --flash-size 4MB 0x300000 a1.s
refused "will not fit in 4194304 bytes of flash" $E flash write $D --encrypt --flash-size 4MB 0x3F0000 a1.s

# ---- ESP32-C3, release mode: manual encryption off; then download mode off ----
device esp32c3 c3rel SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y
refused "Detected flash encryption enabled and download manual encrypt disabled" $E flash write $D 0x10000 a2.s
refused "encrypt functionality in UART download mode disabled" $E flash write $D --encrypt 0x10000 a2.s
burn ef.bin esp32c3 ENABLE_SECURITY_DOWNLOAD
refused "the ROM refuses the encrypted flash write (DIS_DOWNLOAD_MANUAL_ENCRYPT is burned" $E flash write $D --encrypt 0x10000 a2.s
burn ef.bin esp32c3 DIS_DOWNLOAD_MODE
refused "Failed to connect to ESP32-C3: No serial data received" $E flash write $D --encrypt 0x10000 a2.s

# ---- ESP32-S3, development mode with Secure Boot V2 and XTS-AES-256, then Secure Download Mode ----
device esp32s3 s3dev SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_ENCRYPTION_AES256=y SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC=y
ok $E flash write $D --encrypt 0x10000 a2.s
contains "$T/out" "Wrote .* at 0x00010000 (encrypted by the chip)"
contains "$T/out" "crypt counter 1 of 3 bits, 1 development-mode plaintext re-flash left"
ok $E boot $D
booted app 2.0
refused "is not 16 byte aligned\|Can't perform encrypted flash write" $E flash write $D --encrypt 0x10008 a1.s
# plaintext over flash encryption: decrypted to garbage at the next boot
ok $E flash write $D 0x10000 a1.s
contains "$T/out" "plaintext in partition 'factory', which the chip decrypts: the next boot reads garbage there"
CHECKS=$((CHECKS + 1))
$E boot $D >"$T/out" && fail "S3: plaintext app under flash encryption booted"
ok $E flash write $D --encrypt 0x10000 a1.s
ok $E boot $D
booted app 1.0
burn ef.bin esp32s3 ENABLE_SECURITY_DOWNLOAD
refused "Detected flash encryption and secure download mode enabled" $E flash write $D 0x10000 a2.s
ok $E flash write $D --encrypt 0x10000 a2.s
contains "$T/out" "^WRITTEN in Secure Download Mode"
ok $E boot $D
booted app 2.0
burn ef.bin esp32s3 DIS_DOWNLOAD_MODE
refused "Failed to connect to ESP32-S3: No serial data received" $E flash write $D --encrypt 0x10000 a1.s

# ---- ESP32-S3, release mode without Secure Boot: manual encryption off; the development-mode way back is gone ----
device esp32s3 s3rel SECURE_FLASH_ENC_ENABLED=y SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y
refused "Detected flash encryption enabled and download manual encrypt disabled" $E flash write $D 0x10000 a2.s
refused "encrypt functionality in UART download mode disabled" $E flash write $D --encrypt 0x10000 a2.s
ok $E flash write $D --force 0x10000 a2.s
contains "$T/out" "^WRITTEN: flash encryption on, crypt counter 3 of 3 bits, 0 development-mode plaintext re-flashes left"
burn ef.bin esp32s3 ENABLE_SECURITY_DOWNLOAD
refused "the ROM refuses the encrypted flash write (DIS_DOWNLOAD_MANUAL_ENCRYPT is burned" $E flash write $D --encrypt 0x10000 a2.s
burn ef.bin esp32s3 DIS_DOWNLOAD_MODE
refused "Failed to connect to ESP32-S3: No serial data received" $E flash write $D 0x10000 a2.s

# ---- ESP32-S3, release mode with Secure Boot V2: the bootloader region and a C3 image ----
device esp32s3 s3relsb SECURE_BOOT=y SECURE_BOOT_V2_ENABLED=y SECURE_FLASH_ENC_ENABLED=y \
    SECURE_FLASH_ENCRYPTION_MODE_RELEASE=y
refused "encrypt functionality in UART download mode disabled" $E flash write $D --encrypt 0x0 bl.s
$E image sample --chip esp32c3 --project other -o c3.bin >/dev/null
refused "c3.bin' is not an ESP32-S3 image. Use the force argument" $E flash write $D 0x10000 c3.bin

# ---- bad input ----
bad "ADDR FILE pairs expected" $E flash write $D 0x10000
bad "'zz': a flash address expected" $E flash write $D zz a2.s
bad "--flash-size '3XB'" $E flash write $D --flash-size 3XB 0x10000 a2.s
bad "nothere.bin: cannot open" $E flash write $D 0x10000 nothere.bin
ok $E flash write --help
contains "$T/out" "write-flash"
finish
