/*
 * Building an esp_secure_cert partition the way configure_esp_secure_cert.py
 * (esp_secure_cert_mgr, host-only mode) does; see include/espsec/secure_cert.h.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "espsec/secure_cert.h"
#include "espsec/util.h"
#include "util/bytes.h"

/* A PEM block whose base64 sits on one line (or is wrapped oddly), rewrapped
 * at 64 columns so OpenSSL's reader takes it. NULL if in holds no PEM block. */
static char *pem_rewrap(const uint8_t *in, size_t len, size_t *out_len)
{
    const char *begin = memmem(in, len, "-----BEGIN ", 11);
    if (begin == NULL) {
        return NULL;
    }
    const char *end_of_in = (const char *)in + len;
    const char *label = begin + 11;
    const char *label_end = memmem(label, (size_t)(end_of_in - label), "-----", 5);
    if (label_end == NULL || label_end - label > 64) {
        return NULL;
    }
    size_t ll = (size_t)(label_end - label);
    char endmark[96];
    snprintf(endmark, sizeof endmark, "-----END %.*s-----", (int)ll, label);
    const char *b64 = label_end + 5;
    const char *stop = memmem(b64, (size_t)(end_of_in - b64), endmark, strlen(endmark));
    if (stop == NULL) {
        return NULL;
    }
    size_t cap = 2 * ll + 40 + (size_t)(stop - b64) * 2;
    char *out = malloc(cap), *o = out;
    if (out == NULL) {
        return NULL;
    }
    o += sprintf(o, "-----BEGIN %.*s-----\n", (int)ll, label);
    int col = 0;
    for (const char *p = b64; p < stop; p++) {
        if (isspace((unsigned char)*p)) {
            continue;
        }
        *o++ = *p;
        if (++col == 64) {
            *o++ = '\n';
            col = 0;
        }
    }
    if (col) {
        *o++ = '\n';
    }
    o += sprintf(o, "%s\n", endmark);
    *out_len = (size_t)(o - out);
    return out;
}

static int is_pem(const uint8_t *in, size_t len)
{
    return memmem(in, len, "-----BEGIN ", 11) != NULL;
}

static espsec_err_t bio_out(BIO *bio, int nul, uint8_t **out, size_t *out_len, espsec_error_t *err)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    if (n <= 0 || (*out = malloc((size_t)n + 1)) == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(*out, p, (size_t)n);
    (*out)[n] = 0;
    *out_len = (size_t)n + (nul ? 1 : 0);
    return ESPSEC_OK;
}

espsec_err_t espsec_sc_encode_cert(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len, int *extra_certs,
                                   espsec_error_t *err)
{
    *out = NULL;
    *extra_certs = 0;
    if (len > INT_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "certificate file too large");
    }
    X509 *x = NULL;
    espsec_err_t rc;
    if (is_pem(in, len)) {
        size_t wl = 0;
        char *w = pem_rewrap(in, len, &wl);
        BIO *bio = w ? BIO_new_mem_buf(w, (int)wl) : NULL;
        x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        free(w);
        if (x == NULL) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "not a PEM certificate (damaged base64 or ASN.1)");
        }
        const uint8_t *p = in;
        size_t left = len;
        const uint8_t *hit;
        while ((hit = memmem(p, left, "-----BEGIN CERTIFICATE-----", 27)) != NULL) {
            (*extra_certs)++;
            left -= (size_t)(hit - p) + 27;
            p = hit + 27;
        }
        (*extra_certs)--;
        BIO *o = BIO_new(BIO_s_mem());
        rc = o && PEM_write_bio_X509(o, x) == 1 ? bio_out(o, 1, out, out_len, err)
                                                  : espsec_fail(err, ESPSEC_ERR_CRYPTO, "certificate encoding failed");
        BIO_free(o);
    } else {
        const uint8_t *p = in;
        x = d2i_X509(NULL, &p, (long)len);
        if (x == NULL || p != in + len) {
            X509_free(x);
            return espsec_fail(err, ESPSEC_ERR_PARSE, "neither a PEM nor a DER certificate");
        }
        int n = i2d_X509(x, NULL);
        uint8_t *q = n > 0 ? malloc((size_t)n) : NULL, *qq = q;
        if (q == NULL || i2d_X509(x, &qq) != n) {
            free(q);
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "certificate encoding failed");
        } else {
            *out = q;
            *out_len = (size_t)n;
            rc = ESPSEC_OK;
        }
    }
    X509_free(x);
    return rc;
}

