/*
 * espsec/nvs_part.h — NVS partition images: generation from CSV (as ESP-IDF's
 * nvs_partition_gen, byte for byte), encryption, decryption and dump.
 *
 * The generator lays entries out exactly as nvs_partition_gen does: pages
 * filled in order, the last used page left ACTIVE, unused pages erased, one
 * reserved page at the end; with keys, every entry encrypted with XTS-AES.
 * Where the reference is wrong espsec refuses instead: a data row before any
 * namespace, a partition under 0x3000 bytes, a value out of range; and it
 * puts the rows of a namespace named again into that namespace.
 */
#ifndef ESPSEC_NVS_PART_H
#define ESPSEC_NVS_PART_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "espsec/error.h"
#include "espsec/nvs.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/* ---- building a partition entry by entry ---- */

typedef struct espsec_nvs_gen espsec_nvs_gen_t;

/** Encodings of nvs_partition_gen's CSV. */
typedef enum {
    ESPSEC_NVS_ENC_U8,
    ESPSEC_NVS_ENC_I8,
    ESPSEC_NVS_ENC_U16,
    ESPSEC_NVS_ENC_I16,
    ESPSEC_NVS_ENC_U32,
    ESPSEC_NVS_ENC_I32,
    ESPSEC_NVS_ENC_U64,
    ESPSEC_NVS_ENC_I64,
    ESPSEC_NVS_ENC_STRING,
    ESPSEC_NVS_ENC_HEX2BIN,
    ESPSEC_NVS_ENC_BASE64,
    ESPSEC_NVS_ENC_BINARY,
} espsec_nvs_encoding_t;

/** Parse "u8" ... "binary"; -1 if unknown. */
int espsec_nvs_encoding_from_name(const char *name, espsec_nvs_encoding_t *enc);

/** The largest partition the 32-bit flash address space holds. */
#define ESPSEC_NVS_GEN_MAX_SIZE 0xFFFFF000u

/**
 * Start a partition image of `size` bytes (a multiple of 4096, 0x1000 to
 * ESPSEC_NVS_GEN_MAX_SIZE), format version 1 or 2, encrypted when keys is
 * not NULL. Sizes 0x1000 and 0x2000 make a read-only partition, as
 * nvs_partition_gen does (ESP-IDF mounts them only when the partition table
 * flags them "readonly"): no reserved page, and the finished image holds
 * only the pages used.
 */
espsec_err_t espsec_nvs_gen_new(size_t size, int version, const espsec_nvs_keys_t *keys, espsec_nvs_gen_t **out,
                                espsec_error_t *err);
void espsec_nvs_gen_free(espsec_nvs_gen_t *g);
/** Start (or return to) a namespace. */
espsec_err_t espsec_nvs_gen_namespace(espsec_nvs_gen_t *g, const char *name, espsec_error_t *err);
/**
 * Add a value to the current namespace. Integers take their decimal text;
 * string takes the text (a NUL is added); hex2bin and base64 take their
 * text; binary takes raw bytes. len is the length of value.
 */
espsec_err_t espsec_nvs_gen_value(espsec_nvs_gen_t *g, const char *key, espsec_nvs_encoding_t enc, const char *value,
                                  size_t len, espsec_error_t *err);
/** 1 when the partition is read-only (under 0x3000 bytes). */
int espsec_nvs_gen_read_only(const espsec_nvs_gen_t *g);
/** The finished image (malloc'd, `size` bytes; read-only: the pages used). g stays valid until freed. */
espsec_err_t espsec_nvs_gen_finish(espsec_nvs_gen_t *g, uint8_t **out, size_t *len, espsec_error_t *err);

/* ---- CSV ---- */

typedef struct {
    int version;                  /* 1 or 2 (default 2) */
    const espsec_nvs_keys_t *keys; /* encrypt when set */
    const char *csv_dir;          /* where 'file' rows are looked up when not found from the working directory */
} espsec_nvs_csv_opts_t;

/** One CSV row: type "namespace", "data" or "file" (value is then a path), with its encoding. */
espsec_err_t espsec_nvs_gen_row(espsec_nvs_gen_t *g, const char *key, const char *type, const char *enc,
                                const char *value, const espsec_nvs_csv_opts_t *opts, espsec_error_t *err);

/** Add the rows of one CSV (several CSVs may feed one partition, as nvs_partition_gen allows). */
espsec_err_t espsec_nvs_gen_add_csv(espsec_nvs_gen_t *g, const char *csv, size_t len, const char *csv_name,
                                    const espsec_nvs_csv_opts_t *opts, espsec_error_t *err);

/**
 * Generate a partition from CSV text (key,type,encoding,value). Errors name
 * the CSV line (and csv_name), the key and what was expected.
 */
espsec_err_t espsec_nvs_gen_csv(const char *csv, size_t len, const char *csv_name, size_t size,
                                const espsec_nvs_csv_opts_t *opts, uint8_t **out, espsec_error_t *err);

/** Decrypt (or encrypt) a whole partition image in place as nvs_partition_gen's decrypt does. */
espsec_err_t espsec_nvs_image_crypt(uint8_t *img, size_t len, const espsec_nvs_keys_t *keys, int decrypt,
                                    espsec_error_t *err);

/* ---- dump ---- */

typedef enum { ESPSEC_NVS_DUMP_TEXT, ESPSEC_NVS_DUMP_JSON } espsec_nvs_dump_format_t;

/** Which entries to show (nvs_tool's --dump all / written / namespaces / none). */
typedef enum {
    ESPSEC_NVS_DUMP_ALL,        /* every page and every non-empty entry */
    ESPSEC_NVS_DUMP_WRITTEN,    /* entries in the written state only */
    ESPSEC_NVS_DUMP_NAMESPACES, /* the namespace table only */
    ESPSEC_NVS_DUMP_NONE,       /* nothing but the problems */
} espsec_nvs_dump_select_t;

typedef struct {
    espsec_nvs_dump_format_t format;
    espsec_nvs_dump_select_t select;
} espsec_nvs_dump_opts_t;

/**
 * Print pages, entries (state, type, namespace, key, value, CRC checks)
 * and the problems found, decrypting with keys when given. Returns the
 * number of problems in *problems. Pure reading: the image is not changed.
 * opts NULL = text, everything.
 */
espsec_err_t espsec_nvs_dump(const uint8_t *img, size_t len, const espsec_nvs_keys_t *keys,
                             const espsec_nvs_dump_opts_t *opts, FILE *out, size_t *problems, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
