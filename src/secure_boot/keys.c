/* Secure boot keys: generation, loading, export (espsec/secure_boot.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "secure_boot/sb_internal.h"

const char *espsec_sb_scheme_name(espsec_sb_scheme_t scheme)
{
    switch (scheme) {
    case ESPSEC_SB_RSA3072:
        return "rsa3072";
    case ESPSEC_SB_ECDSA192:
        return "ecdsa192";
    case ESPSEC_SB_ECDSA256:
        return "ecdsa256";
    case ESPSEC_SB_ECDSA384:
        return "ecdsa384";
    }
    return "unknown";
}

int espsec_sb_scheme_from_name(const char *name, espsec_sb_scheme_t *scheme)
{
    static const espsec_sb_scheme_t all[] = {ESPSEC_SB_RSA3072, ESPSEC_SB_ECDSA192, ESPSEC_SB_ECDSA256,
                                             ESPSEC_SB_ECDSA384};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, espsec_sb_scheme_name(all[i])) == 0) {
            *scheme = all[i];
            return 0;
        }
    }
    return -1;
}

const char *sb_curve_group(espsec_sb_scheme_t scheme)
{
    switch (scheme) {
    case ESPSEC_SB_ECDSA192:
        return "prime192v1";
    case ESPSEC_SB_ECDSA256:
        return "prime256v1";
    case ESPSEC_SB_ECDSA384:
        return "secp384r1";
    default:
        return NULL;
    }
}

size_t sb_curve_bytes(espsec_sb_scheme_t scheme)
{
    switch (scheme) {
    case ESPSEC_SB_ECDSA192:
        return 24;
    case ESPSEC_SB_ECDSA256:
        return 32;
    case ESPSEC_SB_ECDSA384:
        return 48;
    default:
        return 0;
    }
}

/* Work out the scheme of an EVP key, refusing what Secure Boot cannot use. */
static espsec_err_t classify(EVP_PKEY *pk, espsec_sb_scheme_t *scheme, espsec_error_t *err)
{
    if (EVP_PKEY_is_a(pk, "RSA")) {
        int bits = EVP_PKEY_get_bits(pk);
        if (bits != 3072) {
            return espsec_fail(err, ESPSEC_ERR_KEY,
                               "RSA key has %d bits; Secure Boot V2 supports only RSA-3072", bits);
        }
        *scheme = ESPSEC_SB_RSA3072;
        return ESPSEC_OK;
    }
    if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64] = "";
        size_t glen = 0;
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen) != 1) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "EC key without a named curve is not supported");
        }
        if (strcmp(group, "prime192v1") == 0 || strcmp(group, "P-192") == 0) {
            *scheme = ESPSEC_SB_ECDSA192;
        } else if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
            *scheme = ESPSEC_SB_ECDSA256;
        } else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
            *scheme = ESPSEC_SB_ECDSA384;
        } else {
            return espsec_fail(err, ESPSEC_ERR_KEY,
                               "EC key on curve %s; Secure Boot supports only NIST P-192, P-256 "
                               "and P-384 (prime192v1, prime256v1, secp384r1)",
                               group);
        }
        return ESPSEC_OK;
    }
    return espsec_fail(err, ESPSEC_ERR_KEY, "key type %s is not supported for secure boot (RSA-3072 or ECDSA expected)",
                       EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "unknown");
}

static int has_private(EVP_PKEY *pk)
{
    BIGNUM *bn = NULL;
    int ok = EVP_PKEY_get_bn_param(pk, EVP_PKEY_is_a(pk, "RSA") ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY,
                                   &bn) == 1;
    BN_clear_free(bn);
    return ok;
}

espsec_err_t espsec_sb_key_from_evp(void *evp_pkey, espsec_sb_key_t **key, espsec_error_t *err)
{
    EVP_PKEY *pk = evp_pkey;
    espsec_sb_scheme_t scheme = ESPSEC_SB_RSA3072;
    espsec_err_t rc = classify(pk, &scheme, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    espsec_sb_key_t *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (EVP_PKEY_up_ref(pk) != 1) {
        free(k);
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "cannot reference key");
    }
    k->pkey = pk;
    k->scheme = scheme;
    k->is_private = has_private(pk);
    *key = k;
    return ESPSEC_OK;
}

