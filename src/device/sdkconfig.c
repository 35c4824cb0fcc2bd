/* sdkconfig reader: the security settings of a project (espsec/device.h). */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/device.h"
#include "espsec/util.h"

void espsec_device_config_default(espsec_device_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->chip = espsec_chip_default()->id;
    c->secure_boot_version = 2;
    c->sb_scheme = ESPSEC_SB_RSA3072;
    c->pt_offset = 0x8000;
    c->sb_build_signed = 1;
    c->fe_only_image_len = 1;
    c->rev_min_full = -1;
    c->rev_max_full = -1;
    c->fe_pseudo_round = -1;
    c->fe_pseudo_strength = 1;
    c->nvs_hmac_key_id = -1; /* not set */
}

typedef struct {
    const char *key;
    size_t off; /* offset of an int in espsec_device_config_t */
} flag_t;

#define F(k, field) {k, offsetof(espsec_device_config_t, field)}
static const flag_t FLAGS[] = {
    F("SECURE_FLASH_ENC_ENABLED", flash_encryption),
    F("SECURE_FLASH_ENCRYPTION_MODE_RELEASE", flash_enc_release),
    F("SECURE_FLASH_UART_BOOTLOADER_ALLOW_ENC", fe_allow_dl_encrypt),
    F("SECURE_FLASH_UART_BOOTLOADER_ALLOW_DEC", fe_allow_dl_decrypt),
    F("SECURE_FLASH_UART_BOOTLOADER_ALLOW_CACHE", fe_allow_dl_cache),
    F("SECURE_FLASH_REQUIRE_ALREADY_ENABLED", fe_require_enabled),
    F("SECURE_FLASH_ENCRYPTION_AES256", fe_aes256),
    F("SECURE_BOOT", secure_boot),
    F("SECURE_BOOT_ALLOW_JTAG", sb_allow_jtag),
    F("SECURE_BOOT_ALLOW_ROM_BASIC", sb_allow_rom_basic),
    F("SECURE_BOOT_BUILD_SIGNED_BINARIES", sb_build_signed),
    F("SECURE_BOOT_REQUIRE_ALREADY_ENABLED", sb_require_enabled),
    F("SECURE_DISABLE_ROM_DL_MODE", disable_rom_dl_mode),
    F("SECURE_BOOT_INSECURE", insecure),
    F("SECURE_BOOT_V2_FORCE_ENABLE_ECDSA", sb_force_ecdsa),
    F("NVS_ENCRYPTION", nvs_encryption),
    F("NVS_SEC_KEY_PROTECT_USING_HMAC", nvs_hmac),
    F("BOOTLOADER_APP_ANTI_ROLLBACK", app_anti_rollback),
    F("BOOTLOADER_APP_ROLLBACK_ENABLE", app_rollback),
    F("SECURE_SIGNED_APPS_NO_SECURE_BOOT", signed_apps_no_sb),
    F("SECURE_SIGNED_ON_BOOT_NO_SECURE_BOOT", signed_on_boot_no_sb),
    F("SECURE_SIGNED_ON_UPDATE_NO_SECURE_BOOT", signed_on_update_no_sb),
    F("SECURE_SIGNED_APPS_ECDSA_SCHEME", signed_scheme_v1),
    F("SECURE_ENABLE_SECURE_ROM_DL_MODE", secure_rom_dl_mode),
    F("SECURE_BOOT_ENABLE_AGGRESSIVE_KEY_REVOKE", sb_aggressive_revoke),
    F("SECURE_BOOT_ALLOW_UNUSED_DIGEST_SLOTS", sb_allow_unused_slots),
    F("SECURE_BOOT_V2_ALLOW_EFUSE_RD_DIS", sb_allow_efuse_rd_dis),
    F("SECURE_FLASH_ENCRYPTION_AES128_DERIVED", fe_aes128_derived),
    F("SECURE_FLASH_SKIP_WRITE_PROTECTION_CACHE", fe_skip_wp_cache),
    F("SECURE_FLASH_PSEUDO_ROUND_FUNC", fe_pseudo_round),
    F("SECURE_BOOT_FLASH_ENC_KEYS_BURN_TOGETHER", keys_burn_together),
    F("SECURE_FLASH_ENCRYPT_ONLY_IMAGE_LEN_IN_APP_PART", fe_only_image_len),
    F("SECURE_INSECURE_ALLOW_DL_MODE", insecure_allow_dl),
};
#undef F

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static espsec_err_t set_value(espsec_device_config_t *c, const char *key, const char *val, int on, const char *name,
                              int line, espsec_error_t *err)
{
    for (size_t i = 0; i < sizeof(FLAGS) / sizeof(FLAGS[0]); i++) {
        if (strcmp(key, FLAGS[i].key) == 0) {
            *(int *)((char *)c + FLAGS[i].off) = on;
            return ESPSEC_OK;
        }
    }
    if (strcmp(key, "SECURE_BOOT_V1_ENABLED") == 0 && on) {
        c->secure_boot_version = 1;
    } else if (strcmp(key, "SECURE_BOOT_V2_ENABLED") == 0 && on) {
        c->secure_boot_version = 2;
    } else if (strcmp(key, "SECURE_BOOT_V2_ECC_ENABLED") == 0 && on) {
        c->sb_scheme = ESPSEC_SB_ECDSA256;
    } else if (strcmp(key, "SECURE_BOOT_ECDSA_KEY_LEN_192_BITS") == 0 && on) {
        c->sb_scheme = ESPSEC_SB_ECDSA192;
    } else if (strcmp(key, "SECURE_BOOT_ECDSA_KEY_LEN_384_BITS") == 0 && on) {
        c->sb_scheme = ESPSEC_SB_ECDSA384;
    } else if (strcmp(key, "SECURE_FLASH_ENCRYPTION_MODE_DEVELOPMENT") == 0 && on) {
        c->flash_enc_release = 0;
    } else if (strcmp(key, "PARTITION_TABLE_OFFSET") == 0 && val != NULL) {
        uint64_t v;
        if (espsec_parse_u64(val, &v) != 0 || v % 0x1000 != 0 || v < 0x8000 || v > 0xFFFFFF) {
            return espsec_fail(err, ESPSEC_ERR_PARSE,
                               "%s: line %d: CONFIG_PARTITION_TABLE_OFFSET=%s: a 4 KiB-aligned offset from 0x8000 "
                               "expected",
                               name, line, val);
        }
        c->pt_offset = (uint32_t)v;
    } else if (strncmp(key, "SECURE_FLASH_PSEUDO_ROUND_FUNC_STRENGTH_", 40) == 0 && on) {
        const char *lvl = key + 40;
        c->fe_pseudo_strength = strcmp(lvl, "HIGH") == 0 ? 3 : strcmp(lvl, "MEDIUM") == 0 ? 2 : 1;
    } else if (strcmp(key, "SECURE_FLASH_ENCRYPTION_AES128") == 0 && on) {
        c->fe_aes256 = 0;
    } else if (strcmp(key, "SECURE_SIGNED_APPS_RSA_SCHEME") == 0 && on) {
        c->signed_scheme_v1 = 0;
    } else if (strcmp(key, "SECURE_SIGNED_APPS_ECDSA_V2_SCHEME") == 0 && on) {
        c->signed_scheme_v1 = 0;
        c->sb_scheme = c->sb_scheme == ESPSEC_SB_RSA3072 ? ESPSEC_SB_ECDSA256 : c->sb_scheme;
    } else if ((strcmp(key, "BOOTLOADER_APP_SEC_VER_SIZE_EFUSE_FIELD") == 0 || ((ends_with(key, "_REV_MIN_FULL") || ends_with(key, "_REV_MAX_FULL")) &&
                 strstr(key, "EFUSE") == NULL)) &&
               val != NULL) {
        uint64_t v;
        if (espsec_parse_u64(val, &v) != 0 || v > 0xFFFF) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: CONFIG_%s=%s: a number expected", name, line, key,
                               val);
        }
        if (key[0] == 'B') {
            c->sec_ver_efuse_bits = (int)v;
        } else if (ends_with(key, "_REV_MIN_FULL")) {
            c->rev_min_full = (int)v;
        } else {
            c->rev_max_full = (int)v;
        }
    } else if (strcmp(key, "NVS_SEC_HMAC_EFUSE_KEY_ID") == 0 && val != NULL) {
        c->nvs_hmac_key_id = (int)strtol(val, NULL, 10); /* out-of-range ids are refused where the id is used */
    } else if (strcmp(key, "IDF_TARGET") == 0 && val != NULL) {
        const espsec_chip_info_t *ci = espsec_chip_by_name(val);
        if (ci != NULL && !ci->has_security) {
            return espsec_fail(err, ESPSEC_ERR_CHIP, "%s: line %d: the %s has %s: there is nothing to provision or check",
                               name, line, ci->display,
                               ci->no_security_reason ? ci->no_security_reason : "no security features");
        }
        if (ci == NULL || ci->efuse == NULL) {
            char list[256];
            return espsec_fail(err, ESPSEC_ERR_NOT_SUPPORTED,
                               "%s: line %d: target '%s' is not modelled by the virtual device (%s)", name, line, val,
                               espsec_chip_efuse_names(list, sizeof(list)));
        }
        c->chip = ci->id;
        c->have_target = 1;
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_sdkconfig_parse(const char *text, size_t len, const char *name, espsec_device_config_t *cfg,
                                    espsec_error_t *err)
{
    espsec_device_config_default(cfg);
    size_t pos = 0;
    int line = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n') {
            end++;
        }
        line++;
        char buf[512] = "";
        size_t n = end - pos;
        if (n >= sizeof(buf)) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: line longer than %zu characters", name, line,
                               sizeof(buf) - 1);
        }
        memcpy(buf, text + pos, n);
        buf[n] = '\0';
        pos = end + 1;
        while (n > 0 && (buf[n - 1] == '\r' || isspace((unsigned char)buf[n - 1]))) {
            buf[--n] = '\0';
        }
        char *s = buf;
        while (isspace((unsigned char)*s)) {
            s++;
        }
        if (*s == '\0') {
            continue;
        }
        if (memchr(buf, '\0', n) != NULL && strlen(buf) != n) {
            return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: NUL byte in the text", name, line);
        }
        if (*s == '#') {
            /* "# CONFIG_X is not set" */
            char key[128];
            if (sscanf(s, "# CONFIG_%127[A-Za-z0-9_] is not set", key) == 1) {
                espsec_err_t rc = set_value(cfg, key, NULL, 0, name, line, err);
                if (rc != ESPSEC_OK) {
                    return rc;
                }
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (strncmp(s, "CONFIG_", 7) != 0 || eq == NULL || eq == s + 7) {
            return espsec_fail(err, ESPSEC_ERR_PARSE,
                               "%s: line %d: '%.60s': CONFIG_NAME=value or a '#' comment expected", name, line, s);
        }
        *eq = '\0';
        char *key = s + 7, *val = eq + 1;
        for (char *k = key; *k; k++) {
            if (!isalnum((unsigned char)*k) && *k != '_') {
                return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: '%s' is not a config name", name, line, key);
            }
        }
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        espsec_err_t rc = set_value(cfg, key, val, strcmp(val, "y") == 0, name, line, err);
        if (rc != ESPSEC_OK) {
            return rc;
        }
    }
    const espsec_chip_info_t *ci = espsec_chip_by_id(cfg->chip);
    if (cfg->secure_boot && ci != NULL && cfg->secure_boot_version == 1 && !(ci->sb.versions & ESPSEC_SBCAP_V1)) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "%s: Secure Boot V1 does not exist on the %s", name, ci->display);
    }
    return ESPSEC_OK;
}
