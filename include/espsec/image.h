/*
 * espsec/image.h — ESP application and bootloader images.
 *
 * The format (docs/FORMATS.md, "ESP image"): an 8-byte header (magic 0xE9,
 * segment count, SPI mode, flash size/frequency, entry point), a 16-byte
 * extended header (WP pin, pin drive strengths, chip id, chip revisions,
 * hash-appended flag), then up to 16 segments (load address, length, data).
 * Zero padding brings the file to one byte short of a 16-byte boundary, where
 * an XOR checksum byte (seed 0xEF) over all segment data sits; when the flag
 * is set a SHA-256 of everything before it follows. An application's first
 * DROM segment starts with esp_app_desc_t (magic 0xABCD5432); a bootloader's
 * first DRAM segment may start with esp_bootloader_desc_t (magic byte 0x50).
 * After the image, a Secure Boot V2 signature sector may follow at the next
 * 4 KiB boundary, or a Secure Boot V1 signature block right at the end.
 *
 * Parsing never trusts the data: every length is checked against the buffer
 * and a defect is reported with its offset.
 */
#ifndef ESPSEC_IMAGE_H
#define ESPSEC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/chip.h"
#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_IMAGE_MAGIC 0xE9
#define ESPSEC_IMAGE_HEADER_LEN 24 /* common (8) + extended (16) header */
#define ESPSEC_IMAGE_SEG_HEADER_LEN 8
#define ESPSEC_IMAGE_MAX_SEGMENTS 16
#define ESPSEC_IMAGE_CHECKSUM_SEED 0xEF
#define ESPSEC_IMAGE_WP_PIN_DISABLED 0xEE
#define ESPSEC_APP_DESC_MAGIC 0xABCD5432u
#define ESPSEC_APP_DESC_LEN 256
#define ESPSEC_BOOTLOADER_DESC_MAGIC 0x50
#define ESPSEC_BOOTLOADER_DESC_LEN 80

/* Chips (espsec_chip_t, names, ids) are in espsec/chip.h. */

/** esp_app_desc_t, decoded (strings NUL-terminated). */
typedef struct {
    uint32_t secure_version;
    char version[33];
    char project_name[33];
    char time[17];
    char date[17];
    char idf_ver[33];
    uint8_t app_elf_sha256[32];
    uint16_t min_efuse_blk_rev_full;
    uint16_t max_efuse_blk_rev_full;
    uint8_t mmu_page_size; /* log2 of the page size; 0 = not set */
} espsec_app_desc_t;

/** esp_bootloader_desc_t, decoded. */
typedef struct {
    uint32_t version;
    char idf_ver[33];
    char date_time[25];
} espsec_bootloader_desc_t;

typedef struct {
    uint32_t load_addr;
    uint32_t length;
    size_t header_offset; /* offset of the 8-byte segment header */
    size_t data_offset;   /* offset of the segment data */
} espsec_image_segment_t;

/** Everything espsec reads from an image. */
typedef struct {
    /* header */
    uint8_t segment_count;
    uint8_t spi_mode;
    uint8_t spi_size_freq;
    uint32_t entry_addr;
    /* extended header */
    uint8_t wp_pin;
    uint8_t drv[3];
    uint16_t chip_id;
    uint8_t min_rev;
    uint16_t min_rev_full;
    uint16_t max_rev_full;
    uint8_t hash_appended;
    espsec_image_segment_t segments[ESPSEC_IMAGE_MAX_SEGMENTS];
    /* footer */
    size_t checksum_offset;
    uint8_t checksum_stored;
    uint8_t checksum_calc;
    uint8_t hash_stored[32];
    uint8_t hash_calc[32];
    /** Length of the image proper: through the checksum and the appended hash. */
    size_t image_len;
    /** Bytes of the buffer beyond image_len (padding, signatures, free flash). */
    size_t trailing_len;
    int has_app_desc;
    espsec_app_desc_t app_desc;
    int has_bootloader_desc;
    espsec_bootloader_desc_t bootloader_desc;
    /* ESP8266 images (espsec_image_parse_esp8266): 1 the ROM's image, 2 the 0xEA
     * application image, whose segment 0 is the IROM (address 0, not in the
     * checksum); 0 for ESP32-family images. */
    int esp8266_version;
    /* version 2: the first header's fields (esptool warns where they differ from the second's) */
    uint8_t v2_segment_count, v2_spi_mode, v2_spi_size_freq;
    uint32_t v2_entry_addr;
} espsec_image_t;

