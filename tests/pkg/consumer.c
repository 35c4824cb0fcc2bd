/*
 * A program outside the espsec tree, built against an installed espsec (with
 * pkg-config or find_package): makes a sample ESP32 app image, checks it,
 * signs it for Secure Boot V2 with a new ECDSA P-256 key, verifies the
 * signature, and shows a tampered copy refused. Prints one line per step;
 * exit 0 only when every step behaved.
 */
#include <espsec/error.h>
#include <espsec/image.h>
#include <espsec/sample.h>
#include <espsec/secure_boot.h>
#include <espsec/util.h>
#include <espsec/version.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *step, const espsec_error_t *err)
{
    fprintf(stderr, "consumer: %s failed: %s\n", step, err->msg[0] ? err->msg : espsec_strerror(err->code));
    return 1;
}

int main(void)
{
    espsec_error_t err = {0};
    if (strcmp(espsec_version(), ESPSEC_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: library %s, headers %s\n", espsec_version(), ESPSEC_VERSION_STRING);
        return 1;
    }
    printf("espsec %s on %s\n", espsec_version(), espsec_openssl_version());

    espsec_sample_app_t app = {.chip = ESPSEC_CHIP_ESP32, .project_name = "consumer", .version = "1.0",
                               .secure_version = 0, .code_size = 4096, .seed = 1};
    uint8_t *image = NULL;
    size_t image_len = 0;
    if (espsec_sample_app(&app, &image, &image_len, &err) != ESPSEC_OK) {
        return fail("sample app", &err);
    }
    espsec_image_t parsed;
    if (espsec_image_parse(image, image_len, &parsed, &err) != ESPSEC_OK ||
        espsec_image_check(&parsed, &err) != ESPSEC_OK) {
        return fail("image check", &err);
    }
    printf("image: %zu bytes, %u segments, checksum and hash valid\n", image_len, (unsigned)parsed.segment_count);

    char *pem = NULL;
    size_t pem_len = 0;
    espsec_sb_key_t *key = NULL;
    if (espsec_sb_generate_key(ESPSEC_SB_ECDSA256, &pem, &pem_len, &err) != ESPSEC_OK ||
        espsec_sb_key_load_pem((const uint8_t *)pem, pem_len, &key, &err) != ESPSEC_OK) {
        return fail("key", &err);
    }
    espsec_free_secret(pem, pem_len);

    espsec_sbv2_signer_t signer = {.key = key};
    espsec_sbv2_sign_opts_t opts = {0};
    uint8_t *signed_image = NULL;
    size_t signed_len = 0;
    int blocks = 0;
    if (espsec_sbv2_sign(image, image_len, &signer, 1, &opts, &signed_image, &signed_len, &blocks, &err) !=
        ESPSEC_OK) {
        return fail("sign", &err);
    }
    int block = -1;
    if (espsec_sbv2_verify(signed_image, signed_len, key, 0, &block, &err) != ESPSEC_OK) {
        return fail("verify", &err);
    }
    printf("signed: %zu bytes, %d signature block(s), block %d verifies\n", signed_len, blocks, block);

    signed_image[100] ^= 0x01;
    espsec_error_t err2 = {0};
    if (espsec_sbv2_verify(signed_image, signed_len, key, 0, &block, &err2) == ESPSEC_OK) {
        fprintf(stderr, "consumer: a tampered image verified\n");
        return 1;
    }
    printf("tampered copy refused: %s\n", err2.msg[0] ? err2.msg : espsec_strerror(err2.code));

    espsec_sb_key_free(key);
    free(signed_image);
    free(image);
    printf("consumer: OK\n");
    return 0;
}