static espsec_err_t bio_take(BIO *bio, char **out, size_t *len, espsec_error_t *err);

int espsec_pem_is_encrypted(const uint8_t *pem, size_t len)
{
    return memmem(pem, len, "-----BEGIN ENCRYPTED PRIVATE KEY", 32) != NULL ||
           memmem(pem, len, "Proc-Type: 4,ENCRYPTED", 22) != NULL;
}

/* Password callback: the given password, or "none" (-1) so OpenSSL fails instead of prompting. */
static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    size_t n = pw ? strlen(pw) : 0;
    if (pw == NULL || n > (size_t)size) {
        return -1;
    }
    memcpy(buf, pw, n);
    return (int)n;
}

espsec_err_t espsec_sb_key_load_pem(const uint8_t *pem, size_t len, espsec_sb_key_t **key,
                                    espsec_error_t *err)
{
    return espsec_sb_key_load_pem_pw(pem, len, NULL, 0, key, err);
}

espsec_err_t espsec_sb_key_load_pem_pw(const uint8_t *pem, size_t len, const char *password, int prompt,
                                       espsec_sb_key_t **key, espsec_error_t *err)
{
    if (len > INT32_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "key file too large");
    }
    const char *priv_markers[] = {"-----BEGIN RSA PRIVATE KEY", "-----BEGIN EC PRIVATE KEY",
                                  "-----BEGIN PRIVATE KEY", "-----BEGIN ENCRYPTED PRIVATE KEY"};
    int is_priv = 0, is_pub = 0;
    for (size_t i = 0; i < 4; i++) {
        if (memmem(pem, len, priv_markers[i], strlen(priv_markers[i])) != NULL) {
            is_priv = 1;
        }
    }
    if (memmem(pem, len, "-----BEGIN PUBLIC KEY", 21) != NULL) {
        is_pub = 1;
    }
    int encrypted = espsec_pem_is_encrypted(pem, len);
    if (encrypted && password == NULL && !prompt) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "the key is password-protected: give its password with "
                                                "--keyfile-password-env VAR (or run on a terminal to be asked)");
    }
    if (!is_priv && !is_pub) {
        return espsec_fail(err, ESPSEC_ERR_PARSE,
                           "not a PEM key: expected '-----BEGIN RSA PRIVATE KEY', "
                           "'-----BEGIN EC PRIVATE KEY', '-----BEGIN PRIVATE KEY' or "
                           "'-----BEGIN PUBLIC KEY'");
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    /* NULL callback: OpenSSL's own terminal prompt (only when asked to prompt) */
    pem_password_cb *cb = password == NULL && prompt ? NULL : pw_cb;
    EVP_PKEY *pk = is_priv ? PEM_read_bio_PrivateKey(bio, NULL, cb, (void *)password)
                           : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pk == NULL) {
        if (encrypted) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "the password-protected key could not be decrypted (wrong "
                                                    "password?)");
        }
        return espsec_fail(err, ESPSEC_ERR_PARSE, "the PEM %s key could not be decoded (damaged base64 or ASN.1)",
                           is_priv ? "private" : "public");
    }
    if (is_priv) {
        /* a private key whose public half does not belong to it (damaged, or pieced together) would sign
         * images that never verify: refuse it here, naming the key, not later as a bad signature */
        EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        int good = pc != NULL && EVP_PKEY_pairwise_check(pc) == 1;
        EVP_PKEY_CTX_free(pc);
        ERR_clear_error();
        if (!good) {
            EVP_PKEY_free(pk);
            return espsec_fail(err, ESPSEC_ERR_KEY,
                               "the private key is damaged: its public key does not match its private part");
        }
    }
    espsec_err_t rc = espsec_sb_key_from_evp(pk, key, err);
    EVP_PKEY_free(pk);
    return rc;
}

espsec_err_t espsec_pem_encrypt_key(const char *pem, size_t len, const char *password, char **out,
                                    size_t *out_len, espsec_error_t *err)
{
    if (password == NULL || password[0] == '\0') {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "an empty password does not protect a key");
    }
    if (len > INT32_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "key too large");
    }
    BIO *in = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pk = in ? PEM_read_bio_PrivateKey(in, NULL, pw_cb, NULL) : NULL;
    BIO_free(in);
    if (pk == NULL) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "not an unencrypted PEM private key");
    }
    BIO *bio = BIO_new(BIO_s_secmem());
    espsec_err_t rc;
    if (bio == NULL || PEM_write_bio_PKCS8PrivateKey(bio, pk, EVP_aes_256_cbc(), NULL, 0, pw_cb,
                                                     (void *)password) != 1) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "PKCS#8 encryption of the key failed");
    } else {
        rc = bio_take(bio, out, out_len, err);
    }
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return rc;
}

