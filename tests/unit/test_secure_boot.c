/* Secure Boot V1/V2 against espsecure's reference vectors. */
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "espsec/image.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "test.h"

static espsec_sb_key_t *key(const char *name)
{
    char rel[256];
    size_t len;
    snprintf(rel, sizeof(rel), "secure_boot/ed1/%s", name);
    uint8_t *pem = vec(rel, &len);
    espsec_sb_key_t *k = NULL;
    espsec_error_t err;
    if (espsec_sb_key_load_pem(pem, len, &k, &err) != ESPSEC_OK) {
        fprintf(stderr, "%s: %s\n", name, err.msg);
        exit(2);
    }
    free(pem);
    return k;
}

static const char *const SCHEMES[] = {"rsa3072", "ecdsa192", "ecdsa256", "ecdsa384"};

static void test_key_digests(void)
{
    for (size_t i = 0; i < 4; i++) {
        char kp[64], dp[64], pp[64];
        snprintf(kp, sizeof(kp), "input/key_%s.pem", SCHEMES[i]);
        snprintf(dp, sizeof(dp), "secure_boot/ed1/expected/digest_%s.bin", SCHEMES[i]);
        snprintf(pp, sizeof(pp), "secure_boot/ed1/expected/pub_%s.pem", SCHEMES[i]);
        espsec_sb_key_t *k = key(kp);
        uint8_t d[32];
        size_t elen, plen;
        uint8_t *expect = vec(dp, &elen);
        CHECK_OK(espsec_sbv2_key_digest(k, d, NULL));
        CHECK(elen == 32 && memcmp(d, expect, 32) == 0);
        /* the public key PEM is byte-identical, and loading it gives the same digest */
        char *pem = NULL;
        CHECK_OK(espsec_sb_key_public_pem(k, &pem, &plen, NULL));
        uint8_t *pexp = vec(pp, &elen);
        CHECK(plen == elen && memcmp(pem, pexp, plen) == 0);
        espsec_sb_key_t *pub = NULL;
        CHECK_OK(espsec_sb_key_load_pem((uint8_t *)pem, plen, &pub, NULL));
        CHECK(!espsec_sb_key_is_private(pub) && espsec_sb_key_is_private(k));
        uint8_t d2[32];
        CHECK_OK(espsec_sbv2_key_digest(pub, d2, NULL));
        CHECK(memcmp(d, d2, 32) == 0);
        espsec_sb_key_free(pub);
        free(pem);
        free(pexp);
        free(expect);
        espsec_sb_key_free(k);
    }
}

