/* CA certificates (espsec/tls.h): describing, fetching a server's chain, the x509_crt_bundle format. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_internal.h"
#include "util/bytes.h"

/* ---- describing ---- */

static void name_text(const X509_NAME *n, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    int l = BIO_read(b, out, (int)cap - 1);
    out[l > 0 ? l : 0] = '\0';
    BIO_free(b);
}

static long long asn1_time(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    if (ASN1_TIME_to_tm(t, &tm) != 1) {
        snprintf(out, cap, "?");
        return 0;
    }
    (void)strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return (long long)timegm(&tm);
}

static espsec_err_t info_x509(X509 *x, espsec_cert_info_t *info)
{
    memset(info, 0, sizeof(*info));
    name_text(X509_get_subject_name(x), info->subject, sizeof(info->subject));
    name_text(X509_get_issuer_name(x), info->issuer, sizeof(info->issuer));
    asn1_time(X509_get0_notBefore(x), info->not_before, sizeof(info->not_before));
    info->not_after_epoch = asn1_time(X509_get0_notAfter(x), info->not_after, sizeof(info->not_after));
    unsigned char md[32];
    unsigned int ml = 0;
    X509_digest(x, EVP_sha256(), md, &ml);
    for (unsigned i = 0; i < ml; i++) {
        snprintf(info->sha256 + 3 * i, sizeof(info->sha256) - 3 * i, "%02X%s", md[i], i + 1 < ml ? ":" : "");
    }
    info->self_signed = X509_check_issued(x, x) == X509_V_OK && X509_verify(x, X509_get0_pubkey(x)) == 1;
    info->is_ca = X509_check_ca(x) > 0;
    ERR_clear_error();
    return ESPSEC_OK;
}

espsec_err_t espsec_cert_info(const uint8_t *der, size_t len, espsec_cert_info_t *info, espsec_error_t *err)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        ERR_clear_error();
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "not a DER certificate");
    }
    info_x509(x, info);
    X509_free(x);
    return ESPSEC_OK;
}

char *espsec_cert_to_pem(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x == NULL) {
        ERR_clear_error();
        return NULL;
    }
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    X509_free(x);
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)n + 1);
    if (out != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(b);
    return out;
}

static int to_der(X509 *x, uint8_t **out, size_t *len)
{
    unsigned char *buf = NULL;
    int n = i2d_X509(x, &buf);
    if (n <= 0) {
        return -1;
    }
    *out = malloc((size_t)n);
    if (*out == NULL) {
        OPENSSL_free(buf);
        return -1;
    }
    memcpy(*out, buf, (size_t)n);
    *len = (size_t)n;
    OPENSSL_free(buf);
    return 0;
}

/* ---- fetching a server's chain ---- */

void espsec_fetched_chain_free(espsec_fetched_chain_t *c)
{
    for (size_t i = 0; i < c->count; i++) {
        free(c->certs[i]);
    }
    free(c->certs);
    free(c->lens);
    free(c->anchor);
    memset(c, 0, sizeof(*c));
}

/* Verify the chain the server sent (DER in c) against anchor alone, names and dates included, as the
 * device would: the anchor need not be a root (every CA certificate given to esp_tls is an anchor). */
static void verify_fetched(espsec_fetched_chain_t *c, X509 *anchor, const char *name)
{
    c->chain_verified = 0;
    c->verify_error[0] = '\0';
    X509_STORE *only = X509_STORE_new();
    X509_STORE_CTX *vc = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509 *leaf = NULL;
    if (only != NULL && vc != NULL && untrusted != NULL && c->certs != NULL && c->lens != NULL && c->count > 0) {
        X509_STORE_add_cert(only, anchor);
        for (size_t i = 0; i < c->count; i++) {
            const unsigned char *p = c->certs[i];
            X509 *x = d2i_X509(NULL, &p, (long)c->lens[i]);
            if (x == NULL) {
                continue;
            }
            if (leaf == NULL) {
                leaf = x;
            } else {
                sk_X509_push(untrusted, x);
            }
        }
    }
    if (leaf != NULL && X509_STORE_CTX_init(vc, only, leaf, untrusted) == 1) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(vc);
        X509_VERIFY_PARAM_set1_host(param, name, 0);
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
        tls_name_rule(param, leaf);
        c->chain_verified = X509_verify_cert(vc) == 1;
        if (!c->chain_verified) {
            snprintf(c->verify_error, sizeof(c->verify_error), "%s (at depth %d)",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(vc)), X509_STORE_CTX_get_error_depth(vc));
        }
    } else {
        snprintf(c->verify_error, sizeof(c->verify_error), "the chain could not be checked (out of memory)");
    }
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    X509_STORE_CTX_free(vc);
    X509_STORE_free(only);
    ERR_clear_error();
}