void espsec_sb_key_free(espsec_sb_key_t *key)
{
    if (key != NULL) {
        EVP_PKEY_free(key->pkey);
        espsec_wipe(key, sizeof(*key));
        free(key);
    }
}

int espsec_sb_key_is_private(const espsec_sb_key_t *key)
{
    return key->is_private;
}

espsec_sb_scheme_t espsec_sb_key_scheme(const espsec_sb_key_t *key)
{
    return key->scheme;
}

void *espsec_sb_key_evp(const espsec_sb_key_t *key)
{
    return key->pkey;
}

/* Copy a memory BIO's contents into a fresh buffer. */
static espsec_err_t bio_take(BIO *bio, char **out, size_t *len, espsec_error_t *err)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    if (n <= 0) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "PEM encoding failed");
    }
    *out = malloc((size_t)n + 1);
    if (*out == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(*out, p, (size_t)n);
    (*out)[n] = '\0';
    *len = (size_t)n;
    return ESPSEC_OK;
}

espsec_err_t espsec_sb_generate_key(espsec_sb_scheme_t scheme, char **pem, size_t *len,
                                    espsec_error_t *err)
{
    EVP_PKEY *pk = NULL;
    if (scheme == ESPSEC_SB_RSA3072) {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    } else {
        pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", sb_curve_group(scheme));
    }
    if (pk == NULL) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "key generation failed");
    }
    BIO *bio = BIO_new(BIO_s_secmem());
    espsec_err_t rc = ESPSEC_OK;
    if (bio == NULL || PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL) != 1) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "PEM encoding of the new key failed");
    } else {
        rc = bio_take(bio, pem, len, err);
    }
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return rc;
}

espsec_err_t espsec_sb_key_public_pem(const espsec_sb_key_t *key, char **pem, size_t *len,
                                      espsec_error_t *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    espsec_err_t rc;
    if (bio == NULL || PEM_write_bio_PUBKEY(bio, key->pkey) != 1) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "PEM encoding of the public key failed");
    } else {
        rc = bio_take(bio, pem, len, err);
    }
    BIO_free(bio);
    return rc;
}

espsec_err_t sb_pubkey_from_rsa(const uint8_t n_le[384], uint32_t e, EVP_PKEY **out)
{
    uint8_t n_be[384];
    for (size_t i = 0; i < 384; i++) {
        n_be[i] = n_le[383 - i];
    }
    BIGNUM *n = BN_bin2bn(n_be, 384, NULL);
    BIGNUM *bn_e = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    *out = NULL;
    if (n == NULL || bn_e == NULL || bld == NULL || BN_set_word(bn_e, e) != 1) {
        goto done;
    }
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1) {
        goto done;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        goto done;
    }
    rc = ESPSEC_OK;
done:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(bn_e);
    return rc;
}

espsec_err_t sb_pubkey_from_point(espsec_sb_scheme_t scheme, const uint8_t *x_be, const uint8_t *y_be,
                                  EVP_PKEY **out)
{
    size_t cb = sb_curve_bytes(scheme);
    uint8_t point[1 + 2 * 48];
    point[0] = 0x04;
    memcpy(point + 1, x_be, cb);
    memcpy(point + 1 + cb, y_be, cb);
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)sb_curve_group(scheme), 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * cb);
    params[2] = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    *out = NULL;
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        rc = ESPSEC_OK;
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

espsec_err_t sb_ec_point(const espsec_sb_key_t *key, uint8_t *x_be, uint8_t *y_be)
{
    size_t cb = sb_curve_bytes(key->scheme);
    BIGNUM *x = NULL, *y = NULL;
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    if (EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
        EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1 &&
        BN_bn2binpad(x, x_be, (int)cb) == (int)cb && BN_bn2binpad(y, y_be, (int)cb) == (int)cb) {
        rc = ESPSEC_OK;
    }
    BN_free(x);
    BN_free(y);
    return rc;
}
