/* ESP32-C61: Secure Boot V2 with ECDSA only (P192/P256), XTS-AES-128; no HMAC purposes. */
#include "chip/chip_efuse.h"
#include "chip/chip_image.h"

static const espsec_key_purpose_t KP[] = {
    {"USER", 0, 0},
    {"ECDSA_KEY", 1, KP_R},
    {"XTS_AES_128_KEY", 4, KP_R},
    KP_DIGESTS,
    {NULL, 0, 0},
};

const espsec_chip_info_t CHIP_ESP32C61 = {
    .id = ESPSEC_CHIP_ESP32C61,
    .name = "esp32c61",
    .display = "ESP32-C61",
    .bootloader_offset = 0x0,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_ECDSA_P192 | ESPSEC_SBCAP_ECDSA_P256,
           .digest_slots = 3,
           .revoke = {"SECURE_BOOT_KEY_REVOKE0", "SECURE_BOOT_KEY_REVOKE1", "SECURE_BOOT_KEY_REVOKE2"},
           .enable = "SECURE_BOOT_EN",
           .aggressive_revoke = "SECURE_BOOT_AGGRESSIVE_REVOKE",
           .digest_bytes = 32,
           .ecdsa_insecure = 1},
    .fe = {.modes = ESPSEC_FE_MODE_XTS128,
           .key_purpose_field = 1,
           .crypt_cnt = "SPI_BOOT_CRYPT_CNT",
           .crypt_cnt_bits = 3},
    .lock = {.dis_download = "DIS_DOWNLOAD_MODE",
             .secure_download = "ENABLE_SECURITY_DOWNLOAD",
             .dis_dl_encrypt = "DIS_DOWNLOAD_MANUAL_ENCRYPT",
             .dis_dl_cache = "SPI_DOWNLOAD_MSPI_DIS",
             .dis_pad_jtag = "DIS_PAD_JTAG",
             .soft_dis_jtag = NULL,
             .dis_usb_jtag = "DIS_USB_JTAG",
             .dis_usb_download = "DIS_USB_SERIAL_JTAG_DOWNLOAD_MODE",
             .dis_direct_boot = "DIS_DIRECT_BOOT"},
    .ds = {.rsa_max_bits = 0, .rsa_sizes = 0x0, .ecdsa_bits = 0x3},
    .key_purposes = KP,
    .reverse_notice_names_purpose = 1, /* espefuse names the purpose when it reverses a key */
    .efuse = &EFUSE_ESP32C61,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x42000020, 0x42010020, 0x40800000, 0x408459F0, 0x4083E9F0, 0x4083C4F0},
    .memmap = &IMAGE_ESP32C61,
};