espsec_err_t espsec_tls_anchor_last_sent(espsec_fetched_chain_t *c, const char *name, espsec_error_t *err)
{
    if (c->count == 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "no chain was fetched");
    }
    const unsigned char *p = c->certs[c->count - 1];
    X509 *last = d2i_X509(NULL, &p, (long)c->lens[c->count - 1]);
    if (last == NULL) {
        ERR_clear_error();
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "the last certificate sent does not decode");
    }
    free(c->anchor);
    c->anchor = NULL;
    c->anchor_len = 0;
    c->anchor_from_store = 0;
    if (to_der(last, &c->anchor, &c->anchor_len) != 0) {
        X509_free(last);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    verify_fetched(c, last, name);
    X509_free(last);
    return ESPSEC_OK;
}

espsec_err_t espsec_tls_fetch_chain(const char *host, int port, const char *servername, const char *store_file,
                                    const char *store_dir, int timeout_ms, espsec_fetched_chain_t *out,
                                    espsec_error_t *err)
{
    memset(out, 0, sizeof(*out));
    const char *name = servername ? servername : host;
    if (timeout_ms <= 0) {
        timeout_ms = 10000;
    }
    int fd = tls_tcp_connect(host, port, timeout_ms, err);
    if (fd < 0) {
        return err ? err->code : ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    espsec_err_t rc = ESPSEC_OK;
    if (ssl == NULL) {
        rc = espsec_fail(err, ESP_ERR_MBEDTLS_SSL_SETUP_FAILED, "TLS setup failed");
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL); /* collecting, not trusting: verified below */
        SSL_set_tlsext_host_name(ssl, name);
        SSL_set_fd(ssl, fd);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            int r = SSL_connect(ssl);
            if (r == 1) {
                break;
            }
            int e = SSL_get_error(ssl, r);
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && el < timeout_ms) {
                struct timespec ts = {0, 2000000};
                nanosleep(&ts, NULL);
                continue;
            }
            char reason[200];
            ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
            rc = espsec_fail(err, e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE
                                      ? ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT
                                      : ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED,
                             "TLS handshake with %s:%d failed: %s", host, port,
                             ERR_peek_last_error() ? reason : "the server closed the connection or does not speak TLS");
            break;
        }
    }
    STACK_OF(X509) *chain = rc == ESPSEC_OK ? SSL_get_peer_cert_chain(ssl) : NULL;
    if (rc == ESPSEC_OK && (chain == NULL || sk_X509_num(chain) == 0)) {
        rc = espsec_fail(err, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "%s:%d sent no certificate", host, port);
    }
    int n = rc == ESPSEC_OK ? sk_X509_num(chain) : 0;
    if (n > 0) {
        out->certs = calloc((size_t)n, sizeof(*out->certs));
        out->lens = calloc((size_t)n, sizeof(*out->lens));
        for (int i = 0; i < n && out->certs && out->lens; i++) {
            if (to_der(sk_X509_value(chain, i), &out->certs[i], &out->lens[i]) == 0) {
                out->count++;
            }
        }
    }
    X509 *anchor = NULL;
    if (rc == ESPSEC_OK && out->count == (size_t)n) {
        X509 *last = sk_X509_value(chain, n - 1);
        X509_STORE *sys = X509_STORE_new();
        if (store_file != NULL || store_dir != NULL) {
            X509_STORE_load_locations(sys, store_file, store_dir);
        } else {
            X509_STORE_set_default_paths(sys);
        }
        espsec_cert_info_t li;
        info_x509(last, &li);
        if (li.self_signed) {
            anchor = X509_dup(last);
        } else {
            X509_STORE_CTX *sc = X509_STORE_CTX_new();
            X509 *issuer = NULL;
            if (sc != NULL && X509_STORE_CTX_init(sc, sys, last, NULL) == 1 &&
                X509_STORE_CTX_get1_issuer(&issuer, sc, last) == 1) {
                anchor = issuer;
                out->anchor_from_store = 1;
            }
            X509_STORE_CTX_free(sc);
        }
        X509_STORE_free(sys);
        ERR_clear_error();
        if (anchor == NULL) {
            snprintf(out->verify_error, sizeof(out->verify_error),
                     "the last certificate the server sends (issued by %.100s) is not self-signed and its issuer is "
                     "not in the trust store",
                     li.issuer);
        } else {
            to_der(anchor, &out->anchor, &out->anchor_len);
            verify_fetched(out, anchor, name);
            X509_free(anchor);
        }
    }
    if (ssl != NULL) {
        SSL_free(ssl);
    }
    SSL_CTX_free(ctx);
    close(fd);
    if (rc != ESPSEC_OK) {
        espsec_fetched_chain_free(out);
    }
    return rc;
}

