/*
 * espsec ota: over-the-air updates. encrypt/decrypt/generate-key/info are
 * esp_encrypted_img's pre-encrypted images (the esp_enc_img_gen.py tool);
 * the virtual device's OTA commands join this group.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espsec/enc_img.h"
#include "espsec/io.h"
#include "espsec/util.h"

#define MAX_IMAGE (1024u << 20) /* far above any OTA partition (16 MiB at most) */

/* --key/-k and -o with one IN, or esp_enc_img_gen.py's "IN KEY OUT". */
static int io_args(cli_args_t *a, const char **in, const char **key, const char **out)
{
    *key = cli_str(a, "key");
    *out = cli_str(a, "output");
    *in = cli_pos(a, 0);
    if (a->npos == 3) {
        if (*key != NULL || *out != NULL) {
            return cli_error("give either IN KEY OUT (esp_enc_img_gen.py's order) or --key/--output with IN");
        }
        *key = cli_pos(a, 1);
        *out = cli_pos(a, 2);
    } else if (a->npos != 1) {
        return cli_error("expected IN with --key and --output, or IN KEY OUT");
    }
    if (*out == NULL) {
        return cli_error("no output file: give --output OUT (or IN KEY OUT)");
    }
    return 0;
}

static int load_key(const char *path, espsec_enc_img_key_t **key)
{
    uint8_t *pem = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(path, &pem, &len, 1u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_err_t rc = espsec_enc_img_key_load_pem(pem, len, key, &err);
    espsec_free_secret(pem, len);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    return 0;
}

static int load_hmac_key(const char *path, espsec_enc_img_key_t **key)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(path, &raw, &len, 4096, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_err_t rc = ESPSEC_ERR_KEY;
    if (len != ESPSEC_ENC_IMG_HMAC_KEY_LEN) {
        espsec_fail(&err, rc, "%zu bytes: an HMAC key file holds %d raw bytes", len, ESPSEC_ENC_IMG_HMAC_KEY_LEN);
    } else {
        rc = espsec_enc_img_key_from_hmac(raw, key, &err);
    }
    espsec_free_secret(raw, len);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", path);
        return cli_fail(&err);
    }
    return 0;
}

static int cmd_encrypt(cli_args_t *a)
{
    const char *in_p, *key_p, *out_p;
    int rc = io_args(a, &in_p, &key_p, &out_p);
    if (rc != 0) {
        return rc;
    }
    if (key_p == NULL) {
        return cli_error("no key: give --key PUB.pem (the device's RSA-3072 or P-256 public key)");
    }
    espsec_enc_img_key_t *key = NULL;
    if ((rc = load_key(key_p, &key)) != 0) {
        return rc;
    }
    uint8_t *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    espsec_error_t err;
    if (espsec_read_file(in_p, &in, &in_len, MAX_IMAGE, &err) != ESPSEC_OK) {
        espsec_enc_img_key_free(key);
        return cli_fail(&err);
    }
    out = malloc(in_len + ESPSEC_ENC_IMG_HEADER_LEN);
    espsec_err_t e = out == NULL ? espsec_fail(&err, ESPSEC_ERR_NO_MEM, "out of memory")
                                 : espsec_enc_img_encrypt(key, in, in_len, out, in_len + ESPSEC_ENC_IMG_HEADER_LEN,
                                                          &out_len, &err);
    if (e != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in_p);
    } else {
        e = espsec_write_file(out_p, out, out_len, ESPSEC_MODE_PUBLIC, &err);
    }
    if (e == ESPSEC_OK) {
        printf("Encrypted %s (%zu bytes, %s) to %s\n", in_p, in_len,
               espsec_enc_img_scheme_name(espsec_enc_img_key_scheme(key)), out_p);
    }
    espsec_free_secret(in, in_len);
    free(out);
    espsec_enc_img_key_free(key);
    return e == ESPSEC_OK ? 0 : cli_fail(&err);
}

