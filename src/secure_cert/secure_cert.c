/*
 * The esp_secure_cert partition (TLV format); see include/espsec/secure_cert.h
 * and docs/FORMATS.md.
 */
#include "espsec/secure_cert.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "espsec/util.h"
#include "util/bytes.h"

/* Header fields (esp_secure_cert_tlv_header_t). */
#define H_MAGIC 0
#define H_FLAGS 4
#define H_TYPE 8
#define H_SUBTYPE 9
#define H_LEN 10

/* Signature TLV value (esp_secure_cert_signature_t): version, 3 reserved,
 * offset u32, length u32, algorithm, 3 reserved, then the key/signature. */
#define SIG_HDR_LEN 16
#define SIG_VERSION 1
#define SIG_ALG_RSA3072 0
#define SIG_ALG_ECDSA256 2
#define SIG_ALG_ECDSA384 3

/* Secure Boot V2 block offsets used to move ECDSA parts in and out. */
#define SB_P256_KEY 36 /* curve id, then X||Y (64) */
#define SB_P256_SIG 101
#define SB_P384_KEY 52 /* curve id, then X||Y (96) */
#define SB_P384_SIG 149
#define SB_CRC_OFF 1196

static const struct {
    unsigned type;
    const char *name;
} TYPES[] = {
    {ESPSEC_SC_CA_CERT, "ESP_SECURE_CERT_CA_CERT_TLV"},
    {ESPSEC_SC_DEV_CERT, "ESP_SECURE_CERT_DEV_CERT_TLV"},
    {ESPSEC_SC_PRIV_KEY, "ESP_SECURE_CERT_PRIV_KEY_TLV"},
    {ESPSEC_SC_DS_DATA, "ESP_SECURE_CERT_DS_DATA_TLV"},
    {ESPSEC_SC_DS_CONTEXT, "ESP_SECURE_CERT_DS_CONTEXT_TLV"},
    {ESPSEC_SC_ECDSA_KEY_SALT, "ESP_SECURE_CERT_ECDSA_KEY_SALT_TLV"},
    {ESPSEC_SC_SEC_CFG, "ESP_SECURE_CERT_SEC_CFG_TLV"},
    {ESPSEC_SC_TEE_SEC_STORAGE_KEY, "ESP_SECURE_CERT_TEE_SEC_STORAGE_KEY_TLV"},
    {ESPSEC_SC_SIGNATURE_BLOCK, "ESP_SECURE_CERT_SIGNATURE_BLOCK_TLV"},
    {ESPSEC_SC_INTEGRITY, "ESP_SECURE_CERT_INTEGRITY_TLV"},
    {ESPSEC_SC_TLV_END, "TLV_END"},
    {51, "ESP_SECURE_CERT_USER_DATA_1_TLV"},
    {52, "ESP_SECURE_CERT_USER_DATA_2_TLV"},
    {53, "ESP_SECURE_CERT_USER_DATA_3_TLV"},
    {54, "ESP_SECURE_CERT_USER_DATA_4_TLV"},
    {55, "ESP_SECURE_CERT_USER_DATA_5_TLV"},
};

const char *espsec_sc_type_name(unsigned type)
{
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        if (TYPES[i].type == type) {
            return TYPES[i].name;
        }
    }
    return NULL;
}

int espsec_sc_type_from_name(const char *name)
{
    uint64_t v;
    if (espsec_parse_u64(name, &v) == 0) {
        return v <= 255 ? (int)v : -1;
    }
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++) {
        const char *full = TYPES[i].name, *core = full;
        if (strncmp(core, "ESP_SECURE_CERT_", 16) == 0) {
            core += 16;
        }
        size_t cl = strlen(core);
        if (cl > 4 && strcmp(core + cl - 4, "_TLV") == 0) {
            cl -= 4;
        }
        if (strcasecmp(name, full) == 0 || (strlen(name) == cl && strncasecmp(name, core, cl) == 0)) {
            return (int)TYPES[i].type;
        }
    }
    return -1;
}

