/*
 * The TLS client and the CA tools against real servers on loopback:
 * openssl s_server and nginx, serving a CA hierarchy made here (root ->
 * intermediate -> leaf, ECDSA and RSA). Each case asserts success or the
 * exact error. argv[1] is the espsec binary for the CLI cases.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include <openssl/ssl.h>

#include "espsec/tls.h"
#include "test.h"

static char DIR_[256];
static const char *ESPSEC;

/* ---- a CA hierarchy ---- */

typedef struct {
    EVP_PKEY *key;
    X509 *crt;
} cert_t;

static EVP_PKEY *make_key(int rsa)
{
    return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

static cert_t ALL[32];
static int NALL;

static void free_all(void)
{
    for (int i = 0; i < NALL; i++) {
        EVP_PKEY_free(ALL[i].key);
        X509_free(ALL[i].crt);
    }
}

/* days_from/days_to relative to now; issuer NULL: self-signed. */
static cert_t make_cert(const char *cn, const cert_t *issuer, int rsa, int is_ca, const char *san, long days_from,
                        long days_to)
{
    static long serial = 1;
    cert_t c = {make_key(rsa), X509_new()};
    X509_set_version(c.crt, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.crt), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c.crt), days_from * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c.crt), days_to * 86400);
    X509_NAME *n = X509_get_subject_name(c.crt);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"espsec test", -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c.crt, issuer ? X509_get_subject_name(issuer->crt) : n);
    X509_set_pubkey(c.crt, c.key);
    add_ext(c.crt, issuer ? issuer->crt : NULL, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "CA:FALSE");
    add_ext(c.crt, issuer ? issuer->crt : NULL, NID_subject_key_identifier, "hash");
    if (issuer) {
        add_ext(c.crt, issuer->crt, NID_authority_key_identifier, "keyid");
    }
    if (is_ca) {
        add_ext(c.crt, NULL, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(c.crt, NULL, NID_ext_key_usage, "serverAuth,clientAuth");
    }
    if (san != NULL) {
        add_ext(c.crt, NULL, NID_subject_alt_name, san);
    }
    X509_sign(c.crt, issuer ? issuer->key : c.key, EVP_sha256());
    if (NALL < 32) {
        ALL[NALL++] = c;
    }
    return c;
}

static void write_pem(const char *name, const cert_t *c, const cert_t *chain1, const cert_t *chain2)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s.pem", DIR_, name);
    FILE *f = fopen(path, "w");
    PEM_write_X509(f, c->crt);
    if (chain1) {
        PEM_write_X509(f, chain1->crt);
    }
    if (chain2) {
        PEM_write_X509(f, chain2->crt);
    }
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s.key", DIR_, name);
    f = fopen(path, "w");
    PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static uint8_t *file_bytes(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", DIR_, name);
    uint8_t *b = NULL;
    espsec_error_t err;
    if (espsec_read_file(path, &b, len, 0, &err) != ESPSEC_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(2);
    }
    return b;
}

/* ---- servers ---- */

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof(a));
    socklen_t l = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

static int wait_listening(int port)
{
    for (int i = 0; i < 300; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        if (ok) {
            return 0;
        }
        usleep(10000);
    }
    return -1;
}

/* openssl s_server with a leaf (file base name), chain file (or NULL) and extra arguments. */
static pid_t s_server(int port, const char *leaf, const char *chain, const char *const *extra)
{
    char cert[512], key[512], chainp[512], acc[64];
    snprintf(cert, sizeof(cert), "%s/%s.pem", DIR_, leaf);
    snprintf(key, sizeof(key), "%s/%s.key", DIR_, leaf);
    snprintf(acc, sizeof(acc), "127.0.0.1:%d", port);
    const char *argv[40] = {"openssl", "s_server", "-accept", acc, "-cert", cert, "-key", key, "-www", "-quiet"};
    int n = 10;
    if (chain != NULL) {
        snprintf(chainp, sizeof(chainp), "%s/%s.pem", DIR_, chain);
        argv[n++] = "-cert_chain";
        argv[n++] = chainp;
    }
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 38; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int nul = open("/dev/null", 1);
        dup2(nul, 1);
        dup2(nul, 2);
        execvp("openssl", (char *const *)argv);
        _exit(127);
    }
    if (wait_listening(port) != 0) {
        fprintf(stderr, "openssl s_server did not start on %d\n", port);
        t_failures++;
    }
    return pid;
}

