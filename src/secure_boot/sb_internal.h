/* Internal to the secure_boot module. */
#ifndef ESPSEC_SB_INTERNAL_H
#define ESPSEC_SB_INTERNAL_H

#include <openssl/evp.h>

#include "espsec/secure_boot.h"

struct espsec_sb_key {
    EVP_PKEY *pkey;
    espsec_sb_scheme_t scheme;
    int is_private;
};

/* OpenSSL curve group name for an ECDSA scheme, NULL for RSA. */
const char *sb_curve_group(espsec_sb_scheme_t scheme);
/* Coordinate length in bytes (24/32/48), 0 for RSA. */
size_t sb_curve_bytes(espsec_sb_scheme_t scheme);
/* Public key from a little-endian modulus and exponent. */
espsec_err_t sb_pubkey_from_rsa(const uint8_t n_le[384], uint32_t e, EVP_PKEY **out);
/* Public key from big-endian affine coordinates. */
espsec_err_t sb_pubkey_from_point(espsec_sb_scheme_t scheme, const uint8_t *x_be, const uint8_t *y_be,
                                  EVP_PKEY **out);
/* Big-endian affine coordinates of an EC key. */
espsec_err_t sb_ec_point(const espsec_sb_key_t *key, uint8_t *x_be, uint8_t *y_be);

#endif
