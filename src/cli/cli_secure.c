/* espsec secure: the espsecure commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "espsec/flash_enc.h"
#include "espsec/hsm.h"
#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"

#define SECURE_MAX_INPUT (64u * 1024 * 1024) /* images and keys: far above any flash */

/* Read a file or report; returns 0 on success. */
static int read_in(const char *path, uint8_t **buf, size_t *len)
{
    espsec_error_t err;
    if (espsec_read_file(path, buf, len, SECURE_MAX_INPUT, &err) != ESPSEC_OK) {
        cli_fail(&err);
        return -1;
    }
    return 0;
}

static int load_sb_key(const cli_args_t *a, const char *path, espsec_sb_key_t **key)
{
    return cli_load_sb_key(a, path, key);
}

static int write_out(const char *path, const void *data, size_t len, unsigned mode)
{
    espsec_error_t err;
    if (espsec_write_file(path, data, len, mode, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    return 0;
}

static int check_not_same(const char *in, const char *out)
{
    if (in != NULL && out != NULL && (strcmp(in, out) == 0 || espsec_same_file(in, out))) {
        return cli_error("The input \"%s\" and output \"%s\" should not be the same!", in, out);
    }
    return 0;
}

static int get_version(cli_args_t *a, const char *def)
{
    const char *v = cli_str(a, "version");
    if (v == NULL) {
        v = def;
    }
    if (v == NULL) {
        cli_error("%s: --version 1 or 2 is required", a->prog);
        return -1;
    }
    if (strcmp(v, "1") != 0 && strcmp(v, "2") != 0) {
        cli_error("--version '%s': 1 or 2 expected", v);
        return -1;
    }
    return v[0] - '0';
}

/* ---- generate-signing-key ---- */

static int cmd_generate_signing_key(cli_args_t *a)
{
    int version = get_version(a, "1");
    if (version < 0) {
        return 2;
    }
    const char *path = cli_pos(a, 0);
    const char *scheme_name = cli_str(a, "scheme");
    espsec_sb_scheme_t scheme = version == 1 ? ESPSEC_SB_ECDSA256 : ESPSEC_SB_RSA3072;
    if (scheme_name != NULL && espsec_sb_scheme_from_name(scheme_name, &scheme) != 0) {
        return cli_error("--scheme '%s': rsa3072, ecdsa192, ecdsa256 or ecdsa384 expected", scheme_name);
    }
    if (version == 1 && scheme != ESPSEC_SB_ECDSA256) {
        return cli_error("Secure Boot V1 only supports ECDSA256");
    }
    if (espsec_path_exists(path)) {
        return cli_error("key file %s already exists", path);
    }
    char *pem = NULL, pwbuf[256];
    size_t len = 0;
    espsec_error_t err;
    const char *pw = NULL;
    if (cli_flag(a, "encrypt")) {
        int bad = 0;
        pw = cli_key_password(a, &bad);
        if (bad) {
            return 2;
        }
        if (pw == NULL) {
            if (!isatty(0)) {
                return cli_error("--encrypt needs a password: --keyfile-password-env VAR, or run on a terminal");
            }
            if (EVP_read_pw_string(pwbuf, sizeof pwbuf, "Password for the new key: ", 1) != 0) {
                return cli_error("no password read");
            }
            pw = pwbuf;
        }
    }
    espsec_err_t rc = espsec_sb_generate_key(scheme, &pem, &len, &err);
    if (rc == ESPSEC_OK && pw != NULL) {
        char *enc = NULL;
        size_t el = 0;
        rc = espsec_pem_encrypt_key(pem, len, pw, &enc, &el, &err);
        espsec_free_secret(pem, len);
        pem = enc;
        len = el;
    }
    OPENSSL_cleanse(pwbuf, sizeof pwbuf);
    if (rc != ESPSEC_OK || espsec_write_secret_file(path, pem, len, 0, &err) != ESPSEC_OK) {
        if (pem != NULL) {
            espsec_free_secret(pem, len);
        }
        return cli_fail(&err);
    }
    espsec_free_secret(pem, len);
    if (pw != NULL) {
        printf("The key is encrypted (PKCS#8, AES-256-CBC); commands that read it take --keyfile-password-env.\n");
    }
    if (scheme == ESPSEC_SB_RSA3072) {
        printf("RSA 3072 private key in PEM format written to \"%s\".\n", path);
    } else {
        printf("ECDSA NIST%sp private key in PEM format written to \"%s\".\n", espsec_sb_scheme_name(scheme) + 5,
               path);
    }
    return 0;
}

/* ---- sign-data ---- */

static int sign_v1(cli_args_t *a, const uint8_t *data, size_t len, const char *out)
{
    const char **keys = NULL, **pubs = NULL, **sigs = NULL;
    size_t nkeys = cli_list(a, "keyfile", &keys), npubs = cli_list(a, "pub-key", &pubs),
           nsigs = cli_list(a, "signature", &sigs);
    espsec_sb_key_t *key = NULL;
    uint8_t *signed_buf = NULL, *sig = NULL;
    size_t signed_len = 0, sig_len = 0;
    espsec_error_t err;
    espsec_err_t rc;
    if (cli_flag(a, "hsm")) {
        return cli_error("Secure Boot V1 does not support signing with an external HSM");
    }
    if (nsigs > 0) {
        if (npubs != 1 || nsigs != 1) {
            return cli_error("Secure Boot V1 takes exactly one --pub-key with one --signature");
        }
        uint8_t *kb = NULL;
        size_t kl = 0;
        if (read_in(pubs[0], &kb, &kl) != 0) {
            return 2;
        }
        rc = espsec_sbv1_key_load(kb, kl, &key, &err);
        free(kb);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", pubs[0]);
            return cli_fail(&err);
        }
        if (read_in(sigs[0], &sig, &sig_len) != 0) {
            espsec_sb_key_free(key);
            return 2;
        }
        if (sig_len != 64) {
            free(sig);
            espsec_sb_key_free(key);
            return cli_error("%s: signature is %zu bytes; 64 raw bytes r||s expected", sigs[0], sig_len);
        }
        printf("Pre-calculated signatures found...\n");
        rc = espsec_sbv1_sign_detached(data, len, key, sig, &signed_buf, &signed_len, &err);
        free(sig);
    } else {
        if (nkeys != 1) {
            return cli_error(nkeys == 0 ? "--keyfile is required" : "Secure Boot V1 only supports one signing key");
        }
        if (load_sb_key(a, keys[0], &key) != 0) {
            return 2;
        }
        rc = espsec_sbv1_sign(data, len, key, &signed_buf, &signed_len, &err);
    }
    espsec_sb_key_free(key);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    int st = write_out(out, signed_buf, signed_len, ESPSEC_MODE_PUBLIC);
    free(signed_buf);
    if (st == 0) {
        printf("Signed %zu bytes of data from \"%s\".\n", len, cli_pos(a, 0));
    }
    return st;
}

/* --hsm --hsm-config FILE: the token's key pair (espsecure's config format). */
static int open_hsm(cli_args_t *a, espsec_hsm_t **h, espsec_sb_key_t **pub)
{
    const char *path = cli_str(a, "hsm-config");
    if (path == NULL) {
        return cli_error("--hsm needs --hsm-config FILE (an [hsm_config] section: pkcs11_lib, slot, label)");
    }
    uint8_t *text = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(path, &text, &len, 1u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_hsm_config_t cfg;
    espsec_err_t rc = espsec_hsm_config_parse((const char *)text, len, path, &cfg, &err);
    espsec_free_secret(text, len);
    if (rc == ESPSEC_OK) {
        rc = espsec_hsm_open(&cfg, h, &err);
    }
    espsec_wipe(&cfg, sizeof(cfg));
    if (rc == ESPSEC_OK) {
        rc = espsec_hsm_public_key(*h, pub, &err);
        if (rc != ESPSEC_OK) {
            espsec_hsm_close(*h);
            *h = NULL;
        }
    }
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    return 0;
}

static int sign_v2(cli_args_t *a, const uint8_t *data, size_t len, const char *out)
{
    const char **keys = NULL, **pubs = NULL, **sigs = NULL;
    size_t nkeys = cli_list(a, "keyfile", &keys), npubs = cli_list(a, "pub-key", &pubs),
           nsigs = cli_list(a, "signature", &sigs);
    espsec_sb_key_t *kobj[ESPSEC_SBV2_MAX_BLOCKS] = {0};
    uint8_t *sigbuf[ESPSEC_SBV2_MAX_BLOCKS] = {0};
    espsec_sbv2_signer_t signers[ESPSEC_SBV2_MAX_BLOCKS];
    size_t n = 0;
    int st = 2;
    memset(signers, 0, sizeof(signers));
    espsec_error_t err;

    espsec_hsm_t *hsm = NULL;
    if (cli_flag(a, "hsm")) {
        if (nkeys > 0 || nsigs > 0) {
            return cli_error("--hsm signs with the token's key: no --keyfile or --signature");
        }
        if (open_hsm(a, &hsm, &kobj[0]) != 0) {
            return 2;
        }
        printf("Signing with the %s key in the HSM.\n", espsec_sb_scheme_name(espsec_sb_key_scheme(kobj[0])));
        signers[0].key = kobj[0];
        signers[0].sign_fn = espsec_hsm_sign_digest;
        signers[0].sign_ctx = hsm;
        n = 1;
    } else if (nsigs > 0 || npubs > 0) {
        if (nsigs != npubs) {
            return cli_error("number of public keys (%zu) not equal to the number of signatures (%zu)", npubs, nsigs);
        }
        if (nsigs > ESPSEC_SBV2_MAX_BLOCKS) {
            return cli_error("%zu signatures given; a signature sector holds at most 3 blocks", nsigs);
        }
        printf("Pre-calculated signatures found...\n");
        for (n = 0; n < nsigs; n++) {
            size_t sl = 0;
            if (load_sb_key(a, pubs[n], &kobj[n]) != 0 || read_in(sigs[n], &sigbuf[n], &sl) != 0) {
                goto done;
            }
            signers[n].key = kobj[n];
            signers[n].signature = sigbuf[n];
            signers[n].signature_len = sl;
        }
    } else {
        if (nkeys == 0) {
            return cli_error("--keyfile is required (or --pub-key with --signature)");
        }
        if (nkeys > ESPSEC_SBV2_MAX_BLOCKS) {
            return cli_error("%zu keys given; a signature sector holds at most 3 blocks", nkeys);
        }
        for (n = 0; n < nkeys; n++) {
            if (load_sb_key(a, keys[n], &kobj[n]) != 0) {
                goto done;
            }
            signers[n].key = kobj[n];
        }
    }
    espsec_sbv2_sign_opts_t opts = {cli_flag(a, "append-signatures"), cli_flag(a, "skip-padding")};
    uint8_t *signed_buf = NULL;
    size_t signed_len = 0;
    int blocks = 0;
    if (len % ESPSEC_SBV2_SECTOR_SIZE != 0 && nsigs == 0) {
        if (opts.skip_padding) {
            printf("Skipping sector padding. Data contents are not sector aligned.\n");
        } else {
            printf("Padding data contents by %zu bytes so signature sector aligns at sector boundary.\n",
                   ESPSEC_SBV2_SECTOR_SIZE - len % ESPSEC_SBV2_SECTOR_SIZE);
        }
    }
    printf("%zu signing key(s) found.\n", n);
    if (espsec_sbv2_sign(data, len, signers, n, &opts, &signed_buf, &signed_len, &blocks, &err) != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", cli_pos(a, 0));
        st = cli_fail(&err);
        goto done;
    }
    st = write_out(out, signed_buf, signed_len, ESPSEC_MODE_PUBLIC);
    if (st == 0) {
        printf("Signed %zu bytes of data from \"%s\". Signature sector now has %d signature blocks.\n",
               signed_len - ESPSEC_SBV2_SECTOR_SIZE, cli_pos(a, 0), blocks);
    }
    free(signed_buf);
done:
    for (size_t i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
        espsec_sb_key_free(kobj[i]);
        free(sigbuf[i]);
    }
    espsec_hsm_close(hsm);
    return st;
}

/* The digest an external signer (KMS, HSM, CI secret store) must sign: of the image as sign-data pads it. */
static int export_digest(cli_args_t *a, const uint8_t *data, size_t len, const char *out)
{
    espsec_sb_scheme_t scheme = ESPSEC_SB_RSA3072;
    const char **pubs = NULL;
    const char *sname = cli_str(a, "scheme");
    if (cli_list(a, "pub-key", &pubs) > 0) {
        espsec_sb_key_t *k = NULL;
        if (load_sb_key(a, pubs[0], &k) != 0) {
            return 2;
        }
        scheme = espsec_sb_key_scheme(k);
        espsec_sb_key_free(k);
    } else if (sname != NULL && espsec_sb_scheme_from_name(sname, &scheme) != 0) {
        return cli_error("--scheme '%s': rsa3072, ecdsa192, ecdsa256 or ecdsa384 expected", sname);
    }
    size_t padded = len;
    if (!cli_flag(a, "skip-padding") && len % ESPSEC_SBV2_SECTOR_SIZE != 0) {
        padded = len + (ESPSEC_SBV2_SECTOR_SIZE - len % ESPSEC_SBV2_SECTOR_SIZE);
    }
    uint8_t *buf = malloc(padded ? padded : 1), digest[48];
    size_t dl = 0;
    if (buf == NULL) {
        return cli_error("out of memory");
    }
    memcpy(buf, data, len);
    memset(buf + len, 0xFF, padded - len);
    espsec_err_t rc = espsec_sbv2_image_digest(scheme, buf, padded, digest, &dl);
    const char *padded_out = cli_str(a, "output");
    int st = rc != ESPSEC_OK ? cli_error("digest failed") : 0;
    if (st == 0 && padded_out != NULL) {
        /* the padded image, which --pub-key/--signature then takes */
        st = write_out(padded_out, buf, padded, ESPSEC_MODE_PUBLIC);
    }
    free(buf);
    if (st == 0) {
        st = write_out(out, digest, dl, ESPSEC_MODE_PUBLIC);
    }
    if (st == 0) {
        printf("%s digest of the %zu-byte padded image written to %s: sign it with the %s key (RSA-PSS SHA-256 "
               "salt 32, or ECDSA over the digest), then: sign-data --version 2 --pub-key PUB --signature SIG -o OUT "
               "%s\n", dl == 48 ? "SHA-384" : "SHA-256", padded, out, espsec_sb_scheme_name(scheme),
               padded_out ? padded_out : "PADDED_IMAGE");
    }
    return st;
}

static int cmd_sign_data(cli_args_t *a)
{
    int version = get_version(a, NULL);
    if (version < 0) {
        return 2;
    }
    const char *in = cli_pos(a, 0);
    const char *out = cli_str(a, "output");
    const char **keys = NULL;
    size_t nkeys = cli_list(a, "keyfile", &keys);
    for (size_t i = 0; i < nkeys; i++) {
        if (check_not_same(keys[i], out ? out : in) != 0) {
            return 2;
        }
    }
    if (out != NULL && check_not_same(in, out) != 0) {
        return 2;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    const char *digest_out = cli_str(a, "export-digest");
    if (digest_out != NULL && (version != 2 || cli_list(a, "signature", &keys) > 0 || nkeys > 0)) {
        return cli_error("--export-digest is for Secure Boot V2 without --keyfile or --signature (step 1 of external "
                         "signing)");
    }
    if (read_in(in, &data, &len) != 0) {
        return 2;
    }
    int st = digest_out != NULL ? export_digest(a, data, len, digest_out)
             : version == 1     ? sign_v1(a, data, len, out ? out : in)
                                : sign_v2(a, data, len, out ? out : in);
    free(data);
    return st;
}

/* ---- verify-signature ---- */

/* espsecure's per-block lines (scripts grep for them). */
static void print_block_checks(const espsec_sbv2_block_check_t *c, const char *key_type)
{
    for (int i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
        if (c[i].verdict == ESPSEC_SBV2_BLOCK_ABSENT) {
            printf("Signature block %d invalid. Skipping.\n", i);
            continue;
        }
        printf("Signature block %d is valid (%s).\n", i,
               c[i].info.version == ESPSEC_SBV2_VERSION_RSA ? "RSA" : "ECDSA");
        switch (c[i].verdict) {
        case ESPSEC_SBV2_BLOCK_VERIFIED:
            printf("Signature block %d verification successful using the supplied key (%s).\n", i, key_type);
            break;
        case ESPSEC_SBV2_BLOCK_OTHER_KEY:
            printf("Signature block %d is not signed by the supplied key. Checking the next block...\n", i);
            break;
        case ESPSEC_SBV2_BLOCK_DIGEST_MISMATCH:
            printf("Signature block %d image digest does not match the actual image digest.\n", i);
            break;
        case ESPSEC_SBV2_BLOCK_KEY_MISMATCH:
            printf("Signature block %d verifies with the supplied key but carries another public key.\n", i);
            break;
        default:
            break;
        }
    }
}

static int cmd_verify_signature(cli_args_t *a)
{
    int version = get_version(a, NULL);
    if (version < 0) {
        return 2;
    }
    const char *keyfile = cli_str(a, "keyfile");
    espsec_sb_key_t *key = NULL;
    espsec_error_t err;
    if (cli_flag(a, "hsm")) {
        if (version != 2) {
            return cli_error("--hsm verifies Secure Boot V2 signatures only");
        }
        espsec_hsm_t *hsm = NULL;
        if (open_hsm(a, &hsm, &key) != 0) {
            return 2;
        }
        espsec_hsm_close(hsm);
    } else if (keyfile == NULL) {
        return cli_error("--keyfile is required (a private or public key in PEM format)");
    } else {
        uint8_t *kb = NULL;
        size_t kl = 0;
        if (read_in(keyfile, &kb, &kl) != 0) {
            return 2;
        }
        int pw_bad = 0;
        const char *pw = cli_key_password(a, &pw_bad);
        if (pw_bad) {
            espsec_free_secret(kb, kl);
            return 2;
        }
        espsec_err_t rc = version == 1 && !espsec_pem_is_encrypted(kb, kl)
                              ? espsec_sbv1_key_load(kb, kl, &key, &err)
                              : espsec_sb_key_load_pem_pw(kb, kl, pw, pw == NULL && isatty(0), &key, &err);
        espsec_free_secret(kb, kl);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", keyfile);
            return cli_fail(&err);
        }
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_in(cli_pos(a, 0), &data, &len) != 0) {
        espsec_sb_key_free(key);
        return 2;
    }
    espsec_err_t rc;
    int block = -1;
    const char *key_type = espsec_sb_key_scheme(key) == ESPSEC_SB_RSA3072 ? "RSA" : "ECDSA";
    if (version == 1) {
        printf("Verifying %zu bytes of data...\n", len >= ESPSEC_SBV1_SIG_BLOCK_LEN ? len - ESPSEC_SBV1_SIG_BLOCK_LEN : 0);
        rc = espsec_sbv1_verify(data, len, key, &err);
    } else {
        espsec_sbv2_block_check_t checks[ESPSEC_SBV2_MAX_BLOCKS];
        rc = espsec_sbv2_verify_report(data, len, key, cli_flag(a, "skip-padding"), checks, &block, &err);
        if (rc == ESPSEC_OK || rc == ESPSEC_ERR_VERIFY) {
            print_block_checks(checks, key_type);
        }
    }
    espsec_sb_key_free(key);
    free(data);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", cli_pos(a, 0));
        return cli_fail(&err);
    }
    if (version == 1) {
        printf("Signature is valid.\n");
    }
    return 0;
}

/* ---- keys and digests ---- */

static int cmd_extract_public_key(cli_args_t *a)
{
    int version = get_version(a, "1");
    if (version < 0) {
        return 2;
    }
    const char *keyfile = cli_str(a, "keyfile"), *out = cli_pos(a, 0);
    if (keyfile == NULL) {
        return cli_error("--keyfile is required");
    }
    if (check_not_same(keyfile, out) != 0) {
        return 2;
    }
    espsec_sb_key_t *key = NULL;
    if (load_sb_key(a, keyfile, &key) != 0) {
        return 2;
    }
    espsec_error_t err;
    int st;
    if (!espsec_sb_key_is_private(key)) {
        espsec_sb_key_free(key);
        return cli_error("%s: a private key is expected", keyfile);
    }
    if (version == 1) {
        uint8_t raw[64];
        st = espsec_sbv1_public_raw(key, raw, &err) == ESPSEC_OK ? write_out(out, raw, 64, ESPSEC_MODE_PUBLIC)
                                                                 : cli_fail(&err);
    } else {
        char *pem = NULL;
        size_t len = 0;
        st = espsec_sb_key_public_pem(key, &pem, &len, &err) == ESPSEC_OK ? write_out(out, pem, len, ESPSEC_MODE_PUBLIC)
                                                                          : cli_fail(&err);
        free(pem);
    }
    espsec_sb_key_free(key);
    if (st == 0) {
        printf("\"%s\" public key extracted to \"%s\".\n", keyfile, out);
    }
    return st;
}

static int cmd_digest_sbv2_public_key(cli_args_t *a)
{
    const char *keyfile = cli_str(a, "keyfile"), *out = cli_str(a, "output");
    if (keyfile == NULL || out == NULL) {
        return cli_error("--keyfile and --output are required");
    }
    if (check_not_same(keyfile, out) != 0) {
        return 2;
    }
    espsec_sb_key_t *key = NULL;
    if (load_sb_key(a, keyfile, &key) != 0) {
        return 2;
    }
    uint8_t digest[32];
    espsec_error_t err;
    int st = espsec_sbv2_key_digest(key, digest, &err) == ESPSEC_OK ? write_out(out, digest, 32, ESPSEC_MODE_PUBLIC)
                                                                    : cli_fail(&err);
    espsec_sb_key_free(key);
    if (st == 0) {
        printf("Writing the public key digest of \"%s\" to \"%s\".\n", keyfile, out);
    }
    return st;
}

/* The old name works, with click's deprecation line (on stdout: stderr is for the error line). */
static int cmd_digest_rsa_public_key(cli_args_t *a)
{
    printf("DeprecationWarning: The command 'digest-rsa-public-key' is deprecated. "
           "Use 'digest-sbv2-public-key' instead.\n");
    return cmd_digest_sbv2_public_key(a);
}

static int cmd_signature_info_v2(cli_args_t *a)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (read_in(cli_pos(a, 0), &data, &len) != 0) {
        return 2;
    }
    espsec_sbv2_block_info_t info[ESPSEC_SBV2_MAX_BLOCKS];
    espsec_error_t err;
    espsec_err_t rc = espsec_sbv2_info(data, len, cli_flag(a, "skip-padding"), info, &err);
    free(data);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", cli_pos(a, 0));
        return cli_fail(&err);
    }
    for (int i = 0; i < ESPSEC_SBV2_MAX_BLOCKS; i++) {
        if (!info[i].present) {
            printf("Signature block %d absent/invalid. Skipping checking next blocks...\n", i);
            break;
        }
        printf("Signature block %d is valid (%s).\n", i, info[i].version == ESPSEC_SBV2_VERSION_RSA ? "RSA" : "ECDSA");
        if (!info[i].digest_matches) {
            return cli_error("%s: digest in signature block %d doesn't match the image digest", cli_pos(a, 0), i);
        }
        char hex[32 * 3];
        espsec_hex(info[i].key_digest, 32, hex, ' ');
        printf("Public key digest for block %d: %s\n", i, hex);
    }
    return 0;
}

