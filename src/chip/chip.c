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

/* espefuse's custom purposes for the values a chip leaves unassigned: CUSTOM_n, CUSTOM_DIGEST_n (n < 32),
 * then CUSTOM_MAX / CUSTOM_DIGEST_MAX for the widths 4 and 5. */
#define KP_CUSTOM_PAIR(n) {"CUSTOM_" #n, n, ESPSEC_KP_CUSTOM}, {"CUSTOM_DIGEST_" #n, n, ESPSEC_KP_CUSTOM | ESPSEC_KP_DIGEST}
static const espsec_key_purpose_t CUSTOM_KP[] = {
    KP_CUSTOM_PAIR(0),  KP_CUSTOM_PAIR(1),  KP_CUSTOM_PAIR(2),  KP_CUSTOM_PAIR(3),  KP_CUSTOM_PAIR(4),
    KP_CUSTOM_PAIR(5),  KP_CUSTOM_PAIR(6),  KP_CUSTOM_PAIR(7),  KP_CUSTOM_PAIR(8),  KP_CUSTOM_PAIR(9),
    KP_CUSTOM_PAIR(10), KP_CUSTOM_PAIR(11), KP_CUSTOM_PAIR(12), KP_CUSTOM_PAIR(13), KP_CUSTOM_PAIR(14),
    KP_CUSTOM_PAIR(15), KP_CUSTOM_PAIR(16), KP_CUSTOM_PAIR(17), KP_CUSTOM_PAIR(18), KP_CUSTOM_PAIR(19),
    KP_CUSTOM_PAIR(20), KP_CUSTOM_PAIR(21), KP_CUSTOM_PAIR(22), KP_CUSTOM_PAIR(23), KP_CUSTOM_PAIR(24),
    KP_CUSTOM_PAIR(25), KP_CUSTOM_PAIR(26), KP_CUSTOM_PAIR(27), KP_CUSTOM_PAIR(28), KP_CUSTOM_PAIR(29),
    KP_CUSTOM_PAIR(30), KP_CUSTOM_PAIR(31),
};
static const espsec_key_purpose_t CUSTOM_MAX_KP[][2] = {
    {{"CUSTOM_MAX", 15, ESPSEC_KP_CUSTOM}, {"CUSTOM_DIGEST_MAX", 15, ESPSEC_KP_CUSTOM | ESPSEC_KP_DIGEST}},
    {{"CUSTOM_MAX", 31, ESPSEC_KP_CUSTOM}, {"CUSTOM_DIGEST_MAX", 31, ESPSEC_KP_CUSTOM | ESPSEC_KP_DIGEST}},
};

static int own_value(const espsec_chip_info_t *c, int value)
{
    for (const espsec_key_purpose_t *k = c->key_purposes; k->name != NULL; k++) {
        if (k->value == value) {
            return 1;
        }
    }
    return 0;
}

const espsec_key_purpose_t *espsec_chip_key_purpose_at(const espsec_chip_info_t *c, size_t i)
{
    if (c == NULL || c->key_purposes == NULL) {
        return NULL;
    }
    size_t own = 0;
    while (c->key_purposes[own].name != NULL) {
        own++;
    }
    if (i < own) {
        return &c->key_purposes[i];
    }
    i -= own;
    if (c->custom_purpose_bits != 4 && c->custom_purpose_bits != 5) {
        return NULL;
    }
    int top = (1 << c->custom_purpose_bits) - 1;
    for (int v = 0; v <= top; v++) {
        if (own_value(c, v)) {
            continue;
        }
        if (i < 2) {
            return &CUSTOM_KP[2 * v + (int)i];
        }
        i -= 2;
    }
    return i < 2 ? &CUSTOM_MAX_KP[c->custom_purpose_bits - 4][i] : NULL;
}

const espsec_key_purpose_t *espsec_chip_key_purpose(const espsec_chip_info_t *c, const char *name)
{
    if (name == NULL) {
        return NULL;
    }
    const espsec_key_purpose_t *k;
    for (size_t i = 0; (k = espsec_chip_key_purpose_at(c, i)) != NULL; i++) {
        if (strcasecmp(k->name, name) == 0) {
            return k;
        }
    }
    return NULL;
}

const espsec_key_purpose_t *espsec_chip_key_purpose_by_value(const espsec_chip_info_t *c, int value)
{
    const espsec_key_purpose_t *k;
    for (size_t i = 0; (k = espsec_chip_key_purpose_at(c, i)) != NULL; i++) {
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
