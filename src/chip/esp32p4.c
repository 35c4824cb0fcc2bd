/* ESP32-P4: Secure Boot V2 (RSA, ECDSA P192/P256, P384 from v3.0), XTS-AES-128 or -256 over two blocks. */
#include "chip/chip_efuse.h"
#include "chip/chip_image.h"

static const espsec_key_purpose_t KP[] = {
    {"USER", 0, 0},
    {"ECDSA_KEY_P256", 1, KP_R},
    {"ECDSA_KEY", 1, KP_R},
    {"XTS_AES_256_KEY_1", 2, KP_R},
    {"XTS_AES_256_KEY_2", 3, KP_R},
    {"XTS_AES_128_KEY", 4, KP_R},
    KP_HMAC_AND_DIGESTS,
    {"KM_INIT_KEY", 12, KP_P},
    {"XTS_AES_256_KEY", -1, ESPSEC_KP_VIRTUAL},
    {"ECDSA_KEY_P192", 16, KP_R},
    {"ECDSA_KEY_P384_L", 17, KP_R},
    {"ECDSA_KEY_P384_H", 18, KP_R},
    {"ECDSA_KEY_P384", -3, ESPSEC_KP_VIRTUAL | KP_P},
    {NULL, 0, 0},
};

static const espsec_chip_rev_req_t REVS[] = {
    {"Secure Boot V2 (ECDSA-P384)", 300, "revisions before v3.0 cannot verify P384 signatures"},
    {"XTS-AES pseudo rounds", 300, "pseudo-round flash encryption needs v3.0"},
    {NULL, 0, NULL},
};

const espsec_chip_info_t CHIP_ESP32P4 = {
    .id = ESPSEC_CHIP_ESP32P4,
    .name = "esp32p4",
    .display = "ESP32-P4",
    .bootloader_offset = 0x2000,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_RSA3072 | ESPSEC_SBCAP_ECDSA_P192 | ESPSEC_SBCAP_ECDSA_P256 | ESPSEC_SBCAP_ECDSA_P384,
           .digest_slots = 3,
           .revoke = {"SECURE_BOOT_KEY_REVOKE0", "SECURE_BOOT_KEY_REVOKE1", "SECURE_BOOT_KEY_REVOKE2"},
           .enable = "SECURE_BOOT_EN",
           .aggressive_revoke = "SECURE_BOOT_AGGRESSIVE_REVOKE",
           .digest_bytes = 32,
           .ecdsa_insecure = 1},
    .fe = {.modes = ESPSEC_FE_MODE_XTS128 | ESPSEC_FE_MODE_XTS256,
           .key_purpose_field = 1,
           .xts256_two_blocks = 1,
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
    .ds = {.rsa_max_bits = 4096, .rsa_sizes = 0xf, .ecdsa_bits = 0x2},
    .key_purposes = KP,
    .reverse_notice_names_purpose = 1, /* espefuse names the purpose when it reverses a key */
    .custom_purpose_bits = 5,
    .efuse = &EFUSE_ESP32P4,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    .rev_reqs = REVS,
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x40000020, 0x40010020, 0x4FF40000, 0x4FF33BD0, 0x4FF2CBD0, 0x4FF2ABD0},
    .memmap = &IMAGE_ESP32P4,
};
