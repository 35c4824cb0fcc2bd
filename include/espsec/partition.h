/*
 * espsec/partition.h — the ESP-IDF partition table, binary and CSV, with the
 * semantics of ESP-IDF's gen_esp32part.py.
 *
 * Binary (docs/FORMATS.md, "Partition table"): 32-byte entries (magic 0xAA
 * 0x50, type, subtype, offset u32, size u32, 16-byte name, flags u32: bit 0
 * encrypted, bit 1 readonly), then optionally an MD5 entry (0xEB 0xEB, 14
 * bytes 0xFF, MD5 of the entries), then 0xFF; 0xC00 bytes in all, at flash
 * offset 0x8000 by default, leaving room for a signature in its 4 KiB sector.
 *
 * CSV: "Name, Type, SubType, Offset, Size, Flags" with type/subtype names or
 * numbers, K/M suffixes, empty offsets filled in (apps aligned to 64 KiB,
 * the rest to 4 KiB), flags "encrypted" and "readonly".
 */
#ifndef ESPSEC_PARTITION_H
#define ESPSEC_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_PT_OFFSET_DEFAULT 0x8000u
#define ESPSEC_PT_SECTOR_SIZE 0x1000u
#define ESPSEC_PT_MAX_LEN 0xC00u
#define ESPSEC_PT_ENTRY_LEN 32
#define ESPSEC_PT_MAX_ENTRIES 95
#define ESPSEC_PT_MAX_WARNINGS 16

enum {
    ESPSEC_PT_TYPE_APP = 0x00,
    ESPSEC_PT_TYPE_DATA = 0x01,
    ESPSEC_PT_TYPE_BOOTLOADER = 0x02,
    ESPSEC_PT_TYPE_PARTITION_TABLE = 0x03,
};

enum {
    ESPSEC_PT_SUBTYPE_FACTORY = 0x00,
    ESPSEC_PT_SUBTYPE_OTA_0 = 0x10,
    ESPSEC_PT_SUBTYPE_TEST = 0x20,
    ESPSEC_PT_SUBTYPE_DATA_OTA = 0x00,
    ESPSEC_PT_SUBTYPE_DATA_PHY = 0x01,
    ESPSEC_PT_SUBTYPE_DATA_NVS = 0x02,
    ESPSEC_PT_SUBTYPE_DATA_COREDUMP = 0x03,
    ESPSEC_PT_SUBTYPE_DATA_NVS_KEYS = 0x04,
    ESPSEC_PT_SUBTYPE_DATA_EFUSE = 0x05,
    ESPSEC_PT_SUBTYPE_DATA_UNDEFINED = 0x06,
};

#define ESPSEC_PT_FLAG_ENCRYPTED 0x1u
#define ESPSEC_PT_FLAG_READONLY 0x2u

typedef struct {
    char name[17];
    uint8_t type;
    uint8_t subtype;
    uint32_t offset;
    uint32_t size;
    uint32_t flags; /* ESPSEC_PT_FLAG_*; other bits are kept as read */
    int line;       /* CSV line, 0 when from binary */
} espsec_partition_t;

typedef struct {
    espsec_partition_t entries[ESPSEC_PT_MAX_ENTRIES];
    size_t count;
    int has_md5; /* binary had an MD5 entry (always written unless disabled) */
    size_t nwarnings;
    char warnings[ESPSEC_PT_MAX_WARNINGS][200];
} espsec_partition_table_t;

typedef struct {
    uint32_t table_offset;      /* 0x8000 by default */
    int md5;                    /* write / check the MD5 entry (default 1) */
    int secure;                 /* 0, 1 or 2: app sizes must suit Secure Boot V1/V2 */
    uint32_t flash_size;        /* 0: no check */
    uint32_t primary_bootloader_offset; /* for 'bootloader' rows; 0 = not given */
    uint32_t recovery_bootloader_offset;
    int expand_env;             /* expand $VARS in CSV lines (default 1) */
} espsec_pt_opts_t;

/** Options as gen_esp32part's defaults. */
void espsec_pt_opts_default(espsec_pt_opts_t *opts);

/** Parse a binary table (0xC00 or 0x1000 bytes, or more: reading stops at the end marker). */
espsec_err_t espsec_pt_from_binary(const uint8_t *buf, size_t len, const espsec_pt_opts_t *opts,
                                   espsec_partition_table_t *table, espsec_error_t *err);

/** Parse CSV text; errors name the line. Offsets are filled in. */
espsec_err_t espsec_pt_from_csv(const char *text, size_t len, const espsec_pt_opts_t *opts,
                                espsec_partition_table_t *table, espsec_error_t *err);

/** The checks gen_esp32part runs (alignment, overlaps, names, otadata, NVS size...). */
espsec_err_t espsec_pt_verify(espsec_partition_table_t *table, const espsec_pt_opts_t *opts,
                              espsec_error_t *err);

/** Encode as 0xC00 bytes (entries, MD5 entry, 0xFF). */
espsec_err_t espsec_pt_to_binary(const espsec_partition_table_t *table, const espsec_pt_opts_t *opts,
                                 uint8_t out[ESPSEC_PT_MAX_LEN], espsec_error_t *err);

/** Encode as CSV text, as gen_esp32part writes it (malloc'd, NUL-terminated). */
char *espsec_pt_to_csv(const espsec_partition_table_t *table);

/** The first partition of a type and subtype (subtype -1 = any), or NULL. */
const espsec_partition_t *espsec_pt_find(const espsec_partition_table_t *table, int type, int subtype);
/** The partition named name, or NULL. */
const espsec_partition_t *espsec_pt_find_name(const espsec_partition_table_t *table, const char *name);

/** "app", "data", ... or NULL for other values. */
const char *espsec_pt_type_name(uint8_t type);
/** "factory", "ota_3", "nvs", ... or NULL. */
const char *espsec_pt_subtype_name(uint8_t type, uint8_t subtype);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
