/*
 * The flash fields of each chip's image header and its UF2 family id
 * (espsec/chip.h, espsec_chip_flash). Facts from esptool's targets
 * (FLASH_SIZES, FLASH_FREQUENCY, UF2_FAMILY_ID).
 */
#include "espsec/chip.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MB (1024ull * 1024ull)

/* 1MB .. 128MB in the high nibble: every chip but the ESP8266 */
static const espsec_chip_code_t SIZES_STD[] = {
    {"1MB", 0x00},  {"2MB", 0x10},  {"4MB", 0x20},  {"8MB", 0x30}, {"16MB", 0x40},
    {"32MB", 0x50}, {"64MB", 0x60}, {"128MB", 0x70}, {NULL, 0},
};
static const espsec_chip_code_t SIZES_ESP8266[] = {
    {"512KB", 0x00}, {"256KB", 0x10}, {"1MB", 0x20},  {"2MB", 0x30}, {"4MB", 0x40},
    {"2MB-c1", 0x50}, {"4MB-c1", 0x60}, {"8MB", 0x80}, {"16MB", 0x90}, {NULL, 0},
};

static const espsec_chip_code_t FREQ_80_26[] = {{"80m", 0xF}, {"40m", 0x0}, {"26m", 0x1}, {"20m", 0x2}, {NULL, 0}};
static const espsec_chip_code_t FREQ_80[] = {{"80m", 0xF}, {"40m", 0x0}, {"20m", 0x2}, {NULL, 0}};
/* ESP32-C6: 80m is encoded as 0 as well (the flash clock comes from another source) */
static const espsec_chip_code_t FREQ_80_AS_0[] = {{"80m", 0x0}, {"40m", 0x0}, {"20m", 0x2}, {NULL, 0}};
static const espsec_chip_code_t FREQ_60[] = {{"60m", 0xF}, {"30m", 0x0}, {"20m", 0x1}, {"15m", 0x2}, {NULL, 0}};
static const espsec_chip_code_t FREQ_48[] = {{"48m", 0xF}, {"24m", 0x0}, {"16m", 0x1}, {"12m", 0x2}, {NULL, 0}};

static const struct {
    espsec_chip_t id;
    espsec_chip_flash_t flash;
} FLASH[] = {
    {ESPSEC_CHIP_ESP8266, {0x7EAB61ED, SIZES_ESP8266, FREQ_80_26, 16 * MB, 0}},
    {ESPSEC_CHIP_ESP32, {0x1C5F21B0, SIZES_STD, FREQ_80_26, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32S2, {0xBFDD4EEE, SIZES_STD, FREQ_80_26, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32S3, {0xC47E5767, SIZES_STD, FREQ_80_26, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32C3, {0xD42BA06C, SIZES_STD, FREQ_80_26, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32C2, {0x2B88D29C, SIZES_STD, FREQ_60, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32C6, {0x540DDF62, SIZES_STD, FREQ_80_AS_0, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32C61, {0x77D850C4, SIZES_STD, FREQ_80, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32C5, {0xF71C0343, SIZES_STD, FREQ_80, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32E22, {0x1C5F21B0, SIZES_STD, FREQ_80_26, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32H2, {0x332726F6, SIZES_STD, FREQ_48, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32H21, {0xB6DD00AF, SIZES_STD, FREQ_48, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32P4, {0x3D308E94, SIZES_STD, FREQ_80_26, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32H4, {0x9E0BAA8A, SIZES_STD, FREQ_48, 128 * MB, 1}},
    {ESPSEC_CHIP_ESP32S31, {0x3101F7C1, SIZES_STD, FREQ_80, 128 * MB, 1}},
};

/* A chip of the model without an entry above: the common header, no UF2 family. */
static const espsec_chip_flash_t FLASH_DEFAULT = {0, SIZES_STD, FREQ_80_26, 128 * MB, 1};

const espsec_chip_flash_t *espsec_chip_flash(const espsec_chip_info_t *c)
{
    for (size_t i = 0; c != NULL && i < sizeof(FLASH) / sizeof(FLASH[0]); i++) {
        if (FLASH[i].id == c->id) {
            return &FLASH[i].flash;
        }
    }
    return &FLASH_DEFAULT;
}

static int find_code(const espsec_chip_code_t *codes, const char *name, uint8_t *code)
{
    for (size_t i = 0; name != NULL && codes[i].name != NULL; i++) {
        if (strcasecmp(codes[i].name, name) == 0) {
            *code = codes[i].code;
            return 0;
        }
    }
    return -1;
}

int espsec_chip_flash_size_code(const espsec_chip_info_t *c, const char *name, uint8_t *code)
{
    return find_code(espsec_chip_flash(c)->sizes, name, code);
}

int espsec_chip_flash_freq_code(const espsec_chip_info_t *c, const char *name, uint8_t *code)
{
    return find_code(espsec_chip_flash(c)->freqs, name, code);
}

const char *espsec_chip_code_names(const espsec_chip_code_t *codes, char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0) {
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; codes[i].name != NULL; i++) {
        int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", codes[i].name);
        if (w < 0 || (size_t)w >= cap - n) {
            break;
        }
        n += (size_t)w;
    }
    return buf;
}
