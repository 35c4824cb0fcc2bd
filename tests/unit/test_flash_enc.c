/* Flash encryption: the batched XTS against OpenSSL's XTS, round trips, streaming. */
#include <openssl/evp.h>
#include <unistd.h>

#include "espsec/flash_enc.h"
#include "espsec/util.h"
#include "test.h"
#include "util/bytes.h"

/* Espressif's XTS per 128-byte unit, computed directly with EVP's XTS. */
static void reference_xts(const uint8_t *key, size_t klen, uint32_t addr, const uint8_t *in, uint8_t *out, size_t len,
                          int dec)
{
    for (size_t off = 0; off < len; off += 128) {
        uint8_t tweak[16] = {0}, blk[128], res[128];
        put_le32(tweak, (addr + (uint32_t)off) & ~127u);
        reverse_copy(blk, in + off, 128);
        EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
        int outl = 0;
        EVP_CipherInit_ex(c, klen == 64 ? EVP_aes_256_xts() : EVP_aes_128_xts(), NULL, key, tweak, dec ? 0 : 1);
        EVP_CipherUpdate(c, res, &outl, blk, 128);
        EVP_CIPHER_CTX_free(c);
        reverse_copy(out + off, res, 128);
    }
}

static void test_xts_matches_openssl(void)
{
    uint64_t rng = 7;
    for (int round = 0; round < 20; round++) {
        size_t klen = round % 2 ? 64 : 32;
        uint8_t key[64];
        for (size_t i = 0; i < klen; i++) {
            key[i] = (uint8_t)t_rand(&rng);
        }
        size_t len = 128 * (1 + t_rand(&rng) % 700); /* crosses the 512-unit batch */
        uint32_t addr = (uint32_t)(t_rand(&rng) % 0x400000) & ~127u;
        uint8_t *in = malloc(len), *a = malloc(len), *b = malloc(len);
        for (size_t i = 0; i < len; i++) {
            in[i] = (uint8_t)t_rand(&rng);
        }
        espsec_flash_enc_params_t p = {ESPSEC_FE_XTS, 0};
        espsec_fe_ctx_t *c = NULL;
        CHECK_OK(espsec_fe_new(&p, key, klen, &c, NULL));
        CHECK_OK(espsec_fe_crypt(c, addr, in, a, len, 0, NULL));
        reference_xts(key, klen, addr, in, b, len, 0);
        CHECK(memcmp(a, b, len) == 0);
        CHECK_OK(espsec_fe_crypt(c, addr, a, a, len, 1, NULL));
        CHECK(memcmp(a, in, len) == 0);
        espsec_fe_free(c);
        free(in);
        free(a);
        free(b);
    }
}

static void test_esp32_roundtrip_and_split(void)
{
    uint64_t rng = 9;
    uint8_t key[32];
    for (size_t i = 0; i < 32; i++) {
        key[i] = (uint8_t)t_rand(&rng);
    }
    for (int conf = 0; conf < 16; conf++) {
        espsec_flash_enc_params_t p = {ESPSEC_FE_ESP32, (uint8_t)conf};
        espsec_fe_ctx_t *c = NULL;
        CHECK_OK(espsec_fe_new(&p, key, 32, &c, NULL));
        uint8_t in[512], whole[512], parts[512], back[512];
        for (size_t i = 0; i < sizeof(in); i++) {
            in[i] = (uint8_t)t_rand(&rng);
        }
        uint32_t addr = 0x123450;
        CHECK_OK(espsec_fe_crypt(c, addr, in, whole, sizeof(in), 0, NULL));
        /* any 16-byte split gives the same bytes */
        CHECK_OK(espsec_fe_crypt(c, addr, in, parts, 48, 0, NULL));
        CHECK_OK(espsec_fe_crypt(c, addr + 48, in + 48, parts + 48, sizeof(in) - 48, 0, NULL));
        CHECK(memcmp(whole, parts, sizeof(in)) == 0);
        CHECK_OK(espsec_fe_crypt(c, addr, whole, back, sizeof(in), 1, NULL));
        CHECK(memcmp(back, in, sizeof(in)) == 0);
        /* conf 0 means no tweak: the same 16 bytes encrypt alike at any address */
        if (conf == 0) {
            uint8_t x[16], y[16];
            CHECK_OK(espsec_fe_crypt(c, 0x0, in, x, 16, 0, NULL));
            CHECK_OK(espsec_fe_crypt(c, 0x5000, in, y, 16, 0, NULL));
            CHECK(memcmp(x, y, 16) == 0);
        }
        espsec_fe_free(c);
    }
}

