/* espsec tls (get, fetch-ca, bundle) and espsec embed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "espsec/io.h"
#include "espsec/tls.h"
#include "espsec/util.h"

static int read_opt_file(cli_args_t *a, const char *opt, uint8_t **buf, size_t *len)
{
    const char *p = cli_str(a, opt);
    *buf = NULL;
    *len = 0;
    if (p == NULL) {
        return 0;
    }
    espsec_error_t err;
    if (espsec_read_file(p, buf, len, 16u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (*len == 0) {
        free(*buf);
        *buf = NULL;
        return cli_error("%s: empty file (--%s: a certificate or key in PEM or DER expected)", p, opt);
    }
    return 0;
}

static int parse_host_port(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    *port = 443;
    size_t hl = strlen(s);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL) {
            return cli_error("'%s': unterminated [IPv6] address", s);
        }
        hl = (size_t)(close - s - 1);
        s++;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else if (colon != NULL) {
        hl = (size_t)(colon - s);
    }
    if (colon != NULL) {
        char *end;
        long v = strtol(colon + 1, &end, 10);
        if (*end != '\0' || v < 1 || v > 65535) {
            return cli_error("'%s': port 1-65535 expected after ':'", colon + 1);
        }
        *port = (int)v;
    }
    if (hl == 0 || hl >= cap) {
        return cli_error("no host given");
    }
    memcpy(host, s, hl);
    host[hl] = '\0';
    return 0;
}

/* ---- tls get ---- */

static int body_out(void *ctx, const uint8_t *data, size_t len)
{
    return fwrite(data, 1, len, (FILE *)ctx) == len ? 0 : -1;
}