static int cmd_digest_private_key(cli_args_t *a)
{
    const char *keyfile = cli_str(a, "keyfile"), *out = cli_pos(a, 0);
    unsigned long long keylen;
    if (keyfile == NULL) {
        return cli_error("--keyfile is required");
    }
    if (cli_u64(a, "keylen", 256, &keylen) != 0 || check_not_same(keyfile, out) != 0) {
        return 2;
    }
    espsec_sb_key_t *key = NULL;
    if (load_sb_key(a, keyfile, &key) != 0) {
        return 2;
    }
    uint8_t digest[32];
    size_t dlen = 0;
    espsec_error_t err;
    int st = espsec_sbv1_digest_private_key(key, (int)keylen, digest, &dlen, &err) == ESPSEC_OK
                 ? (espsec_write_secret_file(out, digest, dlen, 0, &err) == ESPSEC_OK ? 0 : cli_fail(&err))
                 : cli_fail(&err);
    espsec_wipe(digest, sizeof(digest));
    espsec_sb_key_free(key);
    if (st == 0) {
        printf("SHA-256 digest of private key \"%s\"%s written to \"%s\".\n", keyfile,
               keylen == 192 ? " (truncated to 192 bits)" : "", out);
    }
    return st;
}

static int cmd_digest_secure_bootloader(cli_args_t *a)
{
    const char *keyfile = cli_str(a, "keyfile"), *in = cli_pos(a, 0), *ivfile = cli_str(a, "iv");
    const char *out = cli_str(a, "output");
    char defout[4096];
    if (keyfile == NULL) {
        return cli_error("--keyfile is required");
    }
    if (out == NULL) {
        const char *dot = strrchr(in, '.');
        const char *slash = strrchr(in, '/');
        int stem = (dot != NULL && (slash == NULL || dot > slash)) ? (int)(dot - in) : (int)strlen(in);
        snprintf(defout, sizeof(defout), "%.*s-digest-0x0000.bin", stem, in);
        out = defout;
    }
    if (check_not_same(keyfile, out) || check_not_same(in, out) || check_not_same(ivfile, out)) {
        return 2;
    }
    uint8_t iv[128], key[32];
    size_t iv_len = sizeof(iv);
    if (ivfile != NULL) {
        uint8_t *ivb = NULL;
        size_t ivl = 0;
        printf("Warning: --iv argument is for TESTING PURPOSES ONLY\n");
        if (read_in(ivfile, &ivb, &ivl) != 0) {
            return 2;
        }
        /* espsecure reads up to 128 bytes and uses what it got */
        iv_len = ivl < sizeof(iv) ? ivl : sizeof(iv);
        if (iv_len % 16 != 0) {
            free(ivb);
            return cli_error("%s: IV file is %zu bytes; 128 (or a multiple of 16 below it) expected", ivfile, ivl);
        }
        if (iv_len < sizeof(iv)) {
            fprintf(stderr, "Warning: %s: IV of %zu bytes used as it is (the ROM reads 128: this output does not boot)\n",
                    ivfile, iv_len);
        }
        memcpy(iv, ivb, iv_len);
        free(ivb);
    } else if (espsec_random(iv, sizeof(iv)) != ESPSEC_OK) {
        return cli_error("random number generator failed");
    }
    uint8_t *kb = NULL, *img = NULL, *outbuf = NULL;
    size_t kl = 0, il = 0, ol = 0;
    espsec_error_t err;
    if (read_in(keyfile, &kb, &kl) != 0) {
        return 2;
    }
    espsec_err_t rc = espsec_expand_hw_key(kb, kl, key, &err);
    espsec_free_secret(kb, kl);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", keyfile);
        return cli_fail(&err);
    }
    if (read_in(in, &img, &il) != 0) {
        espsec_wipe(key, sizeof(key));
        return 2;
    }
    rc = espsec_sbv1_digest_bootloader_iv(img, il, key, iv, iv_len, &outbuf, &ol, &err);
    espsec_wipe(key, sizeof(key));
    free(img);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in);
        return cli_fail(&err);
    }
    int st = write_out(out, outbuf, ol, ESPSEC_MODE_PUBLIC);
    free(outbuf);
    if (st == 0) {
        printf("Digest + image written to \"%s\"\n", out);
    }
    return st;
}