static void test_vectors_in_memory(void)
{
    size_t kl, dl, el;
    uint8_t *key = vec("flash_encryption/ed1/input/key_256.bin", &kl);
    uint8_t *data = vec("flash_encryption/ed1/input/data_4k.bin", &dl);
    uint8_t *expect = vec("flash_encryption/ed1/expected/esp32_conf3_0x123460.bin", &el);
    espsec_flash_enc_params_t p = {ESPSEC_FE_ESP32, 3};
    espsec_fe_ctx_t *c = NULL;
    uint8_t *out = malloc(dl);
    CHECK_OK(espsec_fe_new(&p, key, kl, &c, NULL));
    CHECK_OK(espsec_fe_crypt(c, 0x123460, data, out, dl, 0, NULL));
    CHECK(el == dl && memcmp(out, expect, dl) == 0);
    espsec_fe_free(c);
    free(expect);
    expect = vec("flash_encryption/ed1/expected/xts256_0x123480.bin", &el);
    espsec_flash_enc_params_t px = {ESPSEC_FE_XTS, 0};
    CHECK_OK(espsec_fe_new(&px, key, kl, &c, NULL));
    CHECK_OK(espsec_fe_crypt(c, 0x123480, data, out, dl, 0, NULL));
    CHECK(memcmp(out, expect, dl) == 0);
    espsec_fe_free(c);
    free(out);
    free(expect);
    free(data);
    free(key);
}

static void test_errors(void)
{
    uint8_t key[64] = {1};
    espsec_fe_ctx_t *c = NULL;
    espsec_error_t err;
    espsec_flash_enc_params_t p = {ESPSEC_FE_ESP32, 0xF};
    CHECK_ERR(espsec_fe_new(&p, key, 16, &c, &err), ESPSEC_ERR_KEY);
    CHECK_ERR(espsec_fe_new(&p, key, 64, &c, &err), ESPSEC_ERR_KEY);
    p.flash_crypt_conf = 0x10;
    CHECK_ERR(espsec_fe_new(&p, key, 32, &c, &err), ESPSEC_ERR_INVALID_ARG);
    espsec_flash_enc_params_t px = {ESPSEC_FE_XTS, 0};
    CHECK_ERR(espsec_fe_new(&px, key, 24, &c, &err), ESPSEC_ERR_KEY);
    CHECK_OK(espsec_fe_new(&px, key, 64, &c, NULL));
    uint8_t buf[64];
    CHECK_ERR(espsec_fe_crypt(c, 8, buf, buf, 16, 0, &err), ESPSEC_ERR_INVALID_ARG);
    CHECK_ERR(espsec_fe_crypt(c, 0, buf, buf, 20, 0, &err), ESPSEC_ERR_INVALID_SIZE);
    espsec_fe_free(c);
}

/* The streaming file path gives the same bytes as the in-memory transform. */
static void test_file_streaming(void)
{
    char dir[] = "/tmp/espsec-fe-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in_path[64], out_path[64];
    snprintf(in_path, sizeof(in_path), "%s/in.bin", dir);
    snprintf(out_path, sizeof(out_path), "%s/out.bin", dir);
    size_t len = 3 * 1024 * 1024 + 16 * 7;
    uint8_t *data = malloc(len), *mem = malloc(len);
    uint64_t rng = 5;
    for (size_t i = 0; i < len; i++) {
        data[i] = (uint8_t)t_rand(&rng);
    }
    CHECK_OK(espsec_write_file(in_path, data, len, 0644, NULL));
    uint8_t key[64];
    for (int i = 0; i < 64; i++) {
        key[i] = (uint8_t)(i * 7 + 1);
    }
    for (int mode = 0; mode < 2; mode++) {
        espsec_flash_enc_params_t p = {mode ? ESPSEC_FE_XTS : ESPSEC_FE_ESP32, 0xF};
        size_t klen = mode ? 64 : 32;
        uint32_t addr = 0x1230;
        CHECK_OK(espsec_flash_enc_file(in_path, out_path, &p, key, klen, addr, 0, NULL));
        espsec_fe_ctx_t *c = NULL;
        CHECK_OK(espsec_fe_new(&p, key, klen, &c, NULL));
        CHECK_OK(espsec_fe_crypt(c, addr, data, mem, len, 0, NULL));
        espsec_fe_free(c);
        uint8_t *file = NULL;
        size_t flen = 0;
        CHECK_OK(espsec_read_file(out_path, &file, &flen, 0, NULL));
        CHECK(flen == len && memcmp(file, mem, len) == 0);
        free(file);
    }
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
    free(data);
    free(mem);
}

int main(void)
{
    RUN(test_xts_matches_openssl);
    RUN(test_esp32_roundtrip_and_split);
    RUN(test_vectors_in_memory);
    RUN(test_errors);
    RUN(test_file_streaming);
    return test_done();
}
