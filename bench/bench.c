/*
 * espsec benchmarks. Each prints "name value unit" lines that bench/run.sh
 * puts next to `openssl speed` figures taken in the same run.
 *   espsec_bench image     4 MiB signed image: hash, verify; sign/verify rates
 *   espsec_bench flashenc  XTS-AES and ESP32 tweaked AES throughput
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "espsec/flash_enc.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fill(uint8_t *p, size_t n)
{
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        p[i] = (uint8_t)s;
    }
}

/* Repeat fn until min_s seconds pass; returns seconds per call. */
#define TIME(min_s, stmt)                                  \
    ({                                                     \
        double t0_ = now(), t_;                            \
        long n_ = 0;                                       \
        do {                                               \
            stmt;                                          \
            n_++;                                          \
            t_ = now() - t0_;                              \
        } while (t_ < (min_s));                            \
        t_ / (double)n_;                                   \
    })

static int bench_image(void)
{
    const size_t len = 4u << 20;
    uint8_t *img = malloc(len), digest[32];
    fill(img, len);
    char *pem = NULL;
    size_t pem_len = 0;
    espsec_sb_key_t *rsa = NULL, *ec = NULL;
    if (espsec_sb_generate_key(ESPSEC_SB_RSA3072, &pem, &pem_len, NULL) != ESPSEC_OK ||
        espsec_sb_key_load_pem((uint8_t *)pem, pem_len, &rsa, NULL) != ESPSEC_OK) {
        return 1;
    }
    espsec_free_secret(pem, pem_len);
    if (espsec_sb_generate_key(ESPSEC_SB_ECDSA256, &pem, &pem_len, NULL) != ESPSEC_OK ||
        espsec_sb_key_load_pem((uint8_t *)pem, pem_len, &ec, NULL) != ESPSEC_OK) {
        return 1;
    }
    espsec_free_secret(pem, pem_len);
    espsec_sbv2_signer_t s = {.key = rsa};
    espsec_sbv2_sign_opts_t o = {0};
    uint8_t *signed_img = NULL;
    size_t slen = 0;
    if (espsec_sbv2_sign(img, len, &s, 1, &o, &signed_img, &slen, NULL, NULL) != ESPSEC_OK) {
        return 1;
    }
    double t_sha = TIME(1.0, espsec_sha256(img, len, digest));
    double t_verify = TIME(1.0, espsec_sbv2_verify(signed_img, slen, rsa, 0, NULL, NULL));
    /* raw OpenSSL: SHA-256 of the same bytes + one RSA-PSS verify */
    uint8_t sig[384];
    size_t siglen = sizeof(sig);
    EVP_PKEY *pk = espsec_sb_key_evp(rsa);
    EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new(pk, NULL);
    EVP_PKEY_sign_init(sctx);
    EVP_PKEY_CTX_set_rsa_padding(sctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_signature_md(sctx, EVP_sha256());
    EVP_PKEY_sign(sctx, sig, &siglen, digest, 32);
    EVP_PKEY_CTX_free(sctx);
    double t_rawverify = TIME(1.0, {
        EVP_PKEY_CTX *v = EVP_PKEY_CTX_new(pk, NULL);
        EVP_PKEY_verify_init(v);
        EVP_PKEY_CTX_set_rsa_padding(v, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_signature_md(v, EVP_sha256());
        EVP_PKEY_verify(v, sig, siglen, digest, 32);
        EVP_PKEY_CTX_free(v);
    });
    printf("image_sha256_4MiB_MBps %.1f\n", (double)len / t_sha / 1e6);
    printf("image_verify_4MiB_ms %.3f\n", t_verify * 1e3);
    printf("raw_sha256_plus_rsa_verify_ms %.3f\n", (t_sha + t_rawverify) * 1e3);
    /* block-level rates: one signature block (digest given) per call */
    uint8_t block[ESPSEC_SBV2_BLOCK_SIZE], kd[32];
    espsec_sbv2_signer_t se = {.key = ec};
    double t_rsa_sign = TIME(1.0, espsec_sbv2_make_block(&s, digest, block, NULL));
    double t_rsa_ver = TIME(1.0, espsec_sbv2_verify_block(block, digest, 32, kd, NULL));
    double t_ec_sign = TIME(1.0, espsec_sbv2_make_block(&se, digest, block, NULL));
    double t_ec_ver = TIME(1.0, espsec_sbv2_verify_block(block, digest, 32, kd, NULL));
    printf("sbv2_rsa3072_sign_per_s %.1f\n", 1.0 / t_rsa_sign);
    printf("sbv2_rsa3072_verify_block_per_s %.1f\n", 1.0 / t_rsa_ver);
    printf("sbv2_ecdsa256_sign_per_s %.1f\n", 1.0 / t_ec_sign);
    printf("sbv2_ecdsa256_verify_block_per_s %.1f\n", 1.0 / t_ec_ver);
    free(img);
    free(signed_img);
    espsec_sb_key_free(rsa);
    espsec_sb_key_free(ec);
    return 0;
}

static int bench_flashenc(void)
{
    const size_t len = 4u << 20;
    uint8_t *buf = malloc(len), key[64];
    fill(buf, len);
    fill(key, sizeof(key));
    espsec_fe_ctx_t *x256 = NULL, *x128 = NULL, *e32 = NULL;
    espsec_flash_enc_params_t px = {ESPSEC_FE_XTS, 0}, pe = {ESPSEC_FE_ESP32, 0xF};
    if (espsec_fe_new(&px, key, 64, &x256, NULL) != ESPSEC_OK || espsec_fe_new(&px, key, 32, &x128, NULL) != ESPSEC_OK ||
        espsec_fe_new(&pe, key, 32, &e32, NULL) != ESPSEC_OK) {
        return 1;
    }
    double t256 = TIME(1.0, espsec_fe_crypt(x256, 0x10000, buf, buf, len, 0, NULL));
    double t128 = TIME(1.0, espsec_fe_crypt(x128, 0x10000, buf, buf, len, 0, NULL));
    double tesp = TIME(1.0, espsec_fe_crypt(e32, 0x10000, buf, buf, len, 0, NULL));
    printf("xts_aes256_4MiB_MBps %.1f\n", (double)len / t256 / 1e6);
    printf("xts_aes128_4MiB_MBps %.1f\n", (double)len / t128 / 1e6);
    printf("esp32_tweaked_aes_4MiB_MBps %.1f\n", (double)len / tesp / 1e6);
    /* what bounds the ESP32 mode: one AES-256 decrypt key schedule per 32 bytes */
    double t_rekey = TIME(0.5, {
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        EVP_CipherInit_ex(c, EVP_aes_256_ecb(), NULL, key, NULL, 0);
        for (int i = 0; i < 1000; i++) {
            key[0] ^= (uint8_t)i;
            EVP_CipherInit_ex(c, NULL, NULL, key, NULL, 0);
        }
        EVP_CIPHER_CTX_free(c);
    });
    printf("aes256_decrypt_rekey_per_s %.0f\n", 1000.0 / t_rekey);
    espsec_fe_free(x256);
    espsec_fe_free(x128);
    espsec_fe_free(e32);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "all";
    int rc = 0;
    if (!strcmp(what, "image") || !strcmp(what, "all")) {
        rc |= bench_image();
    }
    if (!strcmp(what, "flashenc") || !strcmp(what, "all")) {
        rc |= bench_flashenc();
    }
    return rc;
}
