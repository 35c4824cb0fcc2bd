/* The library's version and the OpenSSL it runs on (espsec/version.h). */
#include "espsec/version.h"

#include <openssl/crypto.h>

const char *espsec_version(void)
{
    return ESPSEC_VERSION;
}

const char *espsec_openssl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}
