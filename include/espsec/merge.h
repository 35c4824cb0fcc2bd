/*
 * espsec/merge.h — esptool's merge-bin: files at flash addresses into one
 * file to flash, as raw binary (gaps 0xFF), Intel HEX or UF2.
 *
 * Files may be given in any order (they are sorted by address); a file
 * whose first byte is ':' and that reads as Intel HEX stands for its
 * contiguous runs at their own addresses, any other file for its bytes at
 * the address given. Two files may not share a 4 KiB flash sector, and
 * nothing may end past the largest flash the chip addresses. When a file
 * sits at the chip's bootloader offset and flash mode, frequency or size is
 * given, its header (bytes 2 and 3) is rewritten as esptool does, and its
 * appended SHA-256 recomputed; a file there that is not a valid image of
 * the chip is left alone with a warning. UF2 (docs/FORMATS.md): 512-byte
 * blocks with the chip's family id and, by default, an MD5 part per block.
 */
#ifndef ESPSEC_MERGE_H
#define ESPSEC_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/chip.h"
#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef enum { ESPSEC_MERGE_RAW = 0, ESPSEC_MERGE_HEX, ESPSEC_MERGE_UF2 } espsec_merge_format_t;

/** Receives what esptool prints on the way: notes, and warnings (warning = 1). */
typedef void (*espsec_merge_log_fn)(void *ctx, int warning, const char *line);

typedef struct {
    const espsec_chip_info_t *chip; /* NULL: none given (no header rewrite, no UF2) */
    espsec_merge_format_t format;
    uint64_t target_offset;  /* raw: flash address of the output's first byte */
    uint64_t pad_to;         /* raw: pad with 0xFF up to this flash address (0: no padding) */
    const char *flash_mode;  /* NULL or "keep": keep; qio, qout, dio, dout */
    const char *flash_freq;  /* NULL or "keep", or one of the chip's (espsec_chip_flash) */
    const char *flash_size;  /* NULL or "keep", or one of the chip's */
    size_t uf2_chunk;        /* UF2 data bytes per block, a multiple of 4; 0: as many as fit */
    int uf2_no_md5;          /* UF2 without the MD5 part */
    espsec_merge_log_fn log;
    void *log_ctx;
} espsec_merge_opts_t;

/** The UF2 block layout (Microsoft's UF2, as esptool writes it). */
#define ESPSEC_UF2_BLOCK_SIZE 512
#define ESPSEC_UF2_DATA_SIZE 476
#define ESPSEC_UF2_MD5_PART_SIZE 24

typedef struct espsec_merge espsec_merge_t;

/** A new, empty merge; NULL when out of memory. */
espsec_merge_t *espsec_merge_new(void);
void espsec_merge_free(espsec_merge_t *m);

/**
 * Add a file given at addr (its bytes are copied). An Intel HEX file adds
 * its runs at their own addresses, as esptool does; *was_hex (may be NULL)
 * says which it was. Refuses an address past 32 bits and a hex file that
 * defines an address twice.
 */
espsec_err_t espsec_merge_add(espsec_merge_t *m, uint64_t addr, const uint8_t *data, size_t len, const char *name,
                              int *was_hex, espsec_error_t *err);

/** Pieces added so far (a hex file counts its runs). */
size_t espsec_merge_count(const espsec_merge_t *m);

/** "256KB".."128MB" (esptool's --pad-to-size choices, any case) in bytes; 0 when not one. */
uint64_t espsec_merge_size_bytes(const char *name);

/**
 * Check the options and the pieces (sorted, no shared sector, not before
 * target_offset, not past the chip's flash), rewrite the bootloader header
 * when asked, and produce the output. *out is malloc'd. Nothing is produced
 * on any error.
 */
espsec_err_t espsec_merge_build(espsec_merge_t *m, const espsec_merge_opts_t *o, uint8_t **out, size_t *out_len,
                                espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
