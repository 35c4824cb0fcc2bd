/*
 * espsec/error.h — error codes and error reports.
 *
 * Every fallible espsec function returns an espsec_err_t. The values follow
 * ESP-IDF's esp_err_t numbering (ESP_OK = 0, ESP_ERR_NO_MEM = 0x101, the NVS
 * codes at 0x1100, the ESP-TLS codes at 0x8000) so a firmware engineer sees
 * the numbers they already know; espsec's own host-side conditions (file I/O,
 * malformed input, failed verification) live at 0x7000.
 *
 * Functions that can explain a failure also take an espsec_error_t *, which
 * may be NULL. On failure it receives the code and one line of text naming
 * what was wrong, where (file, offset, row) and what was expected.
 */
#ifndef ESPSEC_ERROR_H
#define ESPSEC_ERROR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef int32_t espsec_err_t;

#define ESPSEC_OK 0
#define ESPSEC_FAIL (-1)

/* Generic codes, numbered as ESP-IDF's esp_err.h. */
#define ESPSEC_ERR_NO_MEM 0x101
#define ESPSEC_ERR_INVALID_ARG 0x102
#define ESPSEC_ERR_INVALID_STATE 0x103
#define ESPSEC_ERR_INVALID_SIZE 0x104
#define ESPSEC_ERR_NOT_FOUND 0x105
#define ESPSEC_ERR_NOT_SUPPORTED 0x106
#define ESPSEC_ERR_TIMEOUT 0x107
#define ESPSEC_ERR_INVALID_RESPONSE 0x108
#define ESPSEC_ERR_INVALID_CRC 0x109
#define ESPSEC_ERR_INVALID_VERSION 0x10A
#define ESPSEC_ERR_NOT_ALLOWED 0x10D

/* espsec's own codes. */
#define ESPSEC_ERR_BASE 0x7000
#define ESPSEC_ERR_IO (ESPSEC_ERR_BASE + 0x01)        /* file could not be read/written */
#define ESPSEC_ERR_FORMAT (ESPSEC_ERR_BASE + 0x02)    /* malformed binary structure */
#define ESPSEC_ERR_PARSE (ESPSEC_ERR_BASE + 0x03)     /* malformed text (CSV, PEM, number) */
#define ESPSEC_ERR_CRYPTO (ESPSEC_ERR_BASE + 0x04)    /* the crypto library failed */
#define ESPSEC_ERR_VERIFY (ESPSEC_ERR_BASE + 0x05)    /* signature/digest did not verify */
#define ESPSEC_ERR_KEY (ESPSEC_ERR_BASE + 0x06)       /* wrong key type, curve or size */
#define ESPSEC_ERR_PROTECTED (ESPSEC_ERR_BASE + 0x07) /* write/read protected eFuse */
#define ESPSEC_ERR_CANCELLED (ESPSEC_ERR_BASE + 0x08) /* user declined a confirmation */
#define ESPSEC_ERR_POWER_CUT (ESPSEC_ERR_BASE + 0x09) /* emulated power loss */
#define ESPSEC_ERR_FLASH_PROGRAM (ESPSEC_ERR_BASE + 0x0A) /* NOR program tried to set a bit */
#define ESPSEC_ERR_EXISTS (ESPSEC_ERR_BASE + 0x0B)    /* output exists and must not be replaced */
#define ESPSEC_ERR_USAGE (ESPSEC_ERR_BASE + 0x0C)     /* bad command line */
#define ESPSEC_ERR_BOOT (ESPSEC_ERR_BASE + 0x0D)      /* the virtual device would not boot */
#define ESPSEC_ERR_CHIP (ESPSEC_ERR_BASE + 0x0E)      /* the chip has no such feature (ESP8266) */

/* NVS codes, with ESP-IDF's names and values (nvs.h). */
#define ESP_ERR_NVS_BASE 0x1100
#define ESP_ERR_NVS_NOT_INITIALIZED (ESP_ERR_NVS_BASE + 0x01)
#define ESP_ERR_NVS_NOT_FOUND (ESP_ERR_NVS_BASE + 0x02)
#define ESP_ERR_NVS_TYPE_MISMATCH (ESP_ERR_NVS_BASE + 0x03)
#define ESP_ERR_NVS_READ_ONLY (ESP_ERR_NVS_BASE + 0x04)
#define ESP_ERR_NVS_NOT_ENOUGH_SPACE (ESP_ERR_NVS_BASE + 0x05)
#define ESP_ERR_NVS_INVALID_NAME (ESP_ERR_NVS_BASE + 0x06)
#define ESP_ERR_NVS_INVALID_HANDLE (ESP_ERR_NVS_BASE + 0x07)
#define ESP_ERR_NVS_REMOVE_FAILED (ESP_ERR_NVS_BASE + 0x08)
#define ESP_ERR_NVS_KEY_TOO_LONG (ESP_ERR_NVS_BASE + 0x09)
#define ESP_ERR_NVS_PAGE_FULL (ESP_ERR_NVS_BASE + 0x0a)
#define ESP_ERR_NVS_INVALID_STATE (ESP_ERR_NVS_BASE + 0x0b)
#define ESP_ERR_NVS_INVALID_LENGTH (ESP_ERR_NVS_BASE + 0x0c)
#define ESP_ERR_NVS_NO_FREE_PAGES (ESP_ERR_NVS_BASE + 0x0d)
#define ESP_ERR_NVS_VALUE_TOO_LONG (ESP_ERR_NVS_BASE + 0x0e)
#define ESP_ERR_NVS_PART_NOT_FOUND (ESP_ERR_NVS_BASE + 0x0f)
#define ESP_ERR_NVS_NEW_VERSION_FOUND (ESP_ERR_NVS_BASE + 0x10)
#define ESP_ERR_NVS_XTS_ENCR_FAILED (ESP_ERR_NVS_BASE + 0x11)
#define ESP_ERR_NVS_XTS_DECR_FAILED (ESP_ERR_NVS_BASE + 0x12)
#define ESP_ERR_NVS_XTS_CFG_FAILED (ESP_ERR_NVS_BASE + 0x13)
#define ESP_ERR_NVS_XTS_CFG_NOT_FOUND (ESP_ERR_NVS_BASE + 0x14)
#define ESP_ERR_NVS_ENCR_NOT_SUPPORTED (ESP_ERR_NVS_BASE + 0x15)
#define ESP_ERR_NVS_KEYS_NOT_INITIALIZED (ESP_ERR_NVS_BASE + 0x16)
#define ESP_ERR_NVS_CORRUPT_KEY_PART (ESP_ERR_NVS_BASE + 0x17)
#define ESP_ERR_NVS_CONTENT_DIFFERS (ESP_ERR_NVS_BASE + 0x18)
#define ESP_ERR_NVS_WRONG_ENCRYPTION (ESP_ERR_NVS_BASE + 0x19)