static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (pw == NULL) {
        return -1;
    }
    size_t n = strlen(pw);
    if (n > (size_t)size) {
        return -1;
    }
    memcpy(buf, pw, n);
    return (int)n;
}

espsec_err_t espsec_sc_encode_key(const uint8_t *in, size_t len, const char *password, uint8_t **out,
                                  size_t *out_len, void **evp_out, espsec_error_t *err)
{
    *out = NULL;
    if (evp_out != NULL) {
        *evp_out = NULL;
    }
    if (len > INT_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "key file too large");
    }
    EVP_PKEY *pk = NULL;
    int pem = is_pem(in, len);
    if (pem) {
        size_t wl = 0;
        char *w = pem_rewrap(in, len, &wl);
        BIO *bio = w ? BIO_new_mem_buf(w, (int)wl) : NULL;
        pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, pass_cb, (void *)password) : NULL;
        BIO_free(bio);
        if (w != NULL) {
            espsec_free_secret(w, wl);
        }
    } else {
        BIO *bio = BIO_new_mem_buf(in, (int)len);
        pk = bio ? d2i_PKCS8PrivateKey_bio(bio, NULL, pass_cb, (void *)password) : NULL;
        BIO_free(bio);
        if (pk == NULL) {
            const uint8_t *p = in;
            pk = d2i_AutoPrivateKey(NULL, &p, (long)len);
        }
    }
    if (pk == NULL) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "not a %s private key%s", pem ? "PEM" : "DER",
                           password == NULL && memmem(in, len, "ENCRYPTED", 9) ? " (it is encrypted: give its password)"
                                                                               : " (damaged, or wrong password)");
    }
    espsec_err_t rc;
    if (pem) {
        BIO *o = BIO_new(BIO_s_secmem());
        rc = o && PEM_write_bio_PrivateKey_traditional(o, pk, NULL, NULL, 0, NULL, NULL) == 1
                 ? bio_out(o, 1, out, out_len, err)
                 : espsec_fail(err, ESPSEC_ERR_CRYPTO, "key encoding failed");
        BIO_free(o);
    } else {
        int n = i2d_PrivateKey(pk, NULL);
        uint8_t *q = n > 0 ? malloc((size_t)n) : NULL, *qq = q;
        if (q == NULL || i2d_PrivateKey(pk, &qq) != n) {
            free(q);
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "key encoding failed");
        } else {
            *out = q;
            *out_len = (size_t)n;
            rc = ESPSEC_OK;
        }
    }
    if (rc == ESPSEC_OK && evp_out != NULL) {
        *evp_out = pk;
    } else {
        EVP_PKEY_free(pk);
    }
    return rc;
}

static int is_cert_type(uint8_t t)
{
    return t == ESPSEC_SC_CA_CERT || t == ESPSEC_SC_DEV_CERT;
}

static int ds_kind(const espsec_sc_entry_t *e)
{
    return e->type == ESPSEC_SC_PRIV_KEY &&
           (e->key_kind == ESPSEC_SC_KEY_RSA_DS || e->key_kind == ESPSEC_SC_KEY_ECDSA_PERIPHERAL);
}

static espsec_err_t check_entries(const espsec_sc_opts_t *o, espsec_error_t *err)
{
    for (size_t i = 0; i < o->count; i++) {
        const espsec_sc_entry_t *e = &o->entries[i];
        for (size_t j = 0; j < i; j++) {
            if (o->entries[j].type == e->type && o->entries[j].subtype == e->subtype) {
                return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: duplicate entry: type %u subtype %u is also given "
                                                                "by %s", e->where, e->type, e->subtype,
                                   o->entries[j].where);
            }
        }
        if (e->type == ESPSEC_SC_SIGNATURE_BLOCK || e->type == ESPSEC_SC_INTEGRITY || e->type == ESPSEC_SC_TLV_END) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: type %u is written by espsec itself (signature, "
                                                            "integrity, end)", e->where, e->type);
        }
        if (ds_kind(e) && (e->efuse_key_id < 0 || e->efuse_key_id > 5)) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: the %s key needs an eFuse key id 0..5 (efuse_id)",
                               e->where, e->key_kind == ESPSEC_SC_KEY_RSA_DS ? "DS" : "ECDSA-peripheral");
        }
        if ((e->key_kind == ESPSEC_SC_KEY_RSA_DS || e->key_kind == ESPSEC_SC_KEY_HMAC_ENCRYPTED) &&
            e->type == ESPSEC_SC_PRIV_KEY && o->hmac_key == NULL) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: needs the HMAC key (--efuse_key_file / "
                                                            "--hmac-key, 32 bytes)", e->where);
        }
    }
    return ESPSEC_OK;
}