/* ---- x509_crt_bundle ---- */

typedef struct {
    uint8_t *name, *key;
    int name_len, key_len;
} bentry_t;

static int bentry_cmp(const void *a, const void *b)
{
    const bentry_t *x = a, *y = b;
    int m = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, (size_t)m);
    return c != 0 ? c : x->name_len - y->name_len;
}

espsec_err_t espsec_crt_bundle_create(const uint8_t *const *certs, const size_t *lens, size_t n, uint8_t **out,
                                      size_t *out_len, size_t *count, espsec_error_t *err)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    for (size_t i = 0; i < n; i++) {
        if (tls_load_certs(certs[i], lens[i], sk) == 0) {
            sk_X509_pop_free(sk, X509_free);
            return espsec_fail(err, ESPSEC_ERR_PARSE, "input %zu holds no certificate (PEM or DER expected)", i + 1);
        }
    }
    int m = sk_X509_num(sk);
    bentry_t *e = calloc((size_t)m + 1, sizeof(*e));
    size_t total = 4 * (size_t)m;
    espsec_err_t rc = e ? ESPSEC_OK : espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    for (int i = 0; rc == ESPSEC_OK && i < m; i++) {
        X509 *x = sk_X509_value(sk, i);
        e[i].name_len = i2d_X509_NAME(X509_get_subject_name(x), &e[i].name);
        e[i].key_len = i2d_PUBKEY(X509_get0_pubkey(x), &e[i].key);
        if (e[i].name_len <= 0 || e[i].key_len <= 0 || e[i].name_len > 0xFFFF || e[i].key_len > 0xFFFF) {
            rc = espsec_fail(err, ESPSEC_ERR_FORMAT, "certificate %d: subject or key cannot be encoded", i + 1);
        }
        total += 4 + (size_t)(e[i].name_len > 0 ? e[i].name_len : 0) + (size_t)(e[i].key_len > 0 ? e[i].key_len : 0);
    }
    uint8_t *buf = rc == ESPSEC_OK ? malloc(total ? total : 1) : NULL;
    if (rc == ESPSEC_OK && buf == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (rc == ESPSEC_OK) {
        qsort(e, (size_t)m, sizeof(*e), bentry_cmp); /* the device looks issuers up by binary search */
        size_t pos = 4 * (size_t)m;
        for (int i = 0; i < m; i++) {
            put_le32(buf + 4 * i, (uint32_t)pos);
            put_le16(buf + pos, (uint16_t)e[i].name_len);
            put_le16(buf + pos + 2, (uint16_t)e[i].key_len);
            memcpy(buf + pos + 4, e[i].name, (size_t)e[i].name_len);
            memcpy(buf + pos + 4 + e[i].name_len, e[i].key, (size_t)e[i].key_len);
            pos += 4 + (size_t)e[i].name_len + (size_t)e[i].key_len;
        }
        *out = buf;
        *out_len = total;
        *count = (size_t)m;
    }
    for (int i = 0; e != NULL && i < m; i++) {
        OPENSSL_free(e[i].name);
        OPENSSL_free(e[i].key);
    }
    free(e);
    sk_X509_pop_free(sk, X509_free);
    ERR_clear_error();
    return rc;
}

espsec_err_t tls_bundle_check(const uint8_t *b, size_t len, espsec_error_t *err)
{
    if (len < 4) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "%zu bytes: too short for a certificate bundle", len);
    }
    uint32_t first = get_le32(b);
    if (first % 4 != 0 || first == 0 || first > len) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x0: first certificate offset 0x%x is not 4 x the certificate count within the "
                           "%zu-byte bundle",
                           first, len);
    }
    size_t n = first / 4;
    for (size_t i = 0; i < n; i++) {
        uint32_t off = get_le32(b + 4 * i);
        if (off < first || (uint64_t)off + 4 > len) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: certificate %zu at 0x%x is outside the bundle",
                               4 * i, i, off);
        }
        size_t nl = get_le16(b + off), kl = get_le16(b + off + 2);
        if ((uint64_t)off + 4 + nl + kl > len) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%x: certificate %zu (name %zu + key %zu bytes) runs past the end", off, i, nl,
                               kl);
        }
        if (i + 1 < n && get_le32(b + 4 * i + 4) < off + 4 + nl + kl) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: certificate %zu overlaps the next", 4 * i, i);
        }
    }
    return ESPSEC_OK;
}

