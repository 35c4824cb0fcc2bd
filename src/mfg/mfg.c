/* Per-device NVS partitions for manufacturing (espsec/mfg.h), in parallel. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "espsec/io.h"
#include "espsec/mfg.h"
#include "espsec/nvs_part.h"
#include "espsec/util.h"
#include "util/bytes.h"
#include "util/csv.h"

typedef struct {
    char key[64], type[16], enc[16];
    int is_ns, repeat;
    int col; /* the values column of a data/file row */
} crow_t;

typedef struct {
    size_t pos;
    int line;
} vrow_t;

typedef struct {
    const espsec_mfg_opts_t *o;
    const char *values;
    size_t values_len;
    crow_t *cfg;
    size_t ncfg;
    char **header;
    size_t ncols;
    int fileid_col;
    char **repeat_vals; /* per column: the first row's value when the column is REPEAT */
    vrow_t *rows;
    size_t nrows;
    char outdir[4096], csvdir[4096], bindir[4096], keysdir[4096], scdir[4096];
    int sc_col[3];      /* values columns of the CA, device certificate and key files (-1: none) */
    /* the manifest lines, gathered from the workers */
    char *man;
    size_t man_len, man_cap;
    /* shared state */
    atomic_size_t next, done;
    atomic_int failed;
    pthread_mutex_t lock;
    espsec_error_t err;
    size_t fail_row;
    espsec_mfg_stats_t st;
} mfg_t;

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int blank(const char *s)
{
    for (; *s; s++) {
        if (!isspace((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

/* A field as Python's csv.writer writes it (QUOTE_MINIMAL). */
static void csv_field(char **p, size_t *len, size_t *cap, const char *f, int last)
{
    size_t need = strlen(f) * 2 + 8;
    if (*len + need > *cap) {
        *cap = (*len + need) * 2;
        *p = realloc(*p, *cap);
    }
    if (*p == NULL) {
        return;
    }
    int quote = strpbrk(f, ",\"\r\n") != NULL;
    char *o = *p + *len;
    if (quote) {
        *o++ = '"';
    }
    for (const char *c = f; *c; c++) {
        if (*c == '"') {
            *o++ = '"';
        }
        *o++ = *c;
    }
    if (quote) {
        *o++ = '"';
    }
    if (last) {
        *o++ = '\r';
        *o++ = '\n';
    } else {
        *o++ = ',';
    }
    *len = (size_t)(o - *p);
}

static espsec_err_t parse_config(mfg_t *m, const char *conf, size_t len, espsec_error_t *err)
{
    csv_reader_t r;
    csv_init(&r, conf, len, 0);
    int got;
    espsec_err_t rc = ESPSEC_OK;
    size_t cap = 0;
    while (rc == ESPSEC_OK && (got = csv_next(&r, err)) == 1) {
        if (r.nfields == 1 && blank(r.fields[0])) {
            continue;
        }
        if (m->ncfg == cap) {
            cap = cap ? cap * 2 : 32;
            crow_t *n = realloc(m->cfg, cap * sizeof(*n));
            if (n == NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
                break;
            }
            m->cfg = n;
        }
        crow_t *c = &m->cfg[m->ncfg];
        memset(c, 0, sizeof(*c));
        c->col = -1;
        c->repeat = r.nfields == 4 && strcmp(r.fields[3], "REPEAT") == 0;
        c->is_ns = r.nfields >= 2 && strcmp(r.fields[1], "namespace") == 0;
        if (r.nfields != 3 && !c->repeat) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE,
                             "%s: line %d: %zu fields; key,type,encoding (or key,type,encoding,REPEAT) expected",
                             m->o->conf_name, r.row_line, r.nfields);
            break;
        }
        if (strlen(r.fields[0]) >= sizeof(c->key) || strlen(r.fields[1]) >= sizeof(c->type) ||
            strlen(r.fields[2]) >= sizeof(c->enc)) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: field too long", m->o->conf_name, r.row_line);
            break;
        }
        snprintf(c->key, sizeof(c->key), "%s", r.fields[0]);
        snprintf(c->type, sizeof(c->type), "%s", r.fields[1]);
        snprintf(c->enc, sizeof(c->enc), "%s", r.fields[2]);
        espsec_nvs_encoding_t e;
        if (!c->is_ns && strcmp(c->type, "data") != 0 && strcmp(c->type, "file") != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: type '%s': namespace, data or file expected",
                             m->o->conf_name, r.row_line, c->type);
        } else if (!c->is_ns && espsec_nvs_encoding_from_name(c->enc, &e) != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: encoding '%s' is not one of u8, i8, u16, i16, u32, "
                                                    "i32, u64, i64, string, hex2bin, base64, binary",
                             m->o->conf_name, r.row_line, c->enc);
        } else if (strlen(c->key) > ESPSEC_NVS_KEY_MAX) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: key '%s' is longer than 15 characters",
                             m->o->conf_name, r.row_line, c->key);
        }
        m->ncfg++;
    }
    if (rc == ESPSEC_OK && got < 0) {
        rc = err->code;
        espsec_error_prefix(err, "%s: ", m->o->conf_name);
    }
    if (rc == ESPSEC_OK && m->ncfg == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: the config file is empty", m->o->conf_name);
    }
    csv_free(&r);
    return rc;
}

