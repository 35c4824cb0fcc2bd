/* NVS partition generation, nvs_partition_gen's layout byte for byte (espsec/nvs_part.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "espsec/io.h"
#include "espsec/nvs_part.h"
#include "nvs/nvs_format.h"
#include "util/csv.h"

#define MAX_NAMESPACES 254
#define V1_MAX_BLOB 1984
#define V2_MAX_STR 4000

struct espsec_nvs_gen {
    uint8_t *img;
    size_t size;
    size_t size_left; /* bytes still available for new pages (the reserve page excluded) */
    int read_only;    /* under 0x3000 bytes: no reserve page, only the used pages are output */
    uint8_t version;
    int encrypt;
    nvs_xts_t *xts;
    int page_num;
    int entry_num;
    char ns_names[MAX_NAMESPACES][16];
    int ns_count;
    int ns_current; /* 0: no namespace yet */
    /* the Wi-Fi helper entries nvs_partition_gen adds for some keys */
    char *ap_ssid, *ap_passwd, *ap_authmode;
    int sta_extras_written;
};

static const struct {
    const char *name;
    espsec_nvs_encoding_t enc;
} ENCODINGS[] = {
    {"u8", ESPSEC_NVS_ENC_U8},         {"i8", ESPSEC_NVS_ENC_I8},         {"u16", ESPSEC_NVS_ENC_U16},
    {"i16", ESPSEC_NVS_ENC_I16},       {"u32", ESPSEC_NVS_ENC_U32},       {"i32", ESPSEC_NVS_ENC_I32},
    {"u64", ESPSEC_NVS_ENC_U64},       {"i64", ESPSEC_NVS_ENC_I64},       {"string", ESPSEC_NVS_ENC_STRING},
    {"hex2bin", ESPSEC_NVS_ENC_HEX2BIN}, {"base64", ESPSEC_NVS_ENC_BASE64}, {"binary", ESPSEC_NVS_ENC_BINARY},
};

int espsec_nvs_encoding_from_name(const char *name, espsec_nvs_encoding_t *enc)
{
    for (size_t i = 0; i < ARRAY_SIZE(ENCODINGS); i++) {
        if (strcasecmp(name, ENCODINGS[i].name) == 0) {
            *enc = ENCODINGS[i].enc;
            return 0;
        }
    }
    return -1;
}

static const char *enc_name(espsec_nvs_encoding_t e)
{
    for (size_t i = 0; i < ARRAY_SIZE(ENCODINGS); i++) {
        if (ENCODINGS[i].enc == e) {
            return ENCODINGS[i].name;
        }
    }
    return "?";
}

static uint8_t *page(espsec_nvs_gen_t *g)
{
    return g->img + (size_t)g->page_num * NVS_PAGE;
}

/* nvs_partition_gen's create_new_page: the current page becomes FULL. */
static espsec_err_t new_page(espsec_nvs_gen_t *g, espsec_error_t *err)
{
    if (g->page_num >= 0 && get_le32(page(g)) == NVS_STATE_ACTIVE) {
        put_le32(page(g), NVS_STATE_FULL);
    }
    if (g->size_left == 0) {
        return espsec_fail(err, ESP_ERR_NVS_NOT_ENOUGH_SPACE,
                           "the partition size is less than the size of the data in the CSV (%zu bytes hold %d data "
                           "pages and the reserved page): increase the size",
                           g->size, g->page_num + 1);
    }
    g->size_left -= NVS_PAGE;
    g->page_num++;
    g->entry_num = 0;
    nvs_header_make(page(g), NVS_STATE_ACTIVE, (uint32_t)g->page_num, g->version);
    return ESPSEC_OK;
}

