/*
 * espsec/nvs.h — ESP-IDF's NVS key-value store on (emulated) NOR flash.
 *
 * Format (docs/FORMATS.md, "NVS"): 4 KiB pages; a 32-byte header (state,
 * sequence number, version 0xFE, CRC-32), a 32-byte table of 2-bit entry
 * states, 126 entries of 32 bytes (namespace index, type, span, chunk index,
 * CRC-32, 16-byte key, 8 bytes of data). Strings and blobs take extra
 * entries; blobs are BLOB_DATA chunks (at most one per page) plus a
 * BLOB_IDX entry, in two alternating versions so an update never overwrites
 * the data it replaces. With NVS encryption each entry is an XTS-AES-256
 * data unit whose tweak is its offset in the partition; headers and state
 * tables stay plain.
 *
 * The API follows ESP-IDF's nvs.h: mount (nvs_flash_init_partition /
 * nvs_flash_secure_init_partition), open a namespace, set/get, erase,
 * commit, iterate, statistics. Return codes are ESP-IDF's ESP_ERR_NVS_*.
 *
 * Every change writes the new data before erasing the old, so a power cut at
 * any flash operation leaves every key with its old or its new value; mount
 * finishes or undoes whatever a cut interrupted (half-written entries,
 * duplicates, orphaned blob chunks, a page that was being freed).
 */
#ifndef ESPSEC_NVS_H
#define ESPSEC_NVS_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"
#include "espsec/flash.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

#define ESPSEC_NVS_PAGE_SIZE 4096
#define ESPSEC_NVS_ENTRY_SIZE 32
#define ESPSEC_NVS_ENTRY_COUNT 126
#define ESPSEC_NVS_KEY_MAX 15        /* characters, NUL excluded */
#define ESPSEC_NVS_MIN_PAGES 3       /* a read/write partition needs 0x3000 bytes */
#define ESPSEC_NVS_STR_MAX 4000      /* bytes, NUL included (one page) */
#define ESPSEC_NVS_BLOB_MAX_V1 1984  /* legacy single-page blob */
#define ESPSEC_NVS_KEYS_PART_SIZE 4096

/* Item types, ESP-IDF's values. */
typedef enum {
    ESPSEC_NVS_TYPE_U8 = 0x01,
    ESPSEC_NVS_TYPE_I8 = 0x11,
    ESPSEC_NVS_TYPE_U16 = 0x02,
    ESPSEC_NVS_TYPE_I16 = 0x12,
    ESPSEC_NVS_TYPE_U32 = 0x04,
    ESPSEC_NVS_TYPE_I32 = 0x14,
    ESPSEC_NVS_TYPE_U64 = 0x08,
    ESPSEC_NVS_TYPE_I64 = 0x18,
    ESPSEC_NVS_TYPE_STR = 0x21,
    ESPSEC_NVS_TYPE_BLOB_V1 = 0x41, /* legacy one-page blob */
    ESPSEC_NVS_TYPE_BLOB = 0x42,    /* as nvs_type_t: a blob (stored as BLOB_DATA chunks) */
    ESPSEC_NVS_TYPE_BLOB_IDX = 0x48,
    ESPSEC_NVS_TYPE_ANY = 0xFF,
} espsec_nvs_type_t;

/** "u8", "string", "blob" ... */
const char *espsec_nvs_type_name(uint8_t type);

/** The NVS encryption keys (the nvs_keys partition's content). */
typedef struct {
    uint8_t eky[32]; /* XTS data key */
    uint8_t tky[32]; /* XTS tweak key */
} espsec_nvs_keys_t;

/** Parse a 4 KiB nvs_keys partition (keys + CRC-32). Blank → ESP_ERR_NVS_KEYS_NOT_INITIALIZED,
 *  bad CRC → ESP_ERR_NVS_CORRUPT_KEY_PART. */
espsec_err_t espsec_nvs_keys_parse(const uint8_t *buf, size_t len, espsec_nvs_keys_t *keys, espsec_error_t *err);
/** Encode keys as a 4 KiB nvs_keys partition. */
void espsec_nvs_keys_encode(const espsec_nvs_keys_t *keys, uint8_t out[ESPSEC_NVS_KEYS_PART_SIZE]);
/** Fresh random keys from the OS CSPRNG. */
espsec_err_t espsec_nvs_keys_generate(espsec_nvs_keys_t *keys);
/** Keys derived from an HMAC key, as ESP-IDF's HMAC-based key protection scheme
 *  (HMAC-SHA-256 of fixed seeds). */
