/*
 * Pre-encrypted OTA images (esp_encrypted_img's format); see
 * include/espsec/enc_img.h and docs/FORMATS.md.
 */
#include "espsec/enc_img.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "espsec/util.h"
#include "util/bytes.h"

/* Header layout (esp_encrypted_img README, "Image Format"). */
#define OFF_MAGIC 0
#define OFF_KEYBLOCK 4
#define KEYBLOCK_LEN 384
#define OFF_ECC_PUB 4     /* X||Y of the sender's ephemeral key */
#define OFF_ECC_SALT 68   /* HKDF salt */
#define OFF_ECC_RESERVED 100
#define OFF_IV 388
#define OFF_SIZE 404
#define OFF_TAG 408
#define OFF_RESERVED 424
#define RESERVED_LEN 88

#define GCM_KEY_LEN 32
#define IV_LEN 16
#define TAG_LEN 16
#define SALT_LEN 32
#define P256_LEN 32

/* The component's fixed PBKDF2 salt for the HMAC-derived ECIES device key. */
static const uint8_t PBKDF2_SALT[32] = {0x0e, 0x21, 0x60, 0x64, 0x2d, 0xae, 0x76, 0xd3, 0x34, 0x48, 0xe4,
                                        0x3d, 0x77, 0x20, 0x12, 0x3d, 0x9f, 0x3b, 0x1e, 0xce, 0xb8, 0x8e,
                                        0x57, 0x3a, 0x4e, 0x8f, 0x7f, 0xb9, 0x4f, 0xf0, 0xc8, 0x69};
#define PBKDF2_ITERATIONS 2048
static const char HKDF_INFO[] = "_esp_enc_img_ecc"; /* 16 bytes, no terminator used */

struct espsec_enc_img_key {
    EVP_PKEY *pkey;
    espsec_enc_img_scheme_t scheme;
    int is_private;
};

const char *espsec_enc_img_scheme_name(espsec_enc_img_scheme_t scheme)
{
    return scheme == ESPSEC_ENC_IMG_RSA3072 ? "RSA-3072" : "ECIES-P256";
}

static espsec_err_t wrap(EVP_PKEY *pk, int is_private, espsec_enc_img_key_t **key, espsec_error_t *err)
{
    espsec_enc_img_scheme_t scheme;
    if (EVP_PKEY_is_a(pk, "RSA")) {
        if (EVP_PKEY_get_bits(pk) != 3072) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "RSA key of %d bits: esp_encrypted_img uses RSA-3072",
                               EVP_PKEY_get_bits(pk));
        }
        scheme = ESPSEC_ENC_IMG_RSA3072;
    } else if (EVP_PKEY_is_a(pk, "EC")) {
        char group[64] = "";
        size_t gl = 0;
        if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &gl) != 1 ||
            (strcmp(group, "prime256v1") != 0 && strcmp(group, "P-256") != 0)) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "EC key on curve '%s': esp_encrypted_img's ECIES uses P-256",
                               group[0] ? group : "?");
        }
        scheme = ESPSEC_ENC_IMG_ECIES_P256;
    } else {
        return espsec_fail(err, ESPSEC_ERR_KEY, "key type %s: RSA-3072 or EC P-256 expected",
                           EVP_PKEY_get0_type_name(pk));
    }
    espsec_enc_img_key_t *k = calloc(1, sizeof *k);
    if (k == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (EVP_PKEY_up_ref(pk) != 1) {
        free(k);
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "key reference failed");
    }
    k->pkey = pk;
    k->scheme = scheme;
    k->is_private = is_private;
    *key = k;
    return ESPSEC_OK;
}

espsec_err_t espsec_enc_img_key_load_pem(const uint8_t *pem, size_t len, espsec_enc_img_key_t **key,
                                         espsec_error_t *err)
{
    *key = NULL;
    if (len > INT_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "key file too large");
    }
    int is_priv = memmem(pem, len, "PRIVATE KEY-----", 16) != NULL;
    if (!is_priv && memmem(pem, len, "-----BEGIN PUBLIC KEY", 21) == NULL) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "not a PEM key (no 'BEGIN ... PRIVATE KEY' or 'BEGIN PUBLIC KEY')");
    }
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    EVP_PKEY *pk = is_priv ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (pk == NULL) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "the PEM %s key could not be decoded (damaged, or password-protected)",
                           is_priv ? "private" : "public");
    }
    espsec_err_t rc = wrap(pk, is_priv, key, err);
    EVP_PKEY_free(pk);
    return rc;
}

