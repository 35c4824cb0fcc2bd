/* Error names and reports (espsec/error.h). */
#include "espsec/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct err_name {
    espsec_err_t code;
    const char *name;
    const char *text;
};

#define E(code, text) {code, #code, text}
static const struct err_name ERR_NAMES[] = {
    {ESPSEC_OK, "ESP_OK", "success"},
    {ESPSEC_FAIL, "ESP_FAIL", "failure"},
    {ESPSEC_ERR_NO_MEM, "ESP_ERR_NO_MEM", "out of memory"},
    {ESPSEC_ERR_INVALID_ARG, "ESP_ERR_INVALID_ARG", "invalid argument"},
    {ESPSEC_ERR_INVALID_STATE, "ESP_ERR_INVALID_STATE", "invalid state"},
    {ESPSEC_ERR_INVALID_SIZE, "ESP_ERR_INVALID_SIZE", "invalid size"},
    {ESPSEC_ERR_NOT_FOUND, "ESP_ERR_NOT_FOUND", "not found"},
    {ESPSEC_ERR_NOT_SUPPORTED, "ESP_ERR_NOT_SUPPORTED", "not supported"},
    {ESPSEC_ERR_TIMEOUT, "ESP_ERR_TIMEOUT", "timed out"},
    {ESPSEC_ERR_INVALID_RESPONSE, "ESP_ERR_INVALID_RESPONSE", "invalid response"},
    {ESPSEC_ERR_INVALID_CRC, "ESP_ERR_INVALID_CRC", "CRC or checksum mismatch"},
    {ESPSEC_ERR_INVALID_VERSION, "ESP_ERR_INVALID_VERSION", "invalid version"},
    {ESPSEC_ERR_NOT_ALLOWED, "ESP_ERR_NOT_ALLOWED", "not allowed"},
    E(ESPSEC_ERR_IO, "file input/output failed"),
    E(ESPSEC_ERR_FORMAT, "malformed binary data"),
    E(ESPSEC_ERR_PARSE, "malformed text input"),
    E(ESPSEC_ERR_CRYPTO, "cryptographic library failure"),
    E(ESPSEC_ERR_VERIFY, "verification failed"),
    E(ESPSEC_ERR_KEY, "unsuitable key"),
    E(ESPSEC_ERR_PROTECTED, "eFuse is protected"),
    E(ESPSEC_ERR_CANCELLED, "cancelled"),
    E(ESPSEC_ERR_POWER_CUT, "emulated power cut"),
    E(ESPSEC_ERR_FLASH_PROGRAM, "NOR flash program would set a bit"),
    E(ESPSEC_ERR_EXISTS, "file already exists"),
    E(ESPSEC_ERR_USAGE, "bad command line"),
    E(ESPSEC_ERR_BOOT, "device would not boot"),
    E(ESPSEC_ERR_CHIP, "feature absent on this chip"),
    E(ESP_ERR_NVS_NOT_INITIALIZED, "the storage driver is not initialized"),
    E(ESP_ERR_NVS_NOT_FOUND, "requested entry or namespace not found"),
    E(ESP_ERR_NVS_TYPE_MISMATCH, "stored value has another type"),
    E(ESP_ERR_NVS_READ_ONLY, "handle was opened read-only"),
    E(ESP_ERR_NVS_NOT_ENOUGH_SPACE, "not enough space in the partition"),
    E(ESP_ERR_NVS_INVALID_NAME, "invalid namespace name"),
    E(ESP_ERR_NVS_INVALID_HANDLE, "handle closed or invalid"),
    E(ESP_ERR_NVS_REMOVE_FAILED, "old value could not be removed"),
    E(ESP_ERR_NVS_KEY_TOO_LONG, "key name longer than 15 characters"),
    E(ESP_ERR_NVS_PAGE_FULL, "page full"),
    E(ESP_ERR_NVS_INVALID_STATE, "NVS in an inconsistent state"),
    E(ESP_ERR_NVS_INVALID_LENGTH, "buffer too small for the value"),
    E(ESP_ERR_NVS_NO_FREE_PAGES, "no empty page in the partition"),
    E(ESP_ERR_NVS_VALUE_TOO_LONG, "value too long"),
    E(ESP_ERR_NVS_PART_NOT_FOUND, "partition not found"),
    E(ESP_ERR_NVS_NEW_VERSION_FOUND, "partition holds a newer NVS format"),
    E(ESP_ERR_NVS_XTS_ENCR_FAILED, "XTS encryption failed"),
    E(ESP_ERR_NVS_XTS_DECR_FAILED, "XTS decryption failed"),
    E(ESP_ERR_NVS_XTS_CFG_FAILED, "XTS configuration failed"),
    E(ESP_ERR_NVS_XTS_CFG_NOT_FOUND, "XTS configuration not found"),
    E(ESP_ERR_NVS_ENCR_NOT_SUPPORTED, "NVS encryption not supported"),
    E(ESP_ERR_NVS_KEYS_NOT_INITIALIZED, "NVS key partition is empty"),
    E(ESP_ERR_NVS_CORRUPT_KEY_PART, "NVS key partition is corrupt"),
    E(ESP_ERR_NVS_CONTENT_DIFFERS, "NVS content differs"),
    E(ESP_ERR_NVS_WRONG_ENCRYPTION, "NVS partition flagged for flash encryption"),
    E(ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME, "host name could not be resolved"),
    E(ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET, "socket could not be created"),
    E(ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY, "unsupported protocol family"),
    E(ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST, "could not connect to host"),
    E(ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED, "socket option failed"),
    E(ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT, "connection timed out"),
    E(ESP_ERR_ESP_TLS_TCP_CLOSED_FIN, "peer closed the connection"),
    E(ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT, "TLS handshake timed out"),
    E(ESP_ERR_MBEDTLS_CERT_PARTLY_OK, "some certificates could not be parsed"),
    E(ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED, "setting the host name failed"),
    E(ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED, "TLS configuration failed"),
    E(ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED, "ALPN configuration failed"),
    E(ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED, "certificate could not be parsed"),
    E(ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED, "client certificate/key rejected"),
    E(ESP_ERR_MBEDTLS_SSL_SETUP_FAILED, "TLS session setup failed"),
    E(ESP_ERR_MBEDTLS_SSL_WRITE_FAILED, "TLS write failed"),
    E(ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED, "private key could not be parsed"),
    E(ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "TLS handshake failed"),
    E(ESP_ERR_MBEDTLS_SSL_READ_FAILED, "TLS read failed"),
    E(ESP_ERR_ESP_TLS_NO_CA, "no CA certificate given"),
    E(ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "server certificate verification failed"),
};
#undef E

