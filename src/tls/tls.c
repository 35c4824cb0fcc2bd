/* The TLS client (espsec/tls.h): esp_tls' configuration and calls on OpenSSL. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "espsec/tls.h"
#include "tls_internal.h"

struct espsec_tls {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    int timeout_ms;
    char alpn[64];
    espsec_error_t last;
    const uint8_t *bundle; /* borrowed from the configuration during the handshake */
    size_t bundle_len;
    int bundle_used;
};

static pthread_mutex_t g_store_lock = PTHREAD_MUTEX_INITIALIZER;
static X509_STORE *g_store;

/* ---- certificates from buffers ---- */

int tls_load_certs(const uint8_t *buf, size_t len, STACK_OF(X509) *out)
{
    int n = 0;
    if (len > 0 && memmem(buf, len, "-----BEGIN", 10) != NULL) {
        BIO *b = BIO_new_mem_buf(buf, (int)len);
        X509 *x;
        while (b != NULL && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
            sk_X509_push(out, x);
            n++;
        }
        BIO_free(b);
        ERR_clear_error();
        return n;
    }
    const unsigned char *p = buf;
    while (len > 0 && p < buf + len) {
        X509 *x = d2i_X509(NULL, &p, (long)(buf + len - p));
        if (x == NULL) {
            break;
        }
        sk_X509_push(out, x);
        n++;
    }
    ERR_clear_error();
    return n;
}

static int store_add(X509_STORE *st, const uint8_t *buf, size_t len)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    int n = tls_load_certs(buf, len, sk);
    for (int i = 0; i < n; i++) {
        X509_STORE_add_cert(st, sk_X509_value(sk, i));
    }
    sk_X509_pop_free(sk, X509_free);
    ERR_clear_error();
    return n;
}

espsec_err_t espsec_tls_set_global_ca_store(const uint8_t *buf, size_t len, espsec_error_t *err)
{
    X509_STORE *st = X509_STORE_new();
    if (st == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (store_add(st, buf, len) == 0) {
        X509_STORE_free(st);
        return espsec_fail(err, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED,
                           "the global CA store needs at least one certificate (PEM or DER)");
    }
    pthread_mutex_lock(&g_store_lock);
    X509_STORE_free(g_store);
    g_store = st;
    pthread_mutex_unlock(&g_store_lock);
    return ESPSEC_OK;
}

void espsec_tls_free_global_ca_store(void)
{
    pthread_mutex_lock(&g_store_lock);
    X509_STORE_free(g_store);
    g_store = NULL;
    pthread_mutex_unlock(&g_store_lock);
}

/* ---- sockets ---- */

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            return 0;
        }
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) {
            return 1;
        }
        if (r == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -1;
        }
    }
}

int tls_tcp_connect(const char *host, int port, int timeout_ms, espsec_error_t *err)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char ports[16];
    snprintf(ports, sizeof(ports), "%d", port);
    int g = getaddrinfo(host, ports, &hints, &res);
    if (g != 0) {
        espsec_fail(err, ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME, "cannot resolve '%s': %s", host, gai_strerror(g));
        return -1;
    }
    long long deadline = now_ms() + timeout_ms;
    int fd = -1, last_errno = 0, timed_out = 0;
    for (struct addrinfo *a = res; a != NULL && fd < 0; a = a->ai_next) {
        int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (s < 0) {
            last_errno = errno;
            continue;
        }
        fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(s, a->ai_addr, a->ai_addrlen) == 0) {
            fd = s;
            break;
        }
        if (errno == EINPROGRESS) {
            int w = wait_fd(s, POLLOUT, deadline);
            if (w > 0) {
                int soerr = 0;
                socklen_t sl = sizeof(soerr);
                getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl);
                if (soerr == 0) {
                    fd = s;
                    break;
                }
                last_errno = soerr;
            } else if (w == 0) {
                timed_out = 1;
            } else {
                last_errno = errno;
            }
        } else {
            last_errno = errno;
        }
        close(s);
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (timed_out) {
            espsec_fail(err, ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT, "connecting to %s:%d timed out after %d ms", host,
                        port, timeout_ms);
        } else {
            espsec_fail(err, ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST, "cannot connect to %s:%d: %s", host, port,
                        strerror(last_errno ? last_errno : ECONNREFUSED));
        }
    }
    return fd;
}