static int cmd_decrypt(cli_args_t *a)
{
    const char *in_p, *key_p, *out_p;
    int rc = io_args(a, &in_p, &key_p, &out_p);
    if (rc != 0) {
        return rc;
    }
    const char *hmac_p = cli_str(a, "hmac-key");
    if ((key_p == NULL) == (hmac_p == NULL)) {
        return cli_error("give one of --key PRIV.pem (RSA-3072 or P-256 private key) or --hmac-key HMAC.bin "
                         "(the device's eFuse HMAC key, ECIES)");
    }
    espsec_enc_img_key_t *key = NULL;
    if ((rc = key_p ? load_key(key_p, &key) : load_hmac_key(hmac_p, &key)) != 0) {
        return rc;
    }
    uint8_t *in = NULL, *out = NULL;
    size_t in_len = 0, out_len = 0;
    espsec_error_t err;
    if (espsec_read_file(in_p, &in, &in_len, MAX_IMAGE, &err) != ESPSEC_OK) {
        espsec_enc_img_key_free(key);
        return cli_fail(&err);
    }
    size_t cap = in_len > ESPSEC_ENC_IMG_HEADER_LEN ? in_len - ESPSEC_ENC_IMG_HEADER_LEN : 1;
    out = malloc(cap);
    espsec_err_t e = out == NULL ? espsec_fail(&err, ESPSEC_ERR_NO_MEM, "out of memory")
                                 : espsec_enc_img_decrypt(key, in, in_len, out, cap, &out_len, &err);
    if (e != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in_p);
    } else {
        /* the plaintext firmware may hold secrets: written 0600 */
        e = espsec_write_file(out_p, out, out_len, ESPSEC_MODE_SECRET, &err);
    }
    if (e == ESPSEC_OK) {
        printf("Decrypted %s (%s): %zu bytes to %s\n", in_p,
               espsec_enc_img_scheme_name(espsec_enc_img_key_scheme(key)), out_len, out_p);
    }
    free(in);
    if (out != NULL) {
        espsec_free_secret(out, cap);
    }
    espsec_enc_img_key_free(key);
    return e == ESPSEC_OK ? 0 : cli_fail(&err);
}

static int cmd_info(cli_args_t *a)
{
    const char *in_p = cli_pos(a, 0);
    uint8_t *in = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(in_p, &in, &len, MAX_IMAGE, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_enc_img_info_t info;
    espsec_err_t e = espsec_enc_img_parse(in, len, &info, &err);
    free(in);
    if (e != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in_p);
        return cli_fail(&err);
    }
    char iv[33], tag[33];
    espsec_hex(info.iv, sizeof info.iv, iv, 0);
    espsec_hex(info.tag, sizeof info.tag, tag, 0);
    printf("Encrypted image (esp_encrypted_img): %s\n  magic 0x%08x, header %d bytes\n  plaintext size %u bytes\n"
           "  IV %s\n  GCM tag %s\n  reserved bytes %s\n  (RSA-3072 or ECIES-P256: told by the key that opens it)\n",
           in_p, ESPSEC_ENC_IMG_MAGIC, ESPSEC_ENC_IMG_HEADER_LEN, info.plain_len, iv, tag,
           info.reserved_zero ? "zero" : "NOT zero");
    return 0;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL) {
        snprintf(p, n, "%s/%s", dir, name);
    }
    return p;
}

static int write_pub(espsec_enc_img_key_t *key, const char *path, espsec_error_t *err)
{
    char *pub = NULL;
    size_t pl = 0;
    espsec_err_t e = espsec_enc_img_key_public_pem(key, &pub, &pl, err);
    if (e == ESPSEC_OK) {
        e = espsec_write_new_file(path, pub, pl, ESPSEC_MODE_PUBLIC, 1, err);
    }
    free(pub);
    return e;
}

