/*
 * espsec/tls.h — a TLS client in the manner of ESP-IDF's esp_tls, on OpenSSL,
 * and the tools around the CA certificates a device embeds.
 *
 * Secure by default: a connection needs a CA source (a PEM/DER buffer as
 * esp_tls' cacert_pem_buf, the global CA store, an x509_crt_bundle, or a CA
 * file); with none it is refused with ESP_ERR_ESP_TLS_NO_CA and a message
 * saying how to get one. Only the explicit `insecure` flag skips
 * verification. The server name is checked as mbedTLS (esp_tls) checks it:
 * against the SubjectAltName when the certificate has one (the CN is then
 * never used), against the subject CN only when it has none; wildcards only
 * as a whole first label. skip_common_name turns the check off (the chain is
 * still verified). Every CA certificate given is a trust anchor, roots and
 * intermediates alike, as in mbedTLS: pinning an intermediate works.
 *
 * Errors carry ESP-TLS codes (ESP_ERR_ESP_TLS_*, and the ESP_ERR_MBEDTLS_*
 * names esp_tls reports for handshake and certificate failures) and the
 * TLS library's reason in the message.
 */
#ifndef ESPSEC_TLS_H
#define ESPSEC_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "espsec/error.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef enum { ESPSEC_TLS_VER_ANY = 0, ESPSEC_TLS_VER_1_2 = 0x0303, ESPSEC_TLS_VER_1_3 = 0x0304 } espsec_tls_version_t;

typedef struct {
    const uint8_t *cacert_buf;  /* CA certificate(s), PEM (one or more) or DER, as cacert_pem_buf/cacert_buf */
    size_t cacert_bytes;
    int use_global_ca_store;    /* espsec_tls_set_global_ca_store() */
    const uint8_t *crt_bundle;  /* an x509_crt_bundle (espsec tls bundle create / ESP-IDF's) */
    size_t crt_bundle_len;
    const char *ca_file;        /* a PEM file of CA certificates */
    const uint8_t *clientcert_buf; /* mutual TLS: client certificate (PEM/DER) and key (PEM/DER) */
    size_t clientcert_bytes;
    const uint8_t *clientkey_buf;
    size_t clientkey_bytes;
    const char *const *alpn_protos; /* NULL-terminated list, e.g. {"h2", "http/1.1", NULL} */
    int timeout_ms;             /* connect, handshake and each read/write (default 10000) */
    const char *common_name;    /* name to verify (and send as SNI) instead of the host */
    int skip_common_name;       /* do not check the name (the chain is still verified) */
    espsec_tls_version_t tls_version_min, tls_version_max;
    int insecure;               /* skip certificate verification entirely: a warning is printed */
    FILE *warn;                 /* where the insecure warning goes (default stderr) */
    /* optional: what to call each buffer in error messages (the file it came from) */
    const char *cacert_name, *crt_bundle_name, *clientcert_name, *clientkey_name;
} espsec_tls_cfg_t;

typedef struct espsec_tls espsec_tls_t;

/** The global CA store (esp_tls_set_global_ca_store); PEM or DER. */
espsec_err_t espsec_tls_set_global_ca_store(const uint8_t *buf, size_t len, espsec_error_t *err);
void espsec_tls_free_global_ca_store(void);

/** Connect and handshake. On failure *out is NULL and err says why (code and reason). */
espsec_err_t espsec_tls_conn_new(const char *host, int port, const espsec_tls_cfg_t *cfg, espsec_tls_t **out,
                                 espsec_error_t *err);
/** Split https://host[:port][/path] (port 443 by default; path "/" when absent). */
espsec_err_t espsec_tls_parse_url(const char *url, char *host, size_t hcap, int *port, char *path, size_t pcap,
                                  espsec_error_t *err);
/** Connect to an https:// URL (host, optional :port). */
espsec_err_t espsec_tls_conn_http_new(const char *url, const espsec_tls_cfg_t *cfg, espsec_tls_t **out,
                                      espsec_error_t *err);
