/*
 * espsec benchmarks. Each prints "name value unit" lines that bench/run.sh
 * puts next to `openssl speed` figures taken in the same run.
 *   espsec_bench image     4 MiB signed image: hash, verify; sign/verify rates
 *   espsec_bench flashenc  XTS-AES and ESP32 tweaked AES throughput
 *   espsec_bench nvs       1 MiB partition from a 2000-key CSV (plain and
 *                          encrypted); set/get rates of the store on 64 KiB
 *   espsec_bench tls PORT CA.pem PATH
 *                          full handshakes per second and bulk GET throughput
 *                          against a server on 127.0.0.1:PORT
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "espsec/flash.h"
#include "espsec/flash_enc.h"
#include "espsec/io.h"
#include "espsec/nvs.h"
#include "espsec/nvs_part.h"
#include "espsec/secure_boot.h"
#include "espsec/tls.h"
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

/* A CSV of 2000 values over 8 namespaces: u32, i64, short strings, 200-byte hex blobs. */
static char *nvs_csv(size_t *len)
{
    size_t cap = 2u << 20, n = 0;
    char *csv = malloc(cap);
    n += (size_t)snprintf(csv + n, cap - n, "key,type,encoding,value\n");
    uint64_t r = 12345;
    for (int i = 0; i < 2000; i++) {
        if (i % 250 == 0) {
            n += (size_t)snprintf(csv + n, cap - n, "ns%d,namespace,,\n", i / 250);
        }
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        switch (i % 4) {
        case 0:
            n += (size_t)snprintf(csv + n, cap - n, "k%d,data,u32,%u\n", i, (unsigned)(r >> 32));
            break;
        case 1:
            n += (size_t)snprintf(csv + n, cap - n, "k%d,data,i64,%lld\n", i, (long long)(r >> 1) - (1ll << 62));
            break;
        case 2:
            n += (size_t)snprintf(csv + n, cap - n, "k%d,data,string,value-%016llx-%d\n", i, (unsigned long long)r, i);
            break;
        default:
            n += (size_t)snprintf(csv + n, cap - n, "k%d,data,hex2bin,", i);
            for (int b = 0; b < 200; b++) {
                n += (size_t)snprintf(csv + n, cap - n, "%02x", (unsigned)((r >> (b % 56)) + (unsigned)b) & 0xFF);
            }
            n += (size_t)snprintf(csv + n, cap - n, "\n");
        }
    }
    *len = n;
    return csv;
}