/* DS_DATA (key length word, IV, ciphertext) and DS_CONTEXT for one RSA key. */
static espsec_err_t add_rsa_ds(espsec_sc_builder_t *b, const espsec_sc_opts_t *o, const espsec_sc_entry_t *e,
                               EVP_PKEY *pk, espsec_error_t *err)
{
    if (o->ds_rsa_max_bits == 0) {
        return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED, "%s: this chip has no RSA DS peripheral", e->where);
    }
    unsigned bits = (unsigned)EVP_PKEY_get_bits(pk);
    if (!EVP_PKEY_is_a(pk, "RSA")) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "%s: the DS peripheral takes an RSA key", e->where);
    }
    if (bits % 1024 || bits == 0 || bits > 4096 || !(o->ds_rsa_sizes & (1u << (bits / 1024 - 1)))) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "%s: RSA-%u is not a key size this chip's DS peripheral takes (at "
                                                "most %u)", e->where, bits, o->ds_rsa_max_bits);
    }
    if (e->key_bits != 0 && e->key_bits != bits) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "%s: the key is RSA-%u, RSA-%u was asked for", e->where, bits,
                           e->key_bits);
    }
    uint8_t iv[16];
    if (o->ds_iv != NULL) {
        memcpy(iv, o->ds_iv, 16);
    } else if (espsec_random(iv, 16) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "random number generator failed");
    }
    size_t cl = 0, vlen = 20 + 3 * (o->ds_rsa_max_bits / 8) + 48;
    uint8_t *v = malloc(vlen);
    if (v == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    unsigned kb = 0;
    espsec_err_t rc = espsec_sc_ds_params(pk, o->ds_rsa_max_bits, o->hmac_key, iv, v + 20, vlen - 20, &cl, &kb, err);
    if (rc == ESPSEC_OK) {
        put_le32(v, kb / 32 - 1);
        memcpy(v + 4, iv, 16);
        rc = espsec_sc_add(b, ESPSEC_SC_DS_DATA, e->subtype, 0, v, 20 + cl, err);
    }
    free(v);
    if (rc == ESPSEC_OK) {
        uint8_t ctx[8] = {0, 0, 0, 0, (uint8_t)e->efuse_key_id, 0, 0, 0};
        put_le16(ctx + 6, (uint16_t)kb);
        rc = espsec_sc_add(b, ESPSEC_SC_DS_CONTEXT, e->subtype, 0, ctx, sizeof ctx, err);
    }
    return rc;
}

static espsec_err_t check_peripheral_key(const espsec_sc_opts_t *o, const espsec_sc_entry_t *e, EVP_PKEY *pk,
                                         espsec_error_t *err)
{
    if (!EVP_PKEY_is_a(pk, "EC")) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "%s: the ECDSA peripheral takes an EC key", e->where);
    }
    unsigned bits = (unsigned)EVP_PKEY_get_bits(pk);
    unsigned bit = bits == 192 ? 1u : bits == 256 ? 2u : bits == 384 ? 4u : 0u;
    if (!(o->ecdsa_bits & bit)) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "%s: this chip's ECDSA peripheral does not take P-%u keys%s", e->where,
                           bits, o->ecdsa_bits ? "" : " (it has none)");
    }
    if (e->key_bits != 0 && e->key_bits != bits) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "%s: the key is P-%u, %u bits were asked for", e->where, bits,
                           e->key_bits);
    }
    return ESPSEC_OK;
}

