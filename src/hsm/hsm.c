/* PKCS#11 signing for Secure Boot (espsec/hsm.h). */
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "espsec/hsm.h"
#include "espsec/util.h"
#include "p11.h"

struct espsec_hsm {
    void *dl;
    CK_FUNCTION_LIST *f;
    CK_SESSION_HANDLE s;
    int logged_in, session_open, initialized;
    CK_OBJECT_HANDLE priv, pub;
    CK_KEY_TYPE type;
    espsec_sb_scheme_t scheme;
    char label[128];
};

static const char *rv_name(CK_RV rv)
{
    switch (rv) {
    case CKR_PIN_INCORRECT:
        return "CKR_PIN_INCORRECT (wrong PIN)";
    case CKR_PIN_LEN_RANGE:
        return "CKR_PIN_LEN_RANGE";
    case CKR_SLOT_ID_INVALID:
        return "CKR_SLOT_ID_INVALID (no such slot)";
    case CKR_TOKEN_NOT_PRESENT:
        return "CKR_TOKEN_NOT_PRESENT";
    case CKR_MECHANISM_INVALID:
        return "CKR_MECHANISM_INVALID (the token cannot do this signature)";
    case CKR_MECHANISM_PARAM_INVALID:
        return "CKR_MECHANISM_PARAM_INVALID";
    case CKR_KEY_TYPE_INCONSISTENT:
        return "CKR_KEY_TYPE_INCONSISTENT";
    default:
        return "PKCS#11 error";
    }
}

static espsec_err_t p11_fail(espsec_error_t *err, const char *what, CK_RV rv)
{
    return espsec_fail(err, ESPSEC_ERR_KEY, "HSM: %s failed: 0x%lx %s", what, (unsigned long)rv, rv_name(rv));
}

/* ---- the configuration ---- */

espsec_err_t espsec_hsm_config_parse(const char *text, size_t len, const char *name, espsec_hsm_config_t *cfg,
                                     espsec_error_t *err)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->slot = -1;
    int in_section = 0, seen_section = 0, line = 0;
    for (size_t pos = 0; pos < len;) {
        size_t end = pos;
        while (end < len && text[end] != '\n') {
            end++;
        }
        line++;
        char buf[1200];
        size_t n = end - pos < sizeof(buf) - 1 ? end - pos : sizeof(buf) - 1;
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        char *s = espsec_trim(buf);
        if (*s == '\0' || *s == '#' || *s == ';') {
            continue;
        }
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close == NULL) {
                return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: unterminated section name", name, line);
            }
            *close = '\0';
            in_section = strcmp(espsec_trim(s + 1), "hsm_config") == 0;
            seen_section |= in_section;
            continue;
        }
        char *eq = strpbrk(s, "=:");
        if (eq == NULL) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: 'option = value' expected", name, line);
        }
        if (!in_section) {
            continue;
        }
        *eq = '\0';
        char *k = espsec_trim(s), *v = espsec_trim(eq + 1);
        char *comment = strstr(v, " ;");
        if (comment != NULL) {
            *comment = '\0';
            v = espsec_trim(v);
        }
        if (strcmp(k, "pkcs11_lib") == 0) {
            snprintf(cfg->lib, sizeof(cfg->lib), "%s", v);
        } else if (strcmp(k, "slot") == 0) {
            char *e;
            cfg->slot = strtol(v, &e, 0);
            if (*e != '\0' || cfg->slot < 0) {
                return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: slot '%s' is not a number", name, line, v);
            }
        } else if (strcmp(k, "token_label") == 0) {
            snprintf(cfg->token_label, sizeof(cfg->token_label), "%s", v);
        } else if (strcmp(k, "label") == 0) {
            snprintf(cfg->label, sizeof(cfg->label), "%s", v);
        } else if (strcmp(k, "label_pubkey") == 0) {
            snprintf(cfg->label_pubkey, sizeof(cfg->label_pubkey), "%s", v);
        } else if (strcmp(k, "credentials") == 0) {
            if (strncmp(v, "env:", 4) == 0) {
                const char *e = getenv(v + 4);
                if (e == NULL) {
                    return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: credentials come from $%s, which is not set",
                                       name, line, v + 4);
                }
                snprintf(cfg->pin, sizeof(cfg->pin), "%s", e);
            } else {
                snprintf(cfg->pin, sizeof(cfg->pin), "%s", v);
            }
            cfg->have_pin = 1;
        }
    }
    const char *env = getenv("ESPSEC_HSM_PIN");
    if (env != NULL) {
        snprintf(cfg->pin, sizeof(cfg->pin), "%s", env);
        cfg->have_pin = 1;
    }
    if (!seen_section) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: no [hsm_config] section", name);
    }
    if (cfg->lib[0] == '\0' || cfg->label[0] == '\0' || (cfg->slot < 0 && cfg->token_label[0] == '\0')) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: [hsm_config] needs pkcs11_lib, label and slot (or token_label)",
                           name);
    }
    if (!cfg->have_pin) {
        return espsec_fail(err, ESPSEC_ERR_PARSE,
                           "%s: no PIN: set ESPSEC_HSM_PIN in the environment (or credentials = env:NAME)", name);
    }
    if (cfg->label_pubkey[0] == '\0') {
        snprintf(cfg->label_pubkey, sizeof(cfg->label_pubkey), "%s", cfg->label);
    }
    return ESPSEC_OK;
}