static int bench_nvs(void)
{
    size_t clen;
    char *csv = nvs_csv(&clen);
    espsec_nvs_keys_t keys;
    espsec_nvs_keys_generate(&keys);
    const size_t part = 1u << 20;
    espsec_error_t err;
    for (int enc = 0; enc < 2; enc++) {
        espsec_nvs_csv_opts_t o = {.version = 2, .keys = enc ? &keys : NULL};
        uint8_t *img = NULL;
        if (espsec_nvs_gen_csv(csv, clen, "bench.csv", part, &o, &img, &err) != ESPSEC_OK) {
            fprintf(stderr, "generate: %s\n", err.msg);
            return 1;
        }
        free(img);
        double t = TIME(1.0, {
            espsec_nvs_gen_csv(csv, clen, "bench.csv", part, &o, &img, NULL);
            free(img);
        });
        printf("nvs_generate_1MiB_2000keys%s_ms %.3f\n", enc ? "_encrypted" : "", t * 1e3);
    }
    /* the encrypted partition's written bytes, for the raw XTS comparison */
    {
        espsec_nvs_csv_opts_t o = {.version = 2};
        uint8_t *img = NULL;
        espsec_nvs_gen_csv(csv, clen, "bench.csv", part, &o, &img, NULL);
        size_t written = 0;
        for (size_t p = 0; p < part; p += 4096) {
            for (size_t e = 0; e < 126; e++) {
                const uint8_t *x = img + p + 64 + e * 32;
                int blank = 1;
                for (int b = 0; b < 32 && blank; b++) {
                    blank = x[b] == 0xFF;
                }
                written += blank ? 0 : 32;
            }
        }
        printf("nvs_generate_written_bytes %zu\n", written);
        /* encrypting the written entries of the partition (nvs encrypt/decrypt's XTS work) */
        double tc = TIME(1.0, espsec_nvs_image_crypt(img, part, &keys, 0, NULL));
        printf("nvs_crypt_written_MBps %.1f\n", (double)written / tc / 1e6);
        free(img);
    }
    free(csv);
    /* the store on 64 KiB: random u32 sets over 200 keys (pages are reclaimed), gets */
    for (int enc = 0; enc < 2; enc++) {
        espsec_flash_t *f = NULL;
        espsec_nvs_t *n = NULL;
        espsec_nvs_handle_t h;
        espsec_flash_new(0x10000, &f, NULL);
        if (espsec_nvs_mount(f, 0, 0x10000, enc ? &keys : NULL, &n, &err) != ESPSEC_OK ||
            espsec_nvs_open(n, "bench", ESPSEC_NVS_READWRITE, &h) != ESPSEC_OK) {
            return 1;
        }
        uint64_t r = 99;
        char key[16];
        long sets = 0, gets = 0;
        double t0 = now();
        while (now() - t0 < 1.0) {
            for (int i = 0; i < 1000; i++) {
                r = r * 6364136223846793005ull + 1442695040888963407ull;
                snprintf(key, sizeof(key), "key%u", (unsigned)(r >> 33) % 200);
                if (espsec_nvs_set_u32(n, h, key, (uint32_t)r) != ESPSEC_OK) {
                    fprintf(stderr, "set failed\n");
                    return 1;
                }
            }
            sets += 1000;
        }
        double ts = (now() - t0) / (double)sets;
        uint32_t v;
        t0 = now();
        while (now() - t0 < 1.0) {
            for (int i = 0; i < 1000; i++) {
                snprintf(key, sizeof(key), "key%d", i % 200);
                (void)espsec_nvs_get_u32(n, h, key, &v);
            }
            gets += 1000;
        }
        double tg = (now() - t0) / (double)gets;
        /* mount of the full 64 KiB partition (decrypting every entry when encrypted) */
        espsec_nvs_unmount(n);
        double tm = TIME(0.5, {
            espsec_nvs_mount(f, 0, 0x10000, enc ? &keys : NULL, &n, NULL);
            espsec_nvs_unmount(n);
        });
        const char *sfx = enc ? "_encrypted" : "";
        printf("nvs_set_u32_64KiB%s_per_s %.0f\n", sfx, 1.0 / ts);
        printf("nvs_get_u32_64KiB%s_per_s %.0f\n", sfx, 1.0 / tg);
        printf("nvs_mount_64KiB%s_ms %.3f\n", sfx, tm * 1e3);
        espsec_flash_free(f);
    }
    espsec_wipe(&keys, sizeof(keys));
    return 0;
}

static int bench_tls(int port, const char *ca_path, const char *path)
{
    uint8_t *ca = NULL;
    size_t cal = 0;
    if (espsec_read_file(ca_path, &ca, &cal, 1u << 20, NULL) != ESPSEC_OK) {
        return 1;
    }
    espsec_tls_cfg_t cfg = {.cacert_buf = ca, .cacert_bytes = cal, .timeout_ms = 5000};
    espsec_error_t err;
    /* full handshakes (a new session each time), verifying the chain */
    long n = 0;
    clock_t c0 = clock();
    double t0 = now();
    while (now() - t0 < 2.0) {
        espsec_tls_t *t = NULL;
        if (espsec_tls_conn_new("localhost", port, &cfg, &t, &err) != ESPSEC_OK) {
            fprintf(stderr, "handshake: %s\n", err.msg);
            return 1;
        }
        espsec_tls_conn_destroy(t);
        n++;
    }
    double wall = now() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    printf("tls_handshakes_per_s %.1f\n", (double)n / wall);
    printf("tls_handshakes_per_cpu_s %.1f\n", (double)n / (cpu > 0 ? cpu : 1e-9));
    /* bulk: GET the file, read it all */
    char req[512];
    int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
    static uint8_t buf[1 << 16];
    double bytes = 0;
    t0 = now();
    while (now() - t0 < 2.0) {
        espsec_tls_t *t = NULL;
        if (espsec_tls_conn_new("localhost", port, &cfg, &t, &err) != ESPSEC_OK) {
            return 1;
        }
        espsec_tls_conn_write(t, req, (size_t)rl);
        ssize_t r;
        while ((r = espsec_tls_conn_read(t, buf, sizeof(buf))) > 0) {
            bytes += (double)r;
        }
        espsec_tls_conn_destroy(t);
    }
    printf("tls_bulk_MBps %.1f\n", bytes / (now() - t0) / 1e6);
    free(ca);
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
    if (!strcmp(what, "tls")) {
        if (argc < 5) {
            fprintf(stderr, "usage: espsec_bench tls PORT CA.pem PATH\n");
            return 2;
        }
        return bench_tls(atoi(argv[2]), argv[3], argv[4]);
    }
    if (!strcmp(what, "nvs") || !strcmp(what, "all")) {
        rc |= bench_nvs();
    }
    return rc;
}
