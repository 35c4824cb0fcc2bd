/*
 * espsec secure-cert: the esp_secure_cert partition, as esp_secure_cert_mgr's
 * configure_esp_secure_cert.py makes it in host-only mode (its option names
 * are accepted), plus info and verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "espsec/chip.h"
#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/secure_cert.h"
#include "espsec/util.h"
#include "json.h"
#include "util/csv.h"

#define MAX_ENTRIES 64
#define SC_MAX_INPUT (1u << 20)
#define DEFAULT_DIR "esp_secure_cert_data"

/* Everything generate reads, freed together. */
typedef struct {
    espsec_sc_entry_t e[MAX_ENTRIES];
    uint8_t *owned[MAX_ENTRIES];
    size_t owned_len[MAX_ENTRIES];
    char where[MAX_ENTRIES][160];
    size_t n;
} entries_t;

static void entries_free(entries_t *es)
{
    for (size_t i = 0; i < es->n; i++) {
        espsec_free_secret(es->owned[i], es->owned_len[i]);
    }
}

static espsec_sc_entry_t *entry_new(entries_t *es, espsec_error_t *err)
{
    if (es->n == MAX_ENTRIES) {
        espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "more than %d entries", MAX_ENTRIES);
        return NULL;
    }
    espsec_sc_entry_t *e = &es->e[es->n];
    memset(e, 0, sizeof *e);
    e->efuse_key_id = -1;
    e->where = es->where[es->n];
    es->n++;
    return e;
}

static espsec_err_t entry_file(entries_t *es, espsec_sc_entry_t *e, const char *path, espsec_error_t *err)
{
    size_t i = (size_t)(e - es->e);
    espsec_err_t rc = espsec_read_file(path, &es->owned[i], &es->owned_len[i], SC_MAX_INPUT, err);
    e->data = es->owned[i];
    e->len = es->owned_len[i];
    return rc;
}

static int add_option_entry(entries_t *es, uint8_t type, const char *path, espsec_sc_key_kind_t kind, unsigned bits,
                            int efuse_id, espsec_error_t *err)
{
    espsec_sc_entry_t *e = entry_new(es, err);
    if (e == NULL) {
        return -1;
    }
    e->type = type;
    e->key_kind = kind;
    e->key_bits = bits;
    e->efuse_key_id = efuse_id;
    snprintf(es->where[es->n - 1], sizeof es->where[0], "%s", path);
    return entry_file(es, e, path, err) == ESPSEC_OK ? 0 : -1;
}

static int key_kind_from(const char *s, espsec_sc_key_kind_t *k)
{
    static const struct {
        const char *name;
        espsec_sc_key_kind_t kind;
    } K[] = {{"", ESPSEC_SC_KEY_PLAINTEXT},
             {"plaintext", ESPSEC_SC_KEY_PLAINTEXT},
             {"rsa_ds", ESPSEC_SC_KEY_RSA_DS},
             {"ecdsa_peripheral", ESPSEC_SC_KEY_ECDSA_PERIPHERAL},
             {"hmac_encrypted", ESPSEC_SC_KEY_HMAC_ENCRYPTED}};
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        size_t n = strlen(K[i].name);
        int same = strlen(s) == n;
        for (size_t j = 0; same && j < n; j++) {
            char c = s[j] == '-' ? '_' : (char)(s[j] | 0x20);
            same = c == K[i].name[j];
        }
        if (same) {
            *k = K[i].kind;
            return 0;
        }
    }
    return -1;
}