static const struct err_name *lookup(espsec_err_t code)
{
    for (size_t i = 0; i < sizeof(ERR_NAMES) / sizeof(ERR_NAMES[0]); i++) {
        if (ERR_NAMES[i].code == code) {
            return &ERR_NAMES[i];
        }
    }
    return NULL;
}

const char *espsec_err_to_name(espsec_err_t code)
{
    const struct err_name *n = lookup(code);
    return n ? n->name : "UNKNOWN ERROR";
}

const char *espsec_strerror(espsec_err_t code)
{
    const struct err_name *n = lookup(code);
    return n ? n->text : "unknown error";
}

espsec_err_t (espsec_fail)(espsec_error_t *err, espsec_err_t code, const char *fmt, ...)
{
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void espsec_error_prefix(espsec_error_t *err, const char *fmt, ...)
{
    if (err == NULL) {
        return;
    }
    char prefix[ESPSEC_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix), mlen = strlen(err->msg);
    if (plen >= sizeof(err->msg)) {
        plen = sizeof(err->msg) - 1;
    }
    if (plen + mlen >= sizeof(err->msg)) {
        mlen = sizeof(err->msg) - 1 - plen;
    }
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
}

void espsec_error_clear(espsec_error_t *err)
{
    if (err != NULL) {
        err->code = ESPSEC_OK;
        err->msg[0] = '\0';
    }
}
