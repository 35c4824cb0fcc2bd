/* ESP32-C3: Secure Boot V2 (RSA, revision 0.3 and later), XTS-AES-128; BLOCK_KEY5 cannot hold an XTS key. */
#include "chip/kp_common.h"
#include "chip/chip_image.h"
#include "chip/chip_efuse.h"

static const espsec_key_purpose_t KP[] = {
    {"USER", 0, 0},
    {"RESERVED", 1, 0},
    {"XTS_AES_128_KEY", 4, KP_R},
    KP_HMAC_AND_DIGESTS,
    {NULL, 0, 0},
};

static const espsec_chip_rev_req_t REVS[] = {
    {"Secure Boot V2 (RSA)", 3, "ESP-IDF refuses Secure Boot on revisions before v0.3"},
    {NULL, 0, NULL},
};

const espsec_chip_info_t CHIP_ESP32C3 = {
    .id = ESPSEC_CHIP_ESP32C3,
    .name = "esp32c3",
    .display = "ESP32-C3",
    .bootloader_offset = 0x0,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_RSA3072,
           .digest_slots = 3,
           .revoke = {"SECURE_BOOT_KEY_REVOKE0", "SECURE_BOOT_KEY_REVOKE1", "SECURE_BOOT_KEY_REVOKE2"},
           .enable = "SECURE_BOOT_EN",
           .aggressive_revoke = "SECURE_BOOT_AGGRESSIVE_REVOKE",
           .digest_bytes = 32},
    .fe = {.modes = ESPSEC_FE_MODE_XTS128,
           .key_purpose_field = 1,
           .crypt_cnt = "SPI_BOOT_CRYPT_CNT",
           .crypt_cnt_bits = 3,
           .key5_forbidden = {"XTS_AES_128_KEY", NULL}},
    .lock = {.dis_download = "DIS_DOWNLOAD_MODE",
             .secure_download = "ENABLE_SECURITY_DOWNLOAD",
             .dis_dl_encrypt = "DIS_DOWNLOAD_MANUAL_ENCRYPT",
             .dis_dl_cache = "DIS_DOWNLOAD_ICACHE",
             .dis_pad_jtag = "DIS_PAD_JTAG",
             .soft_dis_jtag = "SOFT_DIS_JTAG",
             .dis_usb_jtag = "DIS_USB_JTAG",
             .dis_usb_download = "DIS_USB_SERIAL_JTAG_DOWNLOAD_MODE",
             .dis_direct_boot = "DIS_DIRECT_BOOT"},
    .ds = {.rsa_max_bits = 3072, .rsa_sizes = 0x7, .ecdsa_bits = 0x0},
    .key_purposes = KP,
    .rev_reqs = REVS,
    .efuse = &EFUSE_ESP32C3,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x3C000020, 0x42000020, 0x40380000, 0x3FCD5710, 0x403CE710, 0x403CC710},
    .memmap = &IMAGE_ESP32C3,
    .qemu_efuse_bytes = 1024, /* QEMU keeps the 4096-bit eFuse array; the 84 data words of BLOCK0-10 come first */
};