static int cmd_get(cli_args_t *a)
{
    const char *url = cli_pos(a, 0);
    char host[256], path[2048];
    int port;
    espsec_error_t err;
    espsec_err_t rc = ESPSEC_OK;
    if (espsec_tls_parse_url(url, host, sizeof(host), &port, path, sizeof(path), &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    uint8_t *ca = NULL, *bundle = NULL, *cert = NULL, *key = NULL;
    size_t cal = 0, bl = 0, certl = 0, keyl = 0;
    int st = read_opt_file(a, "cacert", &ca, &cal);
    if (st == 0) {
        st = read_opt_file(a, "crt-bundle", &bundle, &bl);
    }
    if (st == 0) {
        st = read_opt_file(a, "cert", &cert, &certl);
    }
    if (st == 0) {
        st = read_opt_file(a, "key", &key, &keyl);
    }
    unsigned long long timeout = 0;
    if (st == 0 && cli_u64(a, "timeout", 10000, &timeout) != 0) {
        st = 2;
    }
    const char **alpn_vals = NULL;
    size_t nalpn = cli_list(a, "alpn", &alpn_vals);
    const char *alpn[17] = {0};
    for (size_t i = 0; i < nalpn && i < 16; i++) {
        alpn[i] = alpn_vals[i];
    }
    const char *tv = cli_str(a, "tls-version");
    espsec_tls_cfg_t cfg = {
        .cacert_buf = ca,
        .cacert_bytes = cal,
        .crt_bundle = bundle,
        .crt_bundle_len = bl,
        .clientcert_buf = cert,
        .clientcert_bytes = certl,
        .clientkey_buf = key,
        .clientkey_bytes = keyl,
        .alpn_protos = nalpn ? alpn : NULL,
        .timeout_ms = (int)timeout,
        .common_name = cli_str(a, "common-name"),
        .skip_common_name = cli_flag(a, "skip-common-name"),
        .insecure = cli_flag(a, "insecure"),
        .cacert_name = cli_str(a, "cacert"),
        .crt_bundle_name = cli_str(a, "crt-bundle"),
        .clientcert_name = cli_str(a, "cert"),
        .clientkey_name = cli_str(a, "key"),
    };
    if (tv != NULL) {
        if (strcmp(tv, "1.2") == 0) {
            cfg.tls_version_min = cfg.tls_version_max = ESPSEC_TLS_VER_1_2;
        } else if (strcmp(tv, "1.3") == 0) {
            cfg.tls_version_min = cfg.tls_version_max = ESPSEC_TLS_VER_1_3;
        } else {
            st = cli_error("--tls-version '%s': 1.2 or 1.3 expected", tv);
        }
    }
    espsec_tls_t *t = NULL;
    if (st == 0) {
        rc = espsec_tls_conn_new(host, port, &cfg, &t, &err);
        if (rc != ESPSEC_OK) {
            st = cli_error("%s (%s)", err.msg, espsec_err_to_name(rc));
        }
    }
    espsec_free_secret(key, keyl);
    free(ca);
    free(bundle);
    free(cert);
    if (st != 0) {
        return st;
    }
    if (cli_flag(a, "verbose")) {
        fprintf(stderr, "* connected to %s:%d, %s%s%s\n", host, port, espsec_tls_version(t),
                espsec_tls_alpn(t)[0] ? ", ALPN " : "", espsec_tls_alpn(t));
    }
    char req[2600];
    int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: espsec/%s\r\nAccept: */*\r\n"
                                         "Connection: close\r\n\r\n",
                      path, host, ESPSEC_VERSION);
    if (espsec_tls_conn_write(t, req, (size_t)rl) != rl) {
        espsec_tls_last_error(t, &err);
        espsec_tls_conn_destroy(t);
        return cli_error("%s (%s)", err.msg, espsec_err_to_name(err.code));
    }
    /* stream the body to stdout as it arrives; stop where the response says it ends */
    espsec_http_resp_t *resp = malloc(sizeof(*resp));
    if (resp == NULL) {
        espsec_tls_conn_destroy(t);
        return cli_error("out of memory");
    }
    espsec_http_init(resp, body_out, stdout);
    int verbose = cli_flag(a, "verbose"), head_shown = 0;
    uint8_t buf[16384];
    for (;;) {
        ssize_t r = espsec_tls_conn_read(t, buf, sizeof(buf));
        if (r < 0) {
            espsec_tls_last_error(t, &err);
            st = cli_error("%s: %s (%s)", url, err.msg, espsec_err_to_name(err.code));
            break;
        }
        if (r == 0) {
            /* the peer closed: complete only if the framing says so; a body that runs to the close is
             * trusted only when the close was a TLS close_notify (else it may have been cut) */
            espsec_error_t te;
            int fin = espsec_tls_last_error(t, &te) == ESP_ERR_ESP_TLS_TCP_CLOSED_FIN;
            if (espsec_http_eof(resp, &err) != ESPSEC_OK) {
                st = cli_error("%s: %s", url, err.msg);
            } else if (fin && resp->framing == ESPSEC_HTTP_BODY_CLOSE) {
                st = cli_error("%s: body truncated? %llu bytes with no length, and the connection ended without a "
                               "TLS close_notify",
                               url, (unsigned long long)resp->body_bytes);
            }
            break;
        }
        if (espsec_http_feed(resp, buf, (size_t)r, NULL, &err) != ESPSEC_OK) {
            st = cli_error("%s: %s", url, err.msg);
            break;
        }
        if (verbose && !head_shown && resp->head_done) {
            fprintf(stderr, "%s", resp->head);
            head_shown = 1;
        }
        if (espsec_http_done(resp)) {
            break; /* Content-Length or the last chunk reached: what follows is not ours */
        }
    }
    espsec_tls_conn_destroy(t);
    if (fflush(stdout) != 0 && st == 0) {
        st = cli_error("writing the body to stdout failed");
    }
    if (st == 0 && (resp->status < 200 || resp->status >= 300)) {
        st = cli_error("%s: HTTP status %d", url, resp->status);
    }
    free(resp);
    return st;
}

/* ---- fetch-ca ---- */

static void print_cert(const char *what, const espsec_cert_info_t *ci)
{
    printf("%s\n  subject:  %s\n  issuer:   %s\n  valid:    %s .. %s\n  SHA-256:  %s\n", what, ci->subject,
           ci->issuer, ci->not_before, ci->not_after, ci->sha256);
}

static int write_embed(const char *path, const uint8_t *data, size_t len, const char *source_name, int text)
{
    size_t pl = strlen(path);
    espsec_embed_format_t fmt;
    if (pl > 2 && strcmp(path + pl - 2, ".S") == 0) {
        fmt = ESPSEC_EMBED_ASM;
    } else if (pl > 2 && strcmp(path + pl - 2, ".c") == 0) {
        fmt = ESPSEC_EMBED_C;
    } else {
        return cli_error("%s: the output must end in .S (assembly, as ESP-IDF) or .c", path);
    }
    char sym[256];
    espsec_embed_symbol(source_name, sym, sizeof(sym));
    char *src = espsec_embed_source(data, len, sym, source_name, text, fmt);
    espsec_error_t err;
    espsec_err_t rc = src ? espsec_write_file(path, src, strlen(src), ESPSEC_MODE_PUBLIC, &err)
                          : espsec_fail(&err, ESPSEC_ERR_NO_MEM, "out of memory");
    free(src);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("Wrote %s: _binary_%s_start / _binary_%s_end (%zu bytes%s)\n", path, sym, sym, len + (text ? 1 : 0),
           text ? " with the NUL" : "");
    return 0;
}

static int cmd_fetch_ca(cli_args_t *a)
{
    char host[256];
    int port;
    if (parse_host_port(cli_pos(a, 0), host, sizeof(host), &port) != 0) {
        return 2;
    }
    const char *output = cli_str(a, "output"), *embed = cli_str(a, "embed");
    if (output == NULL) {
        return cli_error("--output CA.pem is required");
    }
    unsigned long long timeout;
    if (cli_u64(a, "timeout", 10000, &timeout) != 0) {
        return 2;
    }
    espsec_fetched_chain_t ch;
    espsec_error_t err;
    if (espsec_tls_fetch_chain(host, port, cli_str(a, "servername"), cli_str(a, "ca-store-file"),
                               cli_str(a, "ca-store-dir"), (int)timeout, &ch, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("%s:%d sent %zu certificate%s:\n", host, port, ch.count, ch.count == 1 ? "" : "s");
    for (size_t i = 0; i < ch.count; i++) {
        espsec_cert_info_t ci;
        char what[64];
        snprintf(what, sizeof(what), " %zu %s", i, i == 0 ? "(server)" : i + 1 == ch.count ? "(last sent)" : "");
        if (espsec_cert_info(ch.certs[i], ch.lens[i], &ci, NULL) == ESPSEC_OK) {
            print_cert(what, &ci);
        }
    }
    const char *name = cli_str(a, "servername") != NULL ? cli_str(a, "servername") : host;
    int all = cli_flag(a, "all");
    if (cli_flag(a, "last-sent")) {
        if (espsec_tls_anchor_last_sent(&ch, name, &err) != ESPSEC_OK) {
            espsec_fetched_chain_free(&ch);
            return cli_fail(&err);
        }
        espsec_cert_info_t li;
        if (espsec_cert_info(ch.anchor, ch.anchor_len, &li, NULL) == ESPSEC_OK && !li.self_signed) {
            fprintf(stderr,
                    "espsec: warning: --last-sent: the anchor is the last certificate the server sent, %s, an "
                    "intermediate CA, not a root: its CA replaces it far sooner than a root (often within a year) and "
                    "devices that trust only it then fail to connect; prefer its root (issuer %s)\n",
                    li.subject, li.issuer);
        }
    }
    int st = 0;
    if (ch.anchor == NULL) {
        if (!all) {
            st = cli_error("%s:%d: no trust anchor: %s (give the root with --ca-store-file, take the last certificate "
                           "sent with --last-sent, or write the unanchored chain with --all)",
                           host, port, ch.verify_error);
            espsec_fetched_chain_free(&ch);
            return st;
        }
        printf("\nNOTICE: no trust anchor: %s.\n  --all: writing the %zu certificate%s the server sent, UNANCHORED: "
               "none of them was checked against a trusted root\n",
               ch.verify_error, ch.count, ch.count == 1 ? "" : "s");
    } else {
        espsec_cert_info_t ai;
        espsec_cert_info(ch.anchor, ch.anchor_len, &ai, NULL);
        printf("\nTrust anchor%s:\n", ch.anchor_from_store
                                          ? " (not sent by the server: its issuer, found in the trust store)"
                                      : ai.self_signed ? " (the last certificate the server sent, self-signed)"
                                                       : " (the last certificate the server sent, --last-sent)");
        print_cert("", &ai);
        if (!ch.chain_verified) {
            st = cli_error("%s:%d: the chain does not verify against that anchor: %s", host, port, ch.verify_error);
        } else {
            printf("  the server's chain verifies against it (names and dates checked)\n");
            long long left = ai.not_after_epoch - (long long)time(NULL);
            if (left < 2LL * 365 * 24 * 3600) {
                printf("  WARNING: this anchor expires %s, in %lld days: devices outlive certificates; embed its "
                       "successor too or plan a CA update\n",
                       ai.not_after, left / 86400);
            }
        }
    }
    if (st == 0) {
        /* the anchor; with --all first every certificate sent (the anchor once, when it was sent) */
        size_t len = 0;
        char *pem = NULL;
        size_t n = all ? ch.count : 0;
        for (size_t i = 0; i <= n && st == 0; i++) {
            const uint8_t *d = i < n ? ch.certs[i] : ch.anchor;
            size_t dl = i < n ? ch.lens[i] : ch.anchor_len;
            if (d == NULL || (i == n && n > 0 && !ch.anchor_from_store)) {
                continue; /* no anchor, or the anchor is the last one sent: written already */
            }
            char *one = espsec_cert_to_pem(d, dl);
            size_t ol = one ? strlen(one) : 0;
            char *grown = one ? realloc(pem, len + ol + 1) : NULL;
            if (grown == NULL) {
                st = cli_error("out of memory");
            } else {
                pem = grown;
                memcpy(pem + len, one, ol + 1);
                len += ol;
            }
            free(one);
        }
        espsec_error_t we;
        if (st == 0 && (pem == NULL || espsec_write_file(output, pem, len, ESPSEC_MODE_PUBLIC, &we) != ESPSEC_OK)) {
            st = pem ? cli_fail(&we) : cli_error("nothing to write");
        } else if (st == 0) {
            printf("Wrote %s%s\n", output, ch.anchor == NULL ? " (unanchored chain)" : "");
            if (embed != NULL) {
                const char *base = strrchr(output, '/');
                st = write_embed(embed, (const uint8_t *)pem, len, base ? base + 1 : output, 1);
            }
        }
        free(pem);
    }
    espsec_fetched_chain_free(&ch);
    return st;
}

/* ---- bundle ---- */

static int cmd_bundle(cli_args_t *a)
{
    const char *action = cli_pos(a, 0);
    espsec_error_t err;
    if (strcmp(action, "list") == 0) {
        if (a->npos != 2) {
            return cli_error("bundle list takes one BUNDLE file");
        }
        uint8_t *b = NULL;
        size_t bl = 0;
        if (espsec_read_file(a->pos[1], &b, &bl, 16u << 20, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        espsec_bundle_entry_t *e = NULL;
        size_t n = 0;
        espsec_err_t rc = espsec_crt_bundle_list(b, bl, &e, &n, &err);
        free(b);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", a->pos[1]);
            return cli_fail(&err);
        }
        for (size_t i = 0; i < n; i++) {
            printf("%3zu %-8s %s\n", i, e[i].key_type, e[i].subject);
        }
        printf("%zu certificate%s\n", n, n == 1 ? "" : "s");
        free(e);
        return 0;
    }
    if (strcmp(action, "create") != 0) {
        return cli_error("bundle: 'create' or 'list' expected, not '%s'", action);
    }
    const char *out = cli_str(a, "output");
    if (out == NULL || a->npos < 2) {
        return cli_error("bundle create CERTS... --output BUNDLE");
    }
    unsigned long long max;
    if (cli_u64(a, "max-certs", 200, &max) != 0) {
        return 2;
    }
    size_t n = a->npos - 1;
    uint8_t **bufs = calloc(n, sizeof(*bufs));
    size_t *lens = calloc(n, sizeof(*lens));
    int st = bufs && lens ? 0 : cli_error("out of memory");
    const char *filter = cli_str(a, "filter");
    for (size_t i = 0; st == 0 && i < n; i++) {
        if (espsec_read_file(a->pos[i + 1], &bufs[i], &lens[i], 64u << 20, &err) != ESPSEC_OK) {
            st = cli_fail(&err);
        }
    }
    if (st == 0 && filter != NULL) {
        /* gen_crt_bundle's --filter: a CSV whose second column names the certificates to keep; the
         * input is a Mozilla-style file where each certificate follows its name and a '===' line */
        uint8_t *fc = NULL;
        size_t fl = 0;
        if (espsec_read_file(filter, &fc, &fl, 4u << 20, &err) != ESPSEC_OK) {
            st = cli_fail(&err);
        }
        for (size_t i = 0; st == 0 && i < n; i++) {
            char *kept = calloc(1, lens[i] + 1);
            size_t kl = 0;
            char *text = calloc(1, lens[i] + 1);
            memcpy(text, bufs[i], lens[i]);
            for (char *p = strstr(text, "\n="); p != NULL; p = strstr(p + 1, "\n=")) {
                char *ls = p;
                while (ls > text && ls[-1] != '\n') {
                    ls--;
                }
                char name[300];
                size_t nl = (size_t)(p - ls);
                if (nl >= sizeof(name)) {
                    continue;
                }
                memcpy(name, ls, nl);
                name[nl] = '\0';
                char *b = strstr(p, "-----BEGIN CERTIFICATE-----"), *e = b ? strstr(b, "-----END CERTIFICATE-----")
                                                                          : NULL;
                if (e == NULL) {
                    break;
                }
                e += strlen("-----END CERTIFICATE-----");
                char needle[320];
                snprintf(needle, sizeof(needle), ",%s", name);
                int want = 0;
                for (char *q = memmem(fc, fl, needle, strlen(needle)); q != NULL && !want;
                     q = memmem(q + 1, fl - (size_t)(q + 1 - (char *)fc), needle, strlen(needle))) {
                    char c = q[strlen(needle)];
                    want = c == '\n' || c == '\r' || c == ',' || c == '\0';
                }
                if (want) {
                    memcpy(kept + kl, b, (size_t)(e - b));
                    kl += (size_t)(e - b);
                    kept[kl++] = '\n';
                }
            }
            free(text);
            free(bufs[i]);
            bufs[i] = (uint8_t *)kept;
            lens[i] = kl;
        }
        free(fc);
    }
    uint8_t *bundle = NULL;
    size_t bl = 0, count = 0;
    if (st == 0 && espsec_crt_bundle_create((const uint8_t *const *)bufs, lens, n, &bundle, &bl, &count, &err) !=
                       ESPSEC_OK) {
        st = cli_fail(&err);
    }
    if (st == 0 && count > max) {
        st = cli_error("%zu certificates exceed --max-certs %llu (CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_MAX_CERTS)", count,
                       max);
    }
    if (st == 0 && espsec_write_file(out, bundle, bl, ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK) {
        st = cli_fail(&err);
    }
    if (st == 0) {
        printf("Wrote %s: %zu certificates, %zu bytes\n", out, count, bl);
    }
    for (size_t i = 0; bufs && i < n; i++) {
        free(bufs[i]);
    }
    free(bufs);
    free(lens);
    free(bundle);
    return st;
}

static const cli_opt_t OPT_GET[] = {
    {"cacert", 0, CLI_VALUE, "CA.pem", "CA certificate(s) to verify the server with (PEM or DER)."},
    {"crt-bundle", 0, CLI_VALUE, "BUNDLE", "An x509_crt_bundle as the CA source."},
    {"cert", 0, CLI_VALUE, "CERT", "Client certificate (mutual TLS)."},
    {"key", 0, CLI_VALUE, "KEY", "Client key (mutual TLS)."},
    {"alpn", 0, CLI_MULTI, "PROTO", "ALPN protocols to offer (e.g. http/1.1)."},
    {"common-name", 0, CLI_VALUE, "NAME", "Verify (and send as SNI) this name instead of the URL's host."},
    {"skip-common-name", 0, CLI_FLAG, NULL, "Do not check the name (the chain is still verified)."},
    {"tls-version", 0, CLI_VALUE, "V", "Only TLS 1.2 or only 1.3."},
    {"timeout", 0, CLI_VALUE, "MS", "Connect/handshake/read timeout (default 10000)."},
    {"insecure", 'k', CLI_FLAG, NULL, "Skip certificate verification (prints a warning; never in production)."},
    {"verbose", 'v', CLI_FLAG, NULL, "Show the connection and the response headers on stderr."},
    {0}};
static const cli_pos_t POS_GET[] = {{"URL", "https://host[:port]/path", 0, 0}, {0}};
static const cli_opt_t OPT_FETCH[] = {
    {"output", 'o', CLI_VALUE, "CA.pem", "Where to write the trust anchor (PEM)."},
    {"embed", 0, CLI_VALUE, "NAME.S|NAME.c", "Also write it as a source file to embed (EMBED_TXTFILES symbols)."},
    {"all", 0, CLI_FLAG, NULL, "Write every certificate the server sent, then the anchor (without one: the chain "
                               "alone, said to be unanchored)."},
    {"last-sent", 0, CLI_FLAG, NULL, "Take the last certificate the server sent as the anchor, even an intermediate "
                                     "(warned: intermediates rotate)."},
    {"servername", 0, CLI_VALUE, "NAME", "SNI name and name to verify (default: the host)."},
    {"ca-store-file", 0, CLI_VALUE, "FILE", "Trust store to find a root the server does not send (default: the "
                                            "system's)."},
    {"ca-store-dir", 0, CLI_VALUE, "DIR", "Trust store folder (hashed, as /etc/ssl/certs)."},
    {"timeout", 0, CLI_VALUE, "MS", "Connect/handshake timeout (default 10000)."},
    {0}};
static const cli_pos_t POS_FETCH[] = {{"HOST", "host[:port] (443 by default)", 0, 0}, {0}};
static const cli_opt_t OPT_BUNDLE[] = {
    {"output", 'o', CLI_VALUE, "BUNDLE", "create: the bundle file (x509_crt_bundle)."},
    {"filter", 'f', CLI_VALUE, "CSV", "create: keep only the certificates named in the CSV's second column (as "
                                      "gen_crt_bundle.py)."},
    {"max-certs", 0, CLI_VALUE, "N", "create: refuse more certificates than this (default 200)."},
    {0}};
static const cli_pos_t POS_BUNDLE[] = {{"ACTION", "create CERTS... | list BUNDLE", 0, 0},
                                       {"FILES", "PEM/DER certificate files, or the bundle", 0, 1},
                                       {0}};

static const cli_cmd_t TLS_CMDS[] = {
    {"get", NULL, "HTTPS GET through espsec's esp_tls-like client; the body goes to stdout.",
     "Secure by default: without --cacert or --crt-bundle the request is refused; exit status is non-zero on a TLS "
     "error or an HTTP status outside 2xx.",
     OPT_GET, POS_GET, cmd_get},
    {"fetch-ca", "fetch_ca", "Get a server's CA certificate: its chain, the anchor picked and checked, as PEM (and "
                             "as embeddable source).",
     NULL, OPT_FETCH, POS_FETCH, cmd_fetch_ca},
    {"bundle", NULL, "ESP-IDF's x509_crt_bundle: create from certificates, or list.", NULL, OPT_BUNDLE, POS_BUNDLE,
     cmd_bundle},
    {0}};

const cli_group_t CLI_TLS = {"tls", "Remote communication: TLS client, CA certificates, CA bundles.", NULL, NULL,
                             TLS_CMDS};

/* ---- embed ---- */

static int cmd_embed(cli_args_t *a)
{
    const char *in = cli_pos(a, 0), *out = cli_str(a, "output");
    if (out == NULL) {
        return cli_error("--output OUT.S or OUT.c is required");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(in, &data, &len, 64u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    int text = cli_flag(a, "text");
    if (text && memchr(data, 0, len) != NULL) {
        free(data);
        return cli_error("%s: --text but the file holds a NUL byte (embed it as binary)", in);
    }
    int st = write_embed(out, data, len, in, text);
    free(data);
    return st;
}

static const cli_opt_t OPT_EMBED[] = {
    {"output", 'o', CLI_VALUE, "OUT.S|OUT.c", "Assembly (as ESP-IDF generates) or C."},
    {"text", 0, CLI_FLAG, NULL, "As EMBED_TXTFILES: a NUL is appended (the data is a C string)."},
    {0}};
static const cli_pos_t POS_EMBED[] = {{"FILE", "The file to embed (its name gives the symbols).", 0, 0}, {0}};
static const cli_cmd_t EMBED_CMDS[] = {
    {"", NULL, "Embed a file in firmware with ESP-IDF's _binary_<name>_start/_end symbols.", NULL, OPT_EMBED,
     POS_EMBED, cmd_embed},
    {0}};

const cli_group_t CLI_EMBED = {"embed", "Embed a file (e.g. a CA certificate) as EMBED_FILES / EMBED_TXTFILES do.",
                               NULL, NULL, EMBED_CMDS};
