/*
 * eFuse field map of the ESP32-C3: positions, widths, protection bits and value
 * labels are the chip's register facts (Espressif's technical reference
 * manual, also published as espefuse's eFuse definitions); the descriptions
 * are espsec's own.
 */
#include "chip/chip_efuse.h"

#define A(x) (sizeof(x) / sizeof((x)[0]))

static const efuse_block_def_t C3_BLOCKS[] = {
    {"BLOCK0", {NULL}, 0x02C, 0x000, 6, -1, -1, NULL},
    {"MAC_SPI_8M_0", {"BLOCK1", NULL}, 0x044, 0x000, 6, 20, -1, NULL},
    {"BLOCK_SYS_DATA", {"BLOCK2", NULL}, 0x05C, 0x000, 8, 21, -1, NULL},
    {"BLOCK_USR_DATA", {"BLOCK3", NULL}, 0x07C, 0x000, 8, 22, -1, NULL},
    {"BLOCK_KEY0", {"BLOCK4", NULL}, 0x09C, 0x000, 8, 23, 0, "KEY_PURPOSE_0"},
    {"BLOCK_KEY1", {"BLOCK5", NULL}, 0x0BC, 0x000, 8, 24, 1, "KEY_PURPOSE_1"},
    {"BLOCK_KEY2", {"BLOCK6", NULL}, 0x0DC, 0x000, 8, 25, 2, "KEY_PURPOSE_2"},
    {"BLOCK_KEY3", {"BLOCK7", NULL}, 0x0FC, 0x000, 8, 26, 3, "KEY_PURPOSE_3"},
    {"BLOCK_KEY4", {"BLOCK8", NULL}, 0x11C, 0x000, 8, 27, 4, "KEY_PURPOSE_4"},
    {"BLOCK_KEY5", {"BLOCK9", NULL}, 0x13C, 0x000, 8, 28, 5, "KEY_PURPOSE_5"},
    {"BLOCK_SYS_DATA2", {"BLOCK10", NULL}, 0x15C, 0x000, 8, 29, 6, NULL},
};