espsec_err_t espsec_nvs_gen_new(size_t size, int version, const espsec_nvs_keys_t *keys, espsec_nvs_gen_t **out,
                                espsec_error_t *err)
{
    if (size % NVS_PAGE != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "size of partition must be multiple of 4096 (given 0x%zx)",
                           size);
    }
    if (size < NVS_PAGE) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "partition size 0x%zx: read/write NVS needs at least 0x3000 bytes, read-only NVS 0x1000",
                           size);
    }
    if (size > ESPSEC_NVS_GEN_MAX_SIZE) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "partition size 0x%zx: past the 4 GiB flash address space (at most 0x%x)", size,
                           ESPSEC_NVS_GEN_MAX_SIZE);
    }
    if (version != 1 && version != 2) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "version %d: 1 or 2 expected", version);
    }
    espsec_nvs_gen_t *g = calloc(1, sizeof(*g));
    if (g == NULL || (g->img = malloc(size)) == NULL) {
        free(g);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memset(g->img, 0xFF, size);
    g->size = size;
    /* under 0x3000 bytes the partition is read-only on the device (nvs_partition_gen's rule): no
     * reserved page, and only the pages used are written out */
    g->read_only = size < (size_t)ESPSEC_NVS_MIN_PAGES * NVS_PAGE;
    g->size_left = g->read_only ? size : size - NVS_PAGE; /* one page stays reserved */
    g->version = version == 1 ? NVS_VERSION_1 : NVS_VERSION_2;
    g->page_num = -1;
    if (keys != NULL) {
        g->encrypt = 1;
        g->xts = nvs_xts_new(keys);
        if (g->xts == NULL) {
            espsec_nvs_gen_free(g);
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "XTS-AES setup failed");
        }
    }
    espsec_err_t rc = new_page(g, err);
    if (rc != ESPSEC_OK) {
        espsec_nvs_gen_free(g);
        return rc;
    }
    *out = g;
    return ESPSEC_OK;
}

void espsec_nvs_gen_free(espsec_nvs_gen_t *g)
{
    if (g != NULL) {
        if (g->img != NULL) {
            espsec_free_secret(g->img, g->size); /* values in clear */
        }
        free(g->ap_ssid);
        free(g->ap_passwd);
        free(g->ap_authmode);
        nvs_xts_free(g->xts);
        espsec_wipe(g, sizeof(*g));
        free(g);
    }
}

/*
 * Write count entries (data padded with 0xFF) at the current entry, marking
 * them written. The image is kept in clear while it is built and encrypted
 * page by page when finished, in one XTS run per page.
 */
static espsec_err_t put_entries(espsec_nvs_gen_t *g, const uint8_t *data, size_t len, int count, espsec_error_t *err)
{
    (void)err;
    size_t n = (size_t)count * NVS_ENT;
    uint8_t *dst = page(g) + NVS_ENTRY_OFF + (size_t)g->entry_num * NVS_ENT;
    memset(dst, 0xFF, n);
    memcpy(dst, data, len < n ? len : n);
    for (int i = 0; i < count; i++) {
        int bit = g->entry_num * 2;
        page(g)[NVS_BITMAP_OFF + bit / 8] &= (uint8_t)~(1u << (bit % 8));
        g->entry_num++;
    }
    return ESPSEC_OK;
}