/* ---- flash encryption ---- */

static int cmd_generate_flash_encryption_key(cli_args_t *a)
{
    unsigned long long keylen;
    if (cli_u64(a, "keylen", 256, &keylen) != 0) {
        return 2;
    }
    if (keylen != 128 && keylen != 192 && keylen != 256 && keylen != 512) {
        return cli_error("--keylen %llu: 128, 192 (ESP32 3/4 coding scheme), 256 or 512 expected", keylen);
    }
    uint8_t key[64];
    const char *path = cli_pos(a, 0);
    espsec_error_t err;
    if (espsec_random(key, keylen / 8) != ESPSEC_OK) {
        return cli_error("random number generator failed");
    }
    espsec_err_t rc = espsec_write_secret_file(path, key, keylen / 8, cli_flag(a, "force"), &err);
    espsec_wipe(key, sizeof(key));
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("Writing %llu random bits to key file \"%s\".\n", keylen, path);
    return 0;
}

static int flash_crypt(cli_args_t *a, int decrypt)
{
    const char *keyfile = cli_str(a, "keyfile"), *out = cli_str(a, "output"), *in = cli_pos(a, 0);
    unsigned long long addr, conf;
    if (keyfile == NULL || out == NULL || cli_str(a, "address") == NULL) {
        return cli_error("--keyfile, --output and --address are required");
    }
    if (cli_u64(a, "address", 0, &addr) != 0 || cli_u64(a, "flash-crypt-conf", 0xF, &conf) != 0) {
        return 2;
    }
    if (check_not_same(keyfile, out) || check_not_same(in, out)) {
        return 2;
    }
    uint8_t *kb = NULL;
    size_t kl = 0;
    if (read_in(keyfile, &kb, &kl) != 0) {
        return 2;
    }
    espsec_flash_enc_params_t p = {
        .mode = cli_flag(a, "aes-xts") ? ESPSEC_FE_XTS : ESPSEC_FE_ESP32,
        .flash_crypt_conf = (uint8_t)conf,
    };
    espsec_error_t err;
    espsec_err_t rc = ESPSEC_OK;
    if (conf > 0xF) {
        rc = espsec_fail(&err, ESPSEC_ERR_INVALID_ARG, "--flash-crypt-conf 0x%llx: 0x0 to 0xF expected", conf);
    } else if (addr > 0xFFFFFFFFull) {
        rc = espsec_fail(&err, ESPSEC_ERR_INVALID_ARG, "--address 0x%llx: past the 4 GiB flash address space", addr);
    } else {
        rc = espsec_flash_enc_file(in, out, &p, kb, kl, (uint32_t)addr, decrypt, &err);
        if (rc == ESPSEC_ERR_KEY) {
            espsec_error_prefix(&err, "%s: ", keyfile); /* the key's length or halves: name the key file */
        }
    }
    espsec_free_secret(kb, kl);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (p.mode == ESPSEC_FE_ESP32 && conf == 0) {
        printf("Warning: Setting FLASH_CRYPT_CONF to zero is not recommended.\n");
    }
    printf("%s \"%s\" at address 0x%llx to \"%s\".\n", decrypt ? "Decrypted" : "Encrypted", in, addr, out);
    return 0;
}