/* ---- the bundle as a CA source: esp_crt_bundle's check, in the verify callback ---- */

static int g_ex_idx = -1;
static pthread_once_t g_ex_once = PTHREAD_ONCE_INIT;

static void ex_init(void)
{
    g_ex_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int anchor_missing(int e)
{
    return e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY || e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
           e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
           e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

static int verify_cb(int ok, X509_STORE_CTX *x)
{
    if (ok) {
        return 1;
    }
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    espsec_tls_t *t = ssl ? SSL_get_ex_data(ssl, g_ex_idx) : NULL;
    if (t == NULL || t->bundle == NULL || !anchor_missing(X509_STORE_CTX_get_error(x))) {
        return 0;
    }
    X509 *c = X509_STORE_CTX_get_current_cert(x);
    if (c != NULL && tls_bundle_verifies(t->bundle, t->bundle_len, c)) {
        t->bundle_used = 1;
        X509_STORE_CTX_set_error(x, X509_V_OK);
        return 1;
    }
    return 0;
}

/* ---- names and anchors as mbedTLS checks them ---- */

void tls_name_rule(X509_VERIFY_PARAM *param, X509 *leaf)
{
    /* mbedTLS (x509_crt_verify_name): a certificate with a SubjectAltName extension is matched against
     * its SAN entries only; the subject CN counts only when there is no SAN at all. OpenSSL's default
     * falls back to the CN whenever no SAN of the name's type (DNS) exists, e.g. an IP-only SAN. */
    unsigned int flags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    if (leaf != NULL && X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1) >= 0) {
        flags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
    }
    X509_VERIFY_PARAM_set_hostflags(param, flags);
}

static int app_verify(X509_STORE_CTX *x, void *arg)
{
    (void)arg;
    tls_name_rule(X509_STORE_CTX_get0_param(x), X509_STORE_CTX_get0_cert(x));
    return X509_verify_cert(x);
}

/* ---- the connection ---- */

static void ssl_reason(char *out, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0) {
        snprintf(out, cap, "no further detail");
    } else {
        ERR_error_string_n(e, out, cap);
    }
    ERR_clear_error();
}

static int is_ip(const char *h)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* "NAME: " for a named buffer, else "". */
static const char *named(const char *name, char *buf, size_t cap)
{
    if (name == NULL) {
        return "";
    }
    snprintf(buf, cap, "%s: ", name);
    return buf;
}

static espsec_err_t fail_conn(espsec_tls_t *t, espsec_error_t *err)
{
    if (err != NULL) {
        *err = t->last;
    }
    espsec_err_t rc = t->last.code;
    espsec_tls_conn_destroy(t);
    return rc;
}

