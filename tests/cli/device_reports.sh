# Scenario tests from real bricking reports: the eFuse and flash state the report describes, what doctor
# says before the burn, and that boot fails as the device did.
. "$(dirname "$0")/lib.inc"
SB=$VECTORS/secure_boot/input
E=$ESPSEC
cd "$T"

no_boot() { # no_boot PATTERN ARGS...
    local pat=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (does not boot) from: $* (got $rc: $(head -c 300 "$T/err"))"
    grep -q "^DOES NOT BOOT.*$pat" "$T/out" || fail "'$*' did not report '$pat': $(tail -1 "$T/out")"
}
doctor_finds() { # doctor_finds ID ARGS...: exit 1 and the finding
    local id=$1
    shift
    CHECKS=$((CHECKS + 1))
    "$@" >"$T/out" 2>"$T/err"
    [ $? -eq 1 ] || fail "doctor should report errors: $*"
    grep -q "\[$id\]" "$T/out" || fail "doctor did not find $id: $(head -c 400 "$T/out")"
}

# an ESP32 project: signed bootloader and app (RSA-3072), factory layout
$E image sample --kind bootloader -o bl.bin >/dev/null
$E image sample --project rep_app --app-version 1.0 -o app.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o bl.s bl.bin >/dev/null
$E secure sign-data --version 2 --keyfile "$SB/key_rsa3072.pem" -o app.s app.bin >/dev/null
printf 'nvs,data,nvs,0x9000,0x6000,\nfactory,app,factory,0x10000,1M,\n' >pt.csv
$E partition-table pt.csv pt.bin >/dev/null
$E image merge-bin -o plain.flash --fill-flash-size 4MB 0x1000 bl.s 0x8000 pt.bin 0x10000 app.s >/dev/null
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\n' >sb.cfg
printf 'CONFIG_SECURE_BOOT=y\nCONFIG_SECURE_BOOT_V2_ENABLED=y\nCONFIG_SECURE_FLASH_ENC_ENABLED=y\n' >sbfe.cfg

# ---- espressif/esp-idf#11888 "Cannot enable flash encryption after secure-boot v2" (ESP32 rev 3) ----
# Secure Boot V2 was enabled alone; its first boot write-protected RD_DIS. A later firmware with flash
# encryption cannot read-protect its new key.
cp plain.flash r11888.flash
ok $E boot --efuse r11888.efuse --flash r11888.flash --sdkconfig sb.cfg --chip-rev v3.0 --provision
contains "$T/out" "Prevent read disabling of additional efuses"
doctor_finds rd-dis-locked $E doctor --efuse r11888.efuse --flash r11888.flash --sdkconfig sbfe.cfg --chip-rev v3.0
no_boot "Initialization of Flash Encryption key failed" $E boot --efuse r11888.efuse --flash r11888.flash --sdkconfig sbfe.cfg --chip-rev v3.0
# what the report was told: enable both on the same first boot
cp plain.flash both.flash
ok $E boot --efuse both.efuse --flash both.flash --sdkconfig sbfe.cfg --chip-rev v3.0 --provision
contains "$T/out" "^BOOTED: app 'rep_app'"

# ---- espressif/esp-idf#6886 "Secure boot v2 does not write BLOCK2 properly, causes device to be bricked" ----
# ABS_DONE_1 burned with an all-zero digest in BLOCK2: the ROM matches no key.
$E efuse --virt --path-efuse-file r6886.efuse --do-not-confirm burn-efuse ABS_DONE_1 1 >/dev/null
doctor_finds sb-no-digest $E doctor --efuse r6886.efuse --flash plain.flash
no_boot "Secure Boot V2 refuses the bootloader" $E boot --efuse r6886.efuse --flash plain.flash
contains "$T/out" "secure boot check fail"

finish
