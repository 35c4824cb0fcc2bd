/* Flash encryption transforms (espsec/flash_enc.h). */
#include "espsec/flash_enc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "util/bytes.h"

#define XTS_UNIT 128
#define XTS_BATCH_UNITS 128 /* 64 KiB per batch */

struct espsec_fe_ctx {
    espsec_flash_enc_params_t p;
    uint8_t key[64];
    size_t key_len;
    /* ESP32: masks[k] = key bits flipped by address bit k (k = 5..23) */
    uint8_t masks[24][32];
    EVP_CIPHER_CTX *aes;     /* ESP32: re-keyed per 32-byte block */
    EVP_CIPHER_CTX *xts_enc; /* XTS: data key, ECB, encrypt */
    EVP_CIPHER_CTX *xts_dec; /* XTS: data key, ECB, decrypt */
    EVP_CIPHER_CTX *xts_tw;  /* XTS: tweak key, ECB, encrypt */
    uint8_t *work;           /* XTS batch buffers */
    uint8_t *tweaks;
};

/*
 * The ESP32 key tweak. Key bit n (n = 0 is the most significant bit of key
 * byte 0) is flipped when address bit pattern(n) is set. The pattern is four
 * groups; each is three runs of address bits 23..5 followed by a shorter run
 * 14..5, 12..5, 10..5, 8..5. FLASH_CRYPT_CONFIG bit i enables key bits
 * [0,66], [67,131], [132,194], [195,255] for i = 0..3.
 */
static void esp32_tweak_pattern(uint8_t pattern[256])
{
    size_t n = 0;
    for (int g = 0; g < 4; g++) {
        for (int run = 0; run < 3; run++) {
            for (int bit = 23; bit >= 5; bit--) {
                pattern[n++] = (uint8_t)bit;
            }
        }
        for (int bit = 14 - 2 * g; bit >= 5; bit--) {
            pattern[n++] = (uint8_t)bit;
        }
    }
}

static void esp32_build_masks(struct espsec_fe_ctx *c)
{
    static const int range_lo[4] = {0, 67, 132, 195}, range_hi[4] = {66, 131, 194, 255};
    uint8_t pattern[256];
    esp32_tweak_pattern(pattern);
    memset(c->masks, 0, sizeof(c->masks));
    for (int q = 0; q < 4; q++) {
        if (!(c->p.flash_crypt_conf & (1u << q))) {
            continue;
        }
        for (int n = range_lo[q]; n <= range_hi[q]; n++) {
            c->masks[pattern[n]][n / 8] |= (uint8_t)(0x80u >> (n % 8));
        }
    }
}