/* An EC P-256 key pair from a big-endian private scalar (0 < d < n checked). */
static espsec_err_t p256_from_scalar(const uint8_t d_be[P256_LEN], EVP_PKEY **out, espsec_error_t *err)
{
    *out = NULL;
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_secure_new();
    EC_POINT *q = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t pub[1 + 2 * P256_LEN];
    if (grp == NULL || d == NULL || BN_bin2bn(d_be, P256_LEN, d) == NULL) {
        goto done;
    }
    if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0) {
        rc = espsec_fail(err, ESPSEC_ERR_KEY, "derived scalar is not a valid P-256 private key");
        goto done;
    }
    q = EC_POINT_new(grp);
    if (q == NULL || EC_POINT_mul(grp, q, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, NULL) != sizeof pub) {
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) != 1) {
        goto done;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params != NULL && ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) == 1) {
        rc = ESPSEC_OK;
    }
done:
    if (rc == ESPSEC_ERR_CRYPTO) {
        espsec_fail(err, rc, "P-256 key construction failed");
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EC_POINT_free(q);
    BN_clear_free(d);
    EC_GROUP_free(grp);
    return rc;
}

espsec_err_t espsec_enc_img_key_from_hmac(const uint8_t hmac_key[ESPSEC_ENC_IMG_HMAC_KEY_LEN],
                                          espsec_enc_img_key_t **key, espsec_error_t *err)
{
    *key = NULL;
    uint8_t d[P256_LEN];
    if (PKCS5_PBKDF2_HMAC((const char *)hmac_key, ESPSEC_ENC_IMG_HMAC_KEY_LEN, PBKDF2_SALT, sizeof PBKDF2_SALT,
                          PBKDF2_ITERATIONS, EVP_sha256(), sizeof d, d) != 1) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "PBKDF2 failed");
    }
    EVP_PKEY *pk = NULL;
    espsec_err_t rc = p256_from_scalar(d, &pk, err);
    espsec_wipe(d, sizeof d);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    rc = wrap(pk, 1, key, err);
    EVP_PKEY_free(pk);
    return rc;
}

void espsec_enc_img_key_free(espsec_enc_img_key_t *key)
{
    if (key != NULL) {
        EVP_PKEY_free(key->pkey);
        espsec_free_secret(key, sizeof *key);
    }
}

espsec_enc_img_scheme_t espsec_enc_img_key_scheme(const espsec_enc_img_key_t *key)
{
    return key->scheme;
}

int espsec_enc_img_key_is_private(const espsec_enc_img_key_t *key)
{
    return key->is_private;
}

static espsec_err_t bio_take(BIO *bio, char **out, size_t *len, espsec_error_t *err)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    if (n <= 0 || (*out = malloc((size_t)n + 1)) == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    memcpy(*out, p, (size_t)n);
    (*out)[n] = '\0';
    *len = (size_t)n;
    return ESPSEC_OK;
}

espsec_err_t espsec_enc_img_key_public_pem(const espsec_enc_img_key_t *key, char **pem, size_t *len,
                                           espsec_error_t *err)
{
    BIO *bio = BIO_new(BIO_s_mem());
    espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "public key export failed");
    if (bio != NULL && PEM_write_bio_PUBKEY(bio, key->pkey) == 1) {
        rc = bio_take(bio, pem, len, err);
    }
    BIO_free(bio);
    return rc;
}

espsec_err_t espsec_enc_img_generate_rsa(char **pem, size_t *len, espsec_error_t *err)
{
    EVP_PKEY *pk = EVP_RSA_gen(3072);
    if (pk == NULL) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "RSA-3072 key generation failed");
    }
    BIO *bio = BIO_new(BIO_s_secmem());
    espsec_err_t rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "private key export failed");
    /* traditional "BEGIN RSA PRIVATE KEY", as the component's script writes */
    if (bio != NULL && PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL) == 1) {
        rc = bio_take(bio, pem, len, err);
    }
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return rc;
}