void espsec_sc_builder_init(espsec_sc_builder_t *b, uint8_t *buf, size_t cap)
{
    memset(buf, 0xFF, cap);
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
}

static size_t padded(size_t len)
{
    return (ESPSEC_SC_ALIGN - len % ESPSEC_SC_ALIGN) % ESPSEC_SC_ALIGN;
}

/* Bytes one entry with a value of len takes. */
static size_t entry_size(size_t len)
{
    return ESPSEC_SC_HEADER_LEN + len + padded(len) + ESPSEC_SC_FOOTER_LEN;
}

espsec_err_t espsec_sc_add(espsec_sc_builder_t *b, uint8_t type, uint8_t subtype, uint8_t flags,
                           const uint8_t *value, size_t len, espsec_error_t *err)
{
    if (len > UINT16_MAX) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "TLV type %u subtype %u: value of %zu bytes, at most 65535",
                           type, subtype, len);
    }
    size_t need = entry_size(len);
    if (need > b->cap - b->len) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE,
                           "TLV type %u subtype %u (%zu bytes) does not fit: %zu of %zu bytes used", type, subtype,
                           need, b->len, b->cap);
    }
    uint8_t *p = b->buf + b->len;
    put_le32(p + H_MAGIC, ESPSEC_SC_MAGIC);
    p[H_FLAGS] = flags;
    p[H_FLAGS + 1] = p[H_FLAGS + 2] = p[H_FLAGS + 3] = 0;
    p[H_TYPE] = type;
    p[H_SUBTYPE] = subtype;
    put_le16(p + H_LEN, (uint16_t)len);
    if (len > 0) {
        memcpy(p + ESPSEC_SC_HEADER_LEN, value, len);
    }
    memset(p + ESPSEC_SC_HEADER_LEN + len, 0, padded(len));
    size_t body = ESPSEC_SC_HEADER_LEN + len + padded(len);
    put_le32(p + body, espsec_crc32(0xFFFFFFFFu, p, body));
    b->len += need;
    return ESPSEC_OK;
}

static espsec_err_t hmac_sha256(const uint8_t key[32], const uint8_t *msg, size_t len, uint8_t out[32])
{
    unsigned int ol = 32;
    return HMAC(EVP_sha256(), key, 32, msg, len, out, &ol) != NULL && ol == 32 ? ESPSEC_OK : ESPSEC_ERR_CRYPTO;
}

/* AES key HMAC(k, 32 x 0xFF): the HMAC-encryption key and the DS key alike. */
static espsec_err_t hmac_aes_key(const uint8_t hmac_key[32], uint8_t aes[32])
{
    uint8_t msg[32];
    memset(msg, 0xFF, sizeof msg);
    return hmac_sha256(hmac_key, msg, sizeof msg, aes);
}

static espsec_err_t hmac_gcm_iv(const uint8_t hmac_key[32], uint8_t iv[16])
{
    uint8_t msg[32], h[32];
    for (size_t i = 0; i < sizeof msg; i += 4) {
        put_le32(msg + i, 0xABCDABCDu);
    }
    espsec_err_t rc = hmac_sha256(hmac_key, msg, sizeof msg, h);
    memcpy(iv, h, 16);
    espsec_wipe(h, sizeof h);
    return rc;
}

/* AES-256-GCM with a 16-byte IV and no AAD. Decryption checks tag. */
static espsec_err_t gcm(int enc, const uint8_t key[32], const uint8_t iv[16], const uint8_t *in, size_t len,
                        uint8_t *out, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    if (c != NULL && len <= INT_MAX && EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 16, NULL) == 1 &&
        EVP_CipherInit_ex(c, NULL, NULL, key, iv, enc) == 1 && EVP_CipherUpdate(c, out, &n, in, (int)len) == 1 &&
        (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1)) {
        if (EVP_CipherFinal_ex(c, out + len, &n) != 1) {
            rc = enc ? ESPSEC_ERR_CRYPTO : ESPSEC_ERR_VERIFY;
        } else if (!enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1) {
            rc = ESPSEC_OK;
        }
    }
    EVP_CIPHER_CTX_free(c);
    return rc;
}