/** Bytes written, or -1 (espsec_tls_last_error says why). */
ssize_t espsec_tls_conn_write(espsec_tls_t *t, const void *buf, size_t len);
/** Bytes read, 0 when the peer closed, -1 on error or timeout. */
ssize_t espsec_tls_conn_read(espsec_tls_t *t, void *buf, size_t len);
/** Bytes already decrypted and waiting (esp_tls_get_bytes_avail). */
size_t espsec_tls_get_bytes_avail(espsec_tls_t *t);
/** The ALPN protocol the server chose ("" if none). */
const char *espsec_tls_alpn(const espsec_tls_t *t);
/** The protocol version in use ("TLSv1.3"). */
const char *espsec_tls_version(const espsec_tls_t *t);
/** The last error of a connection (code, reason). */
espsec_err_t espsec_tls_last_error(const espsec_tls_t *t, espsec_error_t *err);
void espsec_tls_conn_destroy(espsec_tls_t *t);

/* ---- HTTP/1.1 responses (what `espsec tls get` reads) ---- */

/*
 * A streaming parser for one HTTP/1.1 response: feed it bytes as they come off
 * the connection; the body (de-chunked) goes to a callback as it arrives, so
 * no size limit applies and nothing is buffered but the current line. It
 * keeps the head (for display) and knows where the body ends (Content-Length, the final chunk, or the close of
 * the connection when the response has neither) and stops there; every
 * number from the peer is checked before it is used.
 */
#define ESPSEC_HTTP_LINE_MAX 8192  /* longest status, header, chunk-size or trailer line */
#define ESPSEC_HTTP_HEAD_MAX 65536 /* longest head (status line and headers) */

typedef enum {
    ESPSEC_HTTP_BODY_NONE,   /* no body (1xx, 204, 304) */
    ESPSEC_HTTP_BODY_LENGTH, /* Content-Length */
    ESPSEC_HTTP_BODY_CHUNKED,
    ESPSEC_HTTP_BODY_CLOSE /* until the connection closes */
} espsec_http_framing_t;

/* Receives body bytes; non-zero stops the parse (espsec_http_feed returns ESPSEC_ERR_IO). */
typedef int (*espsec_http_body_cb)(void *ctx, const uint8_t *data, size_t len);

typedef struct {
    int state;                    /* private */
    int status;                   /* the status code, once the head is read */
    int head_done;                /* the final head (after any 1xx) has been read */
    espsec_http_framing_t framing;
    uint64_t content_length;      /* BODY_LENGTH: the declared length */
    uint64_t body_bytes;          /* body bytes delivered so far */
    uint64_t left;                /* private: bytes left in the body or the current chunk */
    char head[ESPSEC_HTTP_HEAD_MAX + 1]; /* the status line and headers as received, NUL-terminated */
    size_t head_len;
    char line[ESPSEC_HTTP_LINE_MAX + 1]; /* private: the line being collected */
    size_t line_len;
    int have_length, have_te;     /* private */
    espsec_http_body_cb on_body;
    void *ctx;
} espsec_http_resp_t;

/** Start a response; on_body may be NULL (the body is counted, not kept). */
void espsec_http_init(espsec_http_resp_t *r, espsec_http_body_cb on_body, void *ctx);

/**
 * Feed the next len bytes. *used (may be NULL) receives how many were taken:
 * fewer than len when the response ended inside them (the rest is not part of
 * it). ESPSEC_ERR_PARSE with the line or number at fault on a malformed
 * response.
 */
espsec_err_t espsec_http_feed(espsec_http_resp_t *r, const uint8_t *data, size_t len, size_t *used,
                              espsec_error_t *err);

/** 1 once the whole response is read (the body end is known). */
int espsec_http_done(const espsec_http_resp_t *r);