espsec_err_t espsec_enc_img_generate_hmac(uint8_t hmac_key[ESPSEC_ENC_IMG_HMAC_KEY_LEN], espsec_error_t *err)
{
    for (int tries = 0; tries < 64; tries++) {
        if (espsec_random(hmac_key, ESPSEC_ENC_IMG_HMAC_KEY_LEN) != ESPSEC_OK) {
            return espsec_fail(err, ESPSEC_ERR_CRYPTO, "random number generator failed");
        }
        espsec_enc_img_key_t *k = NULL;
        espsec_error_t tmp;
        if (espsec_enc_img_key_from_hmac(hmac_key, &k, &tmp) == ESPSEC_OK) {
            espsec_enc_img_key_free(k);
            return ESPSEC_OK;
        }
    }
    espsec_wipe(hmac_key, ESPSEC_ENC_IMG_HMAC_KEY_LEN);
    return espsec_fail(err, ESPSEC_ERR_CRYPTO, "no valid HMAC key found");
}

/* AES-256-GCM with a 16-byte IV and no AAD; enc = 1 encrypts. For decryption
 * the tag is checked and a mismatch returns ESPSEC_ERR_VERIFY. */
static espsec_err_t gcm(int enc, const uint8_t key[GCM_KEY_LEN], const uint8_t iv[IV_LEN], const uint8_t *in,
                        size_t len, uint8_t *out, uint8_t tag[TAG_LEN], espsec_error_t *err)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    int n = 0;
    if (c == NULL || EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, IV_LEN, NULL) != 1 ||
        EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) != 1) {
        goto done;
    }
    size_t done_len = 0;
    while (done_len < len) { /* EVP takes int lengths */
        size_t chunk = len - done_len > (1u << 30) ? (1u << 30) : len - done_len;
        if (EVP_CipherUpdate(c, out + done_len, &n, in + done_len, (int)chunk) != 1 || (size_t)n != chunk) {
            goto done;
        }
        done_len += chunk;
    }
    if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1) {
        goto done;
    }
    if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
        rc = enc ? ESPSEC_ERR_CRYPTO : ESPSEC_ERR_VERIFY;
        goto done;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1) {
        goto done;
    }
    rc = ESPSEC_OK;
done:
    EVP_CIPHER_CTX_free(c);
    if (rc == ESPSEC_ERR_VERIFY) {
        return espsec_fail(err, rc, "authentication failed: wrong key, or the image was modified");
    }
    if (rc != ESPSEC_OK) {
        return espsec_fail(err, rc, "AES-256-GCM failed");
    }
    return ESPSEC_OK;
}

/* The ECIES AES key: HKDF-SHA256 over ECDH(own, peer). */
static espsec_err_t ecies_key(EVP_PKEY *own, EVP_PKEY *peer, const uint8_t salt[SALT_LEN],
                              uint8_t key[GCM_KEY_LEN], espsec_error_t *err)
{
    uint8_t secret[P256_LEN];
    size_t slen = sizeof secret;
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
    EVP_KDF *kdf = NULL;
    EVP_KDF_CTX *kc = NULL;
    if (dc == NULL || EVP_PKEY_derive_init(dc) != 1 || EVP_PKEY_derive_set_peer(dc, peer) != 1 ||
        EVP_PKEY_derive(dc, secret, &slen) != 1 || slen != sizeof secret) {
        goto done;
    }
    kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    if (kc == NULL) {
        goto done;
    }
    OSSL_PARAM p[5];
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, secret, sizeof secret);
    p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, SALT_LEN);
    p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)HKDF_INFO, sizeof HKDF_INFO - 1);
    p[4] = OSSL_PARAM_construct_end();
    if (EVP_KDF_derive(kc, key, GCM_KEY_LEN, p) == 1) {
        rc = ESPSEC_OK;
    }
done:
    espsec_wipe(secret, sizeof secret);
    EVP_KDF_CTX_free(kc);
    EVP_KDF_free(kdf);
    EVP_PKEY_CTX_free(dc);
    if (rc != ESPSEC_OK) {
        return espsec_fail(err, rc, "ECDH/HKDF failed (is the header's public key on P-256?)");
    }
    return ESPSEC_OK;
}