espsec_err_t espsec_fe_new(const espsec_flash_enc_params_t *params, const uint8_t *key, size_t key_len,
                           espsec_fe_ctx_t **out, espsec_error_t *err)
{
    struct espsec_fe_ctx *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    c->p = *params;
    espsec_err_t rc = ESPSEC_OK;
    if (params->mode == ESPSEC_FE_ESP32) {
        if (key_len != 24 && key_len != 32) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY,
                             "flash encryption key is %zu bits; the ESP32 takes 256 bits, or 192 with the 3/4 "
                             "coding scheme (use --aes-xts for later chips)",
                             key_len * 8);
            goto fail;
        }
        if (params->flash_crypt_conf > 0xF) {
            rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "FLASH_CRYPT_CONFIG 0x%x: 0x0 to 0xF expected",
                             params->flash_crypt_conf);
            goto fail;
        }
        rc = espsec_expand_hw_key(key, key_len, c->key, err);
        c->key_len = 32;
        esp32_build_masks(c);
        c->aes = EVP_CIPHER_CTX_new();
        if (rc == ESPSEC_OK && (c->aes == NULL || EVP_CipherInit_ex(c->aes, EVP_aes_256_ecb(), NULL, c->key, NULL, 0) != 1 ||
                                EVP_CIPHER_CTX_set_padding(c->aes, 0) != 1)) {
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "AES initialisation failed");
        }
        if (rc != ESPSEC_OK) {
            goto fail;
        }
    } else {
        if (key_len != 16 && key_len != 32 && key_len != 64) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY,
                             "XTS-AES key is %zu bits; 256 (XTS-AES-128) or 512 (XTS-AES-256) expected, or 128 "
                             "(expanded with SHA-256)",
                             key_len * 8);
            goto fail;
        }
        if (key_len == 16) {
            espsec_sha256(key, 16, c->key);
            c->key_len = 32;
        } else {
            memcpy(c->key, key, key_len);
            c->key_len = key_len;
        }
        size_t half = c->key_len / 2;
        /* XTS with data key == tweak key is weak (IEEE 1619 / FIPS SP 800-38E); espsecure's XTS refuses it */
        if (CRYPTO_memcmp(c->key, c->key + half, half) == 0) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY,
                             "XTS-AES key: its two %zu-byte halves (data key and tweak key) are equal; such a key "
                             "is weak and refused",
                             half);
            goto fail;
        }
        const EVP_CIPHER *ecb = half == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb();
        c->xts_enc = EVP_CIPHER_CTX_new();
        c->xts_dec = EVP_CIPHER_CTX_new();
        c->xts_tw = EVP_CIPHER_CTX_new();
        c->work = malloc(XTS_BATCH_UNITS * XTS_UNIT);
        c->tweaks = malloc(XTS_BATCH_UNITS * XTS_UNIT);
        if (c->xts_enc == NULL || c->xts_dec == NULL || c->xts_tw == NULL || c->work == NULL || c->tweaks == NULL ||
            EVP_CipherInit_ex(c->xts_enc, ecb, NULL, c->key, NULL, 1) != 1 ||
            EVP_CipherInit_ex(c->xts_dec, ecb, NULL, c->key, NULL, 0) != 1 ||
            EVP_CipherInit_ex(c->xts_tw, ecb, NULL, c->key + half, NULL, 1) != 1 ||
            EVP_CIPHER_CTX_set_padding(c->xts_enc, 0) != 1 || EVP_CIPHER_CTX_set_padding(c->xts_dec, 0) != 1 ||
            EVP_CIPHER_CTX_set_padding(c->xts_tw, 0) != 1) {
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "AES initialisation failed");
            goto fail;
        }
    }
    *out = c;
    return ESPSEC_OK;
fail:
    espsec_fe_free(c);
    return rc;
}

void espsec_fe_free(espsec_fe_ctx_t *c)
{
    if (c == NULL) {
        return;
    }
    EVP_CIPHER_CTX_free(c->aes);
    EVP_CIPHER_CTX_free(c->xts_enc);
    EVP_CIPHER_CTX_free(c->xts_dec);
    EVP_CIPHER_CTX_free(c->xts_tw);
    if (c->work != NULL) {
        espsec_wipe(c->work, XTS_BATCH_UNITS * XTS_UNIT);
        free(c->work);
    }
    free(c->tweaks);
    espsec_wipe(c, sizeof(*c));
    free(c);
}

static espsec_err_t esp32_crypt(struct espsec_fe_ctx *c, uint32_t addr, const uint8_t *in, uint8_t *out, size_t len,
                                int decrypt, espsec_error_t *err)
{
    /* The flash controller's encryption is AES decryption, and vice versa. */
    const int aes_enc = decrypt ? 1 : 0;
    uint64_t key[4], mask[24][4];
    espsec_err_t rc = ESPSEC_OK;
    memcpy(key, c->key, 32);
    memcpy(mask, c->masks, sizeof(mask));
    /* The tweaked key of a 32-byte block is the key XOR the masks of its set
     * address bits; from one block to the next only the bits the address
     * increment flips change, so the key is updated, not rebuilt. */
    uint32_t keyed_for = 0;
    size_t off = 0;
    while (off < len && rc == ESPSEC_OK) {
        uint32_t a = addr + (uint32_t)off;
        uint32_t flipped = ((a & ~31u) ^ keyed_for) & 0x00FFFFE0u;
        for (int k = 5; flipped != 0 && k < 24; k++) {
            if (flipped & (1u << k)) {
                for (int w = 0; w < 4; w++) {
                    key[w] ^= mask[k][w];
                }
                flipped &= ~(1u << k);
            }
        }
        keyed_for = a & ~31u;
        /* the 16-byte blocks of this 32-byte block present in the data */
        size_t n = 32 - (a & 31u);
        if (n > len - off) {
            n = len - off;
        }
        uint8_t blk[32];
        int outl = 0;
        for (size_t b = 0; b < n; b += 16) {
            reverse_copy(blk + b, in + off + b, 16);
        }
        if (EVP_CipherInit_ex(c->aes, NULL, NULL, (const uint8_t *)key, NULL, aes_enc) != 1 ||
            EVP_CipherUpdate(c->aes, blk, &outl, blk, (int)n) != 1 || (size_t)outl != n) {
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "AES failed");
            break;
        }
        for (size_t b = 0; b < n; b += 16) {
            reverse_copy(out + off + b, blk + b, 16);
        }
        off += n;
    }
    espsec_wipe(key, sizeof(key));
    espsec_wipe(mask, sizeof(mask));
    return rc;
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The 8 tweaks of a unit: T0 * x^j in GF(2^128), little-endian. */
static inline void xts_next(uint64_t *lo, uint64_t *hi)
{
    uint64_t carry = *hi >> 63;
    *hi = (*hi << 1) | (*lo >> 63);
    *lo = (*lo << 1) ^ (carry * 0x87u);
}