static void stop(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

/* A TCP server that does something wrong: 0 closes after reading a little, 1 answers plain HTTP, 2 never speaks. */
typedef struct {
    int fd, mode;
} bad_t;

static void *bad_server(void *arg)
{
    bad_t *b = arg;
    int c = accept(b->fd, NULL, NULL);
    if (c >= 0) {
        char buf[64];
        if (b->mode == 0) {
            (void)read(c, buf, sizeof(buf));
        } else if (b->mode == 1) {
            (void)read(c, buf, sizeof(buf));
            const char *r = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
            (void)write(c, r, strlen(r));
        } else {
            sleep(2);
        }
        close(c);
    }
    return NULL;
}

static int bad_listen(int *port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof(a));
    listen(s, 4);
    socklen_t l = sizeof(a);
    getsockname(s, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return s;
}

/* A TLS server thread that answers one request with fixed bytes (then extra filler bytes), then:
 * 0 sends close_notify, 1 closes the socket without it, 2 keeps the connection open for 4 s. */
typedef struct {
    int fd, port, mode;
    const char *reply;
    size_t filler; /* bytes of 'x' after the reply */
    SSL_CTX *ctx;
    pthread_t th;
} canned_t;

static void *canned_server(void *arg)
{
    canned_t *c = arg;
    int fd = accept(c->fd, NULL, NULL);
    if (fd < 0) {
        return NULL;
    }
    SSL *ssl = SSL_new(c->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        char req[4096];
        size_t got = 0;
        int r;
        while (got < sizeof(req) - 1 && (r = SSL_read(ssl, req + got, (int)(sizeof(req) - 1 - got))) > 0) {
            got += (size_t)r;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL) {
                break;
            }
        }
        int ok = SSL_write(ssl, c->reply, (int)strlen(c->reply)) > 0;
        static char xs[65536];
        memset(xs, 'x', sizeof(xs));
        for (size_t left = c->filler; ok && left > 0;) {
            size_t n = left < sizeof(xs) ? left : sizeof(xs);
            ok = SSL_write(ssl, xs, (int)n) == (int)n;
            left -= n;
        }
        if (c->mode == 0) {
            SSL_shutdown(ssl);
        } else if (c->mode == 2) {
            sleep(4);
        }
    }
    SSL_free(ssl); /* no close_notify unless sent above */
    close(fd);
    return NULL;
}

static void canned_start(canned_t *c, SSL_CTX *ctx, const char *reply, size_t filler, int mode)
{
    c->fd = bad_listen(&c->port);
    c->ctx = ctx;
    c->reply = reply;
    c->filler = filler;
    c->mode = mode;
    pthread_create(&c->th, NULL, canned_server, c);
}

static void canned_stop(canned_t *c)
{
    pthread_join(c->th, NULL);
    close(c->fd);
}

static SSL_CTX *server_ctx(const char *leaf_chain, const char *key)
{
    char cp[512], kp[512];
    snprintf(cp, sizeof(cp), "%s/%s", DIR_, leaf_chain);
    snprintf(kp, sizeof(kp), "%s/%s", DIR_, key);
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (SSL_CTX_use_certificate_chain_file(ctx, cp) != 1 || SSL_CTX_use_PrivateKey_file(ctx, kp, SSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "server certificate %s not loaded\n", cp);
        t_failures++;
    }
    return ctx;
}

/* ---- cases ---- */

typedef struct {
    const char *ca;     /* CA file name, or NULL */
    const char *cert, *key;
    int insecure, skip_cn;
    const char *cn;
    espsec_tls_version_t vmin, vmax;
    const char *const *alpn;
    int timeout_ms;
} client_t;

/* Connect; expect code (ESPSEC_OK or an error) and, when given, text in the message. */
static espsec_err_t try(const char *label, int port, const client_t *c, espsec_err_t want, const char *text,
                        espsec_tls_t **keep)
{
    size_t cal = 0, cl = 0, kl = 0;
    uint8_t *ca = c->ca ? file_bytes(c->ca, &cal) : NULL, *cert = c->cert ? file_bytes(c->cert, &cl) : NULL,
            *key = c->key ? file_bytes(c->key, &kl) : NULL;
    FILE *null = fopen("/dev/null", "w");
    espsec_tls_cfg_t cfg = {.cacert_buf = ca,
                            .cacert_bytes = cal,
                            .clientcert_buf = cert,
                            .clientcert_bytes = cl,
                            .clientkey_buf = key,
                            .clientkey_bytes = kl,
                            .insecure = c->insecure,
                            .skip_common_name = c->skip_cn,
                            .common_name = c->cn,
                            .tls_version_min = c->vmin,
                            .tls_version_max = c->vmax,
                            .alpn_protos = c->alpn,
                            .timeout_ms = c->timeout_ms ? c->timeout_ms : 3000,
                            .warn = null};
    espsec_tls_t *t = NULL;
    espsec_error_t err = {0};
    espsec_err_t rc = espsec_tls_conn_new("localhost", port, &cfg, &t, &err);
    t_checks++;
    if (rc != want || (text != NULL && strstr(err.msg, text) == NULL)) {
        fprintf(stderr, "FAIL %s: got %s \"%s\", expected %s \"%s\"\n", label, espsec_err_to_name(rc), err.msg,
                espsec_err_to_name(want), text ? text : "");
        t_failures++;
    }
    if (keep != NULL) {
        *keep = t;
    } else {
        espsec_tls_conn_destroy(t);
    }
    fclose(null);
    free(ca);
    free(cert);
    free(key);
    return rc;
}

