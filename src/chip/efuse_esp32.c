/*
 * eFuse field map of the ESP32: positions, widths, protection bits and value
 * labels are the chip's register facts (Espressif's technical reference
 * manual, also published as espefuse's eFuse definitions); the descriptions
 * are espsec's own.
 */
#include "chip/chip_efuse.h"

#define A(x) (sizeof(x) / sizeof((x)[0]))

static const efuse_block_def_t ESP32_BLOCKS[] = {
    {"BLOCK0", {NULL}, 0x000, 0x01C, 7, -1, -1, NULL, -1},
    {"BLOCK1", {"flash_encryption", NULL}, 0x038, 0x098, 8, 7, 0, NULL, -1},
    {"BLOCK2", {"secure_boot_v1", "secure_boot_v2", NULL}, 0x058, 0x0B8, 8, 8, 1, NULL, -1},
    {"BLOCK3", {NULL}, 0x078, 0x0D8, 8, 9, 2, NULL, -1},
};

static const efuse_field_def_t ESP32_FIELDS[] = {
    {"WR_DIS", NULL, 0, 0, 0, 16, ESPSEC_EF_UINT, 1, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Write-protection bits, one per group of eFuses", NULL, 0},
    {"RD_DIS", NULL, 0, 0, 16, 4, ESPSEC_EF_UINT, 0, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Read-protection bits for key blocks (and some BLOCK0 fields)", NULL, 0},
    {"FLASH_CRYPT_CNT", NULL, 0, 0, 20, 7, ESPSEC_EF_UINT, 2, -1, "flash", EC_PLAIN, NULL, EG_ALWAYS, "Flash encryption is on when an odd number of these bits is set", NULL, 0},
    {"UART_DOWNLOAD_DIS", NULL, 0, 0, 27, 1, ESPSEC_EF_BOOL, 2, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "UART download mode disabled (ESP32 v3 and later)", NULL, 0},
    {"MAC", "MAC_FACTORY", 0, 1, 0, 48, ESPSEC_EF_BYTES, 3, -1, "MAC", EC_MAC_CRC, NULL, EG_ALWAYS, "Factory MAC address", NULL, 0},
    {"MAC_CRC", "MAC_FACTORY_CRC", 0, 2, 16, 8, ESPSEC_EF_UINT, 3, -1, "MAC", EC_PLAIN, NULL, EG_ALWAYS, "CRC-8 of the factory MAC address", NULL, 0},
    {"DISABLE_APP_CPU", "CHIP_VER_DIS_APP_CPU", 0, 3, 0, 1, ESPSEC_EF_BOOL, 3, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "APP CPU disabled", NULL, 0},
    {"DISABLE_BT", "CHIP_VER_DIS_BT", 0, 3, 1, 1, ESPSEC_EF_BOOL, 3, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Bluetooth disabled", NULL, 0},
    {"CHIP_PACKAGE_4BIT", "CHIP_VER_PKG_4BIT", 0, 3, 2, 1, ESPSEC_EF_BOOL, -1, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Chip package, bit 3", NULL, 0},
    {"DIS_CACHE", "CHIP_VER_DIS_CACHE", 0, 3, 3, 1, ESPSEC_EF_BOOL, 3, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Cache disabled", NULL, 0},
    {"SPI_PAD_CONFIG_HD", NULL, 0, 3, 4, 5, ESPSEC_EF_UINT, -1, -1, "spi pad", EC_SPIPIN, NULL, EG_ALWAYS, "GPIO used as SPI HD pin (0 = default)", NULL, 0},
    {"CHIP_PACKAGE", "CHIP_VER_PKG", 0, 3, 9, 3, ESPSEC_EF_UINT, -1, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Chip package, bits 0-2", NULL, 0},
    {"CHIP_CPU_FREQ_LOW", NULL, 0, 3, 12, 1, ESPSEC_EF_BOOL, -1, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "With CHIP_CPU_FREQ_RATED: rated for 160 MHz, else 240 MHz", NULL, 0},
    {"CHIP_CPU_FREQ_RATED", NULL, 0, 3, 13, 1, ESPSEC_EF_BOOL, -1, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Maximum CPU frequency has been rated", NULL, 0},
    {"BLK3_PART_RESERVE", NULL, 0, 3, 14, 1, ESPSEC_EF_BOOL, 10, 3, "config", EC_PLAIN, NULL, EG_ALWAYS, "Part of BLOCK3 holds ADC calibration data", NULL, 0},
    {"CHIP_VER_REV1", NULL, 0, 3, 15, 1, ESPSEC_EF_BOOL, -1, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Set on revision 1 silicon and later", NULL, 0},
    {"CLK8M_FREQ", "CK8M_FREQ", 0, 4, 0, 8, ESPSEC_EF_UINT, 4, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "8 MHz oscillator frequency calibration", NULL, 0},
    {"ADC_VREF", NULL, 0, 4, 8, 5, ESPSEC_EF_UINT, 4, -1, "calibration", EC_VREF, NULL, EG_ALWAYS, "ADC reference voltage calibration (mV)", NULL, 0},
    {"XPD_SDIO_REG", NULL, 0, 4, 14, 1, ESPSEC_EF_BOOL, 5, -1, "vdd", EC_PLAIN, NULL, EG_ALWAYS, "VDD_SDIO regulator powered up by eFuse", NULL, 0},
    {"XPD_SDIO_TIEH", "SDIO_TIEH", 0, 4, 15, 1, ESPSEC_EF_BOOL, 5, -1, "vdd", EC_PLAIN, "1=3.3V;0=1.8V", EG_ALWAYS, "VDD_SDIO voltage when forced by eFuse", NULL, 0},
    {"XPD_SDIO_FORCE", "SDIO_FORCE", 0, 4, 16, 1, ESPSEC_EF_BOOL, 5, -1, "vdd", EC_PLAIN, NULL, EG_ALWAYS, "VDD_SDIO set by eFuse, not by the GPIO12 strap", NULL, 0},
    {"SPI_PAD_CONFIG_CLK", NULL, 0, 5, 0, 5, ESPSEC_EF_UINT, 6, -1, "spi pad", EC_SPIPIN, NULL, EG_ALWAYS, "GPIO used as SPI CLK pin (0 = default)", NULL, 0},
    {"SPI_PAD_CONFIG_Q", NULL, 0, 5, 5, 5, ESPSEC_EF_UINT, 6, -1, "spi pad", EC_SPIPIN, NULL, EG_ALWAYS, "GPIO used as SPI Q pin (0 = default)", NULL, 0},
    {"SPI_PAD_CONFIG_D", NULL, 0, 5, 10, 5, ESPSEC_EF_UINT, 6, -1, "spi pad", EC_SPIPIN, NULL, EG_ALWAYS, "GPIO used as SPI D pin (0 = default)", NULL, 0},
    {"SPI_PAD_CONFIG_CS0", NULL, 0, 5, 15, 5, ESPSEC_EF_UINT, 6, -1, "spi pad", EC_SPIPIN, NULL, EG_ALWAYS, "GPIO used as SPI CS0 pin (0 = default)", NULL, 0},
    {"CHIP_VER_REV2", NULL, 0, 5, 20, 1, ESPSEC_EF_BOOL, -1, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Set on revision 2 silicon and later", NULL, 0},
    {"VOL_LEVEL_HP_INV", NULL, 0, 5, 22, 2, ESPSEC_EF_UINT, 3, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Voltage level for 240 MHz CPU / 80 MHz flash", NULL, 0},
    {"WAFER_VERSION_MINOR", NULL, 0, 5, 24, 2, ESPSEC_EF_UINT, -1, -1, "identity", EC_PLAIN, NULL, EG_ALWAYS, "Wafer minor revision", NULL, 0},
    {"FLASH_CRYPT_CONFIG", "ENCRYPT_CONFIG", 0, 5, 28, 4, ESPSEC_EF_UINT, 10, 3, "flash", EC_PLAIN, NULL, EG_ALWAYS, "Which key bits take the flash-address tweak", NULL, 0},
    {"CODING_SCHEME", NULL, 0, 6, 0, 2, ESPSEC_EF_UINT, 10, 3, "config", EC_PLAIN, "0=NONE (BLK1-3 len=256 bits);1=3/4 (BLK1-3 len=192 bits);2=REPEAT (BLK1-3 len=128 bits) not supported;3=NONE (BLK1-3 len=256 bits)", EG_ALWAYS, "Coding scheme of BLOCK1-3 (sets the key length)", NULL, 0},
    {"CONSOLE_DEBUG_DISABLE", NULL, 0, 6, 2, 1, ESPSEC_EF_BOOL, 15, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "ROM BASIC console fallback disabled", NULL, 0},
    {"DISABLE_SDIO_HOST", NULL, 0, 6, 3, 1, ESPSEC_EF_BOOL, -1, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "SDIO host disabled", NULL, 0},
    {"ABS_DONE_0", NULL, 0, 6, 4, 1, ESPSEC_EF_BOOL, 12, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure Boot V1 enabled: the ROM checks the bootloader digest", NULL, 0},
    {"ABS_DONE_1", NULL, 0, 6, 5, 1, ESPSEC_EF_BOOL, 13, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Secure Boot V2 enabled: the ROM checks the bootloader signature", NULL, 0},
    {"JTAG_DISABLE", "DISABLE_JTAG", 0, 6, 6, 1, ESPSEC_EF_BOOL, 14, -1, "jtag", EC_PLAIN, NULL, EG_ALWAYS, "JTAG disabled", NULL, 0},
    {"DISABLE_DL_ENCRYPT", NULL, 0, 6, 7, 1, ESPSEC_EF_BOOL, 15, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Flash encryption disabled in UART download mode", NULL, 0},
    {"DISABLE_DL_DECRYPT", NULL, 0, 6, 8, 1, ESPSEC_EF_BOOL, 15, -1, "security", EC_PLAIN, NULL, EG_ALWAYS, "Flash decryption disabled in UART download mode", NULL, 0},
    {"DISABLE_DL_CACHE", NULL, 0, 6, 9, 1, ESPSEC_EF_BOOL, 15, -1, "config", EC_PLAIN, NULL, EG_ALWAYS, "Flash cache disabled in UART download mode", NULL, 0},
    {"KEY_STATUS", NULL, 0, 6, 10, 1, ESPSEC_EF_BOOL, 10, 3, "security", EC_PLAIN, NULL, EG_ALWAYS, "BLOCK3 usage flag (reserved)", NULL, 0},
    {"BLOCK1", "ENCRYPT_FLASH_KEY", 1, 0, 0, 256, ESPSEC_EF_BYTES, 7, 0, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Flash encryption key", NULL, 0},
    {"BLOCK2", "SECURE_BOOT_KEY", 2, 0, 0, 256, ESPSEC_EF_BYTES, 8, 1, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "Secure boot key (V1) or public key digest (V2)", NULL, 0},
    {"CUSTOM_MAC_CRC", "MAC_CUSTOM_CRC", 3, 0, 0, 8, ESPSEC_EF_UINT, 9, 2, "MAC", EC_PLAIN, NULL, EG_CUSTOM_MAC, "CRC-8 of the custom MAC address", NULL, 0},
    {"CUSTOM_MAC", "MAC_CUSTOM", 3, 0, 8, 48, ESPSEC_EF_BYTES, 9, 2, "MAC", EC_MAC_CRC, NULL, EG_CUSTOM_MAC, "Custom MAC address", NULL, 0},
    {"ADC1_TP_LOW", NULL, 3, 3, 0, 7, ESPSEC_EF_UINT, 9, 2, "calibration", EC_ADC_TP_ESP32, NULL, EG_ADC_CALIB, "ADC1 two-point calibration, low point", NULL, 0},
    {"ADC1_TP_HIGH", NULL, 3, 3, 7, 9, ESPSEC_EF_UINT, 9, 2, "calibration", EC_ADC_TP_ESP32, NULL, EG_ADC_CALIB, "ADC1 two-point calibration, high point", NULL, 0},
    {"ADC2_TP_LOW", NULL, 3, 3, 16, 7, ESPSEC_EF_UINT, 9, 2, "calibration", EC_ADC_TP_ESP32, NULL, EG_ADC_CALIB, "ADC2 two-point calibration, low point", NULL, 0},
    {"ADC2_TP_HIGH", NULL, 3, 3, 23, 9, ESPSEC_EF_UINT, 9, 2, "calibration", EC_ADC_TP_ESP32, NULL, EG_ADC_CALIB, "ADC2 two-point calibration, high point", NULL, 0},
    {"SECURE_VERSION", NULL, 3, 4, 0, 32, ESPSEC_EF_UINT, 9, 2, "security", EC_BITCOUNT, NULL, EG_ALWAYS, "Anti-rollback: minimum app secure_version", NULL, 0},
    {"MAC_VERSION", "MAC_CUSTOM_VER", 3, 5, 24, 8, ESPSEC_EF_UINT, 9, 2, "MAC", EC_PLAIN, "1=Custom MAC in BLOCK3", EG_ALWAYS, "Version of the custom MAC field (1 = custom MAC in BLOCK3)", NULL, 0},
    {"BLOCK3", NULL, 3, 0, 0, 256, ESPSEC_EF_BYTES, 9, 2, "security", EC_KEYBLOCK, NULL, EG_KEYBLOCK, "BLOCK3, free for the application", NULL, 0},
    {"WAFER_VERSION_MAJOR", NULL, 0, -1, -1, 3, ESPSEC_EF_UINT, -1, -1, "identity", EC_WAFER_ESP32, NULL, EG_CALC, "Wafer major revision", NULL, 0},
    {"PKG_VERSION", NULL, 0, -1, -1, 4, ESPSEC_EF_UINT, -1, -1, "identity", EC_PKG, NULL, EG_CALC, "Chip package", NULL, 0},

};

static const enum efuse_group ESP32_ORDER[] = {EG_ALWAYS, EG_KEYBLOCK, EG_CALC, EG_CUSTOM_MAC, EG_ADC_CALIB};

/* After a burn: EFUSE_CONF = read op code, clock settings for a 40 MHz APB. */
static const uint32_t ESP32_AFTER_BURN[][2] = {{0x0FC, 0x5AA5}, {0x0F8, 0xA0}, {0x118, 0x50}};

const efuse_chip_def_t EFUSE_ESP32 = {
    .chip = &CHIP_ESP32,
    .mem_size = 0x120,
    .blocks = ESP32_BLOCKS,
    .nblocks = (int)A(ESP32_BLOCKS),
    .fields = ESP32_FIELDS,
    .nfields = A(ESP32_FIELDS),
    .group_order = ESP32_ORDER,
    .ngroups = A(ESP32_ORDER),
    .after_burn = ESP32_AFTER_BURN,
    .nafter_burn = A(ESP32_AFTER_BURN),
    .coding_34 = 1,
};