/* dst block j = reverse16(src block 7-j) ^ T_j, for each unit (generic C). */
static void xts_pre_c(const uint8_t *in, uint8_t *out, const uint8_t *tw, size_t nunits)
{
    for (size_t u = 0; u < nunits; u++) {
        const uint8_t *src = in + u * XTS_UNIT;
        uint8_t *dst = out + u * XTS_UNIT;
        uint64_t lo = load64(tw + 16 * u), hi = load64(tw + 16 * u + 8);
        uint64_t tmp[XTS_UNIT / 8];
        for (int j = 0; j < 8; j++) {
            const uint8_t *s16 = src + 16 * (7 - j);
            tmp[2 * j] = __builtin_bswap64(load64(s16 + 8)) ^ lo;
            tmp[2 * j + 1] = __builtin_bswap64(load64(s16)) ^ hi;
            xts_next(&lo, &hi);
        }
        memcpy(dst, tmp, XTS_UNIT);
    }
}

/* buf block j ^= T_j, then the unit reversed (generic C). */
static void xts_post_c(uint8_t *buf, const uint8_t *tw, size_t nunits)
{
    for (size_t u = 0; u < nunits; u++) {
        uint8_t *d = buf + u * XTS_UNIT;
        uint64_t lo = load64(tw + 16 * u), hi = load64(tw + 16 * u + 8);
        uint64_t tmp[XTS_UNIT / 8];
        for (int j = 0; j < 8; j++) {
            uint8_t *b16 = d + 16 * j;
            tmp[2 * (7 - j) + 1] = __builtin_bswap64(load64(b16) ^ lo);
            tmp[2 * (7 - j)] = __builtin_bswap64(load64(b16 + 8) ^ hi);
            xts_next(&lo, &hi);
        }
        memcpy(d, tmp, XTS_UNIT);
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAVE_SSSE3_PATH 1

/* multiply a 128-bit little-endian tweak by x in GF(2^128), in SSE registers */
__attribute__((target("ssse3"))) static inline __m128i xts_mulx_sse(__m128i t)
{
    const __m128i poly = _mm_set_epi64x(1, 0x87);
    __m128i carries = _mm_shuffle_epi32(_mm_srli_epi64(t, 63), 0x4E); /* [hi>>63, lo>>63] swapped */
    __m128i mask = _mm_sub_epi64(_mm_setzero_si128(), carries);
    return _mm_xor_si128(_mm_slli_epi64(t, 1), _mm_and_si128(mask, poly));
}

__attribute__((target("ssse3"))) static void xts_pre_ssse3(const uint8_t *in, uint8_t *out, const uint8_t *tw,
                                                            uint8_t *pad, size_t nunits)
{
    const __m128i rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    /* all tweaks of the batch, step j of every unit before step j+1: the
     * units' chains are independent, so they overlap in the pipeline */
    for (size_t u = 0; u < nunits; u++) {
        _mm_storeu_si128((__m128i *)(pad + u * XTS_UNIT), _mm_loadu_si128((const __m128i *)(tw + 16 * u)));
    }
    for (int j = 1; j < 8; j++) {
        for (size_t u = 0; u < nunits; u++) {
            uint8_t *p = pad + u * XTS_UNIT + 16 * j;
            _mm_storeu_si128((__m128i *)p, xts_mulx_sse(_mm_loadu_si128((const __m128i *)(p - 16))));
        }
    }
    for (size_t u = 0; u < nunits; u++) {
        const uint8_t *src = in + u * XTS_UNIT;
        uint8_t *dst = out + u * XTS_UNIT;
        const uint8_t *p = pad + u * XTS_UNIT;
        /* read the whole unit first (in and out may be the same), then write
         * each block to its mirrored place */
        __m128i v[8];
        for (int j = 0; j < 8; j++) {
            v[j] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(src + 16 * j)), rev);
        }
        for (int j = 0; j < 8; j++) {
            __m128i t = _mm_loadu_si128((const __m128i *)(p + 16 * (7 - j)));
            _mm_storeu_si128((__m128i *)(dst + 16 * (7 - j)), _mm_xor_si128(v[j], t));
        }
    }
}