espsec_err_t espsec_nvs_keys_from_hmac(const uint8_t *hmac_key, size_t len, espsec_nvs_keys_t *keys);

/**
 * XTS-AES-256 of one or more 32-byte entries at partition offset `offset`
 * (each entry its own data unit, tweak = its offset): what NVS encryption
 * does to every entry it writes.
 */
espsec_err_t espsec_nvs_xts(const espsec_nvs_keys_t *keys, uint32_t offset, const uint8_t *in, uint8_t *out,
                            size_t len, int decrypt);

typedef struct espsec_nvs espsec_nvs_t;
typedef uint32_t espsec_nvs_handle_t;

typedef enum { ESPSEC_NVS_READONLY = 0, ESPSEC_NVS_READWRITE = 1 } espsec_nvs_open_mode_t;

/**
 * Mount the partition [offset, offset+size) of flash (the flash stays the
 * caller's). keys: NULL for a plain partition. Recovers from interrupted
 * writes. Fails with ESP_ERR_NVS_NO_FREE_PAGES when no page can become the
 * active one, ESP_ERR_NVS_NEW_VERSION_FOUND for an unknown format version,
 * ESP_ERR_NVS_WRONG_ENCRYPTION-style errors name the problem in err.
 */
espsec_err_t espsec_nvs_mount(espsec_flash_t *flash, uint32_t offset, uint32_t size, const espsec_nvs_keys_t *keys,
                              espsec_nvs_t **out, espsec_error_t *err);
/**
 * Mount for reading only, as ESP-IDF mounts a partition flagged "readonly" (which may be 1 or 2
 * pages, what nvs_partition_gen makes for sizes under 0x3000): nothing is repaired or written; every
 * set, erase or repair that would write fails with ESP_ERR_NVS_READ_ONLY.
 */
espsec_err_t espsec_nvs_mount_read_only(espsec_flash_t *flash, uint32_t offset, uint32_t size,
                                        const espsec_nvs_keys_t *keys, espsec_nvs_t **out, espsec_error_t *err);
/**
 * NVS_READWRITE_PURGE semantics for every later write and erase: an entry marked erased is also
 * overwritten with 0x00 (raw, not encrypted), so the old value cannot be read back from the flash.
 */
void espsec_nvs_set_purge(espsec_nvs_t *nvs, int on);
/** Unmount (nvs_flash_deinit); open handles become invalid. */
void espsec_nvs_unmount(espsec_nvs_t *nvs);
/** Erase every page of a partition (nvs_flash_erase_partition). */
espsec_err_t espsec_nvs_erase_partition(espsec_flash_t *flash, uint32_t offset, uint32_t size, espsec_error_t *err);

espsec_err_t espsec_nvs_open(espsec_nvs_t *nvs, const char *ns, espsec_nvs_open_mode_t mode, espsec_nvs_handle_t *h);
void espsec_nvs_close(espsec_nvs_t *nvs, espsec_nvs_handle_t h);

espsec_err_t espsec_nvs_set_u8(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint8_t v);
espsec_err_t espsec_nvs_set_i8(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int8_t v);
espsec_err_t espsec_nvs_set_u16(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint16_t v);
espsec_err_t espsec_nvs_set_i16(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int16_t v);
espsec_err_t espsec_nvs_set_u32(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint32_t v);
espsec_err_t espsec_nvs_set_i32(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int32_t v);
espsec_err_t espsec_nvs_set_u64(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint64_t v);
espsec_err_t espsec_nvs_set_i64(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int64_t v);
espsec_err_t espsec_nvs_set_str(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, const char *v);
espsec_err_t espsec_nvs_set_blob(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, const void *v, size_t len);