static espsec_err_t write_primitive(espsec_nvs_gen_t *g, uint8_t ns, const char *key, uint8_t type, uint64_t v,
                                    espsec_error_t *err)
{
    if (g->entry_num >= NVS_NENT) {
        espsec_err_t rc = new_page(g, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    uint8_t e[NVS_ENT];
    nvs_entry_prim(e, ns, type, key, v);
    return put_entries(g, e, NVS_ENT, 1, err);
}

/* A variable-length item on one page (strings, and blobs in format version 1). */
static espsec_err_t write_single(espsec_nvs_gen_t *g, uint8_t ns, const char *key, uint8_t type, const uint8_t *d,
                                 size_t len, espsec_error_t *err)
{
    int data_entries = (int)((len + NVS_ENT - 1) / NVS_ENT);
    uint8_t e[NVS_ENT];
    nvs_entry_init(e, ns, type, (uint8_t)(data_entries + 1), NVS_CHUNK_ANY, key);
    put_le16(e + NVS_V_SIZE, (uint16_t)len);
    put_le32(e + NVS_V_CRC, nvs_data_crc(d, len));
    nvs_entry_seal(e);
    espsec_err_t rc = put_entries(g, e, NVS_ENT, 1, err);
    if (rc == ESPSEC_OK) {
        rc = put_entries(g, d, len, data_entries, err);
    }
    return rc;
}

/* A format-2 blob: data chunks filling the pages, then the index (nvs_partition_gen's split rule). */
static espsec_err_t write_blob_v2(espsec_nvs_gen_t *g, uint8_t ns, const char *key, const uint8_t *d, size_t len,
                                  espsec_error_t *err)
{
    size_t offset = 0, remaining = len;
    int chunk_count = 0;
    for (;;) {
        size_t tailroom = (size_t)(NVS_NENT - g->entry_num - 1) * NVS_ENT;
        size_t chunk = tailroom < remaining ? tailroom : remaining;
        remaining -= chunk;
        if (chunk_count > 127) {
            return espsec_fail(err, ESP_ERR_NVS_VALUE_TOO_LONG, "blob %s needs more than 128 chunks", key);
        }
        int data_entries = (int)((chunk + NVS_ENT - 1) / NVS_ENT);
        uint8_t e[NVS_ENT];
        nvs_entry_init(e, ns, ESPSEC_NVS_TYPE_BLOB, (uint8_t)(data_entries + 1), (uint8_t)(NVS_VER_0 + chunk_count),
                       key);
        put_le16(e + NVS_V_SIZE, (uint16_t)chunk);
        put_le32(e + NVS_V_CRC, nvs_data_crc(d + offset, chunk));
        nvs_entry_seal(e);
        espsec_err_t rc = put_entries(g, e, NVS_ENT, 1, err);
        if (rc == ESPSEC_OK) {
            rc = put_entries(g, d + offset, chunk, data_entries, err);
        }
        if (rc != ESPSEC_OK) {
            return rc;
        }
        chunk_count++;
        if (remaining != 0 || tailroom - chunk < NVS_ENT) {
            rc = new_page(g, err);
            if (rc != ESPSEC_OK) {
                return rc;
            }
        }
        offset += chunk;
        if (remaining == 0) {
            nvs_entry_init(e, ns, ESPSEC_NVS_TYPE_BLOB_IDX, 1, NVS_CHUNK_ANY, key);
            put_le32(e + NVS_I_SIZE, (uint32_t)len);
            e[NVS_I_COUNT] = (uint8_t)chunk_count;
            e[NVS_I_START] = NVS_VER_0;
            nvs_entry_seal(e);
            return put_entries(g, e, NVS_ENT, 1, err);
        }
    }
}

static espsec_err_t write_varlen(espsec_nvs_gen_t *g, uint8_t ns, const char *key, int is_string, const uint8_t *d,
                                 size_t len, espsec_error_t *err)
{
    int v2 = g->version == NVS_VERSION_2;
    if ((!v2 || is_string) && len > (v2 ? V2_MAX_STR : V1_MAX_BLOB)) {
        return espsec_fail(err, ESP_ERR_NVS_VALUE_TOO_LONG, "size %zu exceeds the %d bytes allowed for key %s", len,
                           v2 ? V2_MAX_STR : V1_MAX_BLOB, key);
    }
    int total = 1 + (int)((len + NVS_ENT - 1) / NVS_ENT);
    int split = v2 && !is_string;
    /* as nvs_partition_gen: an unsplittable item must leave the page's last entry unused */
    if (g->entry_num >= NVS_NENT || (!split && g->entry_num + total >= NVS_NENT)) {
        espsec_err_t rc = new_page(g, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        if (!split && g->entry_num + total >= NVS_NENT) {
            return espsec_fail(err, ESP_ERR_NVS_VALUE_TOO_LONG, "value of key %s (%zu bytes) does not fit in a page",
                               key, len);
        }
    }
    if (split) {
        return write_blob_v2(g, ns, key, d, len, err);
    }
    return write_single(g, ns, key, is_string ? ESPSEC_NVS_TYPE_STR : ESPSEC_NVS_TYPE_BLOB_V1, d, len, err);
}

espsec_err_t espsec_nvs_gen_namespace(espsec_nvs_gen_t *g, const char *name, espsec_error_t *err)
{
    size_t nl = strlen(name);
    if (nl == 0 || nl > ESPSEC_NVS_KEY_MAX) {
        return espsec_fail(err, ESP_ERR_NVS_KEY_TOO_LONG, "namespace name '%s' must be 1 to 15 characters", name);
    }
    for (int i = 0; i < g->ns_count; i++) {
        if (strcmp(g->ns_names[i], name) == 0) {
            g->ns_current = i + 1;
            return ESPSEC_OK;
        }
    }
    if (g->ns_count >= MAX_NAMESPACES) {
        return espsec_fail(err, ESP_ERR_NVS_NOT_ENOUGH_SPACE, "more than %d namespaces", MAX_NAMESPACES);
    }
    espsec_err_t rc = write_primitive(g, NVS_NS_INDEX, name, ESPSEC_NVS_TYPE_U8, (uint64_t)g->ns_count + 1, err);
    if (rc == ESPSEC_OK) {
        snprintf(g->ns_names[g->ns_count], 16, "%s", name);
        g->ns_current = ++g->ns_count;
    }
    return rc;
}

/* Python's int() for decimal text: spaces around, a sign, digits with single underscores between them. */
static int parse_decimal(const char *s, size_t len, int *neg, uint64_t *mag)
{
    size_t i = 0, end = len;
    while (i < end && isspace((unsigned char)s[i])) {
        i++;
    }
    while (end > i && isspace((unsigned char)s[end - 1])) {
        end--;
    }
    *neg = 0;
    if (i < end && (s[i] == '+' || s[i] == '-')) {
        *neg = s[i] == '-';
        i++;
    }
    if (i >= end || !isdigit((unsigned char)s[i])) {
        return -1;
    }
    uint64_t v = 0;
    int overflow = 0;
    for (; i < end; i++) {
        if (s[i] == '_' && i + 1 < end && isdigit((unsigned char)s[i + 1]) && isdigit((unsigned char)s[i - 1])) {
            continue;
        }
        if (!isdigit((unsigned char)s[i])) {
            return -1;
        }
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            overflow = 1;
        }
        v = v * 10 + d;
    }
    *mag = v;
    return overflow ? 1 : 0;
}

static espsec_err_t parse_int(const char *key, espsec_nvs_encoding_t enc, const char *val, size_t len, uint64_t *out,
                              espsec_error_t *err)
{
    static const struct {
        espsec_nvs_encoding_t e;
        int is_signed;
        unsigned bits;
    } R[] = {{ESPSEC_NVS_ENC_U8, 0, 8},   {ESPSEC_NVS_ENC_I8, 1, 8},   {ESPSEC_NVS_ENC_U16, 0, 16},
             {ESPSEC_NVS_ENC_I16, 1, 16}, {ESPSEC_NVS_ENC_U32, 0, 32}, {ESPSEC_NVS_ENC_I32, 1, 32},
             {ESPSEC_NVS_ENC_U64, 0, 64}, {ESPSEC_NVS_ENC_I64, 1, 64}};
    size_t k = 0;
    while (R[k].e != enc) {
        k++;
    }
    int neg = 0;
    uint64_t mag = 0;
    int pr = parse_decimal(val, len, &neg, &mag);
    char lo[32], hi[32];
    if (R[k].is_signed) {
        snprintf(lo, sizeof(lo), "%lld", R[k].bits == 64 ? (long long)INT64_MIN : -(1LL << (R[k].bits - 1)));
        snprintf(hi, sizeof(hi), "%lld", R[k].bits == 64 ? (long long)INT64_MAX : (1LL << (R[k].bits - 1)) - 1);
    } else {
        snprintf(lo, sizeof(lo), "0");
        snprintf(hi, sizeof(hi), "%llu", R[k].bits == 64 ? (unsigned long long)UINT64_MAX : (1ULL << R[k].bits) - 1);
    }
    if (pr < 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: value '%.*s' is not a decimal integer (%s, %s..%s)", key,
                           (int)(len > 40 ? 40 : len), val, enc_name(enc), lo, hi);
    }
    int ok;
    if (R[k].is_signed) {
        uint64_t limit = R[k].bits == 64 ? (uint64_t)INT64_MAX + (neg ? 1 : 0) : (1ULL << (R[k].bits - 1)) - (neg ? 0 : 1);
        ok = pr == 0 && mag <= limit;
        *out = neg ? (uint64_t)0 - mag : mag;
    } else {
        ok = pr == 0 && (!neg || mag == 0) && (R[k].bits == 64 || mag <= (1ULL << R[k].bits) - 1);
        *out = mag;
    }
    if (!ok) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: value %.*s is out of range for %s (%s..%s)", key,
                           (int)(len > 40 ? 40 : len), val, enc_name(enc), lo, hi);
    }
    return ESPSEC_OK;
}