/* A value of a config row: file, string, hex or base64 (configure_esp_secure_cert.py's data_type). */
static espsec_err_t row_value(entries_t *es, espsec_sc_entry_t *e, const char *value, const char *type,
                              espsec_error_t *err)
{
    size_t i = (size_t)(e - es->e), vl = strlen(value);
    if (strcasecmp(type, "file") == 0) {
        return entry_file(es, e, value, err);
    }
    uint8_t *buf = malloc(vl + 1);
    if (buf == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    long n;
    if (strcasecmp(type, "string") == 0) {
        memcpy(buf, value, vl);
        n = (long)vl;
    } else if (strcasecmp(type, "hex") == 0) {
        n = espsec_unhex(value, buf, vl + 1);
    } else if (strcasecmp(type, "base64") == 0) {
        n = espsec_base64_decode(value, vl, buf);
    } else {
        free(buf);
        return espsec_fail(err, ESPSEC_ERR_PARSE, "data_type '%s': file, string, hex or base64 expected", type);
    }
    if (n < 0) {
        free(buf);
        return espsec_fail(err, ESPSEC_ERR_PARSE, "data_value is not valid %s", type);
    }
    es->owned[i] = buf;
    es->owned_len[i] = vl + 1;
    e->data = buf;
    e->len = (size_t)n;
    return ESPSEC_OK;
}

static const char *col(const csv_reader_t *r, const int idx[], int k)
{
    return idx[k] >= 0 && (size_t)idx[k] < r->nfields ? espsec_trim(r->fields[idx[k]]) : "";
}

/* The reference's CSV: tlv_type,tlv_subtype,data_value,data_type,priv_key_type,algorithm,key_size,efuse_id,efuse_key */
static int read_config(entries_t *es, const char *path, const char **efuse_key_file, espsec_error_t *err)
{
    static const char *const NAMES[] = {"tlv_type", "tlv_subtype", "data_value", "data_type", "priv_key_type",
                                        "algorithm", "key_size", "efuse_id", "efuse_key"};
    enum { C_TYPE, C_SUB, C_VALUE, C_DTYPE, C_KTYPE, C_ALG, C_KSIZE, C_EID, C_EKEY, C_N };
    uint8_t *text = NULL;
    size_t tl = 0;
    if (espsec_read_file(path, &text, &tl, SC_MAX_INPUT, err) != ESPSEC_OK) {
        return -1;
    }
    csv_reader_t r;
    csv_init(&r, (const char *)text, tl, 0);
    int idx[C_N], rc = -1, got;
    for (int k = 0; k < C_N; k++) {
        idx[k] = -1;
    }
    if ((got = csv_next(&r, err)) != 1) {
        if (got == 0) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "%s: empty (a header row tlv_type,tlv_subtype,data_value,... "
                                               "expected)", path);
        }
        goto done;
    }
    for (size_t f = 0; f < r.nfields; f++) {
        for (int k = 0; k < C_N; k++) {
            if (strcmp(espsec_trim(r.fields[f]), NAMES[k]) == 0) {
                idx[k] = (int)f;
            }
        }
    }
    for (int k = 0; k < 4; k++) {
        if (idx[k] < 0) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "%s line 1: no '%s' column", path, NAMES[k]);
            goto done;
        }
    }
    while ((got = csv_next(&r, err)) == 1) {
        const char *tname = col(&r, idx, C_TYPE);
        if (tname[0] == '#' || (r.nfields == 1 && tname[0] == '\0')) {
            continue;
        }
        espsec_sc_entry_t *e = entry_new(es, err);
        if (e == NULL) {
            goto done;
        }
        snprintf(es->where[es->n - 1], sizeof es->where[0], "%s line %d", path, r.row_line);
        int t = espsec_sc_type_from_name(tname);
        uint64_t sub, ks = 0, eid = 0;
        const char *ktype = col(&r, idx, C_KTYPE), *kss = col(&r, idx, C_KSIZE), *eids = col(&r, idx, C_EID);
        if (t < 0) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "%s: tlv_type '%s' is neither a type name nor a number", e->where, tname);
            goto done;
        }
        if (espsec_parse_u64(col(&r, idx, C_SUB), &sub) != 0 || sub > 254) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "%s: tlv_subtype '%s': 0..254 expected", e->where, col(&r, idx, C_SUB));
            goto done;
        }
        if ((kss[0] && espsec_parse_u64(kss, &ks) != 0) || (eids[0] && (espsec_parse_u64(eids, &eid) != 0 || eid > 5))) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "%s: key_size '%s' / efuse_id '%s' not valid (efuse_id 0..5)", e->where,
                        kss, eids);
            goto done;
        }
        e->type = (uint8_t)t;
        e->subtype = (uint8_t)sub;
        if (key_kind_from(ktype, &e->key_kind) != 0) {
            espsec_fail(err, ESPSEC_ERR_PARSE, "%s: priv_key_type '%s': plaintext, rsa_ds or ecdsa_peripheral expected",
                        e->where, ktype);
            goto done;
        }
        e->key_bits = (unsigned)ks;
        e->efuse_key_id = eids[0] ? (int)eid : -1;
        if (col(&r, idx, C_EKEY)[0]) {
            *efuse_key_file = strdup(col(&r, idx, C_EKEY));
        }
        if (row_value(es, e, col(&r, idx, C_VALUE), col(&r, idx, C_DTYPE), err) != ESPSEC_OK) {
            espsec_error_prefix(err, "%s: ", e->where);
            goto done;
        }
    }
    rc = got < 0 ? -1 : 0;
done:
    csv_free(&r);
    free(text);
    return rc;
}