__attribute__((target("ssse3"))) static void xts_post_ssse3(uint8_t *buf, const uint8_t *pad, size_t nunits)
{
    const __m128i rev = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (size_t u = 0; u < nunits; u++) {
        uint8_t *d = buf + u * XTS_UNIT;
        const uint8_t *p = pad + u * XTS_UNIT;
        __m128i v[8];
        for (int j = 0; j < 8; j++) {
            __m128i t = _mm_loadu_si128((const __m128i *)(p + 16 * j));
            v[7 - j] = _mm_shuffle_epi8(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(d + 16 * j)), t), rev);
        }
        for (int j = 0; j < 8; j++) {
            _mm_storeu_si128((__m128i *)(d + 16 * j), v[j]);
        }
    }
}
#endif

/* The SSSE3 path unless the CPU lacks it or ESPSEC_NO_SIMD is set (tests run both). */
static int simd_allowed(void)
{
#ifdef HAVE_SSSE3_PATH
    return __builtin_cpu_supports("ssse3") && getenv("ESPSEC_NO_SIMD") == NULL;
#else
    return 0;
#endif
}

/*
 * XTS over whole 128-byte units starting at unit_addr (128-aligned). Each
 * unit is byte-reversed before and after standard XTS. The tweaks of all
 * units are encrypted in one ECB call and the data in another; reversal and
 * tweak XOR share one pass on each side.
 */
static espsec_err_t xts_units(struct espsec_fe_ctx *c, uint32_t unit_addr, const uint8_t *in, uint8_t *out,
                              size_t nunits, int decrypt, espsec_error_t *err)
{
    int outl = 0;
    uint8_t *tw = c->tweaks;
    memset(tw, 0, nunits * 16);
    for (size_t u = 0; u < nunits; u++) {
        put_le32(tw + u * 16, unit_addr + (uint32_t)(u * XTS_UNIT));
    }
    if (EVP_CipherUpdate(c->xts_tw, tw, &outl, tw, (int)(nunits * 16)) != 1) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "AES (tweak) failed");
    }
    size_t n = nunits * XTS_UNIT;
#ifdef HAVE_SSSE3_PATH
    int simd = simd_allowed();
    simd ? xts_pre_ssse3(in, out, tw, c->work, nunits) : xts_pre_c(in, out, tw, nunits);
#else
    xts_pre_c(in, out, tw, nunits);
#endif
    if (EVP_CipherUpdate(decrypt ? c->xts_dec : c->xts_enc, out, &outl, out, (int)n) != 1 || (size_t)outl != n) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "AES (data) failed");
    }
#ifdef HAVE_SSSE3_PATH
    simd ? xts_post_ssse3(out, c->work, nunits) : xts_post_c(out, tw, nunits);
#else
    xts_post_c(out, tw, nunits);
#endif
    return ESPSEC_OK;
}