/* Wi-Fi PMK as nvs_partition_gen derives it: PBKDF2-HMAC-SHA1(password, ssid, 4096, 32). */
static int wifi_pmk(const char *pass, const char *ssid, uint8_t out[32])
{
    return PKCS5_PBKDF2_HMAC(pass, (int)strlen(pass), (const unsigned char *)ssid, (int)strlen(ssid), 4096, EVP_sha1(),
                             32, out) == 1
               ? 0
               : -1;
}

static espsec_err_t add_value_ex(espsec_nvs_gen_t *g, const char *key, espsec_nvs_encoding_t enc, const char *value,
                                 size_t len, int raw, espsec_error_t *err);
#define add_value(g, key, enc, value, len, err) add_value_ex((g), (key), (enc), (value), (len), 0, (err))

/* The extra entries nvs_partition_gen writes for Wi-Fi keys, so images match its output. */
static espsec_err_t wifi_extras(espsec_nvs_gen_t *g, const char *key, const char *value, size_t len, int *handled,
                                espsec_error_t *err)
{
    *handled = 0;
    if (strcmp(key, "ap.ssid") == 0 || strcmp(key, "ap.passwd") == 0 || strcmp(key, "ap.authmode") == 0) {
        char **slot = key[3] == 's' ? &g->ap_ssid : key[3] == 'p' ? &g->ap_passwd : &g->ap_authmode;
        if (!(slot == &g->ap_authmode && len == 1 && value[0] == '0')) {
            free(*slot);
            *slot = strndup(value, len);
        }
        if (g->ap_ssid && g->ap_passwd && g->ap_authmode) {
            uint8_t pmk[32];
            char hex[2 * 132 + 1];
            if (wifi_pmk(g->ap_passwd, g->ap_ssid, pmk) != 0) {
                return espsec_fail(err, ESPSEC_ERR_CRYPTO, "PBKDF2 failed");
            }
            memset(hex, '0', 200);
            espsec_hex(pmk, 32, hex + 200, 0);
            espsec_err_t rc = add_value(g, "ap.pmk_info", ESPSEC_NVS_ENC_HEX2BIN, hex, strlen(hex), err);
            if (rc != ESPSEC_OK) {
                return rc;
            }
        }
        return ESPSEC_OK;
    }
    if ((strcmp(key, "sta.ssid") == 0 || strcmp(key, "sta.pswd") == 0) && !g->sta_extras_written) {
        *handled = 1;
        g->sta_extras_written = 1;
        return ESPSEC_OK;
    }
    return ESPSEC_OK;
}