static int cmd_encrypt_flash_data(cli_args_t *a)
{
    return flash_crypt(a, 0);
}

static int cmd_decrypt_flash_data(cli_args_t *a)
{
    return flash_crypt(a, 1);
}

/* ---- the table ---- */

static const cli_opt_t OPT_GEN_KEY[] = {
    {"version", 'v', CLI_VALUE, "1|2", "Version of the secure boot signing scheme (default 1)."},
    {"scheme", 's', CLI_VALUE, "SCHEME", "rsa3072 (default for V2), ecdsa192, ecdsa256 or ecdsa384."},
    {"encrypt", 0, CLI_FLAG, NULL, "Write the key encrypted with a password (PKCS#8, AES-256-CBC)."},
    CLI_OPT_KEY_PASSWORD,
    {0}};
static const cli_pos_t POS_KEYFILE[] = {{"KEYFILE", "Private key file to create (PEM, mode 0600).", 0, 0}, {0}};

static const cli_opt_t OPT_SIGN[] = {
    {"version", 'v', CLI_VALUE, "1|2", "Version of the secure boot signing scheme (required)."},
    {"keyfile", 'k', CLI_MULTI, "KEY", "Private key file(s) for signing (PEM); up to 3 for V2."},
    {"output", 'o', CLI_VALUE, "FILE", "Output file; default is to sign the input file in place."},
    {"append-signatures", 'a', CLI_FLAG, NULL, "Append signature block(s) to an already signed image."},
    {"pub-key", 0, CLI_MULTI, "PEM", "Public key(s) matching pre-calculated --signature files."},
    {"signature", 0, CLI_MULTI, "FILE", "Pre-calculated signature(s), e.g. made by an HSM."},
    {"skip-padding", 0, CLI_FLAG, NULL, "Do not pad the data to a 4 KiB boundary (V2 only)."},
    {"export-digest", 0, CLI_VALUE, "FILE", "Write only the digest an external signer must sign (V2; with --pub-key or "
                                            "--scheme for its hash; -o also writes the padded image), then "
                                            "assemble with --pub-key/--signature."},
    {"scheme", 0, CLI_VALUE, "SCHEME", "With --export-digest and no --pub-key: the key's scheme (ecdsa384 hashes "
                                       "with SHA-384)."},
    {"hsm", 0, CLI_FLAG, NULL, "Sign with the key in a PKCS#11 token (V2; see --hsm-config)."},
    {"hsm-config", 0, CLI_VALUE, "FILE", "espsecure's HSM config ([hsm_config]: pkcs11_lib, slot, label); PIN in "
                                         "$ESPSEC_HSM_PIN."},
    CLI_OPT_KEY_PASSWORD,
    {0}};
