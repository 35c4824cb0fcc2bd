/*
 * Internal to the nvs module: the on-flash layout, named once (see
 * docs/FORMATS.md "NVS"), and helpers shared by the store, the partition
 * generator and the dump.
 */
#ifndef ESPSEC_NVS_FORMAT_H
#define ESPSEC_NVS_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "espsec/nvs.h"
#include "espsec/util.h"
#include "util/bytes.h"

enum {
    NVS_PAGE = 4096,
    NVS_NENT = 126,
    NVS_ENT = 32,
    /* page header */
    NVS_H_STATE = 0,
    NVS_H_SEQ = 4,
    NVS_H_VERSION = 8,
    NVS_H_CRC = 28,
    NVS_BITMAP_OFF = 32,
    NVS_ENTRY_OFF = 64,
    /* entry */
    NVS_E_NS = 0,
    NVS_E_TYPE = 1,
    NVS_E_SPAN = 2,
    NVS_E_CHUNK = 3,
    NVS_E_CRC = 4,
    NVS_E_KEY = 8,
    NVS_E_DATA = 24,
    /* data of variable-length items */
    NVS_V_SIZE = 24,  /* u16 */
    NVS_V_CRC = 28,   /* u32 */
    /* data of a blob index */
    NVS_I_SIZE = 24,  /* u32 */
    NVS_I_COUNT = 28, /* u8 */
    NVS_I_START = 29, /* u8 */
};

#define NVS_STATE_UNINIT 0xFFFFFFFFu
#define NVS_STATE_ACTIVE 0xFFFFFFFEu
#define NVS_STATE_FULL 0xFFFFFFFCu
#define NVS_STATE_FREEING 0xFFFFFFF8u
#define NVS_STATE_CORRUPT 0xFFFFFFF0u
#define NVS_VERSION_1 0xFF
#define NVS_VERSION_2 0xFE

#define NVS_ES_EMPTY 3
#define NVS_ES_WRITTEN 2
#define NVS_ES_ILLEGAL 1
#define NVS_ES_ERASED 0

#define NVS_CHUNK_ANY 0xFF
#define NVS_VER_0 0x00
#define NVS_VER_1 0x80
#define NVS_NS_INDEX 0 /* namespace entries live in namespace 0 */

static inline uint32_t nvs_entry_crc(const uint8_t *e)
{
    uint32_t c = espsec_crc32(0xFFFFFFFFu, e, 4);
    return espsec_crc32(c, e + NVS_E_KEY, 24);
}

static inline uint32_t nvs_header_crc(const uint8_t *h)
{
    return espsec_crc32(0xFFFFFFFFu, h + NVS_H_SEQ, 24);
}

static inline uint32_t nvs_data_crc(const uint8_t *d, size_t n)
{
    return espsec_crc32(0xFFFFFFFFu, d, n);
}

static inline int nvs_is_var_type(uint8_t t)
{
    return t == ESPSEC_NVS_TYPE_STR || t == ESPSEC_NVS_TYPE_BLOB_V1 || t == ESPSEC_NVS_TYPE_BLOB;
}

static inline int nvs_is_prim_type(uint8_t t)
{
    return t == 0x01 || t == 0x11 || t == 0x02 || t == 0x12 || t == 0x04 || t == 0x14 || t == 0x08 || t == 0x18;
}

static inline int nvs_is_known_type(uint8_t t)
{
    return nvs_is_prim_type(t) || nvs_is_var_type(t) || t == ESPSEC_NVS_TYPE_BLOB_IDX;
}

static inline unsigned nvs_prim_size(uint8_t t)
{
    return t & 0x0F;
}

/* 2-bit entry state from a 32-byte state table. */
static inline int nvs_bitmap_get(const uint8_t *bm, int i)
{
    return (bm[(i * 2) / 8] >> ((i * 2) % 8)) & 3;
}

/* A fresh 32-byte entry: 0xFF everywhere, key zero-padded. */
static inline void nvs_entry_init(uint8_t *e, uint8_t ns, uint8_t type, uint8_t span, uint8_t chunk, const char *key)
{
    memset(e, 0xFF, NVS_ENT);
    e[NVS_E_NS] = ns;
    e[NVS_E_TYPE] = type;
    e[NVS_E_SPAN] = span;
    e[NVS_E_CHUNK] = chunk;
    memset(e + NVS_E_KEY, 0, 16);
    memcpy(e + NVS_E_KEY, key, strnlen(key, 16));
}

static inline void nvs_entry_seal(uint8_t *e)
{
    put_le32(e + NVS_E_CRC, nvs_entry_crc(e));
}

/* A sealed entry holding an integer value of a primitive type (v little-endian in the data field). */
static inline void nvs_entry_prim(uint8_t *e, uint8_t ns, uint8_t type, const char *key, uint64_t v)
{
    uint8_t raw[8];
    nvs_entry_init(e, ns, type, 1, NVS_CHUNK_ANY, key);
    put_le64(raw, v);
    memcpy(e + NVS_E_DATA, raw, nvs_prim_size(type));
    nvs_entry_seal(e);
}

/* A page header (state, seq, version, CRC). */
static inline void nvs_header_make(uint8_t h[32], uint32_t state, uint32_t seq, uint8_t version)
{
    memset(h, 0xFF, 32);
    put_le32(h + NVS_H_STATE, state);
    put_le32(h + NVS_H_SEQ, seq);
    h[NVS_H_VERSION] = version;
    put_le32(h + NVS_H_CRC, nvs_header_crc(h));
}

/*
 * XTS-AES contexts for one set of NVS keys, made once for the life of a
 * store, a generator or a dump (the key schedules are the cost of a small
 * write); freeing wipes them.
 */
typedef struct nvs_xts nvs_xts_t;
nvs_xts_t *nvs_xts_new(const espsec_nvs_keys_t *keys);
espsec_err_t nvs_xts_run(nvs_xts_t *x, uint32_t offset, const uint8_t *in, uint8_t *out, size_t len, int decrypt);
void nvs_xts_free(nvs_xts_t *x);

#endif