static int cmd_generate_key(cli_args_t *a)
{
    const char *scheme = cli_str(a, "scheme");
    const char *dir = cli_str(a, "dir") ? cli_str(a, "dir") : ".";
    int rsa;
    if (scheme == NULL || strcmp(scheme, "ecies-p256") == 0 || strcmp(scheme, "ecc") == 0) {
        rsa = 0;
    } else if (strcmp(scheme, "rsa3072") == 0 || strcmp(scheme, "rsa") == 0) {
        rsa = 1;
    } else {
        return cli_error("--scheme %s: rsa3072 or ecies-p256 expected", scheme);
    }
    espsec_error_t err;
    espsec_err_t e;
    espsec_enc_img_key_t *key = NULL;
    char *priv_p = join(dir, rsa ? "rsa_priv_key.pem" : "device_hmac_key.bin");
    char *pub_p = join(dir, rsa ? "rsa_pub_key.pem" : "device_pub_key.pem");
    if (priv_p == NULL || pub_p == NULL) {
        e = espsec_fail(&err, ESPSEC_ERR_NO_MEM, "out of memory");
    } else if (espsec_path_exists(priv_p) || espsec_path_exists(pub_p)) {
        e = espsec_fail(&err, ESPSEC_ERR_EXISTS, "%s: exists; keys are never overwritten",
                        espsec_path_exists(priv_p) ? priv_p : pub_p);
    } else if (rsa) {
        char *pem = NULL;
        size_t len = 0;
        e = espsec_enc_img_generate_rsa(&pem, &len, &err);
        if (e == ESPSEC_OK) {
            e = espsec_enc_img_key_load_pem((const uint8_t *)pem, len, &key, &err);
        }
        if (e == ESPSEC_OK) {
            e = espsec_write_secret_file(priv_p, pem, len, 0, &err);
        }
        if (pem != NULL) {
            espsec_free_secret(pem, len);
        }
    } else {
        uint8_t hk[ESPSEC_ENC_IMG_HMAC_KEY_LEN];
        e = espsec_enc_img_generate_hmac(hk, &err);
        if (e == ESPSEC_OK) {
            e = espsec_enc_img_key_from_hmac(hk, &key, &err);
        }
        if (e == ESPSEC_OK) {
            e = espsec_write_secret_file(priv_p, hk, sizeof hk, 0, &err);
        }
        espsec_wipe(hk, sizeof hk);
    }
    if (e == ESPSEC_OK) {
        e = write_pub(key, pub_p, &err);
    }
    if (e == ESPSEC_OK) {
        printf(rsa ? "RSA-3072 key pair: %s (private, mode 0600), %s (public: encrypt with it)\n"
                   : "ECIES-P256 device key: %s (HMAC key for eFuse, purpose HMAC_UP, mode 0600), %s (its "
                     "derived public key: encrypt with it)\n",
               priv_p, pub_p);
    }
    espsec_enc_img_key_free(key);
    free(priv_p);
    free(pub_p);
    return e == ESPSEC_OK ? 0 : cli_fail(&err);
}

