/*
 * espsec/elf2image.h — an ELF file to a flashable image, byte for byte as
 * esptool v5.3.1's elf2image makes it (docs/FORMATS.md, "ESP image" and
 * "elf2image layout").
 *
 * A pure transform on buffers: ELF bytes and options in, image bytes out.
 * The steps are esptool's: take the ELF sections with contents (or the
 * PT_LOAD segments), pad each to 4 bytes, merge neighbours that touch and
 * share a memory type, then lay the image out. Flash-mapped segments (IROM,
 * DROM) are placed so that their file offset equals their address modulo the
 * MMU page, the gaps filled with the start of RAM segments or with zero
 * padding segments; the app description goes first, the bootloader
 * description first among RAM segments; then the checksum byte at the end of
 * a 16-byte line, the optional Secure Boot padding (so a signed image ends on
 * an MMU page), the SHA-256 of the image, and optional 0xFF padding.
 * ESP8266 images (versions 1, 2 and 3) are made as esptool makes them.
 *
 * Where esptool would write an image that cannot boot (more than 16 segments
 * once padding is added) or would stop with a Python exception (a segment
 * that cannot be aligned, a short app description), espsec fails with a
 * message instead.
 */
#ifndef ESPSEC_ELF2IMAGE_H
#define ESPSEC_ELF2IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"
#include "espsec/image_target.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** What esptool prints while converting: plain lines, "Note:" and "Warning:" lines. */
typedef enum {
    ESPSEC_E2I_INFO = 0,
    ESPSEC_E2I_NOTE,
    ESPSEC_E2I_WARNING,
} espsec_e2i_level_t;

typedef void (*espsec_e2i_log_fn)(void *ctx, espsec_e2i_level_t level, const char *msg);

typedef struct {
    const espsec_image_target_t *target;
    int esp8266_version;      /* ESP8266 only: 1 (ROM image, two files), 2 (0xEA app image) or 3 */
    uint8_t flash_mode;       /* 0 qio, 1 qout, 2 dio, 3 dout */
    uint8_t flash_size_freq;  /* header byte 3: size code | frequency code */
    uint8_t min_rev;          /* legacy minimum chip revision */
    uint16_t min_rev_full;    /* major * 100 + minor */
    uint16_t max_rev_full;
    int secure_pad;           /* 0, 1 (Secure Boot V1, ESP32 only) or 2 (Secure Boot V2) */
    int append_digest;        /* append the image's SHA-256 (esptool's default) */
    int use_segments;         /* lay out PT_LOAD segments instead of sections */
    int ram_only_header;      /* header counts only RAM segments; implies no digest */
    uint32_t mmu_page_size;   /* 0: from the app description or the chip's default */
    uint32_t pad_to_size;     /* pad the file with 0xFF to a multiple of this; 0: none */
    int has_elf_sha256_offset;
    uint32_t elf_sha256_offset; /* write the ELF file's SHA-256 at this file offset */
    espsec_e2i_log_fn log;    /* may be NULL */
    void *log_ctx;
} espsec_elf2image_opts_t;

typedef struct {
    uint8_t *image; /* malloc'd; ESP8266 version 1: the part for flash offset 0 */
    size_t image_len;
    /* ESP8266 version 1 only: the IROM contents, a second file for flash offset irom_offset. */
    uint8_t *irom;
    size_t irom_len;
    int has_irom;
    /* Flash offset of the IROM segment (ESP8266 versions 1 and 2; 0 without one):
     * esptool names its default output files after it. */
    uint32_t irom_offset;
} espsec_elf2image_result_t;

/**
 * Convert the ELF file elf[0..elf_len) as esptool's elf2image would.
 * On success res holds malloc'd buffers; release them with
 * espsec_elf2image_result_free. Errors name the section, segment or offset.
 */
espsec_err_t espsec_elf2image(const uint8_t *elf, size_t elf_len, const espsec_elf2image_opts_t *opts,
                              espsec_elf2image_result_t *res, espsec_error_t *err);

void espsec_elf2image_result_free(espsec_elf2image_result_t *res);

/**
 * The target whose flash size/frequency codes (and memory map) an image of
 * this chip and ESP8266 version is built with: t itself, except for ESP8266
 * version 3 images, which esptool builds with the ESP32's.
 */
const espsec_image_target_t *espsec_elf2image_rules(const espsec_image_target_t *t, int esp8266_version);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
