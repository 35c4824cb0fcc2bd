/* Shared inside the TLS area. */
#ifndef ESPSEC_TLS_INTERNAL_H
#define ESPSEC_TLS_INTERNAL_H

#include <openssl/x509.h>

#include "espsec/tls.h"

/* Parse PEM (several) or DER certificates into out; returns how many. */
int tls_load_certs(const uint8_t *buf, size_t len, STACK_OF(X509) *out);
/* TCP connect with a timeout; the socket is non-blocking. -1 with err set. */
int tls_tcp_connect(const char *host, int port, int timeout_ms, espsec_error_t *err);
/* Structure of an x509_crt_bundle. */
espsec_err_t tls_bundle_check(const uint8_t *b, size_t len, espsec_error_t *err);
/* 1 when the bundle holds cert's issuer and its key verifies cert's signature (esp_crt_bundle's rule). */
int tls_bundle_verifies(const uint8_t *b, size_t len, X509 *cert);
/* mbedTLS' name rule on a verify parameter: with a SubjectAltName in leaf, never the subject CN. */
void tls_name_rule(X509_VERIFY_PARAM *param, X509 *leaf);
#endif
