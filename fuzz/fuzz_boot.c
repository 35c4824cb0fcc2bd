/*
 * Fuzz the boot chain's parsers: the input is laid over a valid secured
 * flash (bootloader, partition table, otadata, app) at an offset it picks,
 * then the device boots on plain eFuses and the doctor runs. Every input
 * must end in a verdict, never a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/device.h"
#include "espsec/sample.h"

static uint8_t *base;
static size_t base_len = 0x40000;

static void init(void)
{
    base = malloc(base_len);
    memset(base, 0xFF, base_len);
    uint8_t *img = NULL;
    size_t len = 0;
    if (espsec_sample_bootloader(ESPSEC_CHIP_ESP32, 1, &img, &len, NULL) == ESPSEC_OK) {
        memcpy(base + 0x1000, img, len);
        free(img);
    }
    espsec_sample_app_t a = {ESPSEC_CHIP_ESP32, "fuzz", "1", 0, 0x1000, 1};
    if (espsec_sample_app(&a, &img, &len, NULL) == ESPSEC_OK && len <= base_len - 0x10000) {
        memcpy(base + 0x10000, img, len);
        free(img);
    }
    /* a partition table: nvs, otadata, factory, ota_0 (no MD5 entry, so mutations reach the entries) */
    static const uint8_t pt[][32] = {
        {0xAA, 0x50, 1, 2, 0x00, 0x90, 0, 0, 0x00, 0x40, 0, 0, 'n', 'v', 's'},
        {0xAA, 0x50, 1, 0, 0x00, 0xD0, 0, 0, 0x00, 0x20, 0, 0, 'o', 't', 'a', 'd', 'a', 't', 'a'},
        {0xAA, 0x50, 0, 0, 0x00, 0x00, 1, 0, 0x00, 0x00, 2, 0, 'f', 'a', 'c', 't', 'o', 'r', 'y'},
        {0xAA, 0x50, 0, 0x10, 0x00, 0x00, 3, 0, 0x00, 0x00, 1, 0, 'o', 't', 'a', '_', '0'},
    };
    memcpy(base + 0x8000, pt, sizeof(pt));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (base == NULL) {
        init();
    }
    if (size < 2) {
        return 0;
    }
    static const uint32_t spots[] = {0x1000, 0x8000, 0xD000, 0x10000, 0x9000, 0x1018, 0x10018, 0x30000};
    uint32_t at = spots[data[0] % 8] + data[1];
    data += 2;
    size -= 2;
    uint8_t *flash = malloc(base_len);
    memcpy(flash, base, base_len);
    if (at < base_len) {
        memcpy(flash + at, data, size < base_len - at ? size : base_len - at);
    }
    espsec_flash_t *f = NULL;
    espsec_efuse_t *e = NULL;
    espsec_error_t err;
    if (espsec_flash_from(flash, base_len, &f, &err) == ESPSEC_OK &&
        espsec_efuse_new(ESPSEC_CHIP_ESP32, &e, &err) == ESPSEC_OK) {
        espsec_boot_opts_t o = {0};
        espsec_boot_result_t r;
        (void)espsec_device_boot(e, f, &o, &r, &err);
        espsec_doctor_finding_t *fd = NULL;
        size_t n = 0;
        espsec_doctor_opts_t dopt = {0};
        if (espsec_doctor(e, f, &dopt, &fd, &n, &err) == ESPSEC_OK) {
            free(fd);
        }
    }
    espsec_efuse_free(e);
    espsec_flash_free(f);
    free(flash);
    return 0;
}
