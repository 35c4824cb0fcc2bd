/*
 * ESP32-C2: Secure Boot V2 with ECDSA only, one digest; one key block,
 * BLOCK_KEY0, shared: its low 128 bits may hold the flash-encryption key
 * and its high 128 bits the Secure Boot digest (which is why espefuse burns
 * both in one invocation). No KEY_PURPOSE fields: the "purposes" are
 * espefuse's names for the ways BLOCK_KEY0 can be used.
 */
#include "chip/chip_efuse.h"
#include "chip/chip_image.h"

static const espsec_key_purpose_t KP[] = {
    {"USER", 0, 0},
    {"XTS_AES_128_KEY", 1, KP_R | ESPSEC_KP_ALONE},
    {"XTS_AES_128_KEY_DERIVED_FROM_128_EFUSE_BITS", 2, KP_R | ESPSEC_KP_LOW_HALF},
    {"SECURE_BOOT_DIGEST", 3, KP_D | ESPSEC_KP_HIGH_HALF},
    {NULL, 0, 0},
};

const espsec_chip_info_t CHIP_ESP32C2 = {
    .id = ESPSEC_CHIP_ESP32C2,
    .name = "esp32c2",
    .display = "ESP32-C2",
    .bootloader_offset = 0x0,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_ECDSA_P192 | ESPSEC_SBCAP_ECDSA_P256,
           .digest_slots = 1,
           .enable = "SECURE_BOOT_EN",
           .digest_block = "BLOCK_KEY0",
           .digest_bytes = 16},
    .fe = {.modes = ESPSEC_FE_MODE_XTS128 | ESPSEC_FE_MODE_XTS128_DERIVED,
           .crypt_cnt = "SPI_BOOT_CRYPT_CNT",
           .crypt_cnt_bits = 3,
           .key_block = "BLOCK_KEY0",
           .shared_key0 = 1,
           .xts_key_size_fuse = "XTS_KEY_LENGTH_256"},
    .lock = {.dis_download = "DIS_DOWNLOAD_MODE",
             .secure_download = "ENABLE_SECURITY_DOWNLOAD",
             .dis_dl_encrypt = "DIS_DOWNLOAD_MANUAL_ENCRYPT",
             .dis_dl_cache = "DIS_DOWNLOAD_ICACHE",
             .dis_pad_jtag = "DIS_PAD_JTAG",
             .dis_direct_boot = "DIS_DIRECT_BOOT"},
    .key_purposes = KP,
    .efuse = &EFUSE_ESP32C2,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x3C000020, 0x42000020, 0x40380000, 0x3FCD5B70, 0x403AEB70, 0x403ACB70},
    .memmap = &IMAGE_ESP32C2,
};