/* The DS-related TLVs, which the reference writes before every entry. */
static espsec_err_t add_ds_tlvs(espsec_sc_builder_t *b, const espsec_sc_opts_t *o, espsec_error_t *err)
{
    for (size_t i = 0; i < o->count; i++) {
        const espsec_sc_entry_t *e = &o->entries[i];
        if (!ds_kind(e)) {
            continue;
        }
        uint8_t *enc = NULL;
        size_t el = 0;
        void *pk = NULL;
        espsec_err_t rc = espsec_sc_encode_key(e->data, e->len, o->key_password, &enc, &el, &pk, err);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(err, "%s: ", e->where);
            return rc;
        }
        espsec_free_secret(enc, el);
        if (e->key_kind == ESPSEC_SC_KEY_RSA_DS) {
            rc = add_rsa_ds(b, o, e, pk, err);
        } else {
            rc = check_peripheral_key(o, e, pk, err);
            if (rc == ESPSEC_OK) {
                uint8_t cfg[40] = {(uint8_t)(e->efuse_key_id + 4)}; /* the key block number, BLOCK_KEYn = n + 4 */
                rc = espsec_sc_add(b, ESPSEC_SC_SEC_CFG, e->subtype, 0, cfg, sizeof cfg, err);
            }
        }
        EVP_PKEY_free(pk);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    return ESPSEC_OK;
}

static espsec_err_t add_entry(espsec_sc_builder_t *b, const espsec_sc_opts_t *o, const espsec_sc_entry_t *e,
                              espsec_error_t *err)
{
    uint8_t *enc = NULL;
    size_t el = 0;
    espsec_err_t rc;
    if (is_cert_type(e->type)) {
        int extra = 0;
        rc = espsec_sc_encode_cert(e->data, e->len, &enc, &el, &extra, err);
        if (rc == ESPSEC_OK) {
            rc = espsec_sc_add(b, e->type, e->subtype, 0, enc, el, err);
        }
        free(enc);
    } else if (e->type == ESPSEC_SC_PRIV_KEY) {
        if (e->key_kind == ESPSEC_SC_KEY_RSA_DS) {
            return ESPSEC_OK; /* held by DS_DATA/DS_CONTEXT */
        }
        rc = espsec_sc_encode_key(e->data, e->len, o->key_password, &enc, &el, NULL, err);
        if (rc == ESPSEC_OK) {
            switch (e->key_kind) {
            case ESPSEC_SC_KEY_ECDSA_PERIPHERAL:
                rc = espsec_sc_add(b, e->type, e->subtype, ESPSEC_SC_FLAG_ECDSA_PERIPHERAL, enc,
                                   o->store_peripheral_key ? el : 0, err);
                break;
            case ESPSEC_SC_KEY_HMAC_ENCRYPTED:
                rc = espsec_sc_add_hmac_encrypted(b, e->type, e->subtype, o->hmac_key, enc, el, err);
                break;
            default:
                rc = espsec_sc_add(b, e->type, e->subtype, 0, enc, el, err);
                break;
            }
            espsec_free_secret(enc, el);
        }
    } else {
        rc = espsec_sc_add(b, e->type, e->subtype, 0, e->data, e->len, err);
    }
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(err, "%s: ", e->where);
    }
    return rc;
}

espsec_err_t espsec_sc_generate(const espsec_sc_opts_t *o, uint8_t *out, size_t cap, size_t *len,
                                espsec_error_t *err)
{
    espsec_sc_builder_t b;
    espsec_sc_builder_init(&b, out, cap);
    if (o->count == 0) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "nothing to put in the partition: give certificates, a key or "
                                                        "a config CSV");
    }
    espsec_err_t rc = check_entries(o, err);
    if (rc == ESPSEC_OK) {
        rc = add_ds_tlvs(&b, o, err);
    }
    for (size_t i = 0; rc == ESPSEC_OK && i < o->count; i++) {
        rc = add_entry(&b, o, &o->entries[i], err);
    }
    if (rc == ESPSEC_OK && o->nsigners > 0) {
        rc = espsec_sc_add_signatures(&b, o->signers, o->nsigners, err);
    }
    if (rc == ESPSEC_OK && !o->no_integrity) {
        rc = espsec_sc_add_integrity(&b, 0, err);
        /* the reference's signing path appends its end marker 0x0000FFFF after the integrity TLV */
        if (rc == ESPSEC_OK && o->nsigners > 0 && cap - b.len >= 4) {
            put_le32(out + b.len, 0xFFFFu);
            b.len += 4;
        }
    }
    if (rc != ESPSEC_OK) {
        memset(out, 0xFF, cap);
        return rc;
    }
    *len = b.len;
    return ESPSEC_OK;
}