/* Send a request, read the reply to the end; 1 when it holds want (or want2). */
static int reply_has(espsec_tls_t *t, const char *req, const char *want, const char *want2)
{
    if (espsec_tls_conn_write(t, req, strlen(req)) != (ssize_t)strlen(req)) {
        return 0;
    }
    char buf[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(buf) - 1 && (r = espsec_tls_conn_read(t, buf + got, sizeof(buf) - 1 - got)) > 0) {
        got += (size_t)r;
    }
    buf[got] = '\0';
    return strstr(buf, want) != NULL || (want2 != NULL && strstr(buf, want2) != NULL);
}

/* The s_server -www status page. */
static int http_ok(espsec_tls_t *t)
{
    return reply_has(t, "GET / HTTP/1.0\r\n\r\n", "200 ok", "200 OK");
}

/* GET / from nginx; 1 when the body holds want. */
static int nginx_says(espsec_tls_t *t, const char *want)
{
    return reply_has(t, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", want, NULL);
}

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* tls get against servers whose replies are framed right, wrong, or cut. */
static void get_cases(void)
{
    static const struct {
        const char *label, *reply;
        int mode, want_exit;
        const char *out, *err; /* stdout exactly, a part of the single stderr line */
    } G[] = {
        {"chunk size 2^64-1", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc\r\n", 0, 2,
         "abc\r\n", "body truncated: 5 bytes, the connection closed before the last chunk"},
        {"chunk size past 64 bits", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nabc",
         0, 2, "", "chunk size is not a hex number that fits 64 bits"},
        {"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, 2, "abc", "body truncated: 3 of 10 bytes"},
        {"short body, no close_notify", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 1, 2, "abc",
         "body truncated: 3 of 10 bytes"},
        {"complete, no close_notify", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 1, 0, "hello", NULL},
        {"stops at Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA", 2, 0, "hello", NULL},
        {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 2, 0,
         "hello world", NULL},
        {"no last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 0, 2, "hello",
         "before the last chunk"},
        {"to the close, close_notify", "HTTP/1.0 200 OK\r\n\r\nall of it", 0, 0, "all of it", NULL},
        {"to the close, no close_notify", "HTTP/1.0 200 OK\r\n\r\nall of it", 1, 2, "all of it",
         "ended without a TLS close_notify"},
        {"404 with a body", "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ngone", 1, 2, "gone", "HTTP status 404"},
        {"not HTTP", "SSH-2.0-OpenSSH_9.6\r\n", 0, 2, "", "not an HTTP/1.x status line"},
    };
    SSL_CTX *ctx = server_ctx("leaf_chain.pem", "leaf.key");
    for (size_t i = 0; i < sizeof(G) / sizeof(G[0]); i++) {
        canned_t c;
        canned_start(&c, ctx, G[i].reply, 0, G[i].mode);
        char outp[512];
        snprintf(outp, sizeof(outp), "%s/g.out", DIR_);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = run("%s tls get https://localhost:%d/ --cacert %s/root.pem --timeout 3000 > %s 2> %s/g.err", ESPSEC,
                     c.port, DIR_, outp, DIR_);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        size_t ol = 0;
        uint8_t *out = file_bytes("g.out", &ol);
        size_t el = 0;
        uint8_t *e = file_bytes("g.err", &el);
        char *errs = calloc(1, el + 1);
        memcpy(errs, e, el);
        int lines = 0;
        for (size_t k = 0; k < el; k++) {
            lines += errs[k] == '\n';
        }
        int ok = rc == G[i].want_exit && ol == strlen(G[i].out) && memcmp(out, G[i].out, ol) == 0 &&
                 (G[i].err == NULL ? el == 0 : (strstr(errs, G[i].err) != NULL && lines == 1));
        /* stopping at the end of the body: no wait for the server to close */
        if (G[i].mode == 2) {
            ok = ok && t1.tv_sec - t0.tv_sec < 3;
        }
        t_checks++;
        if (!ok) {
            fprintf(stderr, "FAIL tls get %s: exit %d, stdout %zu bytes, stderr '%s'\n", G[i].label, rc, ol, errs);
            t_failures++;
        }
        free(out);
        free(e);
        free(errs);
        canned_stop(&c);
    }
    /* more than the 256 MiB the old client buffered: streamed, all of it, in little memory */
    {
        const size_t big = (size_t)272 << 20;
        char reply[128];
        snprintf(reply, sizeof(reply), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big);
        canned_t c;
        canned_start(&c, ctx, reply, big, 0);
        CHECK(run("/usr/bin/time -f %%M -o %s/rss %s tls get https://localhost:%d/ --cacert %s/root.pem | wc -c > %s/n",
                  DIR_, ESPSEC, c.port, DIR_, DIR_) == 0);
        size_t l = 0;
        uint8_t *n = file_bytes("n", &l), *rss = file_bytes("rss", &l);
        CHECK(strtoull((const char *)n, NULL, 10) == big);
        CHECK(strtoull((const char *)rss, NULL, 10) < 64 * 1024); /* KiB: far below the body's size */
        free(n);
        free(rss);
        canned_stop(&c);
    }
    SSL_CTX_free(ctx);
}

int main(int argc, char **argv)
{
    ESPSEC = argc > 1 ? argv[1] : NULL;
    snprintf(DIR_, sizeof(DIR_), "/tmp/espsec-tls-XXXXXX");
    if (mkdtemp(DIR_) == NULL) {
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* the hierarchy: EC root -> RSA intermediate -> EC leaves; a second root; a client CA */
    const char *san = "DNS:localhost,IP:127.0.0.1";
    cert_t root = make_cert("Test Root CA", NULL, 0, 1, NULL, -1, 3650);
    cert_t inter = make_cert("Test Intermediate", &root, 1, 1, NULL, -1, 1825);
    cert_t leaf = make_cert("localhost", &inter, 0, 0, san, -1, 365);
    cert_t rsa_leaf = make_cert("localhost", &inter, 1, 0, san, -1, 365);
    cert_t expired = make_cert("localhost", &inter, 0, 0, san, -30, -1);
    cert_t notyet = make_cert("localhost", &inter, 0, 0, san, 10, 400);
    cert_t wrongname = make_cert("other.example", &inter, 0, 0, "DNS:other.example", -1, 365);
    cert_t selfsigned = make_cert("localhost", NULL, 0, 0, san, -1, 365);
    cert_t other_root = make_cert("Other Root CA", NULL, 0, 1, NULL, -1, 3650);
    cert_t client_ca = make_cert("Client CA", NULL, 0, 1, NULL, -1, 3650);
    cert_t client = make_cert("device-0001", &client_ca, 0, 0, NULL, -1, 365);
    cert_t rogue_client = make_cert("device-0001", &other_root, 0, 0, NULL, -1, 365);
    cert_t short_root = make_cert("Short Root CA", NULL, 0, 1, NULL, -1, 200);
    cert_t short_leaf = make_cert("localhost", &short_root, 0, 0, san, -1, 100);
    write_pem("root", &root, NULL, NULL);
    write_pem("inter", &inter, NULL, NULL);
    write_pem("inter_root", &inter, &root, NULL);
    write_pem("leaf", &leaf, NULL, NULL);
    write_pem("rsa_leaf", &rsa_leaf, NULL, NULL);
    write_pem("expired", &expired, NULL, NULL);
    write_pem("notyet", &notyet, NULL, NULL);
    write_pem("wrongname", &wrongname, NULL, NULL);
    write_pem("selfsigned", &selfsigned, NULL, NULL);
    write_pem("other_root", &other_root, NULL, NULL);
    write_pem("client_ca", &client_ca, NULL, NULL);
    write_pem("client", &client, NULL, NULL);
    write_pem("rogue_client", &rogue_client, NULL, NULL);
    write_pem("short_root", &short_root, NULL, NULL);
    write_pem("short_leaf", &short_leaf, NULL, NULL);
    /* names as mbedTLS checks them: the CN counts only without any SAN */
    cert_t nosan = make_cert("localhost", &inter, 0, 0, NULL, -1, 365);
    cert_t ipsan = make_cert("localhost", &inter, 0, 0, "IP:127.0.0.1", -1, 365);
    cert_t othersan = make_cert("localhost", &inter, 0, 0, "DNS:other.example", -1, 365);
    cert_t wildcard = make_cert("wild", &inter, 0, 0, "DNS:*host", -1, 365);
    write_pem("nosan", &nosan, NULL, NULL);
    write_pem("ipsan", &ipsan, NULL, NULL);
    write_pem("othersan", &othersan, NULL, NULL);
    write_pem("wildcard", &wildcard, NULL, NULL);
    write_pem("leaf_chain", &leaf, &inter, NULL);
    if (ESPSEC != NULL) {
        get_cases();
    }

    int port = free_port();
    const char *alpn_args[] = {"-alpn", "h2,http/1.1", NULL};
    pid_t srv = s_server(port, "leaf", "inter", alpn_args);
    client_t ok = {.ca = "root.pem"};
    espsec_tls_t *t = NULL;
    /* valid chain (EC leaf, RSA intermediate), an HTTP exchange over it */
    if (try("valid chain", port, &ok, ESPSEC_OK, NULL, &t) == ESPSEC_OK) {
        CHECK(http_ok(t));
        CHECK(strcmp(espsec_tls_version(t), "TLSv1.3") == 0);
        espsec_tls_conn_destroy(t);
    }
    /* secure by default: no CA is refused and says how to get one */
    client_t none = {0};
    try("no CA", port, &none, ESP_ERR_ESP_TLS_NO_CA, "espsec tls fetch-ca localhost:", NULL);
    client_t insecure = {.insecure = 1};
    try("insecure", port, &insecure, ESPSEC_OK, NULL, NULL);
    client_t wrong_ca = {.ca = "other_root.pem"};
    try("wrong CA", port, &wrong_ca, ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "unable to get local issuer certificate",
        NULL);
    client_t cn = {.ca = "root.pem", .cn = "other.example"};
    try("common_name override mismatch", port, &cn, ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "not valid for the name",
        NULL);
    client_t skip = {.ca = "root.pem", .cn = "other.example", .skip_cn = 1};
    try("skip_common_name", port, &skip, ESPSEC_OK, NULL, NULL);
    /* every CA given is an anchor, as in mbedTLS: pinning only the intermediate works */
    client_t pin_inter = {.ca = "inter.pem"};
    try("intermediate pinned", port, &pin_inter, ESPSEC_OK, NULL, NULL);
    /* ALPN */
    const char *h2[] = {"h2", NULL}, *none_alpn[] = {"imap", NULL};
    client_t alpn = {.ca = "root.pem", .alpn = h2};
    if (try("ALPN h2", port, &alpn, ESPSEC_OK, NULL, &t) == ESPSEC_OK) {
        CHECK(strcmp(espsec_tls_alpn(t), "h2") == 0);
        espsec_tls_conn_destroy(t);
    }
    client_t alpn2 = {.ca = "root.pem", .alpn = none_alpn};
    try("ALPN no overlap", port, &alpn2, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "no application protocol", NULL);
    /* the CA as DER, and through the global store, and through a bundle */
    {
        unsigned char *der = NULL;
        int dl = i2d_X509(root.crt, &der);
        espsec_tls_cfg_t cfg = {.cacert_buf = der, .cacert_bytes = (size_t)dl, .timeout_ms = 3000};
        espsec_error_t err;
        t_checks++;
        if (espsec_tls_conn_new("localhost", port, &cfg, &t, &err) != ESPSEC_OK) {
            fprintf(stderr, "FAIL DER CA: %s\n", err.msg);
            t_failures++;
        } else {
            espsec_tls_conn_destroy(t);
        }
        CHECK_OK(espsec_tls_set_global_ca_store(der, (size_t)dl, &err));
        espsec_tls_cfg_t g = {.use_global_ca_store = 1, .timeout_ms = 3000};
        CHECK_OK(espsec_tls_conn_new("localhost", port, &g, &t, &err));
        espsec_tls_conn_destroy(t);
        espsec_tls_free_global_ca_store();
        CHECK(espsec_tls_conn_new("localhost", port, &g, &t, &err) == ESP_ERR_ESP_TLS_NO_CA);
        /* a bundle holding the root: accepted; one holding another root: refused */
        const uint8_t *in[1] = {der};
        size_t inl[1] = {(size_t)dl}, bl = 0, count = 0;
        uint8_t *bundle = NULL;
        CHECK_OK(espsec_crt_bundle_create(in, inl, 1, &bundle, &bl, &count, &err));
        espsec_tls_cfg_t b = {.crt_bundle = bundle, .crt_bundle_len = bl, .timeout_ms = 3000};
        CHECK_OK(espsec_tls_conn_new("localhost", port, &b, &t, &err));
        espsec_tls_conn_destroy(t);
        espsec_bundle_entry_t *ents = NULL;
        size_t ne = 0;
        CHECK_OK(espsec_crt_bundle_list(bundle, bl, &ents, &ne, &err));
        CHECK(ne == 1 && strstr(ents[0].subject, "Test Root CA") != NULL && strcmp(ents[0].key_type, "EC-256") == 0);
        free(ents);
        free(bundle);
        unsigned char *oder = NULL;
        int odl = i2d_X509(other_root.crt, &oder);
        in[0] = oder;
        inl[0] = (size_t)odl;
        CHECK_OK(espsec_crt_bundle_create(in, inl, 1, &bundle, &bl, &count, &err));
        b.crt_bundle = bundle;
        b.crt_bundle_len = bl;
        CHECK(espsec_tls_conn_new("localhost", port, &b, &t, &err) == ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED);
        /* a malformed bundle is refused before connecting */
        bundle[0] = 3;
        CHECK(espsec_tls_conn_new("localhost", port, &b, &t, &err) == ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED);
        CHECK_MSG(err, "CA bundle");
        free(bundle);
        OPENSSL_free(oder);
        OPENSSL_free(der);
        client_t junk = {.ca = "leaf.key"};
        try("CA buffer without a certificate", port, &junk, ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED, "no certificate",
            NULL);
    }
    /* fetch-ca: the server sends leaf + intermediate; the root comes from the store given */
    {
        espsec_fetched_chain_t ch;
        espsec_error_t err;
        char store[512];
        snprintf(store, sizeof(store), "%s/root.pem", DIR_);
        CHECK_OK(espsec_tls_fetch_chain("localhost", port, NULL, store, NULL, 3000, &ch, &err));
        CHECK(ch.count == 2 && ch.anchor_from_store && ch.chain_verified);
        espsec_cert_info_t ai;
        CHECK_OK(espsec_cert_info(ch.anchor, ch.anchor_len, &ai, &err));
        CHECK(strstr(ai.subject, "CN=Test Root CA") != NULL && ai.self_signed && ai.is_ca);
        espsec_fetched_chain_free(&ch);
        /* without the root in the store there is no anchor */
        snprintf(store, sizeof(store), "%s/other_root.pem", DIR_);
        CHECK_OK(espsec_tls_fetch_chain("localhost", port, NULL, store, NULL, 3000, &ch, &err));
        CHECK(ch.anchor == NULL && strstr(ch.verify_error, "not in the trust store") != NULL);
        espsec_fetched_chain_free(&ch);
    }
    if (ESPSEC != NULL) {
        /* the CLI: get, fetch-ca with --embed */
        CHECK(run("%s tls get https://localhost:%d/ --cacert %s/root.pem > %s/get.out 2>&1", ESPSEC, port, DIR_,
                  DIR_) == 0);
        CHECK(run("grep -q 'Ciphers supported' %s/get.out", DIR_) == 0);
        CHECK(run("%s tls get https://localhost:%d/ > %s/get2.out 2>&1", ESPSEC, port, DIR_) == 2);
        CHECK(run("grep -q 'no CA certificate given' %s/get2.out && [ $(wc -l < %s/get2.out) -eq 1 ]", DIR_, DIR_) ==
              0);
        CHECK(run("%s tls get https://localhost:%d/ --insecure > %s/get3.out 2> %s/get3.err", ESPSEC, port, DIR_,
                  DIR_) == 0);
        CHECK(run("grep -q 'verification is OFF' %s/get3.err", DIR_) == 0);
        CHECK(run("%s tls fetch-ca localhost:%d --ca-store-file %s/root.pem --output %s/ca.pem --embed %s/ca.S > "
                  "%s/fetch.out 2>&1",
                  ESPSEC, port, DIR_, DIR_, DIR_, DIR_) == 0);
        CHECK(run("grep -q 'found in the trust store' %s/fetch.out && cmp -s %s/ca.pem %s/root.pem", DIR_, DIR_,
                  DIR_) == 0);
        CHECK(run("grep -q '_binary_ca_pem_start' %s/ca.S", DIR_) == 0);
        CHECK(run("%s tls get https://localhost:%d/ --cacert %s/ca.pem > /dev/null 2>&1", ESPSEC, port, DIR_) == 0);
        /* no anchor in the store: the reason is printed, with what to do */
        CHECK(run("%s tls fetch-ca localhost:%d --ca-store-file %s/other_root.pem -o %s/none.pem > /dev/null 2> "
                  "%s/none.err",
                  ESPSEC, port, DIR_, DIR_, DIR_) == 2);
        CHECK(run("grep -q 'no trust anchor: the last certificate the server sends (issued by .*Test Root CA.*) is "
                  "not self-signed and its issuer is not in the trust store (give the root' %s/none.err && "
                  "[ $(wc -l < %s/none.err) -eq 1 ] && [ ! -e %s/none.pem ]",
                  DIR_, DIR_, DIR_) == 0);
        /* --all writes the chain sent, said to be unanchored */
        CHECK(run("%s tls fetch-ca localhost:%d --ca-store-file %s/other_root.pem --all -o %s/all.pem > %s/all.out "
                  "2>&1",
                  ESPSEC, port, DIR_, DIR_, DIR_) == 0);
        CHECK(run("grep -q 'UNANCHORED' %s/all.out && cat %s/leaf.pem %s/inter.pem | cmp -s - %s/all.pem", DIR_, DIR_,
                  DIR_, DIR_) == 0);
        /* --last-sent takes the intermediate, with a warning, and the client accepts it as the only CA */
        CHECK(run("%s tls fetch-ca localhost:%d --ca-store-file %s/other_root.pem --last-sent -o %s/last.pem > "
                  "%s/last.out 2> %s/last.err",
                  ESPSEC, port, DIR_, DIR_, DIR_, DIR_) == 0);
        CHECK(run("grep -q 'warning: --last-sent: .*intermediate CA, not a root' %s/last.err && grep -q 'verifies "
                  "against it' %s/last.out && cmp -s %s/last.pem %s/inter.pem",
                  DIR_, DIR_, DIR_, DIR_) == 0);
        CHECK(run("%s tls get https://localhost:%d/ --cacert %s/last.pem > /dev/null 2>&1", ESPSEC, port, DIR_) == 0);
    }
    stop(srv);

    /* one server per failure case */
    struct {
        const char *label, *leaf, *chain;
        espsec_err_t want;
        const char *text;
    } bad[] = {
        {"expired leaf", "expired", "inter", ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "certificate has expired"},
        {"not yet valid", "notyet", "inter", ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "certificate is not yet valid"},
        {"hostname mismatch", "wrongname", "inter", ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "not valid for the name"},
        {"self-signed leaf", "selfsigned", NULL, ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "self-signed certificate"},
        {"intermediate omitted", "leaf", NULL, ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "unable to get local issuer"},
        {"RSA leaf", "rsa_leaf", "inter", ESPSEC_OK, NULL},
        {"no SAN: the CN is used", "nosan", "inter", ESPSEC_OK, NULL},
        {"IP-only SAN: the CN is not used", "ipsan", "inter", ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED,
         "not valid for the name 'localhost'"},
        {"DNS SAN of another name: the CN is not used", "othersan", "inter", ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED,
         "not valid for the name 'localhost'"},
        {"partial wildcard", "wildcard", "inter", ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, "not valid for the name"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        port = free_port();
        srv = s_server(port, bad[i].leaf, bad[i].chain, NULL);
        try(bad[i].label, port, &ok, bad[i].want, bad[i].text, NULL);
        if (strcmp(bad[i].leaf, "selfsigned") == 0) {
            /* pinning the self-signed certificate itself works, and fetch-ca picks it */
            client_t pin = {.ca = "selfsigned.pem"};
            try("self-signed pinned", port, &pin, ESPSEC_OK, NULL, NULL);
            espsec_fetched_chain_t ch;
            espsec_error_t err;
            CHECK_OK(espsec_tls_fetch_chain("localhost", port, NULL, NULL, NULL, 3000, &ch, &err));
            CHECK(ch.anchor != NULL && !ch.anchor_from_store && ch.chain_verified);
            espsec_fetched_chain_free(&ch);
        }
        if (strcmp(bad[i].label, "intermediate omitted") == 0) {
            espsec_fetched_chain_t ch;
            espsec_error_t err;
            char store[512];
            snprintf(store, sizeof(store), "%s/root.pem", DIR_);
            CHECK_OK(espsec_tls_fetch_chain("localhost", port, NULL, store, NULL, 3000, &ch, &err));
            CHECK(ch.count == 1 && ch.anchor == NULL); /* the leaf's issuer is the intermediate, not in the store */
            espsec_fetched_chain_free(&ch);
            try("intermediate pinned, server sends the leaf only", port, &pin_inter, ESPSEC_OK, NULL, NULL);
        }
        stop(srv);
    }
    /* the server sends its root too: fetch-ca picks the last one sent; a root expiring soon is flagged */
    port = free_port();
    srv = s_server(port, "leaf", "inter_root", NULL);
    {
        espsec_fetched_chain_t ch;
        espsec_error_t err;
        CHECK_OK(espsec_tls_fetch_chain("localhost", port, NULL, NULL, NULL, 3000, &ch, &err));
        CHECK(ch.count == 3 && !ch.anchor_from_store && ch.chain_verified);
        espsec_fetched_chain_free(&ch);
    }
    stop(srv);
    port = free_port();
    srv = s_server(port, "short_leaf", NULL, NULL);
    if (ESPSEC != NULL) {
        CHECK(run("%s tls fetch-ca localhost:%d --ca-store-file %s/short_root.pem -o %s/short.pem > %s/short.out 2>&1",
                  ESPSEC, port, DIR_, DIR_, DIR_) == 0);
        CHECK(run("grep -q 'WARNING: this anchor expires' %s/short.out", DIR_) == 0);
    }
    stop(srv);
    /* TLS 1.2 and 1.3 each */
    const char *only12[] = {"-tls1_2", NULL}, *only13[] = {"-tls1_3", NULL};
    port = free_port();
    srv = s_server(port, "leaf", "inter", only12);
    if (try("TLS 1.2 server", port, &ok, ESPSEC_OK, NULL, &t) == ESPSEC_OK) {
        CHECK(strcmp(espsec_tls_version(t), "TLSv1.2") == 0);
        CHECK(http_ok(t));
        espsec_tls_conn_destroy(t);
    }
    client_t want13 = {.ca = "root.pem", .vmin = ESPSEC_TLS_VER_1_3};
    try("1.3 client, 1.2 server", port, &want13, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "protocol version", NULL);
    stop(srv);
    port = free_port();
    srv = s_server(port, "leaf", "inter", only13);
    client_t want12 = {.ca = "root.pem", .vmax = ESPSEC_TLS_VER_1_2};
    try("1.2 client, 1.3 server", port, &want12, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, NULL, NULL);
    stop(srv);
    /* mutual TLS: accepted with the right client certificate, refused without or with another */
    char cafile[512];
    snprintf(cafile, sizeof(cafile), "%s/client_ca.pem", DIR_);
    const char *mtls[] = {"-Verify", "1", "-verify_return_error", "-CAfile", cafile, "-tls1_2", NULL};
    port = free_port();
    srv = s_server(port, "leaf", "inter", mtls);
    client_t mc = {.ca = "root.pem", .cert = "client.pem", .key = "client.key"};
    if (try("mTLS accepted", port, &mc, ESPSEC_OK, NULL, &t) == ESPSEC_OK) {
        CHECK(http_ok(t));
        espsec_tls_conn_destroy(t);
    }
    try("mTLS no client cert", port, &ok, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "alert", NULL);
    client_t rogue = {.ca = "root.pem", .cert = "rogue_client.pem", .key = "rogue_client.key"};
    try("mTLS wrong client cert", port, &rogue, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "alert", NULL);
    client_t mismatch = {.ca = "root.pem", .cert = "client.pem", .key = "leaf.key"};
    try("client key not matching", port, &mismatch, ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED, "does not match", NULL);
    stop(srv);
    /* servers that misbehave; a closed port; a silent server */
    for (int mode = 0; mode < 3; mode++) {
        int bp;
        bad_t b = {bad_listen(&bp), mode};
        pthread_t th;
        pthread_create(&th, NULL, bad_server, &b);
        client_t quick = {.ca = "root.pem", .timeout_ms = 500};
        if (mode == 0) {
            try("closes mid-handshake", bp, &quick, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "closed the connection during",
                NULL);
        } else if (mode == 1) {
            try("not a TLS server", bp, &quick, ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED, "does not speak TLS", NULL);
        } else {
            try("silent server", bp, &quick, ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT, "timed out", NULL);
        }
        pthread_join(th, NULL);
        close(b.fd);
    }
    int closed = free_port();
    client_t quick = {.ca = "root.pem", .timeout_ms = 500};
    try("closed port", closed, &quick, ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST, "Connection refused", NULL);
    {
        espsec_tls_cfg_t cfg = {.insecure = 1, .timeout_ms = 500};
        espsec_error_t err;
        FILE *null = fopen("/dev/null", "w");
        cfg.warn = null;
        CHECK(espsec_tls_conn_new("no-such-host.invalid", 443, &cfg, &t, &err) == ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME);
        fclose(null);
    }

    /* nginx serving the full chain */
    const char *nginx = access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : NULL;
    CHECK(nginx != NULL); /* scripts/setup.sh installs it */
    if (nginx != NULL) {
        port = free_port();
        char conf[512];
        snprintf(conf, sizeof(conf), "%s/nginx.conf", DIR_);
        FILE *f = fopen(conf, "w");
        fprintf(f,
                "daemon off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/nginx.err;\nevents {}\n"
                "http {\n access_log off;\n client_body_temp_path %s;\n proxy_temp_path %s;\n fastcgi_temp_path %s;\n"
                " uwsgi_temp_path %s;\n scgi_temp_path %s;\n"
                " server {\n  listen 127.0.0.1:%d ssl;\n  server_name localhost;\n"
                "  ssl_certificate %s/leaf_chain.pem;\n  ssl_certificate_key %s/leaf.key;\n"
                "  ssl_client_certificate %s/client_ca.pem;\n  ssl_verify_client optional;\n"
                "  location / { return 200 \"hello from nginx $ssl_client_verify\\n\"; }\n }\n}\n",
                DIR_, DIR_, DIR_, DIR_, DIR_, DIR_, DIR_, port, DIR_, DIR_, DIR_);
        fclose(f);
        write_pem("leaf_chain", &leaf, &inter, NULL);
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "%s/leaf.key", DIR_);
        write_pem("leaf", &leaf, NULL, NULL);
        pid_t ng = fork();
        if (ng == 0) {
            int nul = open("/dev/null", 1);
            dup2(nul, 2);
            execl(nginx, nginx, "-p", DIR_, "-c", conf, (char *)NULL);
            _exit(127);
        }
        if (wait_listening(port) == 0) {
            if (try("nginx valid chain", port, &ok, ESPSEC_OK, NULL, &t) == ESPSEC_OK) {
                CHECK(nginx_says(t, "hello from nginx NONE"));
                espsec_tls_conn_destroy(t);
            }
            try("nginx wrong CA", port, &wrong_ca, ESP_ERR_ESP_TLS_CERT_VERIFY_FAILED, NULL, NULL);
            if (try("nginx mTLS", port, &mc, ESPSEC_OK, NULL, &t) == ESPSEC_OK) {
                CHECK(nginx_says(t, "hello from nginx SUCCESS"));
                espsec_tls_conn_destroy(t);
            }
            espsec_fetched_chain_t ch;
            espsec_error_t err;
            char store[512];
            snprintf(store, sizeof(store), "%s/root.pem", DIR_);
            CHECK_OK(espsec_tls_fetch_chain("localhost", port, NULL, store, NULL, 3000, &ch, &err));
            CHECK(ch.count == 2 && ch.anchor_from_store && ch.chain_verified);
            espsec_fetched_chain_free(&ch);
            if (ESPSEC != NULL) {
                CHECK(run("%s tls get https://localhost:%d/ --cacert %s/root.pem | grep -q 'hello from nginx'", ESPSEC,
                          port, DIR_) == 0);
                CHECK(run("%s tls get https://127.0.0.1:%d/ --cacert %s/root.pem >/dev/null 2>&1", ESPSEC, port,
                          DIR_) == 0); /* the IP is in the SAN */
            }
        } else {
            fprintf(stderr, "nginx did not start\n");
            t_failures++;
        }
        stop(ng);
    }
    free_all();
    char rm[600];
    snprintf(rm, sizeof(rm), "rm -rf %s", DIR_);
    if (t_failures == 0) {
        (void)system(rm);
    } else {
        fprintf(stderr, "files kept in %s\n", DIR_);
    }
    return test_done();
}