/**
 * Parse the image at the start of buf. Structural defects (short buffer,
 * wrong magic, too many segments, a segment running past the end, a bad
 * hash-appended flag) fail with ESPSEC_ERR_FORMAT naming the offset.
 * Checksum and hash are computed and stored in img but not judged here:
 * call espsec_image_check for that.
 */
espsec_err_t espsec_image_parse(const uint8_t *buf, size_t len, espsec_image_t *img,
                                espsec_error_t *err);

/**
 * Parse an ESP8266 image: magic 0xE9 (the ROM's image: 8-byte header,
 * segments, checksum) or 0xEA (the SDK's application image: a first header,
 * the IROM segment, then a 0xE9 image). No extended header, no digest.
 * Errors as espsec_image_parse.
 */
espsec_err_t espsec_image_parse_esp8266(const uint8_t *buf, size_t len, espsec_image_t *img, espsec_error_t *err);

/**
 * Judge a parsed image: checksum byte and (when appended) SHA-256 must match.
 * Fails with ESPSEC_ERR_INVALID_CRC / ESPSEC_ERR_VERIFY naming the offset.
 */
espsec_err_t espsec_image_check(const espsec_image_t *img, espsec_error_t *err);

/** Memory-type names for a load address on the image's chip (esptool's names). */
size_t espsec_image_memory_types(uint16_t chip_id, uint32_t addr, const char **names, size_t cap);

/** 1 when addr is in a flash-mapped (IROM/DROM) region of the chip. */
int espsec_image_is_flash_addr(uint16_t chip_id, uint32_t addr);

/** Flash size name ("4MB") for the header's size nibble, NULL if invalid. */
const char *espsec_image_flash_size_name(uint8_t size_freq);
/** Flash frequency name ("40m"), NULL if invalid. */
const char *espsec_image_flash_freq_name(uint8_t size_freq);
/** Flash mode name ("QIO"), NULL if invalid. */
const char *espsec_image_flash_mode_name(uint8_t mode);

/** A segment to build an image from. */
typedef struct {
    uint32_t load_addr;
    const uint8_t *data;
    uint32_t length;
} espsec_image_build_segment_t;

typedef struct {
    uint16_t chip_id;
    uint32_t entry_addr;
    uint8_t spi_mode;      /* 0 = QIO */
    uint8_t spi_size_freq; /* high nibble size, low nibble frequency */
    uint8_t hash_appended; /* append SHA-256 */
    /** Flash offset the image will be written at (0x1000 bootloader, 0x10000 app):
     *  flash-mapped segments are placed so file offset and address agree mod 64 KiB. */
    uint32_t flash_offset;
} espsec_image_build_params_t;

/**
 * Build an image from segments, as esptool's elf2image lays it out:
 * RAM segments first, each flash-mapped segment preceded by a zero padding
 * segment where needed to align it to its 64 KiB MMU page. On success *out is
 * a malloc'd buffer of *out_len bytes (caller frees).
 */
espsec_err_t espsec_image_build(const espsec_image_build_params_t *params,
                                const espsec_image_build_segment_t *segs, size_t nsegs,
                                uint8_t **out, size_t *out_len, espsec_error_t *err);

/**
 * Write an esp_app_desc_t (256 bytes) into out, for building sample images.
 */
void espsec_app_desc_encode(const espsec_app_desc_t *desc, uint8_t out[ESPSEC_APP_DESC_LEN]);

/** Decode an esp_app_desc_t; returns 0 when the magic word matches. */
int espsec_app_desc_decode(const uint8_t *buf, size_t len, espsec_app_desc_t *desc);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