/* ---- the session ---- */

static CK_OBJECT_HANDLE find(espsec_hsm_t *h, CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE t[2] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, (void *)label, strlen(label)}};
    CK_OBJECT_HANDLE o = 0;
    CK_ULONG n = 0;
    if (h->f->C_FindObjectsInit(h->s, t, 2) != CKR_OK) {
        return 0;
    }
    if (h->f->C_FindObjects(h->s, &o, 1, &n) != CKR_OK || n == 0) {
        o = 0;
    }
    h->f->C_FindObjectsFinal(h->s);
    return o;
}

static int get_attr(espsec_hsm_t *h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    if (h->f->C_GetAttributeValue(h->s, o, &a, 1) != CKR_OK || a.ulValueLen == (CK_ULONG)-1) {
        return -1;
    }
    *val = malloc(a.ulValueLen ? a.ulValueLen : 1);
    a.pValue = *val;
    if (*val == NULL || h->f->C_GetAttributeValue(h->s, o, &a, 1) != CKR_OK) {
        free(*val);
        *val = NULL; /* the caller frees what it got: not twice */
        return -1;
    }
    *len = a.ulValueLen;
    return 0;
}

espsec_err_t espsec_hsm_open(const espsec_hsm_config_t *cfg, espsec_hsm_t **out, espsec_error_t *err)
{
    *out = NULL;
    espsec_hsm_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    snprintf(h->label, sizeof(h->label), "%s", cfg->label);
    espsec_err_t rc = ESPSEC_OK;
    h->dl = dlopen(cfg->lib, RTLD_NOW | RTLD_LOCAL);
    if (h->dl == NULL) {
        rc = espsec_fail(err, ESPSEC_ERR_IO, "HSM: cannot load the PKCS#11 module %s: %s", cfg->lib, dlerror());
    }
    CK_C_GetFunctionList gfl = NULL;
    if (rc == ESPSEC_OK) {
        *(void **)&gfl = dlsym(h->dl, "C_GetFunctionList");
        if (gfl == NULL || gfl(&h->f) != CKR_OK || h->f == NULL) {
            rc = espsec_fail(err, ESPSEC_ERR_IO, "HSM: %s is not a PKCS#11 module (no C_GetFunctionList)", cfg->lib);
        }
    }
    CK_RV rv;
    if (rc == ESPSEC_OK) {
        rv = h->f->C_Initialize(NULL);
        if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            rc = p11_fail(err, "C_Initialize", rv);
        }
        h->initialized = rv == CKR_OK;
    }
    CK_SLOT_ID slot = (CK_SLOT_ID)cfg->slot;
    if (rc == ESPSEC_OK && cfg->token_label[0] != '\0') {
        /* find the slot whose token carries the label */
        CK_SLOT_ID slots[64];
        CK_ULONG n = 64;
        int found = 0;
        if (h->f->C_GetSlotList(1, slots, &n) == CKR_OK) {
            for (CK_ULONG i = 0; i < n && !found; i++) {
                CK_TOKEN_INFO ti;
                if (h->f->C_GetTokenInfo(slots[i], &ti) == CKR_OK) {
                    char lab[33];
                    memcpy(lab, ti.label, 32);
                    lab[32] = '\0';
                    if (strcmp(espsec_trim(lab), cfg->token_label) == 0) {
                        slot = slots[i];
                        found = 1;
                    }
                }
            }
        }
        if (!found) {
            rc = espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "HSM: no token labelled '%s' in %s", cfg->token_label,
                             cfg->lib);
        }
    }
    if (rc == ESPSEC_OK) {
        rv = h->f->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &h->s);
        if (rv != CKR_OK) {
            rc = p11_fail(err, "opening a session on the slot", rv);
        }
        h->session_open = rv == CKR_OK;
    }
    if (rc == ESPSEC_OK) {
        rv = h->f->C_Login(h->s, CKU_USER, (unsigned char *)cfg->pin, strlen(cfg->pin));
        if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
            rc = p11_fail(err, "login", rv);
        }
        h->logged_in = rv == CKR_OK;
    }
    if (rc == ESPSEC_OK) {
        h->priv = find(h, CKO_PRIVATE_KEY, cfg->label);
        h->pub = find(h, CKO_PUBLIC_KEY, cfg->label_pubkey);
        if (h->priv == 0) {
            rc = espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "HSM: no private key labelled '%s' on the token", cfg->label);
        } else if (h->pub == 0) {
            rc = espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "HSM: no public key labelled '%s' on the token (set "
                                                        "label_pubkey)",
                             cfg->label_pubkey);
        }
    }
    if (rc == ESPSEC_OK) {
        CK_KEY_TYPE kt = 0;
        CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
        if (h->f->C_GetAttributeValue(h->s, h->priv, &a, 1) != CKR_OK || (kt != CKK_RSA && kt != CKK_EC)) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY, "HSM: key '%s' is neither RSA nor EC", cfg->label);
        }
        h->type = kt;
    }
    if (rc != ESPSEC_OK) {
        espsec_hsm_close(h);
        return rc;
    }
    *out = h;
    return ESPSEC_OK;
}

