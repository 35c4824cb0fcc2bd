/* The narrated demo (espsec/demo.h). */
#include "espsec/demo.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/flash_enc.h"
#include "espsec/image.h"
#include "espsec/io.h"
#include "espsec/sample.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"

typedef struct {
    const espsec_demo_opts_t *o;
    int step;
    char path[4096];
} demo_t;

static void say(demo_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(demo_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->o->report, fmt, ap);
    va_end(ap);
}

static void step(demo_t *d, const char *title)
{
    say(d, "\n[%d] %s\n", ++d->step, title);
}

static const char *file(demo_t *d, const char *name)
{
    snprintf(d->path, sizeof(d->path), "%s/%s", d->o->dir, name);
    return d->path;
}

static espsec_err_t save(demo_t *d, const char *name, const void *data, size_t len, int secret, espsec_error_t *err)
{
    espsec_err_t rc = secret ? espsec_write_secret_file(file(d, name), data, len, 1, err)
                             : espsec_write_file(file(d, name), data, len, ESPSEC_MODE_PUBLIC, err);
    if (rc == ESPSEC_OK) {
        say(d, "    wrote %s (%zu bytes%s)\n", name, len, secret ? ", mode 0600" : "");
    }
    return rc;
}

espsec_err_t espsec_demo_run(const espsec_demo_opts_t *o, espsec_error_t *err)
{
    demo_t d = {.o = o};
    espsec_err_t rc;
    char *pem = NULL;
    size_t pem_len = 0;
    espsec_sb_key_t *key = NULL;
    uint8_t *boot = NULL, *app = NULL, *boot_signed = NULL, *app_signed = NULL, *enc = NULL;
    size_t boot_len = 0, app_len = 0, bs_len = 0, as_len = 0;
    espsec_fe_ctx_t *fe = NULL;
    uint8_t fe_key[32];

    say(&d, "espsec demo: rehearsing a secured ESP32 in %s\n", o->dir);

    step(&d, "Secure Boot V2 signing key (RSA-3072)");
    rc = espsec_sb_generate_key(ESPSEC_SB_RSA3072, &pem, &pem_len, err);
    if (rc == ESPSEC_OK) {
        rc = save(&d, "secure_boot_signing_key.pem", pem, pem_len, 1, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_sb_key_load_pem((const uint8_t *)pem, pem_len, &key, err);
    }
    uint8_t digest[32];
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_key_digest(key, digest, err);
    }
    if (rc == ESPSEC_OK) {
        char hex[65];
        espsec_hex(digest, 32, hex, 0);
        say(&d, "    public key digest (what BLK2 will hold): %s\n", hex);
        rc = save(&d, "secure_boot_key_digest.bin", digest, 32, 0, err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Sample bootloader and application images");
    espsec_sample_app_t sa = {ESPSEC_CHIP_ESP32, "espsec_demo", "1.0.0", 1, 0x8000, 1};
    rc = espsec_sample_bootloader(ESPSEC_CHIP_ESP32, 1, &boot, &boot_len, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_sample_app(&sa, &app, &app_len, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "bootloader.bin", boot, boot_len, 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "app.bin", app, app_len, 0, err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Sign the bootloader and the app (Secure Boot V2)");
    espsec_sbv2_signer_t signer = {.key = key};
    espsec_sbv2_sign_opts_t so = {0};
    rc = espsec_sbv2_sign(boot, boot_len, &signer, 1, &so, &boot_signed, &bs_len, NULL, err);
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_sign(app, app_len, &signer, 1, &so, &app_signed, &as_len, NULL, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "bootloader-signed.bin", boot_signed, bs_len, 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "app-signed.bin", app_signed, as_len, 0, err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }

    step(&d, "Verify both signatures");
    int block = -1;
    rc = espsec_sbv2_verify(boot_signed, bs_len, key, 0, &block, err);
    if (rc == ESPSEC_OK) {
        say(&d, "    bootloader-signed.bin: signature block %d valid\n", block);
        rc = espsec_sbv2_verify(app_signed, as_len, key, 0, &block, err);
    }
    if (rc != ESPSEC_OK) {
        goto done;
    }
    say(&d, "    app-signed.bin: signature block %d valid\n", block);

    step(&d, "A tampered copy of the app is refused");
    app_signed[0x2000] ^= 0x01;
    rc = save(&d, "app-signed-tampered.bin", app_signed, as_len, 0, err);
    if (rc != ESPSEC_OK) {
        goto done;
    }
    espsec_error_t why;
    if (espsec_sbv2_verify(app_signed, as_len, key, 0, NULL, &why) == ESPSEC_OK) {
        rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "the tampered app verified: this must never happen");
        goto done;
    }
    say(&d, "    refused as expected: %s\n", why.msg);
    app_signed[0x2000] ^= 0x01;

    step(&d, "Flash encryption of the signed app at 0x10000 (ESP32 AES-256, FLASH_CRYPT_CONFIG 0xF)");
    rc = espsec_random(fe_key, sizeof(fe_key));
    if (rc == ESPSEC_OK) {
        rc = save(&d, "flash_encryption_key.bin", fe_key, sizeof(fe_key), 1, err);
    }
    espsec_flash_enc_params_t fp = {ESPSEC_FE_ESP32, 0xF};
    if (rc == ESPSEC_OK) {
        rc = espsec_fe_new(&fp, fe_key, sizeof(fe_key), &fe, err);
    }
    enc = rc == ESPSEC_OK ? malloc(as_len) : NULL;
    if (rc == ESPSEC_OK && enc == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_fe_crypt(fe, 0x10000, app_signed, enc, as_len, 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = save(&d, "app-signed-encrypted.bin", enc, as_len, 0, err);
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_fe_crypt(fe, 0x10000, enc, enc, as_len, 1, err);
    }
    if (rc == ESPSEC_OK && memcmp(enc, app_signed, as_len) != 0) {
        rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "decrypting the encrypted app did not give it back");
    }
    if (rc == ESPSEC_OK) {
        say(&d, "    decrypting at 0x10000 gives the signed app back, byte for byte\n");
    }

done:
    if (rc == ESPSEC_OK) {
        say(&d, "\nAll steps behaved as they must. Files are in %s\n", o->dir);
    }
    espsec_wipe(fe_key, sizeof(fe_key));
    espsec_fe_free(fe);
    espsec_free_secret(pem, pem_len);
    espsec_sb_key_free(key);
    free(boot);
    free(app);
    free(boot_signed);
    free(app_signed);
    free(enc);
    return rc;
}