static void test_verify_vectors(void)
{
    struct {
        const char *image, *key;
        int skip_padding, expect_ok;
    } cases[] = {
        {"app_8k_rsa3072.signed", "key_rsa3072.pem", 0, 1},
        {"app_8k_ecdsa192.signed", "key_ecdsa192.pem", 0, 1},
        {"app_8k_ecdsa256.signed", "key_ecdsa256.pem", 0, 1},
        {"app_8k_ecdsa384.signed", "key_ecdsa384.pem", 0, 1},
        {"app_8k_3keys.signed", "key_rsa3072.pem", 0, 1},
        {"app_8k_3keys.signed", "key_rsa3072_b.pem", 0, 1},
        {"app_8k_3keys.signed", "key_rsa3072_c.pem", 0, 1},
        {"app_8k_appended.signed", "key_rsa3072.pem", 0, 1},
        {"app_8k_appended.signed", "key_rsa3072_b.pem", 0, 1},
        {"app_8k_appended.signed", "key_rsa3072_c.pem", 0, 0},
        {"app_8k_rsa_nopad.signed", "key_rsa3072.pem", 1, 1},
        {"app_64k_unaligned_rsa.signed", "key_rsa3072.pem", 0, 1},
        {"app_hello_rsa3072.signed", "key_rsa3072.pem", 0, 1},
        {"bootloader_rsa3072.signed", "key_rsa3072.pem", 0, 1},
        {"app_8k_rsa3072.signed", "key_rsa3072_b.pem", 0, 0},
        {"app_8k_rsa3072_tampered.signed", "key_rsa3072.pem", 0, 0},
        {"app_8k_ecdsa256.signed", "key_ecdsa384.pem", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char ip[128], kp[128];
        size_t len;
        snprintf(ip, sizeof(ip), "secure_boot/ed1/expected/%s", cases[i].image);
        snprintf(kp, sizeof(kp), "input/%s", cases[i].key);
        uint8_t *img = vec(ip, &len);
        espsec_sb_key_t *k = key(kp);
        espsec_error_t err = {0};
        espsec_err_t rc = espsec_sbv2_verify(img, len, k, cases[i].skip_padding, NULL, &err);
        if ((rc == ESPSEC_OK) != cases[i].expect_ok) {
            fprintf(stderr, "case %s with %s: %s\n", cases[i].image, cases[i].key, err.msg);
        }
        CHECK((rc == ESPSEC_OK) == cases[i].expect_ok);
        if (!cases[i].expect_ok) {
            CHECK(rc == ESPSEC_ERR_VERIFY);
        }
        free(img);
        espsec_sb_key_free(k);
    }
}

static void test_info_vectors(void)
{
    size_t len;
    uint8_t *img = vec("secure_boot/ed1/expected/app_8k_3keys.signed", &len);
    espsec_sbv2_block_info_t info[3];
    CHECK_OK(espsec_sbv2_info(img, len, 0, info, NULL));
    const char *names[3] = {"key_rsa3072.pem", "key_rsa3072_b.pem", "key_rsa3072_c.pem"};
    for (int i = 0; i < 3; i++) {
        char kp[64];
        snprintf(kp, sizeof(kp), "input/%s", names[i]);
        espsec_sb_key_t *k = key(kp);
        uint8_t d[32];
        espsec_sbv2_key_digest(k, d, NULL);
        CHECK(info[i].present && info[i].digest_matches && info[i].scheme == ESPSEC_SB_RSA3072);
        CHECK(memcmp(info[i].key_digest, d, 32) == 0);
        espsec_sb_key_free(k);
    }
    free(img);
    img = vec("secure_boot/ed1/expected/app_8k_ecdsa384.signed", &len);
    CHECK_OK(espsec_sbv2_info(img, len, 0, info, NULL));
    CHECK(info[0].present && info[0].scheme == ESPSEC_SB_ECDSA384 && info[0].digest_len == 48);
    CHECK(!info[1].present && !info[2].present);
    free(img);
}

/* Sign as espsecure does: identical except signature and CRC; verifies. */
static void test_sign_matches_espsecure(void)
{
    size_t dlen, elen;
    uint8_t *data = vec("secure_boot/ed1/input/app_8k.bin", &dlen);
    for (size_t i = 0; i < 4; i++) {
        char kp[64], ep[96];
        snprintf(kp, sizeof(kp), "input/key_%s.pem", SCHEMES[i]);
        snprintf(ep, sizeof(ep), "secure_boot/ed1/expected/app_8k_%s.signed", SCHEMES[i]);
        espsec_sb_key_t *k = key(kp);
        uint8_t *expect = vec(ep, &elen);
        espsec_sbv2_signer_t s = {.key = k};
        espsec_sbv2_sign_opts_t o = {0};
        uint8_t *out = NULL;
        size_t olen = 0;
        int blocks = 0;
        CHECK_OK(espsec_sbv2_sign(data, dlen, &s, 1, &o, &out, &olen, &blocks, NULL));
        CHECK(olen == elen && blocks == 1);
        size_t sec = olen - 4096;
        size_t sig_at = i == 0 ? 812 : i == 3 ? 149 : 101, sig_len = i == 0 ? 384 : i == 3 ? 96 : 64;
        for (size_t b = 0; b < olen && olen == elen; b++) {
            int in_sig = (b >= sec + sig_at && b < sec + sig_at + sig_len) || (b >= sec + 1196 && b < sec + 1200);
            if (!in_sig && out[b] != expect[b]) {
                fprintf(stderr, "%s: byte 0x%zx differs\n", SCHEMES[i], b);
                t_failures++;
                break;
            }
        }
        CHECK_OK(espsec_sbv2_verify(out, olen, k, 0, NULL, NULL));
        free(out);
        free(expect);
        espsec_sb_key_free(k);
    }
    free(data);
}

static void test_sign_multi_and_append(void)
{
    size_t dlen;
    uint8_t *data = vec("secure_boot/ed1/input/app_8k.bin", &dlen);
    espsec_sb_key_t *a = key("input/key_rsa3072.pem"), *b = key("input/key_ecdsa256.pem"),
                    *c = key("input/key_ecdsa384.pem"), *d = key("input/key_rsa3072_b.pem");
    espsec_sbv2_signer_t s1[2] = {{.key = a}, {.key = b}};
    espsec_sbv2_sign_opts_t o = {0};
    uint8_t *out = NULL, *out2 = NULL;
    size_t olen = 0, olen2 = 0;
    int blocks = 0;
    CHECK_OK(espsec_sbv2_sign(data, dlen, s1, 2, &o, &out, &olen, &blocks, NULL));
    CHECK(blocks == 2 && olen == dlen + 4096);
    CHECK_OK(espsec_sbv2_verify(out, olen, a, 0, NULL, NULL));
    CHECK_OK(espsec_sbv2_verify(out, olen, b, 0, NULL, NULL));
    /* append a third block (P-384 hashes with SHA-384 over the same data) */
    espsec_sbv2_signer_t s2 = {.key = c};
    o.append = 1;
    CHECK_OK(espsec_sbv2_sign(out, olen, &s2, 1, &o, &out2, &olen2, &blocks, NULL));
    CHECK(blocks == 3 && olen2 == olen);
    CHECK(memcmp(out, out2, olen - 4096 + 2 * 1216) == 0);
    CHECK_OK(espsec_sbv2_verify(out2, olen2, c, 0, NULL, NULL));
    CHECK_OK(espsec_sbv2_verify(out2, olen2, a, 0, NULL, NULL));
    /* a fourth is refused and nothing is produced */
    uint8_t *out3 = NULL;
    size_t olen3 = 0;
    espsec_sbv2_signer_t s3 = {.key = d};
    espsec_error_t err;
    CHECK_ERR(espsec_sbv2_sign(out2, olen2, &s3, 1, &o, &out3, &olen3, &blocks, &err), ESPSEC_ERR_INVALID_STATE);
    CHECK(out3 == NULL);
    /* four keys at once are refused too */
    espsec_sbv2_signer_t s4[4] = {{.key = a}, {.key = b}, {.key = c}, {.key = d}};
    o.append = 0;
    CHECK_ERR(espsec_sbv2_sign(data, dlen, s4, 4, &o, &out3, &olen3, &blocks, &err), ESPSEC_ERR_INVALID_ARG);
    free(out);
    free(out2);
    free(data);
    espsec_sb_key_free(a);
    espsec_sb_key_free(b);
    espsec_sb_key_free(c);
    espsec_sb_key_free(d);
}

/* A signature made elsewhere (here: straight OpenSSL) with the public key. */
static void test_detached_signature(void)
{
    size_t dlen, plen;
    uint8_t *data = vec("secure_boot/ed1/input/app_8k.bin", &dlen);
    espsec_sb_key_t *priv = key("input/key_rsa3072.pem");
    uint8_t *pubpem = vec("secure_boot/ed1/expected/pub_rsa3072.pem", &plen);
    espsec_sb_key_t *pub = NULL;
    CHECK_OK(espsec_sb_key_load_pem(pubpem, plen, &pub, NULL));
    uint8_t digest[32], sig[384];
    size_t slen = sizeof(sig);
    espsec_sha256(data, dlen, digest);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(espsec_sb_key_evp(priv), NULL);
    CHECK(EVP_PKEY_sign_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
          EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, 32) == 1 &&
          EVP_PKEY_sign(ctx, sig, &slen, digest, 32) == 1);
    EVP_PKEY_CTX_free(ctx);
    espsec_sbv2_signer_t s = {.key = pub, .signature = sig, .signature_len = slen};
    espsec_sbv2_sign_opts_t o = {0};
    uint8_t *out = NULL;
    size_t olen = 0;
    CHECK_OK(espsec_sbv2_sign(data, dlen, &s, 1, &o, &out, &olen, NULL, NULL));
    CHECK_OK(espsec_sbv2_verify(out, olen, pub, 0, NULL, NULL));
    free(out);
    /* a wrong signature is refused */
    sig[10] ^= 1;
    espsec_error_t err;
    out = NULL;
    CHECK_ERR(espsec_sbv2_sign(data, dlen, &s, 1, &o, &out, &olen, NULL, &err), ESPSEC_ERR_VERIFY);
    CHECK(out == NULL);
    /* a public key alone cannot sign */
    espsec_sbv2_signer_t s2 = {.key = pub};
    CHECK_ERR(espsec_sbv2_sign(data, dlen, &s2, 1, &o, &out, &olen, NULL, &err), ESPSEC_ERR_KEY);
    free(pubpem);
    free(data);
    espsec_sb_key_free(priv);
    espsec_sb_key_free(pub);
}

