/*
 * What burn-key burns from a key file (espsec/efuse.h): the file's bytes, or for
 * the ECDSA peripheral's purposes the scalar of a PEM private key, laid out as
 * espefuse v5.3.1 lays it out (big-endian, zero-padded in front to the block).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "espsec/efuse.h"
#include "espsec/util.h"

#define KEY_MAX 64 /* two key blocks */

/* An encrypted PEM key is refused, never asked for on the terminal. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return 0;
}

/* 1 when the purpose takes a PEM private key: the ECDSA purposes but their P-384 halves. */
static int ecdsa_pem_purpose(const char *name)
{
    char up[48];
    size_t i = 0;
    for (; name[i] != '\0' && i + 1 < sizeof(up); i++) {
        up[i] = (char)toupper((unsigned char)name[i]);
    }
    up[i] = '\0';
    return strstr(up, "ECDSA_KEY") != NULL && strcmp(up, "ECDSA_KEY_P384_L") != 0 &&
           strcmp(up, "ECDSA_KEY_P384_H") != 0;
}

/* The private scalar of a NIST P-192/P-256/P-384 key, big-endian in its curve's size. */
static espsec_err_t ecdsa_scalar(const uint8_t *pem, size_t len, uint8_t *out, size_t *n, espsec_error_t *err)
{
    static const struct {
        const char *group;
        size_t bytes;
    } curves[] = {{"prime192v1", 24}, {"P-192", 24}, {"prime256v1", 32}, {"P-256", 32}, {"secp384r1", 48},
                  {"P-384", 48}};
    if (len > (size_t)0x7fffffff) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "Incorrect ECDSA private key specified. Please check algorithm "
                                                "and/or format.");
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
    BIO_free(bio);
    if (pk == NULL) {
        return espsec_fail(err, ESPSEC_ERR_KEY,
                           "Incorrect ECDSA private key specified. Please check algorithm and/or format.");
    }
    char group[64] = "";
    size_t glen = 0, bytes = 0;
    if (EVP_PKEY_is_a(pk, "EC") &&
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) == 1) {
        for (size_t i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
            if (strcmp(group, curves[i].group) == 0) {
                bytes = curves[i].bytes;
            }
        }
    }
    BIGNUM *d = NULL;
    espsec_err_t rc = ESPSEC_OK;
    if (bytes == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_KEY, "Supports NIST192p, NIST256p and NIST384p keys only.");
    } else if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1 ||
               BN_bn2binpad(d, out, (int)bytes) != (int)bytes) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "cannot read the ECDSA private key's scalar");
    } else {
        *n = bytes;
    }
    BN_clear_free(d);
    EVP_PKEY_free(pk);
    return rc;
}

espsec_err_t espsec_efuse_key_file_data(const espsec_chip_info_t *c, const char *purpose, const uint8_t *file,
                                        size_t len, uint8_t out[64], size_t *out_len, espsec_error_t *err)
{
    *out_len = 0;
    if (purpose != NULL && c->key_purposes != NULL && espsec_chip_key_purpose(c, purpose) == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "'%s' is not a key purpose of %s", purpose, c->name);
    }
    if (purpose == NULL || c->key_purposes == NULL || !ecdsa_pem_purpose(purpose)) {
        if (len > KEY_MAX) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "key file is %zu bytes, too long for an eFuse block",
                               len);
        }
        memcpy(out, file, len);
        *out_len = len;
        return ESPSEC_OK;
    }
    uint8_t d[48];
    size_t n = 0;
    espsec_err_t rc = ecdsa_scalar(file, len, d, &n, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    size_t pad = 0;
    if (strcasecmp(purpose, "ECDSA_KEY_P384") == 0) {
        if (n != 48) {
            espsec_wipe(d, sizeof(d));
            return espsec_fail(err, ESPSEC_ERR_KEY, "NIST384p private key should be 48 bytes long");
        }
        pad = 16; /* 64 bytes over two blocks: _H takes the first 32, _L the rest */
    } else if (n == 24) {
        pad = 8; /* a P-192 scalar fills the low 24 bytes of the block */
    }
    memset(out, 0, pad);
    memcpy(out + pad, d, n);
    *out_len = pad + n;
    espsec_wipe(d, sizeof(d));
    return ESPSEC_OK;
}
