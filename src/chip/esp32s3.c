/* ESP32-S3: Secure Boot V2 (RSA), XTS-AES-128 or -256 over two blocks; BLOCK_KEY5 cannot hold an XTS key. */
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

/* espefuse refuses to set these together: the ROM bootloader has a bug with both set */
static const espsec_chip_fuse_pair_t EXCLUSIVE[] = {
    {"DIS_USB_JTAG", "DIS_USB_SERIAL_JTAG", "a bug in the ROM bootloader"},
    {NULL, NULL, NULL},
};

const espsec_chip_info_t CHIP_ESP32S3 = {
    .id = ESPSEC_CHIP_ESP32S3,
    .name = "esp32s3",
    .display = "ESP32-S3",
    .bootloader_offset = 0x0,
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
           .crypt_cnt_bits = 3,
           .key5_forbidden = {"XTS_AES_128_KEY", "XTS_AES_256_KEY_1", "XTS_AES_256_KEY_2", "XTS_AES_256_KEY", NULL}},
    .lock = {.dis_download = "DIS_DOWNLOAD_MODE",
             .secure_download = "ENABLE_SECURITY_DOWNLOAD",
             .dis_dl_encrypt = "DIS_DOWNLOAD_MANUAL_ENCRYPT",
             .dis_dl_cache = "DIS_DOWNLOAD_ICACHE",
             .dis_pad_jtag = "DIS_PAD_JTAG",
             .soft_dis_jtag = "SOFT_DIS_JTAG",
             .dis_usb_jtag = "DIS_USB_JTAG",
             .dis_usb_download = "DIS_USB_SERIAL_JTAG_DOWNLOAD_MODE",
             .dis_direct_boot = "DIS_DIRECT_BOOT",
             .vdd_force = "VDD_SPI_FORCE",
             .vdd_reg = "VDD_SPI_XPD",
             .vdd_tieh = "VDD_SPI_TIEH",
             .vdd_name = "VDD_SPI"},
    .ds = {.rsa_max_bits = 4096, .rsa_sizes = 0xf, .ecdsa_bits = 0x0},
    .key_purposes = KP,
    .exclusive_fuses = EXCLUSIVE,
    .efuse = &EFUSE_ESP32S3,
    .burn_last = {"WR_DIS", "RD_DIS", "ENABLE_SECURITY_DOWNLOAD", "DIS_DOWNLOAD_MODE", "SPI_BOOT_CRYPT_CNT", "SECURE_BOOT_EN"},
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x3C000020, 0x42000020, 0x40374000, 0x3FCE2700, 0x403CB700, 0x403C8700},
    .memmap = &IMAGE_ESP32S3,
    .qemu_efuse_bytes = 1024, /* QEMU keeps the 4096-bit eFuse array; the 84 data words of BLOCK0-10 come first */
};