espsec_err_t espsec_tls_conn_new(const char *host, int port, const espsec_tls_cfg_t *cfg, espsec_tls_t **out,
                                 espsec_error_t *err)
{
    *out = NULL;
    pthread_once(&g_ex_once, ex_init);
    if (host == NULL || host[0] == '\0' || port <= 0 || port > 65535) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "a host and a port (1-65535) are needed");
    }
    int have_ca = (cfg->cacert_buf != NULL && cfg->cacert_bytes > 0) || cfg->use_global_ca_store ||
                  (cfg->crt_bundle != NULL && cfg->crt_bundle_len > 0) || cfg->ca_file != NULL;
    if (!have_ca && !cfg->insecure) {
        return espsec_fail(err, ESP_ERR_ESP_TLS_NO_CA,
                           "no CA certificate given for %s: the server cannot be verified. Get its CA with "
                           "'espsec tls fetch-ca %s:%d --output ca.pem', embed it (espsec embed ca.pem) and pass it "
                           "(cacert_pem_buf, --cacert), or use a CA bundle; --insecure skips verification (never in "
                           "production)",
                           host, host, port);
    }
    espsec_tls_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    t->fd = -1;
    char nm[1100];
    t->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 10000;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (t->ctx == NULL) {
        espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_SETUP_FAILED, "TLS setup failed");
        return fail_conn(t, err);
    }
    SSL_CTX_set_min_proto_version(t->ctx, cfg->tls_version_min ? (int)cfg->tls_version_min : TLS1_2_VERSION);
    if (cfg->tls_version_max) {
        SSL_CTX_set_max_proto_version(t->ctx, (int)cfg->tls_version_max);
    }
    X509_STORE *st = SSL_CTX_get_cert_store(t->ctx);
    if (cfg->cacert_buf != NULL && cfg->cacert_bytes > 0 && store_add(st, cfg->cacert_buf, cfg->cacert_bytes) == 0) {
        espsec_fail(&t->last, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED,
                    "%sthe CA buffer holds no certificate (PEM '-----BEGIN CERTIFICATE-----' or DER expected)",
                    named(cfg->cacert_name, nm, sizeof(nm)));
        return fail_conn(t, err);
    }
    if (cfg->ca_file != NULL && SSL_CTX_load_verify_locations(t->ctx, cfg->ca_file, NULL) != 1) {
        espsec_fail(&t->last, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED, "%s: no CA certificate could be read",
                    cfg->ca_file);
        return fail_conn(t, err);
    }
    if (cfg->use_global_ca_store) {
        pthread_mutex_lock(&g_store_lock);
        int have = g_store != NULL;
        if (have) {
            STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(g_store);
            for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
                X509 *x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
                if (x != NULL) {
                    X509_STORE_add_cert(st, x);
                }
            }
        }
        pthread_mutex_unlock(&g_store_lock);
        if (!have) {
            espsec_fail(&t->last, ESP_ERR_ESP_TLS_NO_CA,
                        "use_global_ca_store is set but no global CA store was set (espsec_tls_set_global_ca_store)");
            return fail_conn(t, err);
        }
    }
    if (cfg->crt_bundle != NULL && cfg->crt_bundle_len > 0) {
        espsec_error_t be;
        if (tls_bundle_check(cfg->crt_bundle, cfg->crt_bundle_len, &be) != ESPSEC_OK) {
            espsec_fail(&t->last, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED, "%sCA bundle: %s",
                        named(cfg->crt_bundle_name, nm, sizeof(nm)), be.msg);
            return fail_conn(t, err);
        }
        t->bundle = cfg->crt_bundle;
        t->bundle_len = cfg->crt_bundle_len;
    }
    ERR_clear_error();
    if (cfg->clientcert_buf != NULL || cfg->clientkey_buf != NULL) {
        STACK_OF(X509) *sk = sk_X509_new_null();
        int n = cfg->clientcert_buf ? tls_load_certs(cfg->clientcert_buf, cfg->clientcert_bytes, sk) : 0;
        int okc = n > 0 && SSL_CTX_use_certificate(t->ctx, sk_X509_value(sk, 0)) == 1;
        for (int i = 1; okc && i < n; i++) {
            SSL_CTX_add1_chain_cert(t->ctx, sk_X509_value(sk, i));
        }
        sk_X509_pop_free(sk, X509_free);
        if (!okc) {
            espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED,
                        "%sthe client certificate could not be read (PEM or DER expected)",
                        named(cfg->clientcert_name, nm, sizeof(nm)));
            return fail_conn(t, err);
        }
        EVP_PKEY *pk = NULL;
        if (cfg->clientkey_buf != NULL) {
            BIO *b = BIO_new_mem_buf(cfg->clientkey_buf, (int)cfg->clientkey_bytes);
            pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
            if (pk == NULL) {
                const unsigned char *p = cfg->clientkey_buf;
                pk = d2i_AutoPrivateKey(NULL, &p, (long)cfg->clientkey_bytes);
            }
            BIO_free(b);
        }
        if (pk == NULL || SSL_CTX_use_PrivateKey(t->ctx, pk) != 1 || SSL_CTX_check_private_key(t->ctx) != 1) {
            EVP_PKEY_free(pk);
            espsec_fail(&t->last, ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED,
                        "%sthe client key could not be read or does not match the client certificate",
                        named(cfg->clientkey_name, nm, sizeof(nm)));
            return fail_conn(t, err);
        }
        EVP_PKEY_free(pk);
    }
    if (cfg->insecure) {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
        fprintf(cfg->warn ? cfg->warn : stderr,
                "espsec: warning: TLS certificate verification is OFF for %s: anyone on the path can impersonate "
                "the server\n",
                host);
    } else {
        SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
        SSL_CTX_set_cert_verify_callback(t->ctx, app_verify, NULL);
        /* every CA certificate given is an anchor, as in mbedTLS: pinning an intermediate works */
        X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(t->ctx), X509_V_FLAG_PARTIAL_CHAIN);
    }
    t->ssl = SSL_new(t->ctx);
    if (t->ssl == NULL) {
        espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_SETUP_FAILED, "TLS setup failed");
        return fail_conn(t, err);
    }
    SSL_set_ex_data(t->ssl, g_ex_idx, t);
    const char *name = cfg->common_name ? cfg->common_name : host;
    if (!is_ip(name)) {
        SSL_set_tlsext_host_name(t->ssl, name);
    }
    if (!cfg->insecure && !cfg->skip_common_name) {
        if (is_ip(name)) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name);
        } else {
            SSL_set1_host(t->ssl, name);
        }
    }
    if (cfg->alpn_protos != NULL && cfg->alpn_protos[0] != NULL) {
        unsigned char wire[256];
        size_t wl = 0;
        for (size_t i = 0; cfg->alpn_protos[i] != NULL; i++) {
            size_t l = strlen(cfg->alpn_protos[i]);
            if (l == 0 || l > 255 || wl + l + 1 > sizeof(wire)) {
                espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED, "ALPN list too long or empty name");
                return fail_conn(t, err);
            }
            wire[wl++] = (unsigned char)l;
            memcpy(wire + wl, cfg->alpn_protos[i], l);
            wl += l;
        }
        SSL_set_alpn_protos(t->ssl, wire, (unsigned)wl);
    }
    espsec_error_t ce;
    t->fd = tls_tcp_connect(host, port, t->timeout_ms, &ce);
    if (t->fd < 0) {
        t->last = ce;
        return fail_conn(t, err);
    }
    SSL_set_fd(t->ssl, t->fd);
    long long deadline = now_ms() + t->timeout_ms;
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(t->ssl);
        if (r == 1) {
            break;
        }
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = wait_fd(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (w > 0) {
                continue;
            }
            espsec_fail(&t->last, ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT,
                        "TLS handshake with %s:%d timed out after %d ms (is it a TLS server?)", host, port,
                        t->timeout_ms);
            return fail_conn(t, err);
        }
        long vr = SSL_get_verify_result(t->ssl);
        char reason[256];
        if (vr != X509_V_OK) {
            X509 *peer = SSL_get1_peer_certificate(t->ssl);
            char subj[160] = "";
            if (peer != NULL) {
                X509_NAME_oneline(X509_get_subject_name(peer), subj, sizeof(subj));
                X509_free(peer);
            }
            ERR_clear_error();
            espsec_fail(&t->last, ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED,
                        "the certificate of %s:%d is not trusted: %s%s%s%s", host, port,
                        X509_verify_cert_error_string(vr), subj[0] ? " (server certificate " : "", subj,
                        subj[0] ? ")" : "");
            if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
                size_t l = strlen(t->last.msg);
                snprintf(t->last.msg + l, sizeof(t->last.msg) - l, "; it is not valid for the name '%s'", name);
            }
            return fail_conn(t, err);
        }
        ssl_reason(reason, sizeof(reason));
        if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
            espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED,
                        "%s:%d closed the connection during the TLS handshake", host, port);
        } else if (strstr(reason, "wrong version number") || strstr(reason, "packet length too long") ||
                   strstr(reason, "record layer failure") || strstr(reason, "unknown protocol")) {
            espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED,
                        "%s:%d does not speak TLS (its reply is not a TLS record: %s)", host, port, reason);
        } else {
            espsec_fail(&t->last, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "TLS handshake with %s:%d failed: %s", host,
                        port, reason);
        }
        return fail_conn(t, err);
    }
    const unsigned char *ap = NULL;
    unsigned apl = 0;
    SSL_get0_alpn_selected(t->ssl, &ap, &apl);
    if (ap != NULL && apl < sizeof(t->alpn)) {
        memcpy(t->alpn, ap, apl);
        t->alpn[apl] = '\0';
    }
    t->bundle = NULL; /* the configuration's buffer is not kept */
    *out = t;
    return ESPSEC_OK;
}