/* The header, the config keys against it (same order, as mfg_gen requires), the row index. */
static espsec_err_t parse_values(mfg_t *m, espsec_error_t *err)
{
    csv_reader_t r;
    csv_init(&r, m->values, m->values_len, 0);
    espsec_err_t rc = ESPSEC_OK;
    int got = csv_next(&r, err);
    if (got <= 0) {
        csv_free(&r);
        if (got == 0) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: the values file is empty", m->o->values_name);
        }
        espsec_error_prefix(err, "%s: ", m->o->values_name);
        return err->code;
    }
    m->ncols = r.nfields;
    m->header = calloc(m->ncols, sizeof(char *));
    m->repeat_vals = calloc(m->ncols, sizeof(char *));
    int oom = m->header == NULL || m->repeat_vals == NULL;
    for (size_t i = 0; !oom && i < m->ncols; i++) {
        m->header[i] = strdup(r.fields[i]);
        oom = m->header[i] == NULL; /* what was copied is freed with the run */
    }
    if (oom) {
        csv_free(&r);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    m->fileid_col = -1;
    if (m->o->fileid != NULL) {
        for (size_t i = 0; i < m->ncols; i++) {
            if (strcmp(m->header[i], m->o->fileid) == 0) {
                m->fileid_col = (int)i;
            }
        }
        if (m->fileid_col < 0) {
            csv_free(&r);
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line 1: --fileid '%s' is not a column of the values file",
                               m->o->values_name, m->o->fileid);
        }
    }
    const char *sc_names[3] = {m->o->sc_ca_col, m->o->sc_cert_col, m->o->sc_key_col};
    for (int k = 0; k < 3; k++) {
        m->sc_col[k] = -1;
        if (!m->o->secure_cert || sc_names[k] == NULL) {
            continue;
        }
        for (size_t i = 0; i < m->ncols; i++) {
            if (strcmp(m->header[i], sc_names[k]) == 0) {
                m->sc_col[k] = (int)i;
            }
        }
        if (m->sc_col[k] < 0) {
            csv_free(&r);
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line 1: no column '%s' (the secure-cert files)",
                               m->o->values_name, sc_names[k]);
        }
    }
    /* each config data row takes the next header column of that name, in order */
    size_t col = 0;
    for (size_t c = 0; c < m->ncfg; c++) {
        if (m->cfg[c].is_ns) {
            continue;
        }
        while (col < m->ncols && strcmp(m->header[col], m->cfg[c].key) != 0) {
            col++;
        }
        if (col == m->ncols) {
            csv_free(&r);
            return espsec_fail(err, ESPSEC_ERR_PARSE,
                               "%s: key '%s' of the config file is not in the header of %s (or not in the same "
                               "order)",
                               m->o->conf_name, m->cfg[c].key, m->o->values_name);
        }
        m->cfg[c].col = (int)col++;
    }
    /* the rows */
    size_t cap = 0;
    for (;;) {
        size_t pos = r.pos;
        int line = r.line;
        got = csv_next(&r, err);
        if (got <= 0) {
            break;
        }
        if (r.nfields == 1 && blank(r.fields[0])) {
            continue;
        }
        if (r.nfields != m->ncols) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: %zu values for the %zu keys of the header",
                             m->o->values_name, r.row_line, r.nfields, m->ncols);
            break;
        }
        if (m->nrows == 0) {
            for (size_t c = 0; c < m->ncfg; c++) {
                if (m->cfg[c].repeat && m->cfg[c].col >= 0) {
                    m->repeat_vals[m->cfg[c].col] = strdup(r.fields[m->cfg[c].col]);
                }
            }
        }
        if (m->nrows == cap) {
            cap = cap ? cap * 2 : 1024;
            vrow_t *n = realloc(m->rows, cap * sizeof(*n));
            if (n == NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
                break;
            }
            m->rows = n;
        }
        m->rows[m->nrows].pos = pos;
        m->rows[m->nrows].line = line;
        m->nrows++;
    }
    if (rc == ESPSEC_OK && got < 0) {
        rc = err->code;
        espsec_error_prefix(err, "%s: ", m->o->values_name);
    }
    if (rc == ESPSEC_OK && m->nrows == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: no device rows after the header", m->o->values_name);
    }
    csv_free(&r);
    return rc;
}

