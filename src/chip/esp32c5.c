/* ESP32-C5: Secure Boot V2 (RSA from v0.1, ECDSA P256/P384), XTS-AES-128 from eFuses (XTS-256 only via the key manager). */
#include "chip/chip_efuse.h"
#include "chip/chip_image.h"

static const espsec_key_purpose_t KP[] = {
    {"USER", 0, 0},
    {"ECDSA_KEY_P256", 1, KP_R},
    {"ECDSA_KEY", 1, KP_R},
    {"RESERVED", 1, 0},
    {"XTS_AES_128_KEY", 4, KP_R},
    KP_HMAC_AND_DIGESTS,
    {"KM_INIT_KEY", 12, KP_P},
    {"XTS_AES_128_PSRAM_KEY", 15, KP_R},
    {"ECDSA_KEY_P192", 16, KP_R},
    {"ECDSA_KEY_P384_L", 17, KP_R},
    {"ECDSA_KEY_P384_H", 18, KP_R},
    {"ECDSA_KEY_P384", -3, ESPSEC_KP_VIRTUAL | KP_P},
    {NULL, 0, 0},
};

static const espsec_chip_rev_req_t REVS[] = {
    {"Secure Boot V2 (RSA)", 1, "ESP-IDF offers RSA Secure Boot from v0.1"},
    {NULL, 0, NULL},
};

const espsec_chip_info_t CHIP_ESP32C5 = {
    .id = ESPSEC_CHIP_ESP32C5,
    .name = "esp32c5",
    .display = "ESP32-C5",
    .bootloader_offset = 0x2000,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_RSA3072 | ESPSEC_SBCAP_ECDSA_P256 | ESPSEC_SBCAP_ECDSA_P384,
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
             .soft_dis_jtag = "SOFT_DIS_JTAG",
             .dis_usb_jtag = "DIS_USB_JTAG",
             .dis_usb_download = "DIS_USB_SERIAL_JTAG_DOWNLOAD_MODE",
             .dis_direct_boot = "DIS_DIRECT_BOOT"},
    .ds = {.rsa_max_bits = 4096, .rsa_sizes = 0xf, .ecdsa_bits = 0x6},
    .key_purposes = KP,
    .reverse_notice_names_purpose = 1, /* espefuse names the purpose when it reverses a key */
    .custom_purpose_bits = 5,
    .efuse = &EFUSE_ESP32C5,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    .rev_reqs = REVS,
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x42000020, 0x42010020, 0x40800000, 0x408555A0, 0x4084E5A0, 0x4084BBA0},
    .memmap = &IMAGE_ESP32C5,
};