/* The X||Y of an EC P-256 key, big-endian. */
static espsec_err_t p256_xy(EVP_PKEY *pk, uint8_t xy[2 * P256_LEN])
{
    uint8_t pt[1 + 2 * P256_LEN];
    size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof pt, &n) != 1 ||
        n != sizeof pt || pt[0] != 0x04) {
        return ESPSEC_ERR_CRYPTO;
    }
    memcpy(xy, pt + 1, 2 * P256_LEN);
    return ESPSEC_OK;
}

/* The peer key from the header's X||Y; NULL if it is not a point on P-256. */
static EVP_PKEY *p256_from_xy(const uint8_t xy[2 * P256_LEN])
{
    uint8_t pt[1 + 2 * P256_LEN];
    pt[0] = 0x04;
    memcpy(pt + 1, xy, 2 * P256_LEN);
    OSSL_PARAM p[3];
    p[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"prime256v1", 0);
    p[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt);
    p[2] = OSSL_PARAM_construct_end();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *pk = NULL;
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, p) != 1) {
        pk = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    if (pk != NULL) { /* fromdata does not check the point is on the curve */
        EVP_PKEY_CTX *cc = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
        if (cc == NULL || EVP_PKEY_public_check(cc) != 1) {
            EVP_PKEY_free(pk);
            pk = NULL;
        }
        EVP_PKEY_CTX_free(cc);
    }
    return pk;
}

static espsec_err_t rsa_wrap_key(EVP_PKEY *pub, const uint8_t key[GCM_KEY_LEN], uint8_t block[KEYBLOCK_LEN],
                                 espsec_error_t *err)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    size_t n = KEYBLOCK_LEN;
    espsec_err_t rc = ESPSEC_OK;
    if (c == NULL || EVP_PKEY_encrypt_init(c) != 1 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_encrypt(c, block, &n, key, GCM_KEY_LEN) != 1 || n != KEYBLOCK_LEN) {
        rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "RSA encryption of the image key failed");
    }
    EVP_PKEY_CTX_free(c);
    return rc;
}

static espsec_err_t rsa_unwrap_key(EVP_PKEY *priv, const uint8_t block[KEYBLOCK_LEN], uint8_t key[GCM_KEY_LEN],
                                   espsec_error_t *err)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    uint8_t buf[KEYBLOCK_LEN];
    size_t n = sizeof buf;
    espsec_err_t rc = ESPSEC_OK;
    if (c == NULL || EVP_PKEY_decrypt_init(c) != 1 || EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) != 1 ||
        EVP_PKEY_decrypt(c, buf, &n, block, KEYBLOCK_LEN) != 1 || n != GCM_KEY_LEN) {
        rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "the image key does not open with this RSA key (wrong key, or "
                                                 "the header was modified)");
    } else {
        memcpy(key, buf, GCM_KEY_LEN);
    }
    espsec_wipe(buf, sizeof buf);
    EVP_PKEY_CTX_free(c);
    return rc;
}

espsec_err_t espsec_enc_img_encrypt(const espsec_enc_img_key_t *key, const uint8_t *in, size_t len,
                                    uint8_t *out, size_t out_cap, size_t *out_len, espsec_error_t *err)
{
    if (len > ESPSEC_ENC_IMG_MAX_LEN) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "image of %zu bytes: the size field holds at most 4 GiB - 1",
                           len);
    }
    if (out_cap < ESPSEC_ENC_IMG_HEADER_LEN || out_cap - ESPSEC_ENC_IMG_HEADER_LEN < len) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "output buffer too small");
    }
    uint8_t gcm_key[GCM_KEY_LEN];
    espsec_err_t rc;
    memset(out, 0, ESPSEC_ENC_IMG_HEADER_LEN);
    put_le32(out + OFF_MAGIC, ESPSEC_ENC_IMG_MAGIC);
    if (espsec_random(out + OFF_IV, IV_LEN) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "random number generator failed");
    }
    if (key->scheme == ESPSEC_ENC_IMG_RSA3072) {
        if ((rc = espsec_random(gcm_key, sizeof gcm_key)) != ESPSEC_OK) {
            return espsec_fail(err, rc, "random number generator failed");
        }
        rc = rsa_wrap_key(key->pkey, gcm_key, out + OFF_KEYBLOCK, err);
    } else {
        EVP_PKEY *eph = EVP_EC_gen("P-256");
        if (eph == NULL || p256_xy(eph, out + OFF_ECC_PUB) != ESPSEC_OK ||
            espsec_random(out + OFF_ECC_SALT, SALT_LEN) != ESPSEC_OK) {
            rc = espsec_fail(err, ESPSEC_ERR_CRYPTO, "ephemeral P-256 key generation failed");
        } else {
            rc = ecies_key(eph, key->pkey, out + OFF_ECC_SALT, gcm_key, err);
        }
        EVP_PKEY_free(eph);
    }
    if (rc == ESPSEC_OK) {
        put_le32(out + OFF_SIZE, (uint32_t)len);
        rc = gcm(1, gcm_key, out + OFF_IV, in, len, out + ESPSEC_ENC_IMG_HEADER_LEN, out + OFF_TAG, err);
    }
    espsec_wipe(gcm_key, sizeof gcm_key);
    if (rc == ESPSEC_OK) {
        *out_len = ESPSEC_ENC_IMG_HEADER_LEN + len;
    }
    return rc;
}