/* ESP-TLS codes, with ESP-IDF's names and values (esp_tls_errors.h). */
#define ESP_ERR_ESP_TLS_BASE 0x8000
#define ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME (ESP_ERR_ESP_TLS_BASE + 0x01)
#define ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET (ESP_ERR_ESP_TLS_BASE + 0x02)
#define ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY (ESP_ERR_ESP_TLS_BASE + 0x03)
#define ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST (ESP_ERR_ESP_TLS_BASE + 0x04)
#define ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED (ESP_ERR_ESP_TLS_BASE + 0x05)
#define ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT (ESP_ERR_ESP_TLS_BASE + 0x06)
#define ESP_ERR_ESP_TLS_TCP_CLOSED_FIN (ESP_ERR_ESP_TLS_BASE + 0x08)
#define ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT (ESP_ERR_ESP_TLS_BASE + 0x09)
/* The mbedTLS-named codes of esp_tls_errors.h; espsec's backend is OpenSSL
 * but the meaning (which step failed) is the same. */
#define ESP_ERR_MBEDTLS_CERT_PARTLY_OK (ESP_ERR_ESP_TLS_BASE + 0x10)
#define ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED (ESP_ERR_ESP_TLS_BASE + 0x12)
#define ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED (ESP_ERR_ESP_TLS_BASE + 0x13)
#define ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED (ESP_ERR_ESP_TLS_BASE + 0x14)
#define ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x15)
#define ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED (ESP_ERR_ESP_TLS_BASE + 0x16)
#define ESP_ERR_MBEDTLS_SSL_SETUP_FAILED (ESP_ERR_ESP_TLS_BASE + 0x17)
#define ESP_ERR_MBEDTLS_SSL_WRITE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x18)
#define ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED (ESP_ERR_ESP_TLS_BASE + 0x19)
#define ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED (ESP_ERR_ESP_TLS_BASE + 0x1A)
#define ESP_ERR_MBEDTLS_SSL_READ_FAILED (ESP_ERR_ESP_TLS_BASE + 0x1D)
/* espsec additions in the same range */
#define ESP_ERR_ESP_TLS_NO_CA (ESP_ERR_ESP_TLS_BASE + 0x40)          /* no CA given: refused */
#define ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED (ESP_ERR_ESP_TLS_BASE + 0x41) /* server certificate rejected */

#define ESPSEC_ERROR_MSG_MAX 640

/** A failure report: the code and one line of explanation. */
typedef struct espsec_error {
    espsec_err_t code;
    char msg[ESPSEC_ERROR_MSG_MAX];
} espsec_error_t;

/** Name of a code ("ESP_ERR_NVS_NOT_FOUND", "ESPSEC_ERR_VERIFY"); never NULL. */
const char *espsec_err_to_name(espsec_err_t code);

/** Human description of a code; never NULL. */
const char *espsec_strerror(espsec_err_t code);

/**
 * Record a failure in err (if not NULL) and return code. The message is
 * printf-formatted. Returns code so callers can write
 * `return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%x: ...", off);`.
 */
espsec_err_t espsec_fail(espsec_error_t *err, espsec_err_t code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The same call, said in each caller's file: a static analyser (clang-tidy works one file at a time)
 * then knows that espsec_fail returns code, so an error path never continues as a success. The
 * macro calls the function (a function-like macro does not expand inside itself); code is read twice
 * and must not have side effects. */
/* internal (not part of the ABI: upper case keeps it out of the espsec_ names) */
static inline espsec_err_t ESPSEC_FAIL_RET(espsec_err_t returned, espsec_err_t code)
{
    (void)returned;
    return code;
}
#define espsec_fail(err, code, ...) ESPSEC_FAIL_RET(espsec_fail((err), (code), __VA_ARGS__), (code))

/** Prefix the message already in err with a printf-formatted context ("app.bin: "). */
void espsec_error_prefix(espsec_error_t *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/** Reset err to "no error". */
void espsec_error_clear(espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