/* Device file id: the --fileid column, or the row number counted from 1. */
static void device_id(const mfg_t *m, csv_reader_t *r, size_t row, char *out, size_t cap)
{
    if (m->fileid_col >= 0) {
        snprintf(out, cap, "%s", r->fields[m->fileid_col]);
    } else {
        snprintf(out, cap, "%zu", row + 1);
    }
}

/* One output file of a device. */
typedef struct {
    const char *kind, *sub, *pre, *ext; /* sub: the folder under OUTDIR */
    const void *data;
    size_t len;
    unsigned mode;
} out_t;

static espsec_err_t manifest_add(mfg_t *m, const char *lines, size_t len, espsec_error_t *err)
{
    pthread_mutex_lock(&m->lock);
    espsec_err_t rc = ESPSEC_OK;
    if (len > m->man_cap - m->man_len) {
        size_t cap = m->man_cap ? m->man_cap : 65536;
        while (cap - m->man_len < len) {
            cap *= 2;
        }
        char *n = realloc(m->man, cap);
        if (n == NULL) {
            rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
        } else {
            m->man = n;
            m->man_cap = cap;
        }
    }
    if (rc == ESPSEC_OK) {
        memcpy(m->man + m->man_len, lines, len);
        m->man_len += len;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* The device's esp_secure_cert partition from the files its row names. */
static espsec_err_t secure_cert_of(mfg_t *m, const csv_reader_t *r, uint8_t **out, size_t *out_len,
                                   espsec_error_t *err)
{
    static const uint8_t types[3] = {ESPSEC_SC_CA_CERT, ESPSEC_SC_DEV_CERT, ESPSEC_SC_PRIV_KEY};
    espsec_sc_entry_t e[3];
    uint8_t *files[3] = {NULL, NULL, NULL};
    size_t flen[3] = {0, 0, 0}, n = 0;
    espsec_err_t rc = ESPSEC_OK;
    for (int k = 0; k < 3 && rc == ESPSEC_OK; k++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        if (m->sc_col[k] >= 0) {
            const char *path = r->fields[m->sc_col[k]];
            rc = espsec_read_file(path, &files[k], &flen[k], 1u << 20, err);
            data = files[k];
            len = flen[k];
        } else if (k == 0 && m->o->sc_ca != NULL) {
            data = m->o->sc_ca;
            len = m->o->sc_ca_len;
        } else {
            continue;
        }
        if (rc == ESPSEC_OK) {
            memset(&e[n], 0, sizeof(e[n]));
            e[n].type = types[k];
            e[n].data = data;
            e[n].len = len;
            e[n].efuse_key_id = -1;
            e[n].where = k == 0 ? "CA certificate" : k == 1 ? "device certificate" : "private key";
            if (k == 2 && m->o->sc_opts != NULL) {
                e[n].key_kind = m->o->sc_opts->entries ? m->o->sc_opts->entries[0].key_kind : ESPSEC_SC_KEY_PLAINTEXT;
                e[n].efuse_key_id = m->o->sc_opts->entries ? m->o->sc_opts->entries[0].efuse_key_id : -1;
                e[n].key_bits = m->o->sc_opts->entries ? m->o->sc_opts->entries[0].key_bits : 0;
            }
            n++;
        }
    }
    uint8_t *buf = rc == ESPSEC_OK ? malloc(ESPSEC_SC_PARTITION_SIZE) : NULL;
    if (rc == ESPSEC_OK && buf == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (rc == ESPSEC_OK) {
        espsec_sc_opts_t so;
        memset(&so, 0, sizeof(so));
        if (m->o->sc_opts != NULL) {
            so = *m->o->sc_opts;
        }
        so.entries = e;
        so.count = n;
        rc = espsec_sc_generate(&so, buf, ESPSEC_SC_PARTITION_SIZE, out_len, err);
    }
    for (int k = 0; k < 3; k++) {
        if (files[k] != NULL) {
            espsec_free_secret(files[k], flen[k]);
        }
    }
    if (rc != ESPSEC_OK) {
        free(buf);
        return rc;
    }
    *out = buf;
    return ESPSEC_OK;
}

static int manifest_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    unsigned long long rx = strtoull(x, NULL, 10), ry = strtoull(y, NULL, 10);
    return rx < ry ? -1 : rx > ry ? 1 : strcmp(x, y);
}

/* Sort the gathered lines by row and write them under a header. */
static espsec_err_t manifest_write(mfg_t *m, espsec_error_t *err)
{
    size_t n = 0;
    for (size_t i = 0; i < m->man_len; i++) {
        n += m->man[i] == '\n';
    }
    char **lines = calloc(n ? n : 1, sizeof(char *));
    const char *hdr = "row,device,kind,file,bytes,sha256\n";
    char *out = malloc(m->man_len + strlen(hdr) + 1);
    if (lines == NULL || out == NULL) {
        free(lines);
        free(out);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    size_t k = 0;
    for (char *p = m->man; k < n; k++) {
        lines[k] = p;
        p = memchr(p, '\n', (size_t)(m->man + m->man_len - p));
        *p++ = '\0';
    }
    qsort(lines, n, sizeof(char *), manifest_cmp);
    size_t len = strlen(hdr);
    memcpy(out, hdr, len);
    for (k = 0; k < n; k++) {
        size_t l = strlen(lines[k]);
        memcpy(out + len, lines[k], l);
        out[len + l] = '\n';
        len += l + 1;
    }
    espsec_err_t rc = espsec_write_new_file(m->o->manifest, out, len, ESPSEC_MODE_PUBLIC, 1, err);
    free(lines);
    free(out);
    return rc;
}

static espsec_err_t one_device(mfg_t *m, size_t row, double *tv, double *tl, double *tc, double *ti,
                               espsec_error_t *err)
{
    const espsec_mfg_opts_t *o = m->o;
    double t0 = cpu_now();
    csv_reader_t r;
    csv_init(&r, m->values + m->rows[row].pos, m->values_len - m->rows[row].pos, 0);
    r.line = m->rows[row].line;
    if (csv_next(&r, err) != 1) {
        csv_free(&r);
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: unreadable row", o->values_name, m->rows[row].line);
    }
    char id[256];
    device_id(m, &r, row, id, sizeof(id));
    if (id[0] == '\0' || strchr(id, '/') != NULL || strcmp(id, "..") == 0) {
        csv_free(&r);
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: file id '%s' cannot name a file", o->values_name,
                           m->rows[row].line, id);
    }
    /* the device's CSV, as mfg_gen writes it */
    size_t clen = 0, ccap = 4096;
    char *csv = malloc(ccap);
    const char *hdr[4] = {"key", "type", "encoding", "value"};
    for (int i = 0; i < 4; i++) {
        csv_field(&csv, &clen, &ccap, hdr[i], i == 3);
    }
    for (size_t c = 0; c < m->ncfg; c++) {
        const crow_t *cr = &m->cfg[c];
        const char *val = cr->is_ns ? "" : m->repeat_vals[cr->col] ? m->repeat_vals[cr->col] : r.fields[cr->col];
        csv_field(&csv, &clen, &ccap, cr->key, 0);
        csv_field(&csv, &clen, &ccap, cr->type, 0);
        csv_field(&csv, &clen, &ccap, cr->is_ns ? "" : cr->enc, 0);
        csv_field(&csv, &clen, &ccap, val, 1);
    }
    double t1 = cpu_now();
    *tv += t1 - t0;
    /* file names: PREFIX-ID, or PREFIX-NNN-ID with --prefix_num */
    char name[600];
    if (o->prefix_num) {
        snprintf(name, sizeof(name), "%s-%0*llu-%s", o->prefix, o->prefix_num_len, o->prefix_num_start + row, id);
    } else {
        snprintf(name, sizeof(name), "%s-%s", o->prefix, id);
    }
    /* keys, then the partition */
    espsec_nvs_keys_t keys;
    uint8_t hmac[32];
    const espsec_nvs_keys_t *kp = o->inputkey;
    espsec_err_t rc = csv ? ESPSEC_OK : espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    if (rc == ESPSEC_OK && o->keygen) {
        uint8_t seed[64];
        if (o->random_seed != NULL) {
            uint8_t in[40];
            memcpy(in, o->random_seed, 32);
            put_le64(in + 32, (uint64_t)row * 2);
            espsec_sha256(in, sizeof(in), seed);
            put_le64(in + 32, (uint64_t)row * 2 + 1);
            espsec_sha256(in, sizeof(in), seed + 32);
        } else if (espsec_random(seed, sizeof(seed)) != ESPSEC_OK) {
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "random number generator failed");
        }
        if (rc == ESPSEC_OK && o->key_protect_hmac) {
            memcpy(hmac, o->kp_hmac_keygen ? seed : o->kp_hmac_inputkey, sizeof(hmac));
            rc = espsec_nvs_keys_from_hmac(hmac, sizeof(hmac), &keys);
        } else {
            memcpy(keys.eky, seed, 32);
            memcpy(keys.tky, seed + 32, 32);
        }
        espsec_wipe(seed, sizeof(seed));
        kp = &keys;
    }
    espsec_nvs_gen_t *g = NULL;
    uint8_t *img = NULL, *sc = NULL;
    size_t ilen = 0, sclen = 0;
    if (rc == ESPSEC_OK && !o->no_nvs) {
        rc = espsec_nvs_gen_new(o->size, o->version, kp, &g, err);
    }
    espsec_nvs_csv_opts_t co = {.version = o->version, .keys = kp};
    for (size_t c = 0; rc == ESPSEC_OK && !o->no_nvs && c < m->ncfg; c++) {
        const crow_t *cr = &m->cfg[c];
        const char *val = cr->is_ns ? "" : m->repeat_vals[cr->col] ? m->repeat_vals[cr->col] : r.fields[cr->col];
        rc = espsec_nvs_gen_row(g, cr->key, cr->type, cr->enc, val, &co, err);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(err, "%s: line %d (device %s): ", o->values_name, m->rows[row].line, id);
        }
    }
    double t2 = cpu_now();
    *tl += t2 - t1;
    if (rc == ESPSEC_OK && !o->no_nvs) {
        rc = espsec_nvs_gen_finish(g, &img, &ilen, err); /* the encryption happens here */
    }
    espsec_nvs_gen_free(g);
    if (rc == ESPSEC_OK && o->secure_cert) {
        rc = secure_cert_of(m, &r, &sc, &sclen, err);
    }
    double t3 = cpu_now();
    *tc += t3 - t2;
    /* the files: each created atomically, never over an existing one */
    out_t outs[5];
    size_t nout = 0;
    uint8_t part[ESPSEC_NVS_KEYS_PART_SIZE];
    if (!o->no_nvs && !o->no_csv) {
        outs[nout++] = (out_t){"csv", "csv", "", ".csv", csv, clen, ESPSEC_MODE_PUBLIC};
    }
    if (o->keygen) {
        espsec_nvs_keys_encode(&keys, part);
        outs[nout++] = (out_t){"keys", "keys", "keys-", ".bin", part, sizeof(part), ESPSEC_MODE_SECRET};
        if (o->key_protect_hmac && o->kp_hmac_keygen) {
            outs[nout++] = (out_t){"hmac_key", "keys", "hmac-keys-", ".bin", hmac, sizeof(hmac), ESPSEC_MODE_SECRET};
        }
    }
    if (o->secure_cert && sc != NULL) {
        outs[nout++] = (out_t){"secure_cert", "secure_cert", "", ".bin", sc, sclen, ESPSEC_MODE_SECRET};
    }
    if (!o->no_nvs) {
        outs[nout++] = (out_t){"nvs", "bin", "", ".bin", img, ilen, ESPSEC_MODE_PUBLIC};
    }
    char path[4800], line[1200], rel[700];
    size_t mlen = 0;
    char *mbuf = o->manifest ? malloc(nout * sizeof(line)) : NULL;
    for (size_t i = 0; rc == ESPSEC_OK && i < nout; i++) {
        snprintf(rel, sizeof(rel), "%s/%s%s%s", outs[i].sub, outs[i].pre, name, outs[i].ext);
        snprintf(path, sizeof(path), "%s/%s", m->outdir, rel);
        rc = espsec_write_new_file(path, outs[i].data, outs[i].len, outs[i].mode, o->sync_each, err);
        if (rc == ESPSEC_OK && mbuf != NULL) {
            uint8_t h[32];
            char hex[65];
            espsec_sha256(outs[i].data, outs[i].len, h);
            espsec_hex(h, sizeof(h), hex, 0);
            int n = snprintf(line, sizeof(line), "%zu,%s,%s,%s,%zu,%s\n", row + 1, id, outs[i].kind, rel,
                             outs[i].len, hex);
            memcpy(mbuf + mlen, line, (size_t)n);
            mlen += (size_t)n;
        }
    }
    if (rc == ESPSEC_OK && mbuf != NULL) {
        rc = manifest_add(m, mbuf, mlen, err);
    }
    free(mbuf);
    espsec_wipe(part, sizeof(part));
    espsec_wipe(hmac, sizeof(hmac));
    if (rc != ESPSEC_OK && err->msg[0] != '\0' && strstr(err->msg, "line ") == NULL) {
        espsec_error_prefix(err, "%s: line %d (device %s): ", o->values_name, m->rows[row].line, id);
    }
    *ti += cpu_now() - t3;
    espsec_wipe(&keys, sizeof(keys));
    if (img != NULL) {
        espsec_free_secret(img, ilen);
    }
    if (sc != NULL) {
        espsec_free_secret(sc, sclen);
    }
    free(csv);
    csv_free(&r);
    return rc;
}