static const cli_pos_t POS_DATAFILE[] = {{"DATAFILE", "The image or data file.", 0, 0}, {0}};

static const cli_opt_t OPT_VERIFY[] = {
    {"version", 'v', CLI_VALUE, "1|2", "Version of the secure boot scheme (required)."},
    {"keyfile", 'k', CLI_VALUE, "KEY", "Public or private key (PEM); for V1 also 64 raw bytes."},
    {"skip-padding", 0, CLI_FLAG, NULL, "The image was signed with --skip-padding."},
    {"hsm", 0, CLI_FLAG, NULL, "Verify with the public key in a PKCS#11 token (V2)."},
    {"hsm-config", 0, CLI_VALUE, "FILE", "espsecure's HSM config file."},
    CLI_OPT_KEY_PASSWORD,
    {0}};

static const cli_opt_t OPT_EXTRACT[] = {
    {"version", 'v', CLI_VALUE, "1|2", "1: raw 64-byte X||Y; 2: PEM public key (default 1)."},
    {"keyfile", 'k', CLI_VALUE, "KEY", "Private key file (PEM)."},
    CLI_OPT_KEY_PASSWORD,
    {0}};
static const cli_pos_t POS_PUBFILE[] = {{"PUBLIC_KEYFILE", "Output file for the public key.", 0, 0}, {0}};

