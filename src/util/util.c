/* Shared primitives (espsec/util.h). */
#include "espsec/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* Slice-by-8 CRC-32 tables, built once on first use. */
static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) {
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = crc_table[t - 1][i];
            crc_table[t][i] = (prev >> 8) ^ crc_table[0][prev & 0xFF];
        }
    }
}

uint32_t espsec_crc32(uint32_t crc, const void *buf, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const uint8_t *p = buf;
    uint32_t c = ~crc;
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
        uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
        c = crc_table[7][lo & 0xFF] ^ crc_table[6][(lo >> 8) & 0xFF] ^ crc_table[5][(lo >> 16) & 0xFF] ^
            crc_table[4][lo >> 24] ^ crc_table[3][hi & 0xFF] ^ crc_table[2][(hi >> 8) & 0xFF] ^
            crc_table[1][(hi >> 16) & 0xFF] ^ crc_table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--) {
        c = crc_table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    }
    return ~c;
}

static espsec_err_t digest(const EVP_MD *md, const void *buf, size_t len, uint8_t *out)
{
    unsigned int outlen = 0;
    return EVP_Digest(buf, len, out, &outlen, md, NULL) == 1 ? ESPSEC_OK : ESPSEC_ERR_CRYPTO;
}

espsec_err_t espsec_sha256(const void *buf, size_t len, uint8_t out[ESPSEC_SHA256_LEN])
{
    return digest(EVP_sha256(), buf, len, out);
}

espsec_err_t espsec_sha384(const void *buf, size_t len, uint8_t out[ESPSEC_SHA384_LEN])
{
    return digest(EVP_sha384(), buf, len, out);
}

espsec_err_t espsec_md5(const void *buf, size_t len, uint8_t out[ESPSEC_MD5_LEN])
{
    return digest(EVP_md5(), buf, len, out);
}

espsec_err_t espsec_random(void *buf, size_t len)
{
    if (len > (size_t)INT32_MAX) {
        return ESPSEC_ERR_INVALID_SIZE;
    }
    return RAND_bytes(buf, (int)len) == 1 ? ESPSEC_OK : ESPSEC_ERR_CRYPTO;
}

int espsec_ct_compare(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0 ? 0 : 1;
}

void espsec_wipe(void *buf, size_t len)
{
    if (buf != NULL && len > 0) {
        OPENSSL_cleanse(buf, len);
    }
}

void espsec_free_secret(void *buf, size_t len)
{
    espsec_wipe(buf, len);
    free(buf);
}

void espsec_hex(const uint8_t *buf, size_t len, char *out, char sep)
{
    static const char digits[] = "0123456789abcdef";
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        if (sep && i > 0) {
            *o++ = sep;
        }
        *o++ = digits[buf[i] >> 4];
        *o++ = digits[buf[i] & 15];
    }
    *o = '\0';
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

long espsec_unhex(const char *text, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    const char *p = text;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
    }
    for (; *p; p++) {
        int v = hexval((unsigned char)*p);
        if (v < 0 && isspace((unsigned char)*p)) {
            continue;
        }
        if (v < 0) {
            return -1;
        }
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap) {
                return -1;
            }
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (long)n : -1;
}

int espsec_parse_u64(const char *text, uint64_t *out)
{
    const char *p = text;
    int base = 10;
    if (p == NULL || *p == '\0') {
        return -1;
    }
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p == '+' || *p == '-') {
        return -1;
    }
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
        base = 8;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    }
    if (*p == '\0' || isspace((unsigned char)*p)) {
        return -1;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(p, &end, base);
    if (errno != 0 || end == p) {
        return -1;
    }
    while (isspace((unsigned char)*end)) {
        end++;
    }
    if (*end != '\0') {
        return -1;
    }
    *out = v;
    return 0;
}

int espsec_py_int(const char *text, int64_t *out)
{
    if (text == NULL) {
        return -1;
    }
    const char *p = text;
    while (isspace((unsigned char)*p)) {
        p++;
    }
    int neg = 0;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    unsigned base = 10;
    if (p[0] == '0' && p[1] != '\0' && strchr("xXoObB", p[1]) != NULL) {
        char c = (char)tolower((unsigned char)p[1]);
        base = c == 'x' ? 16 : c == 'o' ? 8 : 2;
        p += 2;
        if (*p == '_') {
            p++;
        }
    }
    const char *first = p;
    uint64_t x = 0;
    unsigned digits = 0;
    int prev_us = 0;
    for (; *p != '\0' && !isspace((unsigned char)*p); p++) {
        if (*p == '_') {
            if (prev_us || digits == 0) {
                return -1;
            }
            prev_us = 1;
            continue;
        }
        unsigned d = isdigit((unsigned char)*p)   ? (unsigned)(*p - '0')
                     : isalpha((unsigned char)*p) ? (unsigned)(tolower((unsigned char)*p) - 'a') + 10U
                                                  : 99U;
        if (d >= base) {
            return -1;
        }
        if (x > ((uint64_t)INT64_MAX + 1U - d) / base) {
            return -1; /* beyond int64_t (the magnitude of INT64_MIN at most) */
        }
        x = x * base + d;
        digits++;
        prev_us = 0;
    }
    while (isspace((unsigned char)*p)) {
        p++;
    }
    if (*p != '\0' || digits == 0 || prev_us) {
        return -1;
    }
    if (base == 10 && first[0] == '0' && x != 0) {
        return -1; /* Python: leading zeros in decimal integer literals are not permitted */
    }
    if (!neg && x > (uint64_t)INT64_MAX) {
        return -1;
    }
    *out = neg ? (x == (uint64_t)INT64_MAX + 1U ? INT64_MIN : -(int64_t)x) : (int64_t)x;
    return 0;
}

/*
 * Python's binascii.a2b_base64 in its default (non-strict) mode, step for step: characters outside
 * the alphabet (also '-' and '_' of the URL-safe alphabet, and white space) are skipped; a '=' counts
 * only after two data characters of a quantum, and once the quantum is complete with them the data
 * ends (the rest is ignored); a data character after a '=' cancels it. Bytes are emitted as soon as
 * their bits are there, so an unfinished quantum is an error, not dropped bits.
 */
long espsec_base64_decode(const char *s, size_t len, uint8_t *out)
{
    unsigned quad = 0, pads = 0, left = 0;
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i], v;
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4) {
                return n;
            }
            continue;
        }
        if (c >= 'A' && c <= 'Z') {
            v = c - 'A';
        } else if (c >= 'a' && c <= 'z') {
            v = c - 'a' + 26;
        } else if (c >= '0' && c <= '9') {
            v = c - '0' + 52;
        } else if (c == '+') {
            v = 62;
        } else if (c == '/') {
            v = 63;
        } else {
            continue;
        }
        pads = 0;
        switch (quad) {
        case 0:
            left = (unsigned)v;
            quad = 1;
            break;
        case 1:
            out[n++] = (uint8_t)((left << 2) | ((unsigned)v >> 4));
            left = (unsigned)v & 0x0F;
            quad = 2;
            break;
        case 2:
            out[n++] = (uint8_t)((left << 4) | ((unsigned)v >> 2));
            left = (unsigned)v & 0x03;
            quad = 3;
            break;
        default:
            out[n++] = (uint8_t)((left << 6) | (unsigned)v);
            quad = 0;
            break;
        }
    }
    if (quad == 1) {
        return ESPSEC_B64_LONE_CHAR;
    }
    return quad == 0 ? n : ESPSEC_B64_BAD_PADDING;
}

char *espsec_trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}