int tls_bundle_verifies(const uint8_t *b, size_t len, X509 *cert)
{
    unsigned char *iss = NULL;
    int il = i2d_X509_NAME(X509_get_issuer_name(cert), &iss);
    if (il <= 0) {
        return 0;
    }
    size_t n = len >= 4 ? get_le32(b) / 4 : 0;
    int ok = 0;
    for (size_t i = 0; i < n && 4 * i + 4 <= len && !ok; i++) {
        uint32_t off = get_le32(b + 4 * i);
        if ((uint64_t)off + 4 > len) {
            break;
        }
        size_t nl = get_le16(b + off), kl = get_le16(b + off + 2);
        if ((uint64_t)off + 4 + nl + kl > len) {
            break;
        }
        if (nl != (size_t)il || memcmp(b + off + 4, iss, nl) != 0) {
            continue;
        }
        const unsigned char *kp = b + off + 4 + nl;
        EVP_PKEY *pk = d2i_PUBKEY(NULL, &kp, (long)kl);
        ok = pk != NULL && X509_verify(cert, pk) == 1;
        EVP_PKEY_free(pk);
    }
    OPENSSL_free(iss);
    ERR_clear_error();
    return ok;
}

espsec_err_t espsec_crt_bundle_list(const uint8_t *bundle, size_t len, espsec_bundle_entry_t **entries, size_t *n,
                                    espsec_error_t *err)
{
    espsec_err_t rc = tls_bundle_check(bundle, len, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t c = get_le32(bundle) / 4;
    espsec_bundle_entry_t *e = calloc(c + 1, sizeof(*e));
    if (e == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    for (size_t i = 0; i < c; i++) {
        uint32_t off = get_le32(bundle + 4 * i);
        e[i].name_len = get_le16(bundle + off);
        e[i].key_len = get_le16(bundle + off + 2);
        const unsigned char *p = bundle + off + 4;
        X509_NAME *nm = d2i_X509_NAME(NULL, &p, (long)e[i].name_len);
        const unsigned char *kp = bundle + off + 4 + e[i].name_len;
        EVP_PKEY *pk = d2i_PUBKEY(NULL, &kp, (long)e[i].key_len);
        if (nm == NULL || pk == NULL) {
            X509_NAME_free(nm);
            EVP_PKEY_free(pk);
            free(e);
            ERR_clear_error();
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%x: certificate %zu: the %s does not decode", off, i,
                               nm == NULL ? "subject name" : "public key");
        }
        name_text(nm, e[i].subject, sizeof(e[i].subject));
        snprintf(e[i].key_type, sizeof(e[i].key_type), "%s-%d", EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA" : "EC",
                 EVP_PKEY_get_bits(pk));
        X509_NAME_free(nm);
        EVP_PKEY_free(pk);
    }
    *entries = e;
    *n = c;
    return ESPSEC_OK;
}

/* ---- URLs ---- */

espsec_err_t espsec_tls_parse_url(const char *url, char *host, size_t hcap, int *port, char *path, size_t pcap,
                           espsec_error_t *err)
{
    const char *p = url;
    if (strncmp(p, "https://", 8) != 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "'%s': an https:// URL expected", url);
    }
    p += 8;
    size_t hl = strcspn(p, ":/?#");
    if (*p == '[') { /* [v6]:port */
        const char *close = strchr(p, ']');
        if (close == NULL) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "'%s': unterminated [IPv6] host", url);
        }
        hl = (size_t)(close - p - 1);
        p++;
    }
    if (hl == 0 || hl >= hcap) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "'%s': no host (or too long)", url);
    }
    memcpy(host, p, hl);
    host[hl] = '\0';
    p += hl + (p[-1] == '[' ? 1 : 0);
    *port = 443;
    if (*p == ':') {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (end == p + 1 || v < 1 || v > 65535) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "'%s': port 1-65535 expected", url);
        }
        *port = (int)v;
        p = end;
    }
    snprintf(path, pcap, "%s", *p == '/' ? p : "/");
    if (*p != '/' && *p != '\0') {
        /* "?query" without a path */
        snprintf(path, pcap, "/%s", p);
    }
    return ESPSEC_OK;
}