/*
 * raw: the encoding was named in another letter case ("String", "Hex2Bin"). nvs_partition_gen converts
 * the value only for the exact lower-case names and lower-cases the name afterwards, so such a value is
 * stored as it is: a string without its NUL, hex2bin/base64 text as the blob's bytes.
 */
static espsec_err_t add_value_ex(espsec_nvs_gen_t *g, const char *key, espsec_nvs_encoding_t enc, const char *value,
                                 size_t len, int raw, espsec_error_t *err)
{
    uint8_t ns = (uint8_t)g->ns_current;
    if (enc <= ESPSEC_NVS_ENC_I64) {
        static const uint8_t TYPES[] = {ESPSEC_NVS_TYPE_U8,  ESPSEC_NVS_TYPE_I8,  ESPSEC_NVS_TYPE_U16,
                                        ESPSEC_NVS_TYPE_I16, ESPSEC_NVS_TYPE_U32, ESPSEC_NVS_TYPE_I32,
                                        ESPSEC_NVS_TYPE_U64, ESPSEC_NVS_TYPE_I64};
        uint64_t v = 0;
        espsec_err_t rc = parse_int(key, enc, value, len, &v, err);
        return rc == ESPSEC_OK ? write_primitive(g, ns, key, TYPES[enc], v, err) : rc;
    }
    uint8_t *data = malloc(len + 1);
    if (data == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    long n = 0;
    espsec_err_t rc = ESPSEC_OK;
    if (enc == ESPSEC_NVS_ENC_STRING) {
        if (memchr(value, '\0', len) != NULL) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: a string cannot contain a NUL byte", key);
        }
        memcpy(data, value, len);
        data[len] = '\0';
        n = (long)len + (raw ? 0 : 1);
    } else if (!raw && enc == ESPSEC_NVS_ENC_HEX2BIN) {
        size_t a = 0, b = len;
        while (a < b && isspace((unsigned char)value[a])) {
            a++;
        }
        while (b > a && isspace((unsigned char)value[b - 1])) {
            b--;
        }
        if ((b - a) % 2 != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: invalid data length %zu: hex2bin needs an even number "
                             "of hex digits", key, b - a);
        }
        for (size_t i = a; rc == ESPSEC_OK && i < b; i += 2) {
            char pair[3] = {value[i], value[i + 1], 0};
            uint8_t byte;
            if (!isxdigit((unsigned char)pair[0]) || !isxdigit((unsigned char)pair[1]) ||
                espsec_unhex(pair, &byte, 1) != 1) {
                rc = espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: '%c%c' at position %zu is not hex", key, pair[0],
                                 pair[1], i - a);
            } else {
                data[n++] = byte;
            }
        }
    } else if (!raw && enc == ESPSEC_NVS_ENC_BASE64) {
        n = espsec_base64_decode(value, len, data);
        if (n < 0) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: invalid base64: %s", key,
                             n == ESPSEC_B64_LONE_CHAR ? "the number of data characters is 1 more than a multiple of 4"
                                                       : "incorrect padding (a quantum is unfinished)");
        }
    } else { /* raw bytes (binary files, raw CSV values) */
        memcpy(data, value, len);
        n = (long)len;
    }
    if (rc == ESPSEC_OK) {
        rc = write_varlen(g, ns, key, enc == ESPSEC_NVS_ENC_STRING, data, (size_t)n, err);
    }
    free(data);
    return rc;
}