static const cli_opt_t OPT_DIGEST_PUB[] = {
    {"keyfile", 'k', CLI_VALUE, "KEY", "Public or private key (PEM)."},
    {"output", 'o', CLI_VALUE, "FILE", "Output file for the 32-byte digest."},
    CLI_OPT_KEY_PASSWORD,
    {0}};

static const cli_opt_t OPT_INFO[] = {
    {"skip-padding", 0, CLI_FLAG, NULL, "The image was signed with --skip-padding."}, {0}};

static const cli_opt_t OPT_DIGEST_PRIV[] = {
    {"keyfile", 'k', CLI_VALUE, "KEY", "Private key file (PEM)."},
    {"keylen", 'l', CLI_VALUE, "BITS", "256 (default) or 192 (3/4 coding scheme)."},
    CLI_OPT_KEY_PASSWORD,
    {0}};
static const cli_pos_t POS_DIGEST_FILE[] = {{"DIGEST_FILE", "Output file (mode 0600).", 0, 0}, {0}};

static const cli_opt_t OPT_DIGEST_BOOT[] = {
    {"keyfile", 'k', CLI_VALUE, "KEY", "Secure boot key (16, 24 or 32 bytes)."},
    {"output", 'o', CLI_VALUE, "FILE", "Output (default IMAGE-digest-0x0000.bin)."},
    {"iv", 0, CLI_VALUE, "FILE", "IV file, for testing only (random otherwise): its first 128 bytes; a shorter file (a multiple of 16 bytes, e.g. esptool's 32-byte test IV) is used as it is, as espsecure does, and the digest follows it (such an output does not boot)."},
    {0}};