/**
 * The connection closed: ESPSEC_OK if the response is complete (or its body
 * is delimited by the close), else ESPSEC_ERR_FORMAT "body truncated: N of M
 * bytes" (or what part is missing).
 */
espsec_err_t espsec_http_eof(const espsec_http_resp_t *r, espsec_error_t *err);

/* ---- CA certificates ---- */

typedef struct {
    char subject[256], issuer[256];
    char not_before[32], not_after[32]; /* "2026-11-24 06:00:00 UTC" */
    long long not_after_epoch;
    char sha256[96];                    /* "AB:CD:..." */
    int self_signed, is_ca;
} espsec_cert_info_t;

/** Describe a certificate (DER). */
espsec_err_t espsec_cert_info(const uint8_t *der, size_t len, espsec_cert_info_t *info, espsec_error_t *err);

typedef struct {
    uint8_t **certs;   /* DER of each certificate the server sent, leaf first */
    size_t *lens;
    size_t count;
    uint8_t *anchor;   /* the chosen trust anchor (DER) */
    size_t anchor_len;
    int anchor_from_store; /* 1: the server did not send it; found in the trust store */
    int chain_verified;    /* the chain verifies up to the anchor (names and dates included) */
    char verify_error[320];
} espsec_fetched_chain_t;

/**
 * Connect (without verifying), collect the chain the server sends, pick the
 * last certificate; when it is not self-signed, look up its issuer in the
 * trust store (store_file/store_dir, or the system default when NULL), then
 * verify the whole chain against the anchor.
 */
espsec_err_t espsec_tls_fetch_chain(const char *host, int port, const char *servername, const char *store_file,
                                    const char *store_dir, int timeout_ms, espsec_fetched_chain_t *out,
                                    espsec_error_t *err);
void espsec_fetched_chain_free(espsec_fetched_chain_t *c);

/**
 * Make the last certificate the server sent the anchor (what `openssl
 * s_client -showcerts | tail` recipes do), whatever it is, and verify the
 * chain against it again (for name, as the device would check it). It may be
 * an intermediate, which its CA replaces far sooner than a root.
 */
espsec_err_t espsec_tls_anchor_last_sent(espsec_fetched_chain_t *c, const char *name, espsec_error_t *err);

/** DER certificates to PEM text (malloc'd, NUL-terminated). */
char *espsec_cert_to_pem(const uint8_t *der, size_t len);

/* ---- x509_crt_bundle ---- */

/**
 * Build ESP-IDF's certificate bundle from PEM/DER certificates: an offset
 * table, then for each certificate (sorted by subject DER) the subject name
 * and public key. certs may hold several PEM certificates.
 */
espsec_err_t espsec_crt_bundle_create(const uint8_t *const *certs, const size_t *lens, size_t n, uint8_t **out,
                                      size_t *out_len, size_t *count, espsec_error_t *err);

typedef struct {
    char subject[256];
    size_t name_len, key_len;
    char key_type[16];
} espsec_bundle_entry_t;

/** Check and list a bundle. *entries malloc'd. */
espsec_err_t espsec_crt_bundle_list(const uint8_t *bundle, size_t len, espsec_bundle_entry_t **entries, size_t *n,
                                    espsec_error_t *err);

/* ---- embedding ---- */

typedef enum { ESPSEC_EMBED_ASM, ESPSEC_EMBED_C } espsec_embed_format_t;

/** ESP-IDF's symbol name for an embedded file: the file name made a C identifier. */
void espsec_embed_symbol(const char *filename, char *out, size_t cap);

/**
 * Source defining <sym>, _binary_<sym>_start, _binary_<sym>_end and
 * <sym>_length as ESP-IDF's EMBED_FILES (text: a NUL is appended, as
 * EMBED_TXTFILES). malloc'd, NUL-terminated.
 */
char *espsec_embed_source(const uint8_t *data, size_t len, const char *symbol, const char *source_name, int text,
                          espsec_embed_format_t fmt);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