static espsec_err_t xts_crypt(struct espsec_fe_ctx *c, uint32_t addr, const uint8_t *in, uint8_t *out, size_t len,
                              int decrypt, espsec_error_t *err)
{
    size_t pos = 0;
    while (pos < len) {
        uint32_t a = addr + (uint32_t)pos;
        uint32_t unit = a & ~(uint32_t)(XTS_UNIT - 1);
        size_t lead = a - unit;
        if (lead != 0 || len - pos < XTS_UNIT) {
            /* a partial unit: zero-fill around the data, as espsecure does */
            uint8_t tmp[XTS_UNIT];
            size_t n = XTS_UNIT - lead < len - pos ? XTS_UNIT - lead : len - pos;
            memset(tmp, 0, sizeof(tmp));
            memcpy(tmp + lead, in + pos, n);
            espsec_err_t rc = xts_units(c, unit, tmp, tmp, 1, decrypt, err);
            memcpy(out + pos, tmp + lead, n);
            espsec_wipe(tmp, sizeof(tmp));
            if (rc != ESPSEC_OK) {
                return rc;
            }
            pos += n;
            continue;
        }
        size_t nunits = (len - pos) / XTS_UNIT;
        if (nunits > XTS_BATCH_UNITS) {
            nunits = XTS_BATCH_UNITS;
        }
        espsec_err_t rc = xts_units(c, unit, in + pos, out + pos, nunits, decrypt, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
        pos += nunits * XTS_UNIT;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_fe_crypt(espsec_fe_ctx_t *c, uint32_t addr, const uint8_t *in, uint8_t *out, size_t len,
                             int decrypt, espsec_error_t *err)
{
    if (addr % 16 != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "flash address 0x%x is not a multiple of 16", addr);
    }
    if (len % 16 != 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "data length %zu is not a multiple of 16 (encrypted flash is written in 16-byte blocks)",
                           len);
    }
    if ((uint64_t)addr + len > 0x100000000ull) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "data at 0x%x runs past the 4 GiB address space", addr);
    }
    return c->p.mode == ESPSEC_FE_ESP32 ? esp32_crypt(c, addr, in, out, len, decrypt, err)
                                        : xts_crypt(c, addr, in, out, len, decrypt, err);
}

espsec_err_t espsec_flash_enc_file(const char *in_path, const char *out_path, const espsec_flash_enc_params_t *params,
                                   const uint8_t *key, size_t key_len, uint32_t addr, int decrypt, espsec_error_t *err)
{
    enum { CHUNK = 256 * 1024 };
    espsec_fe_ctx_t *c = NULL;
    espsec_err_t rc = espsec_fe_new(params, key, key_len, &c, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    FILE *in = fopen(in_path, "rb");
    struct stat st;
    if (in == NULL || fstat(fileno(in), &st) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot open: %s", in_path, strerror(errno));
        if (in != NULL) {
            (void)fclose(in);
        }
        espsec_fe_free(c);
        return rc;
    }
    size_t total = (size_t)st.st_size, data_len = total;
    /* ESP32 (not XTS) encryption of a length that is not a multiple of 16: espsecure pads the last
     * block (with random bytes) and writes it whole; espsec pads with 0xFF, what erased flash holds */
    int pad_last = !decrypt && params->mode == ESPSEC_FE_ESP32 && total % 16 != 0;
    if (pad_last) {
        total += 16 - total % 16;
    }
    if (addr % 16 != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "starting flash address 0x%x must be a multiple of 16", addr);
    } else if (total == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%s: input is empty", in_path);
    } else if (total % 16 != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                         "%s: length %zu is not a multiple of 16 (encrypted flash is written in 16-byte blocks; "
                         "pad the data with 0xFF)",
                         in_path, total);
    } else if ((uint64_t)addr + total > 0x100000000ull) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%s: data at 0x%x runs past the 4 GiB address space", in_path,
                         addr);
    }
    uint8_t *buf = rc == ESPSEC_OK ? malloc(CHUNK + XTS_UNIT) : NULL;
    espsec_out_file_t out;
    memset(&out, 0, sizeof(out));
    if (rc == ESPSEC_OK && buf == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_out_open(&out, out_path, ESPSEC_MODE_PUBLIC, err);
    }
    size_t pos = 0;
    while (rc == ESPSEC_OK && pos < total) {
        /* end each chunk on a 128-byte flash boundary so no XTS unit is split */
        uint64_t target = ((uint64_t)addr + pos + CHUNK) & ~(uint64_t)(XTS_UNIT - 1);
        size_t n = (size_t)(target - addr - pos);
        if (n > total - pos) {
            n = total - pos;
        }
        size_t want = n > data_len - pos ? data_len - pos : n;
        memset(buf + want, 0xFF, n - want);
        if (fread(buf, 1, want, in) != want) {
            rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: read failed at offset 0x%zx", in_path, pos);
            break;
        }
        rc = espsec_fe_crypt(c, addr + (uint32_t)pos, buf, buf, n, decrypt, err);
        if (rc == ESPSEC_OK) {
            rc = espsec_out_write(&out, buf, n, err);
        }
        pos += n;
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_out_commit(&out, err);
    } else {
        espsec_out_abort(&out);
    }
    if (buf != NULL) {
        espsec_wipe(buf, CHUNK + XTS_UNIT);
        free(buf);
    }
    (void)fclose(in);
    espsec_fe_free(c);
    return rc;
}