static int cmd_public_key(cli_args_t *a)
{
    const char *hmac_p = cli_str(a, "hmac-key"), *key_p = cli_str(a, "key"), *out_p = cli_str(a, "output");
    if ((key_p == NULL) == (hmac_p == NULL) || out_p == NULL) {
        return cli_error("give --hmac-key HMAC.bin (or --key PRIV.pem) and --output PUB.pem");
    }
    espsec_enc_img_key_t *key = NULL;
    int rc = hmac_p ? load_hmac_key(hmac_p, &key) : load_key(key_p, &key);
    if (rc != 0) {
        return rc;
    }
    espsec_error_t err;
    espsec_err_t e = write_pub(key, out_p, &err);
    espsec_enc_img_key_free(key);
    if (e != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("Public key written to %s\n", out_p);
    return 0;
}

static const cli_opt_t OPT_ENC[] = {
    {"key", 'k', CLI_VALUE, "KEY.pem", "The device's public key (RSA-3072, or the P-256 key derived from its HMAC key); "
                                      "a private key is accepted too."},
    {"output", 'o', CLI_VALUE, "OUT", "Encrypted image to write."},
    {0}};
static const cli_opt_t OPT_DEC[] = {
    {"key", 'k', CLI_VALUE, "PRIV.pem", "Private key: RSA-3072, or EC P-256 (ECIES)."},
    {"hmac-key", 0, CLI_VALUE, "HMAC.bin", "ECIES: the device's 32-byte eFuse HMAC key; the private key is derived "
                                          "from it as the device does."},
    {"output", 'o', CLI_VALUE, "OUT", "Plaintext image to write (mode 0600)."},
    {0}};
static const cli_pos_t POS_IO[] = {{"IN", "Input image (or IN KEY OUT, esp_enc_img_gen.py's order).", 0, 1}, {0}};
static const cli_opt_t OPT_KEYGEN[] = {
    {"scheme", 0, CLI_VALUE, "S", "rsa3072 (rsa_priv_key.pem + rsa_pub_key.pem) or ecies-p256 (default: "
                                  "device_hmac_key.bin + device_pub_key.pem)."},
    {"dir", 0, CLI_VALUE, "DIR", "Folder for the key files (default: here). Existing files are never replaced."},
    {0}};
static const cli_opt_t OPT_PUB[] = {
    {"hmac-key", 0, CLI_VALUE, "HMAC.bin", "The device's 32-byte eFuse HMAC key (ECIES): its derived public key."},
    {"key", 'k', CLI_VALUE, "PRIV.pem", "Or a private key: its public half."},
    {"output", 'o', CLI_VALUE, "PUB.pem", "Public key to write (never replaces a file)."},
    {0}};
static const cli_pos_t POS_INFO[] = {{"IN", "Encrypted image.", 0, 0}, {0}};

static const cli_cmd_t OTA_CMDS[] = {
    {"encrypt", NULL, "Pre-encrypt an OTA image for esp_encrypted_img (esp_enc_img_gen.py encrypt).",
     "AES-256-GCM under a fresh key, wrapped to the device key: RSA-3072 (PKCS#1 v1.5) or ECIES-P256 (ephemeral "
     "ECDH + HKDF-SHA256). The scheme follows the key.",
     OPT_ENC, POS_IO, cmd_encrypt},
    {"decrypt", NULL, "Decrypt a pre-encrypted OTA image as the device does (esp_enc_img_gen.py decrypt).",
     "Refuses a wrong key or any modified byte (the GCM tag), naming the file.", OPT_DEC, POS_IO, cmd_decrypt},
    {"generate-key", NULL, "Keys for pre-encrypted OTA (esp_enc_img_gen.py --generate_rsa_key / --generate_ecc_key).",
     NULL, OPT_KEYGEN, NULL, cmd_generate_key},
    {"public-key", NULL, "The public key to encrypt for a device, from its HMAC key (ECIES) or a private key.", NULL,
     OPT_PUB, NULL, cmd_public_key},
    {"info", NULL, "Show the header of a pre-encrypted OTA image.", NULL, NULL, POS_INFO, cmd_info},
    /* on the virtual device (cli_ota_device.c) */
    {"write", NULL, "Update the device over the air: esp_ota_begin/write/end, esp_ota_set_boot_partition.",
     "Powers the device on, then does what the running app's esp_ota_ops calls do: writes APP to the next OTA slot "
     "(through flash encryption when it is on), verifies it as esp_ota_end does (image, chip, Secure Boot signature "
     "against the eFuse digests or the running app's keys), checks anti-rollback, and points otadata at it (state "
     "ESP_OTA_IMG_NEW with app rollback). Every espsec command is a power-on: with app rollback, a boot of an "
     "update that is not confirmed in that run rolls it back at the next one. The files are changed as the device "
     "changes them, also on a refusal (the slot stays erased, otadata unchanged). Exit status: 0 accepted, 1 refused (one line naming the call and "
     "ESP-IDF's error), 2 bad input or the device does not boot.",
     CLI_OTA_WRITE_OPTS, CLI_OTA_WRITE_POS, cli_ota_write},
    {"confirm", "mark-valid", "The running app confirms itself: esp_ota_mark_app_valid_cancel_rollback.",
     "Powers the device on (after an update: the new app's first run, its trial), then marks the running app's "
     "otadata entry ESP_OTA_IMG_VALID; with anti-rollback the eFuse SECURE_VERSION is raised to the app's secure_version. Without it an update under "
     "BOOTLOADER_APP_ROLLBACK_ENABLE is rolled back at the next boot.",
     CLI_OTA_DEVICE_OPTS, NULL, cli_ota_confirm},
    {"rollback", "mark-invalid", "The running app rejects itself: esp_ota_mark_app_invalid_rollback.",
     "Powers the device on, then marks the running app's otadata entry ESP_OTA_IMG_INVALID when another app can "
     "boot (esp_ota_check_rollback_is_possible); the next boot runs the previous app.",
     CLI_OTA_DEVICE_OPTS, NULL, cli_ota_rollback},
    {0}};

const cli_group_t CLI_OTA = {"ota", "Over-the-air updates: pre-encrypted images; updates and rollback on the virtual "
                             "device.", NULL, NULL, OTA_CMDS};