static const cli_pos_t POS_IMAGE[] = {{"IMAGE", "Bootloader image.", 0, 0}, {0}};

static const cli_opt_t OPT_GEN_FE_KEY[] = {
    {"keylen", 'l', CLI_VALUE, "BITS", "128, 192 (ESP32 3/4 coding), 256 (default) or 512 (XTS-AES-256)."},
    {"force", 0, CLI_FLAG, NULL, "Replace an existing key file."},
    {0}};
static const cli_pos_t POS_KEY_FILE[] = {{"KEY_FILE", "Key file to create (mode 0600).", 0, 0}, {0}};

static const cli_opt_t OPT_FE[] = {
    {"keyfile", 'k', CLI_VALUE, "KEY", "Flash encryption key file."},
    {"output", 'o', CLI_VALUE, "FILE", "Output file."},
    {"address", 'a', CLI_VALUE, "ADDR", "Flash address of the data (multiple of 16)."},
    {"flash-crypt-conf", 0, CLI_VALUE, "CONF", "FLASH_CRYPT_CONFIG eFuse value, 0x0-0xF (default 0xF; ESP32)."},
    {"aes-xts", 'x', CLI_FLAG, NULL, "XTS-AES, for chips after the ESP32."},
    {0}};
static const cli_pos_t POS_PLAIN[] = {{"PLAINTEXT_FILE", "Data to encrypt.", 0, 0}, {0}};
static const cli_pos_t POS_ENC[] = {{"ENCRYPTED_FILE", "Data to decrypt.", 0, 0}, {0}};