espsec_err_t espsec_sc_add_hmac_encrypted(espsec_sc_builder_t *b, uint8_t type, uint8_t subtype,
                                          const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN], const uint8_t *value,
                                          size_t len, espsec_error_t *err)
{
    if (len > UINT16_MAX - ESPSEC_SC_GCM_TAG_LEN) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "TLV type %u: value of %zu bytes too long to encrypt", type,
                           len);
    }
    uint8_t key[32], iv[16];
    uint8_t *ct = malloc(len + ESPSEC_SC_GCM_TAG_LEN);
    espsec_err_t rc = ESPSEC_ERR_NO_MEM;
    if (ct != NULL) {
        rc = hmac_aes_key(hmac_key, key);
        if (rc == ESPSEC_OK) {
            rc = hmac_gcm_iv(hmac_key, iv);
        }
        if (rc == ESPSEC_OK) {
            rc = gcm(1, key, iv, value, len, ct, ct + len);
        }
    }
    espsec_wipe(key, sizeof key);
    if (rc != ESPSEC_OK) {
        free(ct);
        return espsec_fail(err, rc, "HMAC-based encryption of TLV type %u failed", type);
    }
    rc = espsec_sc_add(b, type, subtype, ESPSEC_SC_FLAG_HMAC_ENCRYPTED, ct, len + ESPSEC_SC_GCM_TAG_LEN, err);
    free(ct);
    return rc;
}

espsec_err_t espsec_sc_hmac_decrypt(const espsec_sc_tlv_t *tlv, const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN],
                                    uint8_t *out, size_t out_cap, size_t *out_len, espsec_error_t *err)
{
    if (tlv->len < ESPSEC_SC_GCM_TAG_LEN) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: encrypted TLV of %u bytes is shorter than its tag",
                           tlv->offset, tlv->len);
    }
    size_t n = tlv->len - ESPSEC_SC_GCM_TAG_LEN;
    if (out_cap < n) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "output buffer too small");
    }
    uint8_t key[32], iv[16], tag[16];
    memcpy(tag, tlv->value + n, sizeof tag);
    espsec_err_t rc = hmac_aes_key(hmac_key, key);
    if (rc == ESPSEC_OK) {
        rc = hmac_gcm_iv(hmac_key, iv);
    }
    if (rc == ESPSEC_OK) {
        rc = gcm(0, key, iv, tlv->value, n, out, tag);
    }
    espsec_wipe(key, sizeof key);
    if (rc != ESPSEC_OK) {
        espsec_wipe(out, n);
        return espsec_fail(err, rc, "offset 0x%zx: the encrypted TLV does not open with this HMAC key%s", tlv->offset,
                           rc == ESPSEC_ERR_VERIFY ? " (wrong key, or modified)" : "");
    }
    *out_len = n;
    return ESPSEC_OK;
}

espsec_err_t espsec_sc_add_integrity(espsec_sc_builder_t *b, uint8_t subtype, espsec_error_t *err)
{
    uint8_t h[32];
    if (espsec_sha256(b->buf, b->len, h) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
    }
    return espsec_sc_add(b, ESPSEC_SC_INTEGRITY, subtype, 0, h, sizeof h, err);
}