espsec_err_t espsec_enc_img_parse(const uint8_t *in, size_t len, espsec_enc_img_info_t *info, espsec_error_t *err)
{
    if (len < ESPSEC_ENC_IMG_HEADER_LEN) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "%zu bytes: an encrypted image has a %d-byte header", len,
                           ESPSEC_ENC_IMG_HEADER_LEN);
    }
    uint32_t magic = get_le32(in + OFF_MAGIC);
    if (magic != ESPSEC_ENC_IMG_MAGIC) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x0: magic 0x%08x, expected 0x%08x (not an esp_encrypted_img "
                                                   "image)", magic, ESPSEC_ENC_IMG_MAGIC);
    }
    uint32_t size = get_le32(in + OFF_SIZE);
    size_t body = len - ESPSEC_ENC_IMG_HEADER_LEN;
    if (size != body) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT,
                           "offset 0x%x: size field says %u bytes, the file holds %zu after the header (%s)", OFF_SIZE,
                           size, body, size > body ? "truncated" : "trailing data");
    }
    info->plain_len = size;
    memcpy(info->iv, in + OFF_IV, IV_LEN);
    memcpy(info->tag, in + OFF_TAG, TAG_LEN);
    info->reserved_zero = is_all(in + OFF_RESERVED, RESERVED_LEN, 0);
    return ESPSEC_OK;
}

espsec_err_t espsec_enc_img_decrypt(const espsec_enc_img_key_t *key, const uint8_t *in, size_t len,
                                    uint8_t *out, size_t out_cap, size_t *out_len, espsec_error_t *err)
{
    espsec_enc_img_info_t info;
    espsec_err_t rc = espsec_enc_img_parse(in, len, &info, err);
    if (rc != ESPSEC_OK) {
        return rc;
    }
    if (!key->is_private) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "decryption needs the private key (or the device's HMAC key)");
    }
    if (out_cap < info.plain_len) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "output buffer too small");
    }
    uint8_t gcm_key[GCM_KEY_LEN];
    if (key->scheme == ESPSEC_ENC_IMG_RSA3072) {
        rc = rsa_unwrap_key(key->pkey, in + OFF_KEYBLOCK, gcm_key, err);
    } else {
        EVP_PKEY *peer = p256_from_xy(in + OFF_ECC_PUB);
        if (peer == NULL) {
            rc = espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%x: the sender's public key is not a point on P-256",
                             OFF_ECC_PUB);
        } else {
            rc = ecies_key(key->pkey, peer, in + OFF_ECC_SALT, gcm_key, err);
        }
        EVP_PKEY_free(peer);
    }
    if (rc == ESPSEC_OK) {
        uint8_t tag[TAG_LEN];
        memcpy(tag, info.tag, TAG_LEN);
        rc = gcm(0, gcm_key, info.iv, in + ESPSEC_ENC_IMG_HEADER_LEN, info.plain_len, out, tag, err);
        if (rc != ESPSEC_OK) {
            espsec_wipe(out, info.plain_len);
        }
    }
    espsec_wipe(gcm_key, sizeof gcm_key);
    if (rc == ESPSEC_OK) {
        *out_len = info.plain_len;
    }
    return rc;
}