static const cli_cmd_t SECURE_CMDS[] = {
    {"digest-secure-bootloader", NULL, "Make the Secure Boot V1 digest + bootloader for flash offset 0x0.", NULL,
     OPT_DIGEST_BOOT, POS_IMAGE, cmd_digest_secure_bootloader},
    {"generate-signing-key", NULL, "Generate a private key for signing secure boot images.", NULL, OPT_GEN_KEY,
     POS_KEYFILE, cmd_generate_signing_key},
    {"sign-data", NULL, "Sign a data file for use with secure boot.", NULL, OPT_SIGN, POS_DATAFILE, cmd_sign_data},
    {"verify-signature", NULL, "Verify a signed file with a public key (exit 0 only when valid).", NULL, OPT_VERIFY,
     POS_DATAFILE, cmd_verify_signature},
    {"extract-public-key", NULL, "Extract the public verification key of a signing key.", NULL, OPT_EXTRACT,
     POS_PUBFILE, cmd_extract_public_key},
    {"digest-sbv2-public-key", NULL, "SHA-256 digest of a public key, as burned into the eFuse.", NULL,
     OPT_DIGEST_PUB, NULL, cmd_digest_sbv2_public_key},
    {"digest-rsa-public-key", NULL, "Same as digest-sbv2-public-key (deprecated name).", NULL, OPT_DIGEST_PUB, NULL,
     cmd_digest_rsa_public_key},
    {"signature-info-v2", NULL, "Show the signature blocks of a Secure Boot V2 signed image.", NULL, OPT_INFO,
     POS_DATAFILE, cmd_signature_info_v2},
    {"digest-private-key", NULL, "SHA-256 digest of a V1 private signing key.", NULL, OPT_DIGEST_PRIV,
     POS_DIGEST_FILE, cmd_digest_private_key},
    {"generate-flash-encryption-key", NULL, "Generate a flash encryption key from the OS random source.", NULL,
     OPT_GEN_FE_KEY, POS_KEY_FILE, cmd_generate_flash_encryption_key},
    {"encrypt-flash-data", NULL, "Encrypt data as the flash controller stores it.", NULL, OPT_FE, POS_PLAIN,
     cmd_encrypt_flash_data},
    {"decrypt-flash-data", NULL, "Decrypt data read from encrypted flash.", NULL, OPT_FE, POS_ENC,
     cmd_decrypt_flash_data},
    {0}};

const cli_group_t CLI_SECURE = {
    "secure",
    "Secure boot and flash encryption (espsecure's commands and options).",
    "Drop-in for espsecure v4 and v5: 'espsec secure sign_data --version 2 -k key.pem -o out in'.",
    NULL,
    SECURE_CMDS,
};
