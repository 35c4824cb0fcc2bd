/* The chip registry and lookups (espsec/chip.h). */
#include "espsec/chip.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "chip/kp_common.h"

/* esptool's order of targets */
static const espsec_chip_info_t *const CHIPS[] = {
    &CHIP_ESP32,   &CHIP_ESP32S2, &CHIP_ESP32S3,  &CHIP_ESP32C3, &CHIP_ESP32C2,  &CHIP_ESP32C6,
    &CHIP_ESP32C61, &CHIP_ESP32C5, &CHIP_ESP32H2, &CHIP_ESP32H21, &CHIP_ESP32H4, &CHIP_ESP32P4,
    &CHIP_ESP32S31, &CHIP_ESP32E22, &CHIP_ESP8266,
};

size_t espsec_chip_count(void)
{
    return sizeof(CHIPS) / sizeof(CHIPS[0]);
}

const espsec_chip_info_t *espsec_chip_at(size_t i)
{
    return i < espsec_chip_count() ? CHIPS[i] : NULL;
}

const espsec_chip_info_t *espsec_chip_by_name(const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    char norm[32];
    size_t n = 0;
    for (const char *p = name; *p; p++) {
        if (*p == '-' || *p == '_') {
            continue;
        }
        if (n + 1 >= sizeof(norm)) {
            return NULL;
        }
        norm[n++] = (char)((*p >= 'A' && *p <= 'Z') ? *p - 'A' + 'a' : *p);
    }
    norm[n] = '\0';
    for (size_t i = 0; i < espsec_chip_count(); i++) {
        if (strcmp(CHIPS[i]->name, norm) == 0) {
            return CHIPS[i];
        }
    }
    return NULL;
}

const espsec_chip_info_t *espsec_chip_by_id(espsec_chip_t id)
{
    for (size_t i = 0; i < espsec_chip_count(); i++) {
        if (CHIPS[i]->id == id) {
            return CHIPS[i];
        }
    }
    return NULL;
}

const espsec_chip_info_t *espsec_chip_default(void)
{
    return &CHIP_ESP32;
}

const char *espsec_chip_display_name(espsec_chip_t chip)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(chip);
    return c ? c->display : "Unknown ID";
}

const char *espsec_chip_name(espsec_chip_t chip)
{
    const espsec_chip_info_t *c = espsec_chip_by_id(chip);
    return c ? c->name : "unknown";
}

espsec_chip_t espsec_chip_from_name(const char *name)
{
    const espsec_chip_info_t *c = espsec_chip_by_name(name);
    return c ? c->id : ESPSEC_CHIP_UNKNOWN;
}

const espsec_key_purpose_t *espsec_chip_key_purpose(const espsec_chip_info_t *c, const char *name)
{
    if (c == NULL || c->key_purposes == NULL || name == NULL) {
        return NULL;
    }
    for (const espsec_key_purpose_t *k = c->key_purposes; k->name != NULL; k++) {
        if (strcasecmp(k->name, name) == 0) {
            return k;
        }
    }
    return NULL;
}

const espsec_key_purpose_t *espsec_chip_key_purpose_by_value(const espsec_chip_info_t *c, int value)
{
    if (c == NULL || c->key_purposes == NULL) {
        return NULL;
    }
    for (const espsec_key_purpose_t *k = c->key_purposes; k->name != NULL; k++) {
        if (k->value == value) {
            return k;
        }
    }
    return NULL;
}

uint16_t espsec_chip_min_rev(const espsec_chip_info_t *c, const char *feature)
{
    if (c == NULL || c->rev_reqs == NULL) {
        return 0;
    }
    for (const espsec_chip_rev_req_t *r = c->rev_reqs; r->feature != NULL; r++) {
        if (strstr(r->feature, feature) != NULL) {
            return r->min_rev;
        }
    }
    return 0;
}

const char *espsec_chip_efuse_names(char *buf, size_t cap)
{
    size_t n = 0;
    if (cap == 0) {
        return buf;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < espsec_chip_count(); i++) {
        if (CHIPS[i]->efuse == NULL) {
            continue;
        }
        int w = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", CHIPS[i]->name);
        if (w < 0 || (size_t)w >= cap - n) {
            break;
        }
        n += (size_t)w;
    }
    return buf;
}
