/*
 * espsec/image_target.h — what the image tools need to know about a chip.
 *
 * esptool decides how an image is laid out, and how image_info names the
 * memory a segment loads into, from a handful of per-chip facts: the chip id
 * stored in the extended header, the address windows the cache maps from
 * flash (IROM and DROM), the chip's memory map (address ranges with esptool's
 * names: DROM, IRAM, DRAM, RTC_DRAM...), where the second-stage bootloader
 * sits in flash, the MMU page sizes an image may be laid out for, and the
 * codes the header uses for flash sizes and frequencies. This header gives
 * those facts a shape; the chip model (src/chip/) fills one per chip, and
 * the image code (src/image/) only ever reads them.
 */
#ifndef ESPSEC_IMAGE_TARGET_H
#define ESPSEC_IMAGE_TARGET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** One range of a memory map: [start, end) named as esptool names it. */
typedef struct {
    uint32_t start;
    uint32_t end;
    const char *name;
} espsec_mem_region_t;

/** A header code for a flash size or frequency, with esptool's name for it. */
typedef struct {
    const char *name; /* "4MB", "80m" */
    uint8_t code;     /* high nibble (size) or low nibble (frequency) of header byte 3 */
} espsec_flash_code_t;

/** The image format a chip's ROM reads. */
typedef enum {
    ESPSEC_IMAGE_FMT_ESP32 = 0, /* 24-byte header with the extended header; everything since the ESP32 */
    ESPSEC_IMAGE_FMT_ESP8266,   /* 8-byte header only (and the 0xEA "v2" application image) */
} espsec_image_fmt_t;

/* (The chip model, espsec/chip.h, holds one as its memmap.) */
typedef struct espsec_chip_memmap {
    const char *chip;    /* "esp32c3", as esptool's --chip spells it */
    const char *display; /* "ESP32-C3", as esptool prints it */
    espsec_image_fmt_t format;
    uint16_t image_chip_id;           /* extended header chip id (ESP8266: none) */
    uint32_t bootloader_flash_offset; /* where the ROM looks for the second-stage bootloader */
    uint32_t irom_map_start, irom_map_end; /* flash-mapped instruction window */
    uint32_t drom_map_start, drom_map_end; /* flash-mapped data window */
    const espsec_mem_region_t *memory_map; /* in esptool's order (names list in that order) */
    size_t memory_map_len;
    uint32_t mmu_page_size;          /* default layout alignment (IROM_ALIGN) */
    const uint32_t *mmu_page_sizes;  /* sizes the MMU can be configured to; NULL when fixed */
    size_t mmu_page_sizes_len;
    const espsec_flash_code_t *flash_sizes; /* in esptool's order */
    size_t flash_sizes_len;
    const espsec_flash_code_t *flash_freqs; /* in esptool's order (two names may share a code) */
    size_t flash_freqs_len;
    /* The ESP32's early second-stage bootloaders did not map the last MMU page
     * when a flash segment ended less than 0x24 bytes past it; esptool pads. */
    uint8_t flash_segment_tail_pad;
    uint8_t secure_pad_v1; /* Secure Boot V1 padding (--secure-pad) applies */
    /* ESP8266 only: esptool builds "version 3" images with another chip's
     * flash codes and memory map (its ESP32 image class); that chip. */
    const struct espsec_chip_memmap *v3_rules;
} espsec_image_target_t;

/** The target for a --chip name ("esp32c3", "ESP32-C3", "esp32_c3"), from the chip model; NULL if none. */
const espsec_image_target_t *espsec_image_target_find(const char *name);

/** The ESP32-format target whose extended header carries chip id; NULL if none. */
const espsec_image_target_t *espsec_image_target_by_id(uint16_t chip_id);

/**
 * Names of the memory-map ranges that contain addr, in map order, as
 * esptool's image_info lists them; returns how many (at most cap stored).
 */
size_t espsec_image_target_memory_types(const espsec_image_target_t *t, uint32_t addr, const char **names,
                                        size_t cap);

/** 1 when addr lies in the chip's flash-mapped IROM or DROM window. */
int espsec_image_target_is_flash_addr(const espsec_image_target_t *t, uint32_t addr);

/** Header code for a flash size name ("4MB"); 0 on success, -1 if the chip has no such size. */
int espsec_image_target_flash_size(const espsec_image_target_t *t, const char *name, uint8_t *code);
/** Header code for a flash frequency name ("80m"); 0 on success, -1 if unknown. */
int espsec_image_target_flash_freq(const espsec_image_target_t *t, const char *name, uint8_t *code);
/** First name for a size code (high nibble of header byte 3), NULL if none. */
const char *espsec_image_target_flash_size_name(const espsec_image_target_t *t, uint8_t code);
/** First name for a frequency code (low nibble), NULL if none (esptool's order decides ties). */
const char *espsec_image_target_flash_freq_name(const espsec_image_target_t *t, uint8_t code);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