espsec_err_t espsec_nvs_get_u8(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint8_t *v);
espsec_err_t espsec_nvs_get_i8(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int8_t *v);
espsec_err_t espsec_nvs_get_u16(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint16_t *v);
espsec_err_t espsec_nvs_get_i16(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int16_t *v);
espsec_err_t espsec_nvs_get_u32(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint32_t *v);
espsec_err_t espsec_nvs_get_i32(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int32_t *v);
espsec_err_t espsec_nvs_get_u64(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, uint64_t *v);
espsec_err_t espsec_nvs_get_i64(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, int64_t *v);
/** As nvs_get_str: out NULL asks the length (NUL included) in *len; a short buffer gives ESP_ERR_NVS_INVALID_LENGTH. */
/**
 * An integer of any width (what a tool that does not know the type reads):
 * *type gets the stored type; *value holds it, sign-extended for signed
 * types (read it as uint64_t for unsigned ones). Strings and blobs give
 * ESP_ERR_NVS_TYPE_MISMATCH.
 */
espsec_err_t espsec_nvs_get_int(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, espsec_nvs_type_t *type,
                                int64_t *value);
espsec_err_t espsec_nvs_get_str(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, char *out, size_t *len);
espsec_err_t espsec_nvs_get_blob(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key, void *out, size_t *len);

espsec_err_t espsec_nvs_erase_key(espsec_nvs_t *nvs, espsec_nvs_handle_t h, const char *key);
espsec_err_t espsec_nvs_erase_all(espsec_nvs_t *nvs, espsec_nvs_handle_t h);
/** Writes are immediate, as in ESP-IDF; commit checks the handle and returns ESP_OK. */
espsec_err_t espsec_nvs_commit(espsec_nvs_t *nvs, espsec_nvs_handle_t h);

/** One stored value, as nvs_entry_info_t. */
typedef struct {
    char namespace_name[16];
    char key[16];
    espsec_nvs_type_t type; /* ESPSEC_NVS_TYPE_BLOB for both blob formats */
} espsec_nvs_entry_info_t;

/**
 * Iterate values: ns NULL for all namespaces, type ESPSEC_NVS_TYPE_ANY for
 * all types, in the order they were written. Fills at most cap entries and
 * sets *count to the number filled; ESP_ERR_NVS_INVALID_LENGTH when more
 * values exist (an array of espsec_nvs_get_stats' used_entries always
 * suffices), ESP_ERR_NVS_NOT_FOUND when there are none.
 */
espsec_err_t espsec_nvs_list(espsec_nvs_t *nvs, const char *ns, espsec_nvs_type_t type, espsec_nvs_entry_info_t *out,
                             size_t cap, size_t *count);


/*
 * Iterators, as nvs_entry_find / nvs_entry_next / nvs_entry_info: find gives
 * an iterator on the first matching value (or ESP_ERR_NVS_NOT_FOUND and
 * NULL); next moves on, and at the end releases the iterator, sets it to
 * NULL and returns ESP_ERR_NVS_NOT_FOUND. The iterator is a snapshot taken
 * by find. Release it with espsec_nvs_release_iterator when stopping early.
 */
typedef struct espsec_nvs_iterator espsec_nvs_iterator_t;
espsec_err_t espsec_nvs_entry_find(espsec_nvs_t *nvs, const char *ns, espsec_nvs_type_t type,
                                   espsec_nvs_iterator_t **it);
espsec_err_t espsec_nvs_entry_next(espsec_nvs_iterator_t **it);
espsec_err_t espsec_nvs_entry_info(const espsec_nvs_iterator_t *it, espsec_nvs_entry_info_t *info);
void espsec_nvs_release_iterator(espsec_nvs_iterator_t *it);

typedef struct {
    size_t used_entries;
    size_t free_entries;
    size_t available_entries; /* free, not counting the page kept for garbage collection */
    size_t total_entries;
    size_t namespace_count;
} espsec_nvs_stats_t;

espsec_err_t espsec_nvs_get_stats(espsec_nvs_t *nvs, espsec_nvs_stats_t *stats);
/** Entries used by the values of one namespace (nvs_get_used_entry_count). */
espsec_err_t espsec_nvs_get_used_entry_count(espsec_nvs_t *nvs, espsec_nvs_handle_t h, size_t *count);

/** What mount repaired (for the dump and the tests). */
typedef struct {
    size_t half_written_erased; /* entries erased because a write was interrupted */
    size_t duplicates_erased;   /* older copies of a value removed */
    size_t orphan_chunks_erased;
    size_t freeing_pages_finished;
    size_t partial_copies_erased; /* pages of an interrupted reclaim, copied again */
    size_t corrupt_pages;
} espsec_nvs_repairs_t;
void espsec_nvs_get_repairs(const espsec_nvs_t *nvs, espsec_nvs_repairs_t *r);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