static espsec_err_t gen_value(espsec_nvs_gen_t *g, const char *key, espsec_nvs_encoding_t enc, const char *value,
                              size_t len, int raw, espsec_error_t *err);

espsec_err_t espsec_nvs_gen_value(espsec_nvs_gen_t *g, const char *key, espsec_nvs_encoding_t enc, const char *value,
                                  size_t len, espsec_error_t *err)
{
    return gen_value(g, key, enc, value, len, 0, err);
}

static espsec_err_t gen_value(espsec_nvs_gen_t *g, const char *key, espsec_nvs_encoding_t enc, const char *value,
                              size_t len, int raw, espsec_error_t *err)
{
    size_t kl = strlen(key);
    if (kl == 0 || kl > ESPSEC_NVS_KEY_MAX) {
        return espsec_fail(err, ESP_ERR_NVS_KEY_TOO_LONG, "length of key `%s` should be <= 15 characters", key);
    }
    if (g->ns_current == 0) {
        return espsec_fail(err, ESP_ERR_NVS_INVALID_NAME,
                           "key %s comes before any namespace row: add a 'NAME,namespace,,' row first", key);
    }
    int handled = 0;
    espsec_err_t rc = wifi_extras(g, key, value, len, &handled, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    rc = add_value_ex(g, key, enc, value, len, raw, err);
    if (rc == ESPSEC_OK && handled) {
        /* station keys come with the helper entries nvs_partition_gen adds */
        char apinfo[281];
        memset(apinfo, 'f', 280);
        apinfo[280] = '\0';
        char pmk[65];
        memset(pmk, '0', 64);
        pmk[64] = '\0';
        rc = add_value(g, "sta.apinfo", ESPSEC_NVS_ENC_HEX2BIN, apinfo, 280, err);
        if (rc == ESPSEC_OK) {
            rc = add_value(g, "sta.pmk", ESPSEC_NVS_ENC_HEX2BIN, pmk, 64, err);
        }
        if (rc == ESPSEC_OK) {
            rc = add_value(g, "sta.apsw", ESPSEC_NVS_ENC_HEX2BIN, "0000", 4, err);
        }
    }
    return rc;
}

espsec_err_t espsec_nvs_gen_finish(espsec_nvs_gen_t *g, uint8_t **out, size_t *len, espsec_error_t *err)
{
    uint8_t *copy = malloc(g->size);
    if (copy == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(copy, g->img, g->size);
    /* entries are written in order from the start of each page */
    for (size_t p = 0; g->encrypt && p < g->size; p += NVS_PAGE) {
        int used = 0;
        while (used < NVS_NENT && nvs_bitmap_get(copy + p + NVS_BITMAP_OFF, used) != NVS_ES_EMPTY) {
            used++;
        }
        if (used > 0 && nvs_xts_run(g->xts, (uint32_t)(p + NVS_ENTRY_OFF), copy + p + NVS_ENTRY_OFF,
                                    copy + p + NVS_ENTRY_OFF, (size_t)used * NVS_ENT, 0) != ESPSEC_OK) {
            espsec_free_secret(copy, g->size);
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "XTS-AES encryption failed");
        }
    }
    *out = copy;
    *len = g->read_only ? (size_t)(g->page_num + 1) * NVS_PAGE : g->size;
    return ESPSEC_OK;
}

int espsec_nvs_gen_read_only(const espsec_nvs_gen_t *g)
{
    return g->read_only;
}

/* ---- CSV ---- */

static espsec_err_t read_value_file(const char *path, const char *csv_dir, uint8_t **data, size_t *len,
                                    espsec_error_t *err)
{
    if (espsec_path_exists(path) || path[0] == '/' || csv_dir == NULL) {
        return espsec_read_file(path, data, len, 16u << 20, err);
    }
    char alt[4096];
    snprintf(alt, sizeof(alt), "%s/%s", csv_dir, path);
    return espsec_read_file(alt, data, len, 16u << 20, err);
}

/* nvs_partition_gen's blob_fill(N;0xPP) / blob_sz_fill(N;0xPP): the value padded (with its length first). */
static int fill_encoding(const char *name, size_t *n, uint8_t *pad, int *with_size)
{
    unsigned long len = 0;
    unsigned p = 0;
    char tail = 0;
    // NOLINTNEXTLINE(cert-err34-c): glibc converts %lu with strtoul (saturating at ULONG_MAX)
    if (sscanf(name, "blob_fill(%lu;0x%2x)%c", &len, &p, &tail) == 2) {
        *with_size = 0;
    } else if (sscanf(name, "blob_sz_fill(%lu;0x%2x)%c", &len, &p, &tail) == 2) { // NOLINT(cert-err34-c): as above
        *with_size = 1;
    } else {
        return -1;
    }
    *n = len;
    *pad = (uint8_t)p;
    return 0;
}

static espsec_err_t row_value(espsec_nvs_gen_t *g, const char *key, const char *type, const char *encoding,
                              const char *value, const espsec_nvs_csv_opts_t *opts, espsec_error_t *err)
{
    uint8_t *filedata = NULL;
    size_t vlen = strlen(value);
    const char *v = value;
    espsec_err_t rc;
    if (strcmp(type, "file") == 0) {
        rc = read_value_file(value, opts->csv_dir, &filedata, &vlen, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        v = (const char *)filedata;
    }
    espsec_nvs_encoding_t enc;
    size_t fill = 0;
    uint8_t pad = 0;
    int with_size = 0;
    if (fill_encoding(encoding, &fill, &pad, &with_size) == 0) {
        if (vlen > fill) {
            free(filedata);
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: value length %zu exceeds the specified length %zu", key, vlen,
                               fill);
        }
        size_t total = fill + (with_size ? 4 : 0);
        char *hex = malloc(2 * total + 1);
        uint8_t *bytes = malloc(total + 1);
        if (hex == NULL || bytes == NULL) {
            free(hex);
            free(bytes);
            free(filedata);
            return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        }
        size_t o = 0;
        if (with_size) {
            put_le32(bytes, (uint32_t)vlen);
            o = 4;
        }
        memcpy(bytes + o, v, vlen);
        memset(bytes + o + vlen, pad, fill - vlen);
        espsec_hex(bytes, total, hex, 0);
        rc = espsec_nvs_gen_value(g, key, ESPSEC_NVS_ENC_HEX2BIN, hex, 2 * total, err);
        free(hex);
        free(bytes);
    } else if (espsec_nvs_encoding_from_name(encoding, &enc) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE,
                         "%s: unsupported encoding '%s' (u8, i8, u16, i16, u32, i32, u64, i64, string, hex2bin, base64, "
                         "binary)",
                         key, encoding);
    } else if (enc == ESPSEC_NVS_ENC_BINARY && filedata == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: the binary encoding is for 'file' rows", key);
    } else {
        /* the value is converted only for the exact (lower-case) encoding name, as nvs_partition_gen does */
        int raw = strcmp(encoding, enc_name(enc)) != 0 &&
                  (enc == ESPSEC_NVS_ENC_STRING || enc == ESPSEC_NVS_ENC_HEX2BIN || enc == ESPSEC_NVS_ENC_BASE64);
        rc = gen_value(g, key, enc, v, vlen, raw, err);
    }
    free(filedata);
    return rc;
}

