/*
 * espsec/util.h — small shared primitives: CRC-32, digests, secure random,
 * constant-time comparison, wiping secrets, hexadecimal text.
 *
 * Digests go through OpenSSL's EVP interface. Nothing here touches files.
 */
#ifndef ESPSEC_UTIL_H
#define ESPSEC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) with zlib's calling
 * convention: crc32(0, buf, len) is zlib.crc32(buf); pass a previous result
 * to continue. ESP-IDF's esp_rom_crc32_le(0xFFFFFFFF, ...) used by NVS equals
 * espsec_crc32(0xFFFFFFFF, ...).
 */
uint32_t espsec_crc32(uint32_t crc, const void *buf, size_t len);

#define ESPSEC_SHA256_LEN 32
#define ESPSEC_SHA384_LEN 48
#define ESPSEC_SHA512_LEN 64
#define ESPSEC_MD5_LEN 16

/** One-shot digests; return ESPSEC_OK or ESPSEC_ERR_CRYPTO. */
espsec_err_t espsec_sha256(const void *buf, size_t len, uint8_t out[ESPSEC_SHA256_LEN]);
espsec_err_t espsec_sha384(const void *buf, size_t len, uint8_t out[ESPSEC_SHA384_LEN]);
espsec_err_t espsec_md5(const void *buf, size_t len, uint8_t out[ESPSEC_MD5_LEN]);

/** Fill buf with bytes from the OS CSPRNG (via OpenSSL's RAND_bytes). */
espsec_err_t espsec_random(void *buf, size_t len);

/** Compare in time independent of the contents; 0 when equal. */
int espsec_ct_compare(const void *a, const void *b, size_t len);

/** Overwrite a secret so the compiler cannot elide it (OPENSSL_cleanse). */
void espsec_wipe(void *buf, size_t len);

/** Wipe then free (NULL is accepted). */
void espsec_free_secret(void *buf, size_t len);

/** Lower-case hex of len bytes into out (2*len+1 bytes), optional separator. */
void espsec_hex(const uint8_t *buf, size_t len, char *out, char sep);

/**
 * Parse hexadecimal text (whitespace ignored, optional 0x prefix) into out.
 * Returns the number of bytes, or -1 on a bad digit, odd length or overflow.
 */
long espsec_unhex(const char *text, uint8_t *out, size_t cap);
/**
 * Decode base64 exactly as Python's binascii.a2b_base64 in its default
 * (non-strict) mode, which nvs_partition_gen uses: characters outside the
 * standard alphabet are skipped (URL-safe '-' and '_' too), '=' padding
 * ends the data once a quantum is complete. out needs len * 3 / 4 + 3
 * bytes. Returns the length, ESPSEC_B64_LONE_CHAR when the data characters
 * are one more than a multiple of 4, or ESPSEC_B64_BAD_PADDING when a
 * quantum is left unfinished without its '=' (Python: "Incorrect padding").
 */
#define ESPSEC_B64_LONE_CHAR (-1)
#define ESPSEC_B64_BAD_PADDING (-2)
long espsec_base64_decode(const char *text, size_t len, uint8_t *out);

/** Strip leading and trailing white space in place; returns the first kept character. */
char *espsec_trim(char *s);

/**
 * Parse an unsigned integer the way Python's int(x, 0) does for the tools we
 * mirror: decimal, 0x hex, 0o octal, 0b binary. Returns 0 on success.
 */
int espsec_parse_u64(const char *text, uint64_t *out);

/**
 * Python's int(text, 0) exactly, within int64_t: surrounding white space,
 * an optional sign, 0x/0o/0b prefixes, single underscores between digits
 * (and after a prefix), no leading zeros in a non-zero decimal. Returns 0
 * and sets *out, or -1 (out untouched) when Python would raise or the value
 * does not fit.
 */
int espsec_py_int(const char *text, int64_t *out);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
