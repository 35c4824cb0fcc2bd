/*
 * espsec/hsm.h — Secure Boot signing with the private key inside a PKCS#11
 * token (an HSM, a smart card, SoftHSM), configured as espsecure's
 * --hsm-config file:
 *
 *   [hsm_config]
 *   pkcs11_lib = /usr/lib/softhsm/libsofthsm2.so
 *   slot = 0                 ; or token_label = NAME (espsec also accepts this)
 *   label = secure-boot-key  ; the private key's CKA_LABEL
 *   label_pubkey = ...       ; the public key's label (default: label)
 *   credentials = 1234       ; the user PIN; better: leave it out and set ESPSEC_HSM_PIN
 *
 * The PIN is taken from the environment variable ESPSEC_HSM_PIN when set
 * (or from credentials = env:NAME), so it need not be written in a file.
 * RSA-3072 signs with RSA-PSS (SHA-256, MGF1-SHA-256, salt 32) over the
 * image digest; ECDSA with CKM_ECDSA over it. The module is loaded at run
 * time; nothing is linked.
 */
#ifndef ESPSEC_HSM_H
#define ESPSEC_HSM_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"
#include "espsec/secure_boot.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct {
    char lib[1024];
    long slot;           /* -1: not given */
    char token_label[64];
    char label[128], label_pubkey[128];
    char pin[128];
    int have_pin;
} espsec_hsm_config_t;

/** Read espsecure's [hsm_config] INI text; the PIN from ESPSEC_HSM_PIN overrides. */
espsec_err_t espsec_hsm_config_parse(const char *text, size_t len, const char *name, espsec_hsm_config_t *cfg,
                                     espsec_error_t *err);

typedef struct espsec_hsm espsec_hsm_t;

/** Load the module, open a session on the slot, log in, find the key pair. */
espsec_err_t espsec_hsm_open(const espsec_hsm_config_t *cfg, espsec_hsm_t **out, espsec_error_t *err);
/** The token's public key (RSA-3072 or ECDSA P-192/P-256/P-384) as a Secure Boot key. */
espsec_err_t espsec_hsm_public_key(espsec_hsm_t *h, espsec_sb_key_t **key, espsec_error_t *err);
/** Sign a digest in the token: an espsec_sign_digest_fn (ctx is the espsec_hsm_t). RSA raw, ECDSA DER. */
espsec_err_t espsec_hsm_sign_digest(void *ctx, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                                    size_t *sig_len, espsec_error_t *err);
void espsec_hsm_close(espsec_hsm_t *h);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
