/* ESP32: Secure Boot V1 and V2 (RSA, revision 3.0 and later), ESP32 AES flash encryption in BLOCK1. */
#include "chip/kp_common.h"
#include "chip/chip_image.h"
#include "chip/chip_efuse.h"

static const espsec_chip_rev_req_t REVS[] = {
    {"Secure Boot V2 (RSA)", 300, "the V2 ROM code first shipped in ECO3 (v3.0) silicon"},
    {"UART_DOWNLOAD_DIS", 300, "the ROM honours UART_DOWNLOAD_DIS from v3.0"},
    {NULL, 0, NULL},
};

const espsec_chip_info_t CHIP_ESP32 = {
    .id = ESPSEC_CHIP_ESP32,
    .name = "esp32",
    .display = "ESP32",
    .bootloader_offset = 0x1000,
    .has_security = 1,
    .sb = {.versions = ESPSEC_SBCAP_V1 | ESPSEC_SBCAP_V2,
           .schemes = ESPSEC_SBCAP_RSA3072,
           .digest_slots = 1,
           .enable = "ABS_DONE_1",
           .enable_v1 = "ABS_DONE_0",
           .digest_block = "BLOCK2",
           .digest_bytes = 32},
    .fe = {.modes = ESPSEC_FE_MODE_ESP32_AES,
           .crypt_cnt = "FLASH_CRYPT_CNT",
           .crypt_cnt_bits = 7,
           .key_block = "BLOCK1"},
    .lock = {.dis_download = "UART_DOWNLOAD_DIS",
             .dis_dl_encrypt = "DISABLE_DL_ENCRYPT",
             .dis_dl_decrypt = "DISABLE_DL_DECRYPT",
             .dis_dl_cache = "DISABLE_DL_CACHE",
             .dis_pad_jtag = "JTAG_DISABLE",
             .console_debug_disable = "CONSOLE_DEBUG_DISABLE",
             .vdd_force = "XPD_SDIO_FORCE",
             .vdd_reg = "XPD_SDIO_REG",
             .vdd_tieh = "XPD_SDIO_TIEH",
             .vdd_name = "VDD_SDIO"},
    .rev_reqs = REVS,
    .efuse = &EFUSE_ESP32,
    .burn_last = {"WR_DIS", "RD_DIS", "UART_DOWNLOAD_DIS", "ABS_DONE_1", "FLASH_CRYPT_CNT"},
    /* ESP-IDF link addresses: app rodata, code, IRAM; bootloader dram_seg, iram_loader_seg, iram_seg */
    .link = {0x3F400020, 0x400D0020, 0x40080400, 0x3FFF0000, 0x40078000, 0x40080400},
    .memmap = &IMAGE_ESP32,
    .qemu_efuse_bytes = 124, /* QEMU keeps BLOCK0-3's 31 data words (no padding) */
};