static const efuse_field_def_t C3_FIELDS[] = {
    {"WR_DIS", NULL, 0, 0, 0, 32, ESPSEC_EF_UINT, -1, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Write-protection bits, one per group of eFuses"},
    {"RD_DIS", NULL, 0, 1, 0, 7, ESPSEC_EF_UINT, 0, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Read-protection bits for key blocks (and some BLOCK0 fields)"},
    {"DIS_ICACHE", NULL, 0, 1, 8, 1, ESPSEC_EF_BOOL, 2, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Instruction cache disabled"},
    {"DIS_USB_JTAG", NULL, 0, 1, 9, 1, ESPSEC_EF_BOOL, 2, -1, "usb", EC_PLAIN, NULL, EG_ALWAYS, "USB-to-JTAG disabled"},
    {"DIS_DOWNLOAD_ICACHE", NULL, 0, 1, 10, 1, ESPSEC_EF_BOOL, 2, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Instruction cache disabled in download mode"},
    {"DIS_USB_SERIAL_JTAG", "DIS_USB_DEVICE", 0, 1, 11, 1, ESPSEC_EF_BOOL, 2, -1, "usb", EC_PLAIN, "0=Enable;1=Disable", EG_ALWAYS, "USB Serial/JTAG controller disabled"},
    {"DIS_FORCE_DOWNLOAD", NULL, 0, 1, 12, 1, ESPSEC_EF_BOOL, 2, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Forcing download mode from software disabled"},
    {"DIS_TWAI", "DIS_CAN", 0, 1, 14, 1, ESPSEC_EF_BOOL, 2, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "TWAI (CAN) controller disabled"},
    {"JTAG_SEL_ENABLE", NULL, 0, 1, 15, 1, ESPSEC_EF_BOOL, 2, -1, "jtag", EC_PLAIN, NULL, EG_HIDDEN, "JTAG pin selection (not functional on this chip)"},
    {"SOFT_DIS_JTAG", NULL, 0, 1, 16, 3, ESPSEC_EF_UINT, 31, -1, "jtag", EC_PLAIN, NULL, EG_ALWAYS, "JTAG disabled in software (odd number of bits), re-enabled by HMAC"},
    {"DIS_PAD_JTAG", NULL, 0, 1, 19, 1, ESPSEC_EF_BOOL, 2, -1, "jtag", EC_PLAIN, NULL, EG_ALWAYS, "JTAG on pads permanently disabled"},
    {"DIS_DOWNLOAD_MANUAL_ENCRYPT", NULL, 0, 1, 20, 1, ESPSEC_EF_BOOL, 2, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Manual flash encryption in download mode disabled"},
    {"USB_EXCHG_PINS", NULL, 0, 1, 25, 1, ESPSEC_EF_BOOL, 30, -1, "usb", EC_PLAIN, NULL, EG_ALWAYS, "USB D+ and D- swapped"},
    {"VDD_SPI_AS_GPIO", NULL, 0, 1, 26, 1, ESPSEC_EF_BOOL, 30, -1, "vdd", EC_PLAIN, NULL, EG_ALWAYS, "VDD_SPI pin used as GPIO"},
    {"WDT_DELAY_SEL", NULL, 0, 2, 16, 2, ESPSEC_EF_UINT, 3, -1, "wdt", EC_PLAIN, "0=40000;1=80000;2=160000;3=320000", EG_ALWAYS, "RTC watchdog delay during boot (cycles)"},
    {"SPI_BOOT_CRYPT_CNT", NULL, 0, 2, 18, 3, ESPSEC_EF_UINT, 4, -1, "security", EC_BITCOUNT, "0=Disable;1=Enable;3=Disable;7=Enable", EG_ALWAYS, "Flash encryption is on when an odd number of these bits is set"},
    {"SECURE_BOOT_KEY_REVOKE0", NULL, 0, 2, 21, 1, ESPSEC_EF_BOOL, 5, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure boot key digest 0 revoked"},
    {"SECURE_BOOT_KEY_REVOKE1", NULL, 0, 2, 22, 1, ESPSEC_EF_BOOL, 6, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure boot key digest 1 revoked"},
    {"SECURE_BOOT_KEY_REVOKE2", NULL, 0, 2, 23, 1, ESPSEC_EF_BOOL, 7, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure boot key digest 2 revoked"},
    {"KEY_PURPOSE_0", "KEY0_PURPOSE", 0, 2, 24, 4, ESPSEC_EF_UINT, 8, -1, "security", EC_KEYPURPOSE, NULL, EG_ALWAYS, "Purpose of BLOCK_KEY0"},
    {"KEY_PURPOSE_1", "KEY1_PURPOSE", 0, 2, 28, 4, ESPSEC_EF_UINT, 9, -1, "security", EC_KEYPURPOSE, NULL, EG_ALWAYS, "Purpose of BLOCK_KEY1"},
    {"KEY_PURPOSE_2", "KEY2_PURPOSE", 0, 3, 0, 4, ESPSEC_EF_UINT, 10, -1, "security", EC_KEYPURPOSE, NULL, EG_ALWAYS, "Purpose of BLOCK_KEY2"},
    {"KEY_PURPOSE_3", "KEY3_PURPOSE", 0, 3, 4, 4, ESPSEC_EF_UINT, 11, -1, "security", EC_KEYPURPOSE, NULL, EG_ALWAYS, "Purpose of BLOCK_KEY3"},
    {"KEY_PURPOSE_4", "KEY4_PURPOSE", 0, 3, 8, 4, ESPSEC_EF_UINT, 12, -1, "security", EC_KEYPURPOSE, NULL, EG_ALWAYS, "Purpose of BLOCK_KEY4"},
    {"KEY_PURPOSE_5", "KEY5_PURPOSE", 0, 3, 12, 4, ESPSEC_EF_UINT, 13, -1, "security", EC_KEYPURPOSE, NULL, EG_ALWAYS, "Purpose of BLOCK_KEY5"},
    {"SECURE_BOOT_EN", NULL, 0, 3, 20, 1, ESPSEC_EF_BOOL, 15, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure Boot V2 enabled"},
    {"SECURE_BOOT_AGGRESSIVE_REVOKE", NULL, 0, 3, 21, 1, ESPSEC_EF_BOOL, 16, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Revoke a key digest as soon as its signature fails"},
    {"FLASH_TPUW", NULL, 0, 3, 28, 4, ESPSEC_EF_UINT, 18, -1, "flash", EC_PLAIN, NULL, EG_ALWAYS, "Flash power-up wait time (ms)"},
    {"DIS_DOWNLOAD_MODE", NULL, 0, 4, 0, 1, ESPSEC_EF_BOOL, 18, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "All download modes disabled"},
    {"DIS_DIRECT_BOOT", "DIS_LEGACY_SPI_BOOT", 0, 4, 1, 1, ESPSEC_EF_BOOL, 18, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Direct boot (legacy SPI boot) disabled"},
    {"DIS_USB_SERIAL_JTAG_ROM_PRINT", "UART_PRINT_CHANNEL", 0, 4, 2, 1, ESPSEC_EF_BOOL, 18, -1, "usb", EC_PLAIN, "0=Enable;1=Disable", EG_ALWAYS, "ROM messages on USB Serial/JTAG"},
    {"DIS_USB_SERIAL_JTAG_DOWNLOAD_MODE", "DIS_USB_DOWNLOAD_MODE", 0, 4, 4, 1, ESPSEC_EF_BOOL, 18, -1, "usb", EC_PLAIN, NULL, EG_ALWAYS, "Download mode over USB Serial/JTAG disabled"},
    {"ENABLE_SECURITY_DOWNLOAD", NULL, 0, 4, 5, 1, ESPSEC_EF_BOOL, 18, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure download mode: only a few safe commands"},
    {"UART_PRINT_CONTROL", NULL, 0, 4, 6, 2, ESPSEC_EF_UINT, 18, -1, "config", EC_PLAIN, "0=Enable;1=Enable when GPIO8 is low at reset;2=Enable when GPIO8 is high at reset;3=Disable", EG_ALWAYS, "ROM messages on UART"},
    {"FORCE_SEND_RESUME", NULL, 0, 4, 13, 1, ESPSEC_EF_BOOL, 18, -1, "flash", EC_PLAIN, NULL, EG_ALWAYS, "Send resume to the flash when the ROM starts"},
    {"SECURE_VERSION", NULL, 0, 4, 14, 16, ESPSEC_EF_UINT, 18, -1, "security", EC_BITCOUNT, NULL, EG_ALWAYS, "Anti-rollback: minimum app secure_version"},
    {"ERR_RST_ENABLE", NULL, 0, 4, 31, 1, ESPSEC_EF_BOOL, 19, -1, "config", EC_PLAIN, "0=without check;1=with check", EG_ALWAYS, "Use the BLOCK0 check-error reset"},
    {"DISABLE_WAFER_VERSION_MAJOR", NULL, 0, 5, 0, 1, ESPSEC_EF_BOOL, 19, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Ignore the wafer major revision when checking images"},
    {"DISABLE_BLK_VERSION_MAJOR", NULL, 0, 5, 1, 1, ESPSEC_EF_BOOL, 19, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Ignore the eFuse block major revision when checking images"},
    {"MAC", "MAC_FACTORY", 1, 0, 0, 48, ESPSEC_EF_BYTES, 20, -1, "MAC", EC_MAC, NULL, EG_ALWAYS, "Factory MAC address"},
    {"SPI_PAD_CONFIG_CLK", NULL, 1, 1, 16, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI CLK pin (0 = default)"},
    {"SPI_PAD_CONFIG_Q", NULL, 1, 1, 22, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI Q pin (0 = default)"},
    {"SPI_PAD_CONFIG_D", NULL, 1, 1, 28, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI D pin (0 = default)"},
    {"SPI_PAD_CONFIG_CS", NULL, 1, 2, 2, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI CS pin"},
    {"SPI_PAD_CONFIG_HD", NULL, 1, 2, 8, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI HD pin (0 = default)"},
    {"SPI_PAD_CONFIG_WP", NULL, 1, 2, 14, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI WP pin"},
    {"SPI_PAD_CONFIG_DQS", NULL, 1, 2, 20, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI DQS pin"},
    {"SPI_PAD_CONFIG_D4", NULL, 1, 2, 26, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI D4 pin"},
    {"SPI_PAD_CONFIG_D5", NULL, 1, 3, 0, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI D5 pin"},
    {"SPI_PAD_CONFIG_D6", NULL, 1, 3, 6, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI D6 pin"},
    {"SPI_PAD_CONFIG_D7", NULL, 1, 3, 12, 6, ESPSEC_EF_UINT, 20, -1, "spi pad", EC_PLAIN, NULL, EG_ALWAYS, "GPIO used as SPI D7 pin"},
    {"WAFER_VERSION_MINOR_LO", NULL, 1, 3, 18, 3, ESPSEC_EF_UINT, 20, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Wafer minor revision, bits 0-2"},
    {"PKG_VERSION", NULL, 1, 3, 21, 3, ESPSEC_EF_UINT, 20, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Chip package"},
    {"BLK_VERSION_MINOR", NULL, 1, 3, 24, 3, ESPSEC_EF_UINT, 20, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "eFuse block minor revision"},
    {"FLASH_CAP", NULL, 1, 3, 27, 3, ESPSEC_EF_UINT, 20, -1, "flash", EC_PLAIN, "0=None;1=4M;2=2M;3=1M;4=8M", EG_ALWAYS, "Capacity of the in-package flash"},
    {"FLASH_TEMP", NULL, 1, 3, 30, 2, ESPSEC_EF_UINT, 20, -1, "flash", EC_PLAIN, "0=None;1=105C;2=85C", EG_ALWAYS, "Temperature grade of the in-package flash"},
    {"FLASH_VENDOR", NULL, 1, 4, 0, 3, ESPSEC_EF_UINT, 20, -1, "flash", EC_PLAIN, "0=None;1=XMC;2=GD;3=FM;4=TT;5=ZBIT", EG_ALWAYS, "Vendor of the in-package flash"},
    {"K_RTC_LDO", NULL, 1, 4, 7, 7, ESPSEC_EF_UINT, 20, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"K_DIG_LDO", NULL, 1, 4, 14, 7, ESPSEC_EF_UINT, 20, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"V_RTC_DBIAS20", NULL, 1, 4, 21, 8, ESPSEC_EF_UINT, 20, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"V_DIG_DBIAS20", NULL, 1, 4, 29, 8, ESPSEC_EF_UINT, 20, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"DIG_DBIAS_HVT", NULL, 1, 5, 5, 5, ESPSEC_EF_UINT, 20, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"THRES_HVT", NULL, 1, 5, 10, 10, ESPSEC_EF_UINT, 20, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"WAFER_VERSION_MINOR_HI", NULL, 1, 5, 23, 1, ESPSEC_EF_BOOL, 20, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Wafer minor revision, bit 3"},
    {"WAFER_VERSION_MAJOR", NULL, 1, 5, 24, 2, ESPSEC_EF_UINT, 20, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Wafer major revision"},
    {"OPTIONAL_UNIQUE_ID", NULL, 2, 0, 0, 128, ESPSEC_EF_BYTES, 21, -1, "identity", EC_KEYBLOCK, NULL, EG_ALWAYS, "Optional unique 128-bit ID"},
    {"BLK_VERSION_MAJOR", NULL, 2, 4, 0, 2, ESPSEC_EF_UINT, 21, -1, "identity", EC_PLAIN, "0=No calibration;1=With calibration", EG_ALWAYS, "eFuse block major revision"},
    {"TEMP_CALIB", NULL, 2, 4, 3, 9, ESPSEC_EF_UINT, 21, -1, "calibration", EC_T_SENSOR, NULL, EG_BLK2_CALIB, "Temperature sensor calibration"},
    {"OCODE", NULL, 2, 4, 12, 8, ESPSEC_EF_UINT, 21, -1, "calibration", EC_PLAIN, NULL, EG_BLK2_CALIB, "ADC OCode calibration"},
    {"ADC1_INIT_CODE_ATTEN0", NULL, 2, 4, 20, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_INIT_CODE_ATTEN1", NULL, 2, 4, 30, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_INIT_CODE_ATTEN2", NULL, 2, 5, 8, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_INIT_CODE_ATTEN3", NULL, 2, 5, 18, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_CAL_VOL_ATTEN0", NULL, 2, 5, 28, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_CAL_VOL_ATTEN1", NULL, 2, 6, 6, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_CAL_VOL_ATTEN2", NULL, 2, 6, 16, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"ADC1_CAL_VOL_ATTEN3", NULL, 2, 6, 26, 10, ESPSEC_EF_UINT, 21, -1, "calibration", EC_ADC_TP, NULL, EG_BLK2_CALIB, "Factory calibration value"},
    {"BLOCK_USR_DATA", "USER_DATA", 3, 0, 0, 256, ESPSEC_EF_BYTES, 22, -1, "config", EC_PLAIN, NULL, EG_KEYBLOCK, "User data block (BLOCK3)"},
    {"CUSTOM_MAC", "MAC_CUSTOM", 3, 6, 8, 48, ESPSEC_EF_BYTES, 22, -1, "MAC", EC_MAC, NULL, EG_ALWAYS, "Custom MAC address"},
    {"BLOCK_KEY0", "KEY0", 4, 0, 0, 256, ESPSEC_EF_BYTES, 23, 0, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Key block 0 (BLOCK4)"},
    {"BLOCK_KEY1", "KEY1", 5, 0, 0, 256, ESPSEC_EF_BYTES, 24, 1, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Key block 1 (BLOCK5)"},
    {"BLOCK_KEY2", "KEY2", 6, 0, 0, 256, ESPSEC_EF_BYTES, 25, 2, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Key block 2 (BLOCK6)"},
    {"BLOCK_KEY3", "KEY3", 7, 0, 0, 256, ESPSEC_EF_BYTES, 26, 3, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Key block 3 (BLOCK7)"},
    {"BLOCK_KEY4", "KEY4", 8, 0, 0, 256, ESPSEC_EF_BYTES, 27, 4, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Key block 4 (BLOCK8)"},
    {"BLOCK_KEY5", "KEY5", 9, 0, 0, 256, ESPSEC_EF_BYTES, 28, 5, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Key block 5 (BLOCK9)"},
    {"BLOCK_SYS_DATA2", "SYS_DATA_PART2", 10, 0, 0, 256, ESPSEC_EF_BYTES, 29, 6, "config", EC_PLAIN, NULL, EG_KEYBLOCK, "System data, part 2 (BLOCK10)"},
    {"WAFER_VERSION_MINOR", NULL, 0, -1, -1, 4, ESPSEC_EF_UINT, -1, -1, "identity", EC_WAFER, NULL, EG_CALC, "Wafer minor revision"},

};

static const enum efuse_group C3_ORDER[] = {EG_ALWAYS, EG_KEYBLOCK, EG_BLK2_CALIB, EG_CALC};

/* After a burn: EFUSE_CONF = read op code, DAC and write timing for a 40 MHz crystal. */
static const uint32_t C3_AFTER_BURN[][2] = {{0x1CC, 0x5AA5}, {0x1E8, 0x28}, {0x1F0, 0x3000}, {0x1F4, 0x190}};

const efuse_chip_def_t EFUSE_ESP32C3 = {
    &CHIP_ESP32C3, 0x200, C3_BLOCKS, (int)A(C3_BLOCKS), C3_FIELDS, A(C3_FIELDS), C3_ORDER, A(C3_ORDER),
    C3_AFTER_BURN,       A(C3_AFTER_BURN), 1, 0x020, 0,
};