espsec_err_t espsec_sc_add_signatures(espsec_sc_builder_t *b, const espsec_sbv2_signer_t *signers, size_t n,
                                      espsec_error_t *err)
{
    const size_t signed_len = b->len;
    if (n > 255) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%zu signing keys: at most 255", n);
    }
    for (size_t i = 0; i < n; i++) {
        espsec_sb_scheme_t s = espsec_sb_key_scheme(signers[i].key);
        if (s == ESPSEC_SB_ECDSA192) {
            return espsec_fail(err, ESPSEC_ERR_KEY, "signing key %zu is ECDSA P-192: esp_secure_cert signature blocks "
                                                    "take RSA-3072, P-256 or P-384", i + 1);
        }
        uint8_t digest[48], block[ESPSEC_SBV2_BLOCK_SIZE], value[SIG_HDR_LEN + ESPSEC_SBV2_BLOCK_SIZE];
        size_t dl = 0;
        espsec_err_t rc = espsec_sbv2_image_digest(s, b->buf, signed_len, digest, &dl);
        if (rc != ESPSEC_OK) {
            return espsec_fail(err, rc, "digest of the partition failed");
        }
        {
            rc = espsec_sbv2_make_block(&signers[i], digest, block, err);
        }
        if (rc != ESPSEC_OK) {
            return rc;
        }
        memset(value, 0, SIG_HDR_LEN);
        value[0] = SIG_VERSION;
        put_le32(value + 4, 0);
        put_le32(value + 8, (uint32_t)signed_len);
        size_t vlen;
        if (s == ESPSEC_SB_RSA3072) {
            value[12] = SIG_ALG_RSA3072;
            memcpy(value + SIG_HDR_LEN, block, ESPSEC_SBV2_BLOCK_SIZE);
            vlen = SIG_HDR_LEN + ESPSEC_SBV2_BLOCK_SIZE;
        } else if (s == ESPSEC_SB_ECDSA256) {
            value[12] = SIG_ALG_ECDSA256;
            memcpy(value + SIG_HDR_LEN, block + SB_P256_KEY, 65);
            memcpy(value + SIG_HDR_LEN + 65, block + SB_P256_SIG, 64);
            vlen = SIG_HDR_LEN + 65 + 64;
        } else {
            value[12] = SIG_ALG_ECDSA384;
            memcpy(value + SIG_HDR_LEN, block + SB_P384_KEY, 97);
            memcpy(value + SIG_HDR_LEN + 97, block + SB_P384_SIG, 96);
            vlen = SIG_HDR_LEN + 97 + 96;
        }
        rc = espsec_sc_add(b, ESPSEC_SC_SIGNATURE_BLOCK, (uint8_t)i, 0, value, vlen, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_sc_parse(const uint8_t *part, size_t len, espsec_sc_tlv_t *out, size_t max, size_t *count,
                             size_t *end, espsec_error_t *err)
{
    size_t off = 0, n = 0;
    while (len - off >= ESPSEC_SC_HEADER_LEN && get_le32(part + off) == ESPSEC_SC_MAGIC) {
        uint16_t vl = get_le16(part + off + H_LEN);
        size_t sz = entry_size(vl);
        if (sz > len - off) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT,
                               "offset 0x%zx: TLV type %u of %u bytes runs past the end of the %zu-byte image", off,
                               part[off + H_TYPE], vl, len);
        }
        if (n < max) {
            espsec_sc_tlv_t *t = &out[n];
            size_t body = sz - ESPSEC_SC_FOOTER_LEN;
            t->offset = off;
            t->flags = part[off + H_FLAGS];
            t->type = part[off + H_TYPE];
            t->subtype = part[off + H_SUBTYPE];
            t->len = vl;
            t->value = part + off + ESPSEC_SC_HEADER_LEN;
            t->crc_ok = espsec_crc32(0xFFFFFFFFu, part + off, body) == get_le32(part + off + body);
        }
        n++;
        off += sz;
    }
    if (n == 0) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x0: no TLV magic 0x%08x (not an esp_secure_cert "
                                                   "partition in the TLV format)", ESPSEC_SC_MAGIC);
    }
    *count = n;
    *end = off;
    return ESPSEC_OK;
}