espsec_err_t espsec_nvs_gen_row(espsec_nvs_gen_t *g, const char *key, const char *type, const char *enc,
                                const char *value, const espsec_nvs_csv_opts_t *opts, espsec_error_t *err)
{
    if (strlen(key) > ESPSEC_NVS_KEY_MAX) {
        return espsec_fail(err, ESP_ERR_NVS_KEY_TOO_LONG, "length of key `%s` should be <= 15 characters", key);
    }
    if (strcmp(type, "namespace") == 0) {
        return espsec_nvs_gen_namespace(g, key, err);
    }
    if (strcmp(type, "data") == 0 || strcmp(type, "file") == 0) {
        return row_value(g, key, type, enc, value, opts, err);
    }
    return espsec_fail(err, ESPSEC_ERR_PARSE, "key %s: type '%s' is not namespace, data or file", key, type);
}

espsec_err_t espsec_nvs_gen_add_csv(espsec_nvs_gen_t *g, const char *csv, size_t len, const char *csv_name,
                                    const espsec_nvs_csv_opts_t *opts, espsec_error_t *err)
{
    espsec_err_t rc = ESPSEC_OK;
    csv_reader_t r;
    csv_init(&r, csv, len, 1);
    int col_key = -1, col_type = -1, col_enc = -1, col_val = -1, header = 1, got;
    while (rc == ESPSEC_OK && (got = csv_next(&r, err)) == 1) {
        if (header) {
            for (size_t i = 0; i < r.nfields; i++) {
                const char *f = r.fields[i];
                col_key = strcmp(f, "key") == 0 ? (int)i : col_key;
                col_type = strcmp(f, "type") == 0 ? (int)i : col_type;
                col_enc = strcmp(f, "encoding") == 0 ? (int)i : col_enc;
                col_val = strcmp(f, "value") == 0 ? (int)i : col_val;
            }
            if (col_key < 0 || col_type < 0 || col_enc < 0 || col_val < 0) {
                rc = espsec_fail(err, ESPSEC_ERR_PARSE,
                                 "%s: line %d: the header must name the columns key,type,encoding,value", csv_name,
                                 r.row_line);
            }
            header = 0;
            continue;
        }
        const char *key = (size_t)col_key < r.nfields ? r.fields[col_key] : "";
        const char *type = (size_t)col_type < r.nfields ? r.fields[col_type] : "";
        const char *enc = (size_t)col_enc < r.nfields ? r.fields[col_enc] : "";
        const char *val = (size_t)col_val < r.nfields ? r.fields[col_val] : "";
        rc = espsec_nvs_gen_row(g, key, type, enc, val, opts, err);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(err, "%s: line %d: ", csv_name, r.row_line);
        }
    }
    if (rc == ESPSEC_OK && got < 0) {
        rc = err ? err->code : ESPSEC_ERR_PARSE;
        espsec_error_prefix(err, "%s: ", csv_name);
    }
    /* an empty CSV (not even a header) adds nothing: nvs_partition_gen then writes a partition without
     * entries, page 0 initialised ACTIVE */
    csv_free(&r);
    return rc;
}