static void *worker(void *arg)
{
    mfg_t *m = arg;
    double tv = 0, tl = 0, tc = 0, ti = 0;
    size_t end = m->o->row_count ? m->o->first_row + m->o->row_count : m->nrows;
    for (;;) {
        if (atomic_load(&m->failed)) {
            break;
        }
        size_t row = atomic_fetch_add(&m->next, 1) + m->o->first_row;
        if (row >= end) {
            break;
        }
        espsec_error_t e;
        if (one_device(m, row, &tv, &tl, &tc, &ti, &e) != ESPSEC_OK) {
            pthread_mutex_lock(&m->lock);
            if (!atomic_load(&m->failed) || row < m->fail_row) {
                m->err = e;
                m->fail_row = row;
            }
            atomic_store(&m->failed, 1);
            pthread_mutex_unlock(&m->lock);
            break;
        }
        atomic_fetch_add(&m->done, 1);
    }
    pthread_mutex_lock(&m->lock);
    m->st.t_values += tv;
    m->st.t_layout += tl;
    m->st.t_crypto += tc;
    m->st.t_io += ti;
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

static int strcmp_ptr(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    return strcmp(x ? x : "", y ? y : "");
}

static int mkdir_p(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

espsec_err_t espsec_mfg_generate(const char *conf, size_t conf_len, const char *values, size_t values_len,
                                 const espsec_mfg_opts_t *opts, espsec_mfg_stats_t *stats, espsec_error_t *err)
{
    mfg_t *m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    m->o = opts;
    m->values = values;
    m->values_len = values_len;
    pthread_mutex_init(&m->lock, NULL);
    double w0 = wall_now();
    espsec_err_t rc = ESPSEC_OK;
    if (opts->prefix == NULL || opts->prefix[0] == '\0' || strchr(opts->prefix, '/') != NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "the prefix must be a plain file name part");
    }
    if (rc == ESPSEC_OK && opts->keygen && opts->inputkey != NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "--keygen and --inputkey both are not allowed");
    }
    /* the partition size and version, checked once */
    espsec_nvs_gen_t *probe = NULL;
    if (rc == ESPSEC_OK && !opts->no_nvs) {
        rc = espsec_nvs_gen_new(opts->size, opts->version, NULL, &probe, err);
        espsec_nvs_gen_free(probe);
    }
    if (rc == ESPSEC_OK && opts->no_nvs && !opts->secure_cert) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "nothing to generate: neither NVS nor secure-cert partitions");
    }
    if (rc == ESPSEC_OK && opts->key_protect_hmac && (!opts->keygen || (!opts->kp_hmac_keygen) == (opts->kp_hmac_inputkey == NULL))) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "--key_protect_hmac needs --keygen and one of --kp_hmac_keygen or "
                                                      "--kp_hmac_inputkey");
    }
    if (rc == ESPSEC_OK && opts->prefix_num && (opts->prefix_num_len < 1 || opts->prefix_num_len > 20)) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "--prefix_num length %d: 1..20 digits", opts->prefix_num_len);
    }
    if (rc == ESPSEC_OK && !opts->no_nvs) {
        rc = parse_config(m, conf, conf_len, err);
    }
    if (rc == ESPSEC_OK) {
        rc = parse_values(m, err);
    }
    size_t first = opts->first_row, count = opts->row_count ? opts->row_count : m->nrows;
    if (rc == ESPSEC_OK && (first > m->nrows || count > m->nrows - first)) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "rows %zu..%zu requested but %s has %zu device rows", first + 1,
                         first + count, opts->values_name, m->nrows);
    }
    /* two devices with one file id would overwrite each other: refuse before writing anything */
    if (rc == ESPSEC_OK && m->fileid_col >= 0) {
        char **ids = calloc(m->nrows, sizeof(char *));
        for (size_t i = 0; ids && i < m->nrows; i++) {
            csv_reader_t r;
            csv_init(&r, values + m->rows[i].pos, values_len - m->rows[i].pos, 0);
            if (csv_next(&r, NULL) == 1) {
                size_t l = strlen(r.fields[m->fileid_col]);
                ids[i] = malloc(l + 16);
                if (ids[i]) {
                    snprintf(ids[i], l + 16, "%s\t%d", r.fields[m->fileid_col], m->rows[i].line);
                }
            }
            csv_free(&r);
        }
        if (ids != NULL) {
            qsort(ids, m->nrows, sizeof(char *), strcmp_ptr);
            for (size_t i = 1; i < m->nrows && rc == ESPSEC_OK; i++) {
                size_t a = strcspn(ids[i - 1], "\t"), b = strcspn(ids[i], "\t");
                if (a == b && strncmp(ids[i - 1], ids[i], a) == 0) {
                    rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: lines %s and %s: file id '%.*s' appears twice",
                                     opts->values_name, ids[i - 1] + a + 1, ids[i] + b + 1, (int)a, ids[i]);
                }
            }
            for (size_t i = 0; i < m->nrows; i++) {
                free(ids[i]);
            }
            free(ids);
        }
    }
    const char *outdir = opts->outdir ? opts->outdir : ".";
    snprintf(m->outdir, sizeof(m->outdir), "%s", outdir);
    snprintf(m->csvdir, sizeof(m->csvdir), "%s/csv", outdir);
    snprintf(m->bindir, sizeof(m->bindir), "%s/bin", outdir);
    snprintf(m->keysdir, sizeof(m->keysdir), "%s/keys", outdir);
    snprintf(m->scdir, sizeof(m->scdir), "%s/secure_cert", outdir);
    if (rc == ESPSEC_OK && opts->manifest != NULL && espsec_path_exists(opts->manifest)) {
        rc = espsec_fail(err, ESPSEC_ERR_EXISTS, "%s: exists; a manifest is never replaced", opts->manifest);
    }
    if (rc == ESPSEC_OK && ((!opts->no_nvs && !opts->no_csv && mkdir_p(m->csvdir) != 0) ||
                            (!opts->no_nvs && mkdir_p(m->bindir) != 0) || (opts->keygen && mkdir_p(m->keysdir) != 0) ||
                            (opts->secure_cert && mkdir_p(m->scdir) != 0))) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "%s: cannot create the output folders: %s", outdir, strerror(errno));
    }
    if (rc == ESPSEC_OK) {
        int jobs = opts->jobs > 0 ? opts->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
        jobs = jobs < 1 ? 1 : jobs > 256 ? 256 : jobs;
        if ((size_t)jobs > count) {
            jobs = (int)count;
        }
        pthread_t th[256];
        int started = 0;
        for (int j = 0; j < jobs; j++) {
            if (pthread_create(&th[j], NULL, worker, m) == 0) {
                started++;
            }
        }
        if (started == 0) {
            worker(m);
        }
        /* progress while the workers run */
        while (opts->progress != NULL) {
            size_t d = atomic_load(&m->done);
            opts->progress(opts->progress_ctx, d, count);
            if (d >= count || atomic_load(&m->failed)) {
                break;
            }
            struct timespec ts = {0, 20000000};
            nanosleep(&ts, NULL);
        }
        for (int j = 0; j < started; j++) {
            pthread_join(th[j], NULL);
        }
        if (opts->progress != NULL) {
            opts->progress(opts->progress_ctx, atomic_load(&m->done), count);
        }
        if (!opts->sync_each) {
            int dfd = open(opts->no_nvs ? m->scdir : m->bindir, O_RDONLY | O_DIRECTORY);
            if (dfd >= 0) {
                syncfs(dfd); /* one flush for the batch */
                close(dfd);
            }
        }
        if (atomic_load(&m->failed)) {
            *err = m->err;
            rc = m->err.code ? m->err.code : ESPSEC_ERR_IO;
        } else if (opts->manifest != NULL) {
            rc = manifest_write(m, err);
        }
    }
    if (stats != NULL) {
        *stats = m->st;
        stats->devices = atomic_load(&m->done);
        stats->seconds = wall_now() - w0;
    }
    for (size_t i = 0; m->header && i < m->ncols; i++) {
        free(m->header[i]);
        free(m->repeat_vals ? m->repeat_vals[i] : NULL);
    }
    free(m->header);
    free(m->repeat_vals);
    free(m->cfg);
    free(m->rows);
    free(m->man);
    pthread_mutex_destroy(&m->lock);
    free(m);
    return rc;
}