espsec_err_t espsec_sc_check_integrity(const uint8_t *part, const espsec_sc_tlv_t *tlv, espsec_error_t *err)
{
    uint8_t h[32];
    if (tlv->len != sizeof h) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: integrity TLV of %u bytes, 32 expected", tlv->offset,
                           tlv->len);
    }
    if (espsec_sha256(part, tlv->offset, h) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_CRYPTO, "SHA-256 failed");
    }
    if (espsec_ct_compare(h, tlv->value, sizeof h) != 0) {
        return espsec_fail(err, ESPSEC_ERR_VERIFY, "offset 0x%zx: integrity SHA-256 does not match the 0x%zx bytes "
                                                   "before it", tlv->offset, tlv->offset);
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_sc_check_signature(const uint8_t *part, size_t len, const espsec_sc_tlv_t *tlv,
                                       espsec_sc_sig_info_t *info, espsec_error_t *err)
{
    memset(info, 0, sizeof *info);
    const uint8_t *v = tlv->value;
    if (tlv->len < SIG_HDR_LEN || v[0] != SIG_VERSION) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: signature TLV without a version-1 header",
                           tlv->offset);
    }
    info->signed_offset = get_le32(v + 4);
    info->signed_len = get_le32(v + 8);
    if (info->signed_offset > len || info->signed_len > len - info->signed_offset) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: signature covers 0x%x+0x%x, past the image",
                           tlv->offset, info->signed_offset, info->signed_len);
    }
    uint8_t block[ESPSEC_SBV2_BLOCK_SIZE];
    memset(block, 0, sizeof block);
    size_t key_len, sig_len, key_off, sig_off;
    switch (v[12]) {
    case SIG_ALG_RSA3072:
        info->scheme = ESPSEC_SB_RSA3072;
        if (tlv->len != SIG_HDR_LEN + ESPSEC_SBV2_BLOCK_SIZE) {
            goto bad_len;
        }
        memcpy(block, v + SIG_HDR_LEN, sizeof block);
        break;
    case SIG_ALG_ECDSA256:
    case SIG_ALG_ECDSA384:
        info->scheme = v[12] == SIG_ALG_ECDSA256 ? ESPSEC_SB_ECDSA256 : ESPSEC_SB_ECDSA384;
        key_len = v[12] == SIG_ALG_ECDSA256 ? 65 : 97;
        sig_len = key_len - 1;
        key_off = v[12] == SIG_ALG_ECDSA256 ? SB_P256_KEY : SB_P384_KEY;
        sig_off = v[12] == SIG_ALG_ECDSA256 ? SB_P256_SIG : SB_P384_SIG;
        if (tlv->len != SIG_HDR_LEN + key_len + sig_len) {
            goto bad_len;
        }
        /* the Secure Boot V2 block the device rebuilds and checks */
        block[0] = ESPSEC_SBV2_MAGIC;
        block[1] = ESPSEC_SBV2_VERSION_ECDSA;
        block[2] = v[12] == SIG_ALG_ECDSA384 ? 1 : 0;
        memcpy(block + key_off, v + SIG_HDR_LEN, key_len);
        memcpy(block + sig_off, v + SIG_HDR_LEN + key_len, sig_len);
        break;
    default:
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: signature algorithm %u unknown", tlv->offset, v[12]);
    }
    uint8_t digest[48];
    size_t dl = info->scheme == ESPSEC_SB_ECDSA384 ? 48 : 32;
    size_t dl2 = 0;
    espsec_err_t rc = espsec_sbv2_image_digest(info->scheme, part + info->signed_offset, info->signed_len, digest, &dl2);
    if (rc != ESPSEC_OK) {
        return espsec_fail(err, rc, "digest failed");
    }
    if (info->scheme != ESPSEC_SB_RSA3072) {
        memcpy(block + 4, digest, dl);
        put_le32(block + SB_CRC_OFF, espsec_crc32(0, block, SB_CRC_OFF));
    }
    espsec_error_t e2;
    if (espsec_sbv2_verify_block(block, digest, dl, info->key_digest, &e2) == ESPSEC_OK) {
        info->valid = 1;
    } else {
        snprintf(info->problem, sizeof info->problem, "%.120s", e2.msg);
    }
    return ESPSEC_OK;