static int load_signers(cli_args_t *a, espsec_sb_key_t **keys, espsec_sbv2_signer_t *signers, size_t *n)
{
    const char **paths = NULL;
    size_t np = cli_list(a, "signing-key-file", &paths);
    const char **more = NULL;
    size_t nm = cli_list(a, "sign-key", &more);
    *n = 0;
    for (size_t i = 0; i < np + nm && i < 3; i++) {
        const char *p = i < np ? paths[i] : more[i - np];
        uint8_t *pem = NULL;
        size_t len = 0;
        espsec_error_t err;
        if (espsec_read_file(p, &pem, &len, SC_MAX_INPUT, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        espsec_err_t rc = espsec_sb_key_load_pem(pem, len, &keys[i], &err);
        espsec_free_secret(pem, len);
        if (rc == ESPSEC_OK && !espsec_sb_key_is_private(keys[i])) {
            rc = espsec_fail(&err, ESPSEC_ERR_KEY, "a public key cannot sign");
        }
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", p);
            return cli_fail(&err);
        }
        signers[i].key = keys[i];
        (*n)++;
    }
    if (np + nm > 3) {
        return cli_error("%zu signing keys: the device checks at most 3", np + nm);
    }
    return 0;
}

static const char *first_of(cli_args_t *a, const char *n1, const char *n2, const char *n3)
{
    const char *v = cli_str(a, n1);
    if (v == NULL && n2 != NULL) {
        v = cli_str(a, n2);
    }
    if (v == NULL && n3 != NULL) {
        v = cli_str(a, n3);
    }
    return v;
}

/* The HMAC key: from the file given, or a new one written 0600 next to the output. */
static int hmac_key_for(const char *path, const char *outdir, uint8_t key[32], int *made, char *made_path, size_t mpl)
{
    espsec_error_t err;
    *made = 0;
    if (path != NULL) {
        uint8_t *b = NULL;
        size_t l = 0;
        if (espsec_read_file(path, &b, &l, 4096, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        if (l != 32) {
            espsec_free_secret(b, l);
            return cli_error("%s: %zu bytes; an HMAC key file holds 32 raw bytes", path, l);
        }
        memcpy(key, b, 32);
        espsec_free_secret(b, l);
        return 0;
    }
    snprintf(made_path, mpl, "%s/hmac_key.bin", outdir);
    if (espsec_random(key, 32) != ESPSEC_OK) {
        return cli_error("random number generator failed");
    }
    if (espsec_write_secret_file(made_path, key, 32, 0, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    *made = 1;
    return 0;
}

static int cmd_generate(cli_args_t *a)
{
    if (cli_str(a, "port") != NULL) {
        return cli_error("--port: espsec works on the host only; burn the eFuse key with espefuse and flash the "
                         "partition with esptool (the commands are printed after generation)");
    }
    const char *chip_name = cli_str(a, "target-chip") ? cli_str(a, "target-chip") : "esp32c3";
    const espsec_chip_info_t *chip = espsec_chip_by_name(chip_name);
    if (chip == NULL) {
        return cli_error("--target_chip %s: not a chip espsec knows", chip_name);
    }
    if (!chip->has_security) {
        return cli_error("--target_chip %s: %s", chip->name, chip->no_security_reason);
    }
    const char *out = cli_str(a, "output") ? cli_str(a, "output") : cli_str(a, "esp-secure-cert-file");
    char outdir[4096];
    if (out == NULL) {
        mkdir(DEFAULT_DIR, 0755);
        out = DEFAULT_DIR "/esp_secure_cert.bin";
    }
    snprintf(outdir, sizeof outdir, "%s", out);
    char *slash = strrchr(outdir, '/');
    if (slash != NULL) {
        *slash = '\0';
    } else {
        snprintf(outdir, sizeof outdir, ".");
    }

    espsec_error_t err;
    entries_t es;
    memset(&es, 0, sizeof es);
    int rc = 2, ds = cli_flag(a, "configure-ds"), hmac_enc = cli_flag(a, "hmac-encrypt");
    espsec_sc_key_kind_t kind = ESPSEC_SC_KEY_PLAINTEXT;
    unsigned bits = 0;
    const char **algo = NULL;
    size_t na = cli_list(a, "priv-key-algo", &algo);
    unsigned long long eid = 0;
    if (cli_u64(a, "efuse-key-id", 1, &eid) != 0) {
        return 2;
    }
    if (eid > 5) {
        return cli_error("--efuse_key_id %llu: 0..5 (the key block KEYn)", eid);
    }
    if (ds) {
        uint64_t b = 0;
        if (na != 2 || espsec_parse_u64(algo[1], &b) != 0) {
            return cli_error("--configure_ds needs --priv_key_algo RSA|ECDSA SIZE (e.g. RSA 3072, ECDSA 256)");
        }
        bits = (unsigned)b;
        if (strcasecmp(algo[0], "RSA") == 0) {
            kind = ESPSEC_SC_KEY_RSA_DS;
        } else if (strcasecmp(algo[0], "ECDSA") == 0) {
            kind = ESPSEC_SC_KEY_ECDSA_PERIPHERAL;
        } else {
            return cli_error("--priv_key_algo %s: RSA or ECDSA expected", algo[0]);
        }
        if (hmac_enc) {
            return cli_error("--hmac-encrypt and --configure_ds are alternatives (the peripheral holds the key)");
        }
    } else if (hmac_enc) {
        kind = ESPSEC_SC_KEY_HMAC_ENCRYPTED;
    }
    const char *ca = cli_str(a, "ca-cert"), *dev = cli_str(a, "device-cert"), *key = cli_str(a, "private-key");
    const char *efuse_key_file = first_of(a, "efuse-key-file", "hmac-key", NULL);
    const char *csv_key_file = NULL;
    if ((ca && add_option_entry(&es, ESPSEC_SC_CA_CERT, ca, 0, 0, -1, &err) != 0) ||
        (dev && add_option_entry(&es, ESPSEC_SC_DEV_CERT, dev, 0, 0, -1, &err) != 0) ||
        (key && add_option_entry(&es, ESPSEC_SC_PRIV_KEY, key, kind, bits, (int)eid, &err) != 0)) {
        entries_free(&es);
        return cli_fail(&err);
    }
    const char *conf = first_of(a, "esp-secure-cert-csv", "config", NULL);
    if (conf != NULL && read_config(&es, conf, &csv_key_file, &err) != 0) {
        entries_free(&es);
        free((void *)csv_key_file);
        return cli_fail(&err);
    }
    if (efuse_key_file == NULL) {
        efuse_key_file = csv_key_file;
    }
    int needs_hmac = 0;
    for (size_t i = 0; i < es.n; i++) {
        needs_hmac |= es.e[i].type == ESPSEC_SC_PRIV_KEY &&
                      (es.e[i].key_kind == ESPSEC_SC_KEY_RSA_DS || es.e[i].key_kind == ESPSEC_SC_KEY_HMAC_ENCRYPTED);
    }
    uint8_t hmac[32], ds_iv[16];
    int made = 0;
    char made_path[4200] = "";
    espsec_sb_key_t *sbkeys[3] = {NULL, NULL, NULL};
    espsec_sbv2_signer_t signers[3];
    memset(signers, 0, sizeof signers);
    size_t nsig = 0;
    uint8_t *part = NULL;
    if (needs_hmac && hmac_key_for(efuse_key_file, outdir, hmac, &made, made_path, sizeof made_path) != 0) {
        goto done;
    }
    const char *iv_hex = cli_str(a, "ds-iv");
    if (iv_hex != NULL && espsec_unhex(iv_hex, ds_iv, sizeof ds_iv) != 16) {
        cli_error("--ds-iv %s: 16 bytes of hex expected", iv_hex);
        goto done;
    }
    if ((cli_flag(a, "secure-sign") || cli_list(a, "sign-key", &algo) > 0) && load_signers(a, sbkeys, signers, &nsig) != 0) {
        goto done;
    }
    if (cli_flag(a, "secure-sign") && nsig == 0) {
        cli_error("--secure-sign needs --signing-key-file KEY [KEY2 KEY3]");
        goto done;
    }
    espsec_sc_opts_t o = {
        .entries = es.e,
        .count = es.n,
        .ds_rsa_max_bits = chip->ds.rsa_max_bits,
        .ds_rsa_sizes = chip->ds.rsa_sizes,
        .ecdsa_bits = chip->ds.ecdsa_bits,
        .hmac_key = needs_hmac ? hmac : NULL,
        .ds_iv = iv_hex ? ds_iv : NULL,
        .key_password = first_of(a, "pwd", "password", NULL),
        .signers = nsig ? signers : NULL,
        .nsigners = nsig,
        .no_integrity = cli_flag(a, "no-integrity"),
        .store_peripheral_key = cli_flag(a, "store-peripheral-key"),
    };
    const char *pwenv = cli_str(a, "keyfile-password-env");
    if (pwenv != NULL) {
        o.key_password = getenv(pwenv);
        if (o.key_password == NULL) {
            cli_error("--keyfile-password-env %s: the variable is not set", pwenv);
            goto done;
        }
    }
    part = malloc(ESPSEC_SC_PARTITION_SIZE);
    size_t plen = 0;
    if (part == NULL) {
        cli_error("out of memory");
        goto done;
    }
    if (espsec_sc_generate(&o, part, ESPSEC_SC_PARTITION_SIZE, &plen, &err) != ESPSEC_OK ||
        espsec_write_file(out, part, plen, needs_hmac || key ? ESPSEC_MODE_SECRET : ESPSEC_MODE_PUBLIC, &err) !=
            ESPSEC_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    printf("esp_secure_cert partition (%zu of %d bytes, %zu entries%s%s) written to %s\n", plen,
           ESPSEC_SC_PARTITION_SIZE, es.n, nsig ? ", signed" : "", o.no_integrity ? "" : ", integrity TLV", out);
    for (size_t i = 0; i < es.n; i++) {
        const espsec_sc_entry_t *e = &es.e[i];
        if (e->type != ESPSEC_SC_PRIV_KEY || e->key_kind == ESPSEC_SC_KEY_PLAINTEXT) {
            continue;
        }
        const char *kf = made ? made_path : efuse_key_file;
        if (e->key_kind == ESPSEC_SC_KEY_RSA_DS) {
            printf("Burn the DS HMAC key: espefuse --chip %s burn-key BLOCK_KEY%d %s HMAC_DOWN_DIGITAL_SIGNATURE\n",
                   chip->name, e->efuse_key_id, kf);
        } else if (e->key_kind == ESPSEC_SC_KEY_ECDSA_PERIPHERAL) {
            printf("Burn the ECDSA key: espefuse --chip %s burn-key BLOCK_KEY%d %s ECDSA_KEY%s\n", chip->name,
                   e->efuse_key_id, e->where, e->key_bits == 384 ? "_P384" : e->key_bits == 192 ? "_P192" : "");
        } else {
            printf("Burn the HMAC key: espefuse --chip %s burn-key BLOCK_KEY%d %s HMAC_UP\n", chip->name,
                   e->efuse_key_id < 0 ? 1 : e->efuse_key_id, kf);
        }
    }
    if (made) {
        printf("A new HMAC key was written to %s (mode 0600): keep it until it is burned\n", made_path);
    }
    printf("To flash: esptool --chip %s write-flash %s %s\n", chip->name,
           cli_str(a, "sec-cert-part-offset") ? cli_str(a, "sec-cert-part-offset") : "0xD000", out);
    rc = 0;
done:
    free(part);
    espsec_wipe(hmac, sizeof hmac);
    for (size_t i = 0; i < 3; i++) {
        espsec_sb_key_free(sbkeys[i]);
    }
    entries_free(&es);
    free((void *)csv_key_file);
    return rc;
}

static const char *flag_text(uint8_t f)
{
    if ((f & 0xC0) == ESPSEC_SC_FLAG_HMAC_ENCRYPTED) {
        return "HMAC-encrypted";
    }
    if ((f & 0xC0) == ESPSEC_SC_FLAG_HMAC_ECDSA_DERIVED) {
        return "HMAC-derived ECDSA key";
    }
    if ((f & 0x38) == ESPSEC_SC_FLAG_ECDSA_PERIPHERAL) {
        return "ECDSA peripheral key";
    }
    return f ? "unknown flags" : "";
}

static void cert_subject(const espsec_sc_tlv_t *t, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (t->flags != 0) {
        return;
    }
    uint8_t *enc = NULL;
    size_t el = 0;
    int extra = 0;
    espsec_error_t err;
    size_t n = t->len && t->value[t->len - 1] == 0 ? t->len - 1 : t->len;
    if (espsec_sc_encode_cert(t->value, n, &enc, &el, &extra, &err) != ESPSEC_OK) {
        snprintf(buf, cap, "(not a certificate)");
        return;
    }
    free(enc);
    const uint8_t *p = t->value;
    X509 *x = NULL;
    if (memmem(t->value, n, "-----BEGIN", 10) != NULL) {
        BIO *bio = BIO_new_mem_buf(t->value, (int)n);
        x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
    } else {
        x = d2i_X509(NULL, &p, (long)n);
    }
    if (x != NULL) {
        X509_NAME_oneline(X509_get_subject_name(x), buf, (int)cap);
        X509_free(x);
    }
}

typedef struct {
    int bad;
    size_t sig_valid;
} verdict_t;

/* One entry's lines (text) or object (JSON); returns the problems found. */
static void report(const uint8_t *part, size_t len, const espsec_sc_tlv_t *t, size_t idx, const uint8_t *hmac,
                   const espsec_chip_info_t *chip, json_t *j, verdict_t *v)
{
    const char *name = espsec_sc_type_name(t->type);
    char subj[256] = "", extra[300] = "";
    int ok = t->crc_ok;
    if (t->type == ESPSEC_SC_CA_CERT || t->type == ESPSEC_SC_DEV_CERT) {
        cert_subject(t, subj, sizeof subj);
        snprintf(extra, sizeof extra, "%s", subj);
    } else if (t->type == ESPSEC_SC_INTEGRITY) {
        espsec_error_t err;
        int good = espsec_sc_check_integrity(part, t, &err) == ESPSEC_OK;
        snprintf(extra, sizeof extra, "integrity %s", good ? "valid" : "INVALID");
        ok &= good;
    } else if (t->type == ESPSEC_SC_SIGNATURE_BLOCK) {
        espsec_sc_sig_info_t si;
        espsec_error_t err;
        if (espsec_sc_check_signature(part, len, t, &si, &err) != ESPSEC_OK) {
            snprintf(extra, sizeof extra, "INVALID: %.200s", err.msg);
            ok = 0;
        } else {
            char kd[65];
            espsec_hex(si.key_digest, 32, kd, 0);
            snprintf(extra, sizeof extra, "%s signature over 0x%x bytes: %s; key digest %s",
                     espsec_sb_scheme_name(si.scheme), si.signed_len, si.valid ? "valid" : si.problem, kd);
            ok &= si.valid;
            v->sig_valid += si.valid ? 1 : 0;
        }
    } else if ((t->flags & 0xC0) == ESPSEC_SC_FLAG_HMAC_ENCRYPTED && hmac != NULL) {
        uint8_t *plain = malloc(t->len ? t->len : 1);
        size_t pl = 0;
        espsec_error_t err;
        int good = plain && espsec_sc_hmac_decrypt(t, hmac, plain, t->len, &pl, &err) == ESPSEC_OK;
        snprintf(extra, sizeof extra, "decrypts with the HMAC key: %s", good ? "yes" : "NO");
        if (plain) {
            espsec_free_secret(plain, t->len);
        }
        ok &= good;
    } else if (t->type == ESPSEC_SC_DS_DATA && hmac != NULL && chip != NULL && t->len >= 20) {
        unsigned kb = 0;
        espsec_error_t err;
        int good = espsec_sc_ds_check(t->value + 20, t->len - 20u, chip->ds.rsa_max_bits, t->value + 4, hmac, &kb,
                                      &err) == ESPSEC_OK;
        if (good) {
            snprintf(extra, sizeof extra, "DS parameters valid with the HMAC key: RSA-%u", kb);
        } else {
            snprintf(extra, sizeof extra, "DS parameters: %.200s", err.msg);
        }
        ok &= good;
    } else if (t->type == ESPSEC_SC_DS_CONTEXT && t->len == 8) {
        snprintf(extra, sizeof extra, "eFuse key id %u, RSA-%u", t->value[4], t->value[6] | t->value[7] << 8);
    } else if (t->type == ESPSEC_SC_SEC_CFG && t->len >= 1) {
        snprintf(extra, sizeof extra, "key in eFuse block %u (BLOCK_KEY%d)", t->value[0], t->value[0] - 4);
    }
    v->bad += !ok;
    if (j != NULL) {
        json_obj(j, NULL);
        json_uint(j, "offset", t->offset);
        json_uint(j, "type", t->type);
        json_str(j, "type_name", name ? name : "unknown");
        json_uint(j, "subtype", t->subtype);
        json_uint(j, "length", t->len);
        json_uint(j, "flags", t->flags);
        json_bool(j, "crc_ok", t->crc_ok);
        json_bool(j, "valid", ok);
        json_str(j, "detail", extra);
        json_obj_end(j);
        return;
    }
    char fl[40] = "";
    if (t->flags) {
        snprintf(fl, sizeof fl, ", flags 0x%02x (%s)", t->flags, flag_text(t->flags));
    }
    printf("%2zu. 0x%04zx %-40s subtype %u, %u bytes%s, CRC %s%s%s\n", idx + 1, t->offset, name ? name : "(unknown type)",
           t->subtype, t->len, fl, t->crc_ok ? "ok" : "BAD", extra[0] ? ": " : "", extra);
}

static int load_part(const char *path, uint8_t **part, size_t *len, espsec_sc_tlv_t *tlvs, size_t *n, size_t *end)
{
    espsec_error_t err;
    if (espsec_read_file(path, part, len, 16u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (espsec_sc_parse(*part, *len, tlvs, 256, n, end, &err) != ESPSEC_OK) {
        free(*part);
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    if (*n > 256) {
        free(*part);
        return cli_error("%s: more than 256 TLV entries", path);
    }
    return 0;
}

static int read_hmac_opt(cli_args_t *a, uint8_t hmac[32], int *have)
{
    const char *p = first_of(a, "hmac-key", "efuse-key-file", NULL);
    *have = 0;
    if (p == NULL) {
        return 0;
    }
    int made = 0;
    char dummy[8];
    if (hmac_key_for(p, ".", hmac, &made, dummy, sizeof dummy) != 0) {
        return 2;
    }
    *have = 1;
    return 0;
}

static int run_check(cli_args_t *a, int verify)
{
    const char *path = cli_pos(a, 0);
    uint8_t *part = NULL, hmac[32];
    size_t len = 0, n = 0, end = 0;
    espsec_sc_tlv_t *tlvs = calloc(256, sizeof *tlvs);
    int have_hmac = 0, rc;
    if (tlvs == NULL) {
        return cli_error("out of memory");
    }
    if ((rc = read_hmac_opt(a, hmac, &have_hmac)) != 0 || (rc = load_part(path, &part, &len, tlvs, &n, &end)) != 0) {
        free(tlvs);
        return rc;
    }
    const char *cn = cli_str(a, "target-chip");
    const espsec_chip_info_t *chip = cn ? espsec_chip_by_name(cn) : NULL;
    if (cn != NULL && chip == NULL) {
        free(part);
        free(tlvs);
        return cli_error("--target_chip %s: not a chip espsec knows", cn);
    }
    verdict_t v = {0, 0};
    json_t j;
    int as_json = cli_flag(a, "json");
    if (as_json) {
        json_init(&j, stdout);
        json_obj(&j, NULL);
        json_str(&j, "file", path);
        json_uint(&j, "used_bytes", end);
        json_arr(&j, "entries");
    } else {
        printf("%s: esp_secure_cert partition, %zu TLV entries in 0x%zx bytes\n", path, n, end);
    }
    int has_integrity = 0, has_sig = 0;
    for (size_t i = 0; i < n; i++) {
        report(part, len, &tlvs[i], i, have_hmac ? hmac : NULL, chip, as_json ? &j : NULL, &v);
        has_integrity |= tlvs[i].type == ESPSEC_SC_INTEGRITY;
        has_sig |= tlvs[i].type == ESPSEC_SC_SIGNATURE_BLOCK;
    }
    /* verify with the Secure Boot keys the device trusts */
    const char **keys = NULL;
    size_t nk = cli_list(a, "keyfile", &keys);
    int key_bad = 0;
    for (size_t k = 0; k < nk; k++) {
        uint8_t *pem = NULL, want[32];
        size_t pl = 0;
        espsec_error_t err;
        espsec_sb_key_t *key = NULL;
        if (espsec_read_file(keys[k], &pem, &pl, SC_MAX_INPUT, &err) != ESPSEC_OK ||
            espsec_sb_key_load_pem(pem, pl, &key, &err) != ESPSEC_OK ||
            espsec_sbv2_key_digest(key, want, &err) != ESPSEC_OK) {
            espsec_free_secret(pem, pl);
            espsec_sb_key_free(key);
            free(part);
            free(tlvs);
            espsec_error_prefix(&err, "%s: ", keys[k]);
            return cli_fail(&err);
        }
        espsec_free_secret(pem, pl);
        espsec_sb_key_free(key);
        int found = 0;
        for (size_t i = 0; i < n && !found; i++) {
            espsec_sc_sig_info_t si;
            if (tlvs[i].type == ESPSEC_SC_SIGNATURE_BLOCK &&
                espsec_sc_check_signature(part, len, &tlvs[i], &si, &err) == ESPSEC_OK && si.valid &&
                espsec_ct_compare(si.key_digest, want, 32) == 0) {
                found = 1;
                if (!as_json) {
                    printf("Signature block %u is valid (%s)\n", tlvs[i].subtype, keys[k]);
                }
            }
        }
        key_bad += !found;
        if (!found && !as_json) {
            printf("No valid signature block by %s\n", keys[k]);
        }
    }
    int fail = v.bad || key_bad || (verify && !has_integrity && !has_sig);
    if (as_json) {
        json_arr_end(&j);
        json_bool(&j, "valid", !fail);
        json_obj_end(&j);
        json_end(&j);
    } else if (verify) {
        if (!has_integrity && !has_sig) {
            printf("Neither an integrity nor a signature TLV: nothing protects this partition\n");
        }
        printf("%s\n", fail ? "Partition is NOT valid" : "Partition is valid");
    }
    free(part);
    free(tlvs);
    if (fail && verify) {
        return cli_error("%s: %d entr%s failed their checks%s", path, v.bad + key_bad, v.bad + key_bad == 1 ? "y" : "ies",
                         !has_integrity && !has_sig ? " (no integrity or signature TLV)" : "");
    }
    return 0;
}

static int cmd_info(cli_args_t *a)
{
    return run_check(a, 0);
}

static int cmd_verify(cli_args_t *a)
{
    return run_check(a, 1);
}

static const cli_opt_t OPT_GEN[] = {
    {"ca-cert", 0, CLI_VALUE, "CA.pem", "CA certificate (PEM or DER): ESP_SECURE_CERT_CA_CERT_TLV."},
    {"device-cert", 0, CLI_VALUE, "DEV.pem", "Device certificate (PEM or DER): ESP_SECURE_CERT_DEV_CERT_TLV."},
    {"private-key", 0, CLI_VALUE, "KEY.pem", "Device private key (PEM or DER): ESP_SECURE_CERT_PRIV_KEY_TLV."},
    {"pwd", 0, CLI_VALUE, "PASS", "Password of an encrypted private key (--password; prefer --keyfile-password-env)."},
    {"password", 0, CLI_VALUE, "PASS", "Same as --pwd."},
    {"keyfile-password-env", 0, CLI_VALUE, "VAR", "Read the private key's password from this environment variable."},
    {"target-chip", 0, CLI_VALUE, "CHIP", "Target chip (default esp32c3): its DS/ECDSA peripherals come from the chip model."},
    {"configure-ds", 0, CLI_FLAG, NULL, "Put the key in the DS (RSA) or ECDSA peripheral (with --priv_key_algo)."},
    {"priv-key-algo", 0, CLI_MULTI, "ALG SIZE", "RSA 2048|3072|4096 or ECDSA 192|256|384, with --configure_ds."},
    {"efuse-key-id", 0, CLI_VALUE, "N", "Key block KEYn for the HMAC (DS) or ECDSA key (default 1)."},
    {"efuse-key-file", 0, CLI_VALUE, "HMAC.bin", "32-byte HMAC key for DS / HMAC encryption (default: a new one, "
                                                "written 0600 as hmac_key.bin next to the output)."},
    {"hmac-key", 0, CLI_VALUE, "HMAC.bin", "Same as --efuse_key_file."},
    {"hmac-encrypt", 0, CLI_FLAG, NULL, "Store the private key encrypted with the HMAC_UP-derived key (flag 0x80)."},
    {"esp-secure-cert-csv", 0, CLI_VALUE, "CSV", "Entries from a CSV: tlv_type,tlv_subtype,data_value,data_type,"
                                                 "priv_key_type,algorithm,key_size,efuse_id,efuse_key."},
    {"config", 0, CLI_VALUE, "CSV", "Same as --esp_secure_cert_csv."},
    {"secure-sign", 0, CLI_FLAG, NULL, "Sign the entries with Secure Boot V2 key(s) (signature TLVs)."},
    {"signing-key-file", 0, CLI_MULTI, "KEY", "Secure Boot V2 private key(s), up to 3 (RSA-3072, P-256, P-384)."},
    {"sign-key", 0, CLI_MULTI, "KEY", "Same as --secure-sign --signing-key-file KEY."},
    {"signing-scheme", 0, CLI_VALUE, "S", "Accepted for compatibility; the scheme follows each key."},
    {"no-integrity", 0, CLI_FLAG, NULL, "Do not append the integrity TLV (the reference always does)."},
    {"store-peripheral-key", 0, CLI_FLAG, NULL, "ECDSA peripheral: also store the key in the partition, as the "
                                                "reference tool does (espsec leaves it out by default)."},
    {"ds-iv", 0, CLI_VALUE, "HEX", "DS: this 16-byte IV instead of a random one (reproducible output)."},
    {"output", 'o', CLI_VALUE, "OUT", "Partition file (default esp_secure_cert_data/esp_secure_cert.bin)."},
    {"esp-secure-cert-file", 0, CLI_VALUE, "OUT", "Same as --output."},
    {"sec-cert-part-offset", 0, CLI_VALUE, "ADDR", "Flash offset named in the flashing hint (default 0xD000)."},
    {"skip-flash", 0, CLI_FLAG, NULL, "Accepted: espsec never flashes."},
    {"keep-ds-data-on-host", 0, CLI_FLAG, NULL, "Accepted: espsec keeps the HMAC key it makes."},
    {"port", 'p', CLI_VALUE, "PORT", "Refused: espsec does not talk to devices."},
    {0}};
static const cli_opt_t OPT_CHECK[] = {
    {"keyfile", 'k', CLI_MULTI, "KEY", "Secure Boot V2 key(s) (private or public) that must have signed it."},
    {"hmac-key", 0, CLI_VALUE, "HMAC.bin", "Decrypt HMAC-encrypted entries and check DS parameters with this key."},
    {"efuse-key-file", 0, CLI_VALUE, "HMAC.bin", "Same as --hmac-key."},
    {"target-chip", 0, CLI_VALUE, "CHIP", "Chip (for the DS parameter width)."},
    {"json", 0, CLI_FLAG, NULL, "JSON output."},
    {0}};
static const cli_pos_t POS_PART[] = {{"PARTITION", "esp_secure_cert partition image.", 0, 0}, {0}};

static const cli_cmd_t SC_CMDS[] = {
    {"generate", NULL, "Make an esp_secure_cert partition (configure_esp_secure_cert.py, host-only).",
     "Entries from --ca-cert/--device-cert/--private-key and/or a CSV; DS data for the RSA DS peripheral; "
     "optional HMAC encryption, signature and integrity TLVs. Never flashes or burns: prints the commands.",
     OPT_GEN, NULL, cmd_generate},
    {"info", NULL, "List the TLV entries of an esp_secure_cert partition and check each.", NULL, OPT_CHECK, POS_PART,
     cmd_info},
    {"verify", NULL, "Exit 0 only when every CRC, the integrity and signature TLVs (and --keyfile's) are valid.", NULL,
     OPT_CHECK, POS_PART, cmd_verify},
    {0}};

const cli_group_t CLI_SECURE_CERT = {"secure-cert", "esp_secure_cert partitions: device certificates and keys.",
                                     NULL, NULL, SC_CMDS};
