/* Sample images (espsec/sample.h). */
#include "espsec/sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/chip.h"
#include "espsec/util.h"
#include "util/bytes.h"

/* The chip's description, when espsec knows where ESP-IDF links images on it. */
static espsec_err_t sample_chip(espsec_chip_t chip, const espsec_chip_info_t **out, espsec_error_t *err)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(chip);
    if (c == NULL || !c->has_security || c->link.app_iram == 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "no sample images for %s: %s",
                           c ? c->display : espsec_chip_display_name(chip),
                           c && c->no_security_reason ? c->no_security_reason
                                                      : "espsec does not know where ESP-IDF links images on it");
    }
    *out = c;
    return ESPSEC_OK;
}

/* Header byte 3 from the chip's flash codes: 4MB, 40m (or the chip's code 0 where it has no 40m). */
static uint8_t sample_size_freq(const espsec_chip_info_t *c)
{
    uint8_t size = 0x20, freq = 0x0;
    (void)espsec_chip_flash_size_code(c, "4MB", &size);
    (void)espsec_chip_flash_freq_code(c, "40m", &freq);
    return (uint8_t)((size & 0xF0u) | (freq & 0x0Fu));
}

static void fill(uint8_t *p, size_t n, uint64_t *rng)
{
    for (size_t i = 0; i < n; i++) {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        p[i] = (uint8_t)(*rng >> 24);
    }
}

espsec_err_t espsec_sample_app(const espsec_sample_app_t *p, uint8_t **out, size_t *len, espsec_error_t *err)
{
    const espsec_chip_info_t *c = NULL;
    espsec_err_t crc = sample_chip(p->chip, &c, err);
    if (crc != ESPSEC_OK) {
        return crc;
    }
    uint32_t code = p->code_size ? (p->code_size + 3) & ~3u : 0x8000;
    uint64_t rng = 0x9E3779B97F4A7C15ull ^ p->seed;
    uint8_t *drom = calloc(1, 0x1000), *iram = malloc(0x1800), *irom = malloc(code);
    if (drom == NULL || iram == NULL || irom == NULL) {
        free(drom);
        free(iram);
        free(irom);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    espsec_app_desc_t d;
    memset(&d, 0, sizeof(d));
    d.secure_version = p->secure_version;
    snprintf(d.version, sizeof(d.version), "%s", p->version ? p->version : "1.0.0");
    snprintf(d.project_name, sizeof(d.project_name), "%s", p->project_name ? p->project_name : "espsec_sample");
    snprintf(d.time, sizeof(d.time), "12:00:00");
    snprintf(d.date, sizeof(d.date), "Nov 24 2026");
    snprintf(d.idf_ver, sizeof(d.idf_ver), "v5.3");
    d.max_efuse_blk_rev_full = 0xFFFF;
    d.mmu_page_size = 16; /* 64 KiB */
    fill(iram, 0x1800, &rng);
    fill(irom, code, &rng);
    /* the ELF hash field: a digest of the "code", as a real build has */
    espsec_sha256(irom, code, d.app_elf_sha256);
    espsec_app_desc_encode(&d, drom);
    fill(drom + ESPSEC_APP_DESC_LEN, 0x1000 - ESPSEC_APP_DESC_LEN, &rng);
    espsec_image_build_segment_t segs[3] = {
        {c->link.app_drom, drom, 0x1000},
        {c->link.app_iram, iram, 0x1800},
        {c->link.app_irom, irom, code},
    };
    espsec_image_build_params_t bp = {
        .chip_id = (uint16_t)c->id,
        .entry_addr = c->link.app_iram,
        .spi_mode = 2, /* DIO */
        .spi_size_freq = sample_size_freq(c),
        .hash_appended = 1,
        .flash_offset = 0,
    };
    espsec_err_t rc = espsec_image_build(&bp, segs, 3, out, len, err);
    free(drom);
    free(iram);
    free(irom);
    return rc;
}

espsec_err_t espsec_sample_bootloader(espsec_chip_t chip, uint32_t seed, uint8_t **out, size_t *len,
                                      espsec_error_t *err)
{
    return espsec_sample_bootloader_sized(chip, seed, 0, out, len, err);
}

espsec_err_t espsec_sample_bootloader_sized(espsec_chip_t chip, uint32_t seed, uint32_t extra, uint8_t **out,
                                            size_t *len, espsec_error_t *err)
{
    const espsec_chip_info_t *c = NULL;
    espsec_err_t crc = sample_chip(chip, &c, err);
    if (crc != ESPSEC_OK) {
        return crc;
    }
    uint64_t rng = 0xB5AD4ECEDA1CE2A9ull ^ seed;
    if (extra > 0x10000) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "a bootloader grows by at most 0x10000 bytes");
    }
    uint32_t n2 = 0x2200 + ((extra + 3) & ~3u);
    /* It fits before ESP-IDF's default partition table (0x8000) with a signature sector: a chip whose
     * bootloader sits above 0x1000 gets that much less loader code. */
    uint32_t n1 = 0x3400;
    if (c->bootloader_offset > 0x1000) {
        uint32_t less = c->bootloader_offset - 0x1000;
        n1 = less < n1 ? n1 - less : 0x400;
    }
    uint8_t dram[0x900], iram1[0x3400];
    uint8_t *iram2 = malloc(n2);
    if (iram2 == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    fill(dram, sizeof(dram), &rng);
    fill(iram1, sizeof(iram1), &rng);
    fill(iram2, n2, &rng);
    /* esp_bootloader_desc_t: magic byte, reserved, version, idf_ver, date_time */
    memset(dram, 0, ESPSEC_BOOTLOADER_DESC_LEN);
    dram[0] = ESPSEC_BOOTLOADER_DESC_MAGIC;
    put_le32(dram + 4, 1);
    memcpy(dram + 8, "v5.3", 4);
    memcpy(dram + 40, "Nov 24 2026 12:00:00", 20);
    espsec_image_build_segment_t segs[3] = {
        {c->link.boot_dram, dram, sizeof(dram)},
        {c->link.boot_iram_loader, iram1, n1},
        {c->link.boot_iram, iram2, n2},
    };
    espsec_image_build_params_t bp = {
        .chip_id = (uint16_t)c->id,
        .entry_addr = c->link.boot_iram,
        .spi_mode = 2,
        .spi_size_freq = sample_size_freq(c),
        .hash_appended = 1,
        .flash_offset = c->bootloader_offset,
    };
    espsec_err_t rc = espsec_image_build(&bp, segs, 3, out, len, err);
    free(iram2);
    return rc;
}