bad_len:
    return espsec_fail(err, ESPSEC_ERR_FORMAT, "offset 0x%zx: signature TLV of %u bytes does not fit algorithm %u",
                       tlv->offset, tlv->len, v[12]);
}

/* n as max_bits/8 little-endian bytes; 0 if it does not fit. */
static int bn_le(const BIGNUM *n, uint8_t *out, size_t len)
{
    return BN_bn2lebinpad(n, out, (int)len) == (int)len;
}

espsec_err_t espsec_sc_ds_params(const void *evp_rsa_private, unsigned max_bits,
                                 const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN], const uint8_t iv[16], uint8_t *c,
                                 size_t c_cap, size_t *c_len, unsigned *key_bits, espsec_error_t *err)
{
    EVP_PKEY *pk = (EVP_PKEY *)evp_rsa_private;
    if (!EVP_PKEY_is_a(pk, "RSA")) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "the DS peripheral takes an RSA private key");
    }
    unsigned bits = (unsigned)EVP_PKEY_get_bits(pk);
    if (bits % 1024 != 0 || bits == 0 || bits > max_bits) {
        return espsec_fail(err, ESPSEC_ERR_KEY, "RSA-%u: this chip's DS peripheral takes 1024..%u bits in steps of 1024",
                           bits, max_bits);
    }
    size_t w = max_bits / 8, plen = 3 * w + 32 + 8 + 8;
    if (c_cap < plen) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "DS output buffer too small");
    }
    BIGNUM *n = NULL, *d = NULL, *rr = BN_new(), *rinv = BN_new(), *two32 = BN_new(), *ninv = BN_new();
    BN_CTX *bc = BN_CTX_new();
    uint8_t *p = malloc(plen), aes[32];
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    EVP_CIPHER_CTX *cc = NULL;
    if (p == NULL || rr == NULL || rinv == NULL || two32 == NULL || ninv == NULL || bc == NULL ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_D, &d) != 1) {
        goto done;
    }
    /* Rb = 2^(2*bits) mod n; M' = -n^-1 mod 2^32 */
    if (BN_set_bit(rr, (int)(2 * bits)) != 1 || BN_mod(rinv, rr, n, bc) != 1 || BN_set_bit(two32, 32) != 1 ||
        BN_mod_inverse(ninv, n, two32, bc) == NULL) {
        goto done;
    }
    uint32_t mprime = (uint32_t)(0u - (uint32_t)BN_get_word(ninv));
    uint32_t length = bits / 32 - 1;
    if (!bn_le(d, p, w) || !bn_le(n, p + w, w) || !bn_le(rinv, p + 2 * w, w)) {
        goto done;
    }
    /* md = SHA-256(Y || M || Rb || M' || length || IV) */
    uint8_t tail[8 + 16];
    put_le32(tail, mprime);
    put_le32(tail + 4, length);
    memcpy(tail + 8, iv, 16);
    EVP_MD_CTX *mc = EVP_MD_CTX_new();
    unsigned ml = 0;
    int ok = mc != NULL && EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(mc, p, 3 * w) == 1 &&
             EVP_DigestUpdate(mc, tail, sizeof tail) == 1 && EVP_DigestFinal_ex(mc, p + 3 * w, &ml) == 1;
    EVP_MD_CTX_free(mc);
    if (!ok) {
        goto done;
    }
    memcpy(p + 3 * w + 32, tail, 8);
    memset(p + 3 * w + 40, 0x08, 8);
    if (hmac_aes_key(hmac_key, aes) != ESPSEC_OK) {
        goto done;
    }
    cc = EVP_CIPHER_CTX_new();
    int o1 = 0, o2 = 0;
    if (cc == NULL || EVP_EncryptInit_ex(cc, EVP_aes_256_cbc(), NULL, aes, iv) != 1 ||
        EVP_CIPHER_CTX_set_padding(cc, 0) != 1 || EVP_EncryptUpdate(cc, c, &o1, p, (int)plen) != 1 ||
        EVP_EncryptFinal_ex(cc, c + o1, &o2) != 1 || (size_t)o1 + (size_t)o2 != plen) {
        goto done;
    }
    *c_len = plen;
    *key_bits = bits;
    rc = ESPSEC_OK;