espsec_err_t espsec_tls_conn_http_new(const char *url, const espsec_tls_cfg_t *cfg, espsec_tls_t **out,
                                      espsec_error_t *err)
{
    char host[256], path[8];
    int port;
    if (espsec_tls_parse_url(url, host, sizeof(host), &port, path, sizeof(path), err) != ESPSEC_OK) {
        return err ? err->code : ESPSEC_ERR_PARSE;
    }
    return espsec_tls_conn_new(host, port, cfg, out, err);
}

static ssize_t io(espsec_tls_t *t, void *buf, size_t len, int writing)
{
    long long deadline = now_ms() + t->timeout_ms;
    for (;;) {
        ERR_clear_error();
        int r = writing ? SSL_write(t->ssl, buf, (int)len) : SSL_read(t->ssl, buf, (int)len);
        if (r > 0) {
            return r;
        }
        int e = SSL_get_error(t->ssl, r);
        if (!writing && e == SSL_ERROR_ZERO_RETURN) {
            return 0;
        }
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (wait_fd(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) > 0) {
                continue;
            }
            espsec_fail(&t->last, ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT, "TLS %s timed out after %d ms",
                        writing ? "write" : "read", t->timeout_ms);
            return -1;
        }
        int eof = e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
        char reason[256];
        ssl_reason(reason, sizeof(reason));
        if (!writing && (e == SSL_ERROR_SYSCALL || eof)) {
            /* closed without close_notify: esp_tls treats it as the end (ESP_ERR_ESP_TLS_TCP_CLOSED_FIN) */
            espsec_fail(&t->last, ESP_ERR_ESP_TLS_TCP_CLOSED_FIN, "the server closed the connection");
            return 0;
        }
        espsec_fail(&t->last, writing ? ESP_ERR_MBEDTLS_SSL_WRITE_FAILED : ESP_ERR_MBEDTLS_SSL_READ_FAILED, "TLS %s "
                                                                                                           "failed: %s",
                    writing ? "write" : "read", reason);
        return -1;
    }
}

ssize_t espsec_tls_conn_write(espsec_tls_t *t, const void *buf, size_t len)
{
    return io(t, (void *)buf, len, 1);
}

ssize_t espsec_tls_conn_read(espsec_tls_t *t, void *buf, size_t len)
{
    return io(t, buf, len, 0);
}

size_t espsec_tls_get_bytes_avail(espsec_tls_t *t)
{
    return (size_t)SSL_pending(t->ssl);
}

const char *espsec_tls_alpn(const espsec_tls_t *t)
{
    return t->alpn;
}

const char *espsec_tls_version(const espsec_tls_t *t)
{
    return SSL_get_version(t->ssl);
}

espsec_err_t espsec_tls_last_error(const espsec_tls_t *t, espsec_error_t *err)
{
    if (err != NULL) {
        *err = t->last;
    }
    return t->last.code;
}

void espsec_tls_conn_destroy(espsec_tls_t *t)
{
    if (t == NULL) {
        return;
    }
    if (t->ssl != NULL) {
        SSL_free(t->ssl);
    }
    SSL_CTX_free(t->ctx);
    if (t->fd >= 0) {
        close(t->fd);
    }
    free(t);
}
