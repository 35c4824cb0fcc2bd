/*
 * espsec/ihex.h — Intel HEX, as esptool reads and writes it (Python's
 * intelhex package): records ":LLAAAATT<data>CC", types 00 data, 01 end of
 * file, 02 extended segment address, 03 start segment address, 04 extended
 * linear address, 05 start linear address (docs/FORMATS.md).
 *
 * Reading gives the contiguous runs of bytes the file defines, sorted by
 * address (esptool flashes or merges each run at its own address).
 * Writing gives the text intelhex's write_hex_file produces: 16 data bytes
 * per record at most, a record never crossing a 64 KiB boundary or a hole,
 * extended linear address records when an address is past 0xFFFF, "\n"
 * line ends, upper-case hex, the end-of-file record last.
 */
#ifndef ESPSEC_IHEX_H
#define ESPSEC_IHEX_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/** One contiguous run of bytes. */
typedef struct {
    uint64_t addr;
    uint8_t *data; /* malloc'd (owned by the array; espsec_ihex_free) */
    size_t len;
} espsec_ihex_run_t;

/**
 * Parse Intel HEX text. ESPSEC_OK: *runs (malloc'd, may be NULL when the
 * file has no data records) and *nruns. ESPSEC_ERR_PARSE: the bytes are not
 * Intel HEX (a record that does not decode: esptool then takes the file as
 * raw binary); the message names the line. ESPSEC_ERR_FORMAT: valid records
 * that define the same address twice (the line).
 */
espsec_err_t espsec_ihex_parse(const uint8_t *text, size_t len, espsec_ihex_run_t **runs, size_t *nruns,
                               espsec_error_t *err);

/** Free what espsec_ihex_parse returned. */
void espsec_ihex_free(espsec_ihex_run_t *runs, size_t nruns);

/** A run to write (not owned). */
typedef struct {
    uint64_t addr;
    const uint8_t *data;
    size_t len;
} espsec_ihex_span_t;

/**
 * Write runs (sorted by address, not overlapping, each ending below 4 GiB)
 * as Intel HEX text. *out is malloc'd (not NUL-terminated).
 */
espsec_err_t espsec_ihex_write(const espsec_ihex_span_t *spans, size_t n, uint8_t **out, size_t *out_len,
                               espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