espsec_err_t espsec_nvs_gen_csv(const char *csv, size_t len, const char *csv_name, size_t size,
                                const espsec_nvs_csv_opts_t *opts, uint8_t **out, espsec_error_t *err)
{
    espsec_nvs_gen_t *g = NULL;
    espsec_err_t rc = espsec_nvs_gen_new(size, opts->version ? opts->version : 2, opts->keys, &g, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_nvs_gen_add_csv(g, csv, len, csv_name, opts, err);
    }
    if (rc == ESPSEC_OK) {
        size_t olen;
        rc = espsec_nvs_gen_finish(g, out, &olen, err);
    }
    espsec_nvs_gen_free(g);
    return rc;
}

espsec_err_t espsec_nvs_image_crypt(uint8_t *img, size_t len, const espsec_nvs_keys_t *keys, int decrypt,
                                    espsec_error_t *err)
{
    if (len % NVS_PAGE != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "partition image of %zu bytes is not a whole number of pages",
                           len);
    }
    nvs_xts_t *x = nvs_xts_new(keys);
    espsec_err_t rc = x != NULL ? ESPSEC_OK : ESPSEC_ERR_CRYPTO;
    /* one XTS run per stretch of written entries; never-written ones stay erased */
    for (size_t p = 0; p < len && rc == ESPSEC_OK; p += NVS_PAGE) {
        int i = 0;
        while (i < NVS_NENT && rc == ESPSEC_OK) {
            int j = i;
            while (j < NVS_NENT && !is_all(img + p + NVS_ENTRY_OFF + (size_t)j * NVS_ENT, NVS_ENT, 0xFF)) {
                j++;
            }
            if (j > i) {
                uint8_t *e = img + p + NVS_ENTRY_OFF + (size_t)i * NVS_ENT;
                rc = nvs_xts_run(x, (uint32_t)(e - img), e, e, (size_t)(j - i) * NVS_ENT, decrypt);
            }
            i = j + 1;
        }
    }
    nvs_xts_free(x);
    return rc == ESPSEC_OK ? ESPSEC_OK : espsec_fail(err, ESPSEC_ERR_CRYPTO, "XTS-AES failed");
}
