/* ESP32-S2: Secure Boot V2 (RSA), XTS-AES-128 or -256 (a 512-bit key over two blocks). */
#include "chip/chip_efuse.h"
#include "chip/chip_image.h"

static const espsec_key_purpose_t KP[] = {
    {"USER", 0, 0},
    {"RESERVED", 1, 0},
    {"XTS_AES_256_KEY_1", 2, KP_R},
    {"XTS_AES_256_KEY_2", 3, KP_R},
    {"XTS_AES_128_KEY", 4, KP_R},
    KP_HMAC_AND_DIGESTS,
    {"XTS_AES_256_KEY", -1, ESPSEC_KP_VIRTUAL},
    {NULL, 0, 0},
};

const espsec_chip_info_t CHIP_ESP32S2 = {
    .id = ESPSEC_CHIP_ESP32S2,
    .name = "esp32s2",
    .display = "ESP32-S2",
    .bootloader_offset = 0x1000,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_RSA3072,
           .digest_slots = 3,
           .revoke = {"SECURE_BOOT_KEY_REVOKE0", "SECURE_BOOT_KEY_REVOKE1", "SECURE_BOOT_KEY_REVOKE2"},
           .enable = "SECURE_BOOT_EN",
           .aggressive_revoke = "SECURE_BOOT_AGGRESSIVE_REVOKE",
           .digest_bytes = 32},
    .fe = {.modes = ESPSEC_FE_MODE_XTS128 | ESPSEC_FE_MODE_XTS256,
           .key_purpose_field = 1,
           .xts256_two_blocks = 1,
           .crypt_cnt = "SPI_BOOT_CRYPT_CNT",
           .crypt_cnt_bits = 3},
    .lock = {.dis_download = "DIS_DOWNLOAD_MODE",
             .secure_download = "ENABLE_SECURITY_DOWNLOAD",
             .dis_dl_encrypt = "DIS_DOWNLOAD_MANUAL_ENCRYPT",
             .dis_dl_cache = "DIS_DOWNLOAD_ICACHE",
             .dis_pad_jtag = "HARD_DIS_JTAG",
             .soft_dis_jtag = "SOFT_DIS_JTAG",
             .dis_usb_download = "DIS_USB_DOWNLOAD_MODE",
             .dis_direct_boot = "DIS_LEGACY_SPI_BOOT",
             .vdd_force = "VDD_SPI_FORCE",
             .vdd_reg = "VDD_SPI_XPD",
             .vdd_tieh = "VDD_SPI_TIEH",
             .vdd_name = "VDD_SPI"},
    .ds = {.rsa_max_bits = 4096, .rsa_sizes = 0xf, .ecdsa_bits = 0x0},
    .key_purposes = KP,
    .efuse = &EFUSE_ESP32S2,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x3F000020, 0x40080020, 0x40024000, 0x3FFE5000, 0x4004E000, 0x4004A000},
    .memmap = &IMAGE_ESP32S2,
};