espsec_err_t espsec_hsm_public_key(espsec_hsm_t *h, espsec_sb_key_t **key, espsec_error_t *err)
{
    EVP_PKEY *pk = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    espsec_err_t rc = ESPSEC_OK;
    EVP_PKEY_CTX *ctx = NULL;
    BIGNUM *n = NULL, *e = NULL;
    if (h->type == CKK_RSA) {
        if (get_attr(h, h->pub, CKA_MODULUS, &a, &al) != 0 || get_attr(h, h->pub, CKA_PUBLIC_EXPONENT, &b, &bl) != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY, "HSM: cannot read the RSA public key '%s'", h->label);
        } else {
            n = BN_bin2bn(a, (int)al, NULL);
            e = BN_bin2bn(b, (int)bl, NULL);
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
            ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        }
    } else {
        /* EC_PARAMS: the curve's OID (DER); EC_POINT: an OCTET STRING holding the uncompressed point */
        if (get_attr(h, h->pub, CKA_EC_PARAMS, &a, &al) != 0 || get_attr(h, h->pub, CKA_EC_POINT, &b, &bl) != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY, "HSM: cannot read the EC public key '%s'", h->label);
        } else {
            const unsigned char *p = a;
            ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, (long)al);
            const char *curve = oid ? OBJ_nid2sn(OBJ_obj2nid(oid)) : NULL;
            ASN1_OBJECT_free(oid);
            const uint8_t *pt = b;
            size_t ptl = bl;
            if (bl > 2 && b[0] == 0x04 && b[1] == bl - 2) {
                pt = b + 2; /* DER OCTET STRING with a short length */
                ptl = bl - 2;
            } else if (bl > 3 && b[0] == 0x04 && b[1] == 0x81 && b[2] == bl - 3) {
                pt = b + 3;
                ptl = bl - 3;
            }
            if (curve == NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_KEY, "HSM: key '%s' has an unknown curve", h->label);
            } else {
                OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curve, 0);
                OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, ptl);
                ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
            }
        }
    }
    if (rc == ESPSEC_OK) {
        params = OSSL_PARAM_BLD_to_param(bld);
        if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1) {
            rc = espsec_fail(err, ESPSEC_ERR_KEY, "HSM: the public key '%s' does not decode", h->label);
        }
    }
    if (rc == ESPSEC_OK) {
        rc = espsec_sb_key_from_evp(pk, key, err);
    }
    if (rc == ESPSEC_OK) {
        h->scheme = (*key) ? espsec_sb_key_scheme(*key) : ESPSEC_SB_RSA3072;
    }
    EVP_PKEY_free(pk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(a);
    free(b);
    return rc;
}