/* Flip single bits in every region the signature or CRC covers: all rejected. */
static void test_bit_flips(void)
{
    size_t len;
    uint8_t *img = vec("secure_boot/ed1/expected/app_hello_rsa3072.signed", &len);
    espsec_sb_key_t *k = key("input/key_rsa3072.pem");
    CHECK_OK(espsec_sbv2_verify(img, len, k, 0, NULL, NULL));
    espsec_image_t parsed;
    CHECK_OK(espsec_image_parse(img, len, &parsed, NULL));
    size_t sec = len - 4096;
    /* region boundaries: header, each segment, checksum, hash, padding, block fields */
    size_t marks[64], nm = 0;
    marks[nm++] = 0;
    marks[nm++] = 24;
    for (unsigned s = 0; s < parsed.segment_count; s++) {
        marks[nm++] = parsed.segments[s].header_offset;
        marks[nm++] = parsed.segments[s].data_offset;
        marks[nm++] = parsed.segments[s].data_offset + parsed.segments[s].length / 2;
    }
    marks[nm++] = parsed.checksum_offset;
    marks[nm++] = parsed.checksum_offset + 1;
    marks[nm++] = parsed.image_len;
    static const size_t block_fields[] = {0, 1, 2, 4, 36, 200, 420, 424, 600, 808, 812, 1000, 1195, 1196, 1199};
    for (size_t f = 0; f < sizeof(block_fields) / sizeof(block_fields[0]); f++) {
        marks[nm++] = sec + block_fields[f];
    }
    int flips = 0, accepted = 0;
    uint64_t rng = 0x1234567;
    for (size_t m = 0; m < nm; m++) {
        for (int j = 0; j < 6; j++) {
            size_t pos = marks[m] + (j < 3 ? (size_t)j : t_rand(&rng) % 64);
            if (pos >= sec + 1200 || (pos >= parsed.image_len && pos < sec && j > 2)) {
                continue;
            }
            int bit = (int)(t_rand(&rng) % 8);
            img[pos] ^= (uint8_t)(1u << bit);
            flips++;
            if (espsec_sbv2_verify(img, len, k, 0, NULL, NULL) == ESPSEC_OK) {
                fprintf(stderr, "flip at 0x%zx bit %d accepted\n", pos, bit);
                accepted++;
            }
            img[pos] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK(flips > 100);
    CHECK(accepted == 0);
    free(img);
    espsec_sb_key_free(k);
}

static void test_v1(void)
{
    size_t dlen, elen;
    uint8_t *data = vec("secure_boot/ed1/input/app_8k.bin", &dlen);
    uint8_t *expect = vec("secure_boot/ed1/expected/app_8k_v1.signed", &elen);
    espsec_sb_key_t *k = key("input/key_v1.pem");
    uint8_t *out = NULL;
    size_t olen = 0;
    CHECK_OK(espsec_sbv1_sign(data, dlen, k, &out, &olen, NULL));
    CHECK(olen == elen && memcmp(out, expect, elen) == 0);
    CHECK_OK(espsec_sbv1_verify(expect, elen, k, NULL));
    expect[100] ^= 4;
    CHECK_ERR(espsec_sbv1_verify(expect, elen, k, NULL), ESPSEC_ERR_VERIFY);
    expect[100] ^= 4;
    expect[elen - 1] ^= 1;
    CHECK_ERR(espsec_sbv1_verify(expect, elen, k, NULL), ESPSEC_ERR_VERIFY);
    expect[elen - 1] ^= 1;
    /* raw public key and loading it back */
    uint8_t raw[64];
    size_t plen;
    uint8_t *pexp = vec("secure_boot/ed1/expected/pub_v1.bin", &plen);
    CHECK_OK(espsec_sbv1_public_raw(k, raw, NULL));
    CHECK(plen == 64 && memcmp(raw, pexp, 64) == 0);
    espsec_sb_key_t *pub = NULL;
    CHECK_OK(espsec_sbv1_key_load(raw, 64, &pub, NULL));
    CHECK_OK(espsec_sbv1_verify(expect, elen, pub, NULL));
    /* detached r||s */
    uint8_t *out2 = NULL;
    size_t olen2;
    CHECK_OK(espsec_sbv1_sign_detached(data, dlen, pub, expect + dlen + 4, &out2, &olen2, NULL));
    CHECK(olen2 == elen && memcmp(out2, expect, elen) == 0);
    /* private key digests */
    uint8_t d[32];
    size_t dl;
    uint8_t *d256 = vec("secure_boot/ed1/expected/sb_key_from_v1.bin", &plen);
    CHECK_OK(espsec_sbv1_digest_private_key(k, 256, d, &dl, NULL));
    CHECK(dl == 32 && memcmp(d, d256, 32) == 0);
    free(d256);
    d256 = vec("secure_boot/ed1/expected/sb_key_from_v1_192.bin", &plen);
    CHECK_OK(espsec_sbv1_digest_private_key(k, 192, d, &dl, NULL));
    CHECK(dl == 24 && plen == 24 && memcmp(d, d256, 24) == 0);
    /* a non-P-256 key is refused with the reason */
    espsec_sb_key_t *p384 = key("input/key_ecdsa384.pem");
    espsec_error_t err;
    CHECK_ERR(espsec_sbv1_sign(data, dlen, p384, &out, &olen, &err), ESPSEC_ERR_KEY);
    CHECK_MSG(err, "P-256");
    espsec_sb_key_free(p384);
    free(d256);
    free(pexp);
    free(out);
    free(out2);
    free(expect);
    free(data);
    espsec_sb_key_free(k);
    espsec_sb_key_free(pub);
}

static void test_v1_bootloader_digest(void)
{
    size_t len, kl, ivl, el;
    uint8_t *img = vec("secure_boot/ed1/input/bootloader.bin", &len);
    uint8_t *kf = vec("secure_boot/ed1/input/secure_boot_key.bin", &kl);
    uint8_t *iv = vec("secure_boot/ed1/input/iv.bin", &ivl);
    uint8_t *expect = vec("secure_boot/ed1/expected/bootloader_digest.bin", &el);
    uint8_t k[32];
    CHECK_OK(espsec_expand_hw_key(kf, kl, k, NULL));
    uint8_t *out = NULL;
    size_t olen = 0;
    CHECK_OK(espsec_sbv1_digest_bootloader(img, len, k, iv, &out, &olen, NULL));
    CHECK(olen == el && memcmp(out, expect, el) == 0);
    CHECK_OK(espsec_sbv1_check_bootloader_digest(out, olen, len, k, NULL));
    out[0x1000 + 300] ^= 1;
    CHECK_ERR(espsec_sbv1_check_bootloader_digest(out, olen, len, k, NULL), ESPSEC_ERR_VERIFY);
    free(out);
    free(img);
    img = vec("secure_boot/ed1/input/bootloader_30000.bin", &len);
    espsec_error_t err;
    out = NULL;
    CHECK_ERR(espsec_sbv1_digest_bootloader(img, len, k, iv, &out, &olen, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "magic");
    CHECK(out == NULL);
    free(img);
    free(kf);
    free(iv);
    free(expect);
}

static void test_bad_keys(void)
{
    espsec_sb_key_t *k = NULL;
    espsec_error_t err;
    const char junk[] = "not a key at all";
    CHECK_ERR(espsec_sb_key_load_pem((const uint8_t *)junk, sizeof(junk), &k, &err), ESPSEC_ERR_PARSE);
    const char broken[] = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    CHECK_ERR(espsec_sb_key_load_pem((const uint8_t *)broken, sizeof(broken), &k, &err), ESPSEC_ERR_PARSE);
    /* RSA-2048 is refused with the reason */
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    CHECK_ERR(espsec_sb_key_from_evp(small, &k, &err), ESPSEC_ERR_KEY);
    CHECK_MSG(err, "3072");
    EVP_PKEY_free(small);
    EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
    CHECK_ERR(espsec_sb_key_from_evp(k1, &k, &err), ESPSEC_ERR_KEY);
    EVP_PKEY_free(k1);
    /* generated keys load back with the right scheme */
    for (int s = 0; s < 4; s++) {
        char *pem = NULL;
        size_t len = 0;
        CHECK_OK(espsec_sb_generate_key((espsec_sb_scheme_t)s, &pem, &len, NULL));
        CHECK(strstr(pem, s == 0 ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY") != NULL);
        CHECK_OK(espsec_sb_key_load_pem((uint8_t *)pem, len, &k, NULL));
        CHECK(espsec_sb_key_scheme(k) == (espsec_sb_scheme_t)s && espsec_sb_key_is_private(k));
        espsec_sb_key_free(k);
        espsec_free_secret(pem, len);
    }
}

static void test_bad_images(void)
{
    size_t len;
    uint8_t *img = vec("secure_boot/ed1/expected/app_8k_rsa3072.signed", &len);
    espsec_sb_key_t *k = key("input/key_rsa3072.pem");
    espsec_error_t err;
    CHECK_ERR(espsec_sbv2_verify(img, 100, k, 0, NULL, &err), ESPSEC_ERR_FORMAT);
    CHECK_ERR(espsec_sbv2_verify(img, len - 1, k, 0, NULL, &err), ESPSEC_ERR_FORMAT);
    CHECK_MSG(err, "multiple of 4096");
    /* CRC broken: the block is not even considered */
    img[len - 4096 + 1196] ^= 1;
    CHECK_ERR(espsec_sbv2_verify(img, len, k, 0, NULL, &err), ESPSEC_ERR_VERIFY);
    CHECK_MSG(err, "CRC");
    free(img);
    espsec_sb_key_free(k);
}

int main(void)
{
    RUN(test_key_digests);
    RUN(test_verify_vectors);
    RUN(test_info_vectors);
    RUN(test_sign_matches_espsecure);
    RUN(test_sign_multi_and_append);
    RUN(test_detached_signature);
    RUN(test_bit_flips);
    RUN(test_v1);
    RUN(test_v1_bootloader_digest);
    RUN(test_bad_keys);
    RUN(test_bad_images);
    return test_done();
}