done:
    EVP_CIPHER_CTX_free(cc);
    espsec_wipe(aes, sizeof aes);
    if (p != NULL) {
        espsec_free_secret(p, plen);
    }
    BN_clear_free(d);
    BN_free(n);
    BN_free(rr);
    BN_free(rinv);
    BN_free(two32);
    BN_free(ninv);
    BN_CTX_free(bc);
    if (rc != ESPSEC_OK) {
        return espsec_fail(err, rc, "DS parameter computation failed");
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_sc_ds_check(const uint8_t *c, size_t c_len, unsigned max_bits, const uint8_t iv[16],
                                const uint8_t hmac_key[ESPSEC_SC_HMAC_KEY_LEN], unsigned *key_bits,
                                espsec_error_t *err)
{
    size_t w = max_bits / 8, plen = 3 * w + 48;
    if (c_len != plen) {
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "DS ciphertext of %zu bytes; %zu expected for a %u-bit DS peripheral",
                           c_len, plen, max_bits);
    }
    uint8_t aes[32], *p = malloc(plen), md[32];
    espsec_err_t rc = ESPSEC_ERR_CRYPTO;
    EVP_CIPHER_CTX *cc = EVP_CIPHER_CTX_new();
    int o1 = 0, o2 = 0;
    if (p != NULL && cc != NULL && hmac_aes_key(hmac_key, aes) == ESPSEC_OK &&
        EVP_DecryptInit_ex(cc, EVP_aes_256_cbc(), NULL, aes, iv) == 1 && EVP_CIPHER_CTX_set_padding(cc, 0) == 1 &&
        EVP_DecryptUpdate(cc, p, &o1, c, (int)plen) == 1 && EVP_DecryptFinal_ex(cc, p + o1, &o2) == 1) {
        uint8_t tail[24];
        memcpy(tail, p + 3 * w + 32, 8);
        memcpy(tail + 8, iv, 16);
        EVP_MD_CTX *mc = EVP_MD_CTX_new();
        unsigned ml = 0;
        int ok = mc != NULL && EVP_DigestInit_ex(mc, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(mc, p, 3 * w) == 1 &&
                 EVP_DigestUpdate(mc, tail, sizeof tail) == 1 && EVP_DigestFinal_ex(mc, md, &ml) == 1;
        EVP_MD_CTX_free(mc);
        rc = ok && espsec_ct_compare(md, p + 3 * w, 32) == 0 && is_all(p + 3 * w + 40, 8, 0x08) ? ESPSEC_OK
                                                                                             : ESPSEC_ERR_VERIFY;
        if (rc == ESPSEC_OK) {
            *key_bits = (get_le32(p + 3 * w + 36) + 1) * 32;
        }
    }
    EVP_CIPHER_CTX_free(cc);
    espsec_wipe(aes, sizeof aes);
    if (p != NULL) {
        espsec_free_secret(p, plen);
    }
    if (rc == ESPSEC_ERR_VERIFY) {
        return espsec_fail(err, rc, "the DS parameters do not decrypt to a valid key with this HMAC key");
    }
    return rc == ESPSEC_OK ? ESPSEC_OK : espsec_fail(err, rc, "DS decryption failed");
}