espsec_err_t espsec_hsm_sign_digest(void *ctx, const uint8_t *digest, size_t digest_len, uint8_t *sig,
                                    size_t *sig_len, espsec_error_t *err)
{
    espsec_hsm_t *h = ctx;
    CK_RSA_PKCS_PSS_PARAMS pss = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    if (h->type == CKK_RSA) {
        m.mechanism = CKM_RSA_PKCS_PSS;
        m.pParameter = &pss;
        m.ulParameterLen = sizeof(pss);
    }
    CK_RV rv = h->f->C_SignInit(h->s, &m, h->priv);
    if (rv != CKR_OK) {
        return p11_fail(err, "C_SignInit", rv);
    }
    uint8_t raw[512];
    CK_ULONG rl = sizeof(raw);
    rv = h->f->C_Sign(h->s, (unsigned char *)digest, digest_len, raw, &rl);
    if (rv != CKR_OK) {
        return p11_fail(err, "C_Sign", rv);
    }
    if (h->type == CKK_RSA) {
        if (rl > *sig_len) {
            return espsec_fail(err, ESPSEC_ERR_FORMAT, "HSM: signature of %lu bytes is too long", (unsigned long)rl);
        }
        memcpy(sig, raw, rl);
        *sig_len = rl;
        return ESPSEC_OK;
    }
    /* CKM_ECDSA answers r || s; the block builder takes DER */
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)(rl / 2), NULL), *s = BN_bin2bn(raw + rl / 2, (int)(rl / 2), NULL);
    unsigned char *der = NULL;
    int dl = -1;
    if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;
        dl = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    if (dl <= 0 || (size_t)dl > *sig_len) {
        OPENSSL_free(der);
        return espsec_fail(err, ESPSEC_ERR_FORMAT, "HSM: the ECDSA signature does not encode");
    }
    memcpy(sig, der, (size_t)dl);
    *sig_len = (size_t)dl;
    OPENSSL_free(der);
    return ESPSEC_OK;
}

void espsec_hsm_close(espsec_hsm_t *h)
{
    if (h == NULL) {
        return;
    }
    if (h->f != NULL) {
        if (h->logged_in) {
            h->f->C_Logout(h->s);
        }
        if (h->session_open) {
            h->f->C_CloseSession(h->s);
        }
        if (h->initialized) {
            h->f->C_Finalize(NULL);
        }
    }
    if (h->dl != NULL) {
        dlclose(h->dl);
    }
    espsec_wipe(h, sizeof(*h));
    free(h);
}
