/*
 * A random NVS workload with a shadow model of what is committed, for the
 * power-cut tests: run it on an emulated flash, cut the power at any flash
 * operation, remount, and check every key against the model.
 */
#ifndef ESPSEC_NVS_WORKLOAD_H
#define ESPSEC_NVS_WORKLOAD_H

#include "espsec/nvs.h"
#include "test.h"

#define WL_KEYS 10
#define WL_NS 2
#define WL_MAXVAL 6000

typedef struct {
    int present;
    uint8_t type; /* ESPSEC_NVS_TYPE_U32, _STR or _BLOB */
    size_t len;
    uint8_t data[WL_MAXVAL];
} wl_value_t;

typedef struct {
    wl_value_t v[WL_NS][WL_KEYS];
    /* the operation in flight when the power went: its keys may hold old or new */
    int inflight_ns, inflight_key; /* -1: none; key -2: the whole namespace (erase_all) */
    wl_value_t pending;
} wl_model_t;

static const char *const WL_NS_NAMES[WL_NS] = {"storage", "wifi"};

static inline void wl_key(int k, char out[16])
{
    snprintf(out, 16, "key%02d", k);
}

/* One operation; returns the NVS result. The model is updated on success. */
static inline espsec_err_t wl_step(espsec_nvs_t *n, espsec_nvs_handle_t h[WL_NS], wl_model_t *m, uint64_t *rng)
{
    int ns = (int)(t_rand(rng) % WL_NS), k = (int)(t_rand(rng) % WL_KEYS);
    char key[16];
    wl_key(k, key);
    unsigned op = (unsigned)(t_rand(rng) % 100);
    wl_value_t *nv = &m->pending;
    memset(nv, 0, offsetof(wl_value_t, data));
    m->inflight_ns = ns;
    m->inflight_key = k;
    espsec_err_t rc;
    if (op < 40) {
        uint32_t v = (uint32_t)t_rand(rng);
        nv->present = 1;
        nv->type = ESPSEC_NVS_TYPE_U32;
        nv->len = 4;
        memcpy(nv->data, &v, 4);
        rc = espsec_nvs_set_u32(n, h[ns], key, v);
    } else if (op < 65) {
        size_t len = (size_t)(t_rand(rng) % 300);
        nv->present = 1;
        nv->type = ESPSEC_NVS_TYPE_STR;
        for (size_t i = 0; i < len; i++) {
            nv->data[i] = (uint8_t)('a' + t_rand(rng) % 26);
        }
        nv->data[len] = 0;
        nv->len = len + 1;
        rc = espsec_nvs_set_str(n, h[ns], key, (const char *)nv->data);
    } else if (op < 85) {
        size_t len = (size_t)(t_rand(rng) % (op < 80 ? 700 : WL_MAXVAL));
        nv->present = 1;
        nv->type = ESPSEC_NVS_TYPE_BLOB;
        nv->len = len;
        for (size_t i = 0; i < len; i++) {
            nv->data[i] = (uint8_t)t_rand(rng);
        }
        rc = espsec_nvs_set_blob(n, h[ns], key, nv->data, len);
    } else if (op < 97) {
        rc = espsec_nvs_erase_key(n, h[ns], key);
        if (rc == ESP_ERR_NVS_NOT_FOUND) {
            rc = ESPSEC_OK;
        }
    } else {
        m->inflight_key = -2;
        rc = espsec_nvs_erase_all(n, h[ns]);
    }
    if (rc == ESPSEC_OK) {
        if (m->inflight_key == -2) {
            for (int i = 0; i < WL_KEYS; i++) {
                m->v[ns][i].present = 0;
            }
        } else {
            memcpy(&m->v[ns][k], nv, offsetof(wl_value_t, data) + nv->len);
        }
        m->inflight_ns = m->inflight_key = -1;
    } else if (rc == ESP_ERR_NVS_NOT_ENOUGH_SPACE) {
        /* refused before anything was written: the old value stays */
        m->inflight_ns = m->inflight_key = -1;
        rc = ESPSEC_OK;
    }
    return rc;
}

/* Does the stored value of (ns, k) equal v? */
static inline int wl_matches(espsec_nvs_t *n, espsec_nvs_handle_t h, int k, const wl_value_t *v)
{
    char key[16];
    wl_key(k, key);
    static uint8_t buf[WL_MAXVAL];
    size_t len = sizeof(buf);
    espsec_err_t rc;
    if (!v->present) {
        uint32_t u;
        rc = espsec_nvs_get_u32(n, h, key, &u);
        return rc == ESP_ERR_NVS_NOT_FOUND;
    }
    switch (v->type) {
    case ESPSEC_NVS_TYPE_U32: {
        uint32_t u;
        rc = espsec_nvs_get_u32(n, h, key, &u);
        return rc == ESPSEC_OK && memcmp(&u, v->data, 4) == 0;
    }
    case ESPSEC_NVS_TYPE_STR:
        rc = espsec_nvs_get_str(n, h, key, (char *)buf, &len);
        return rc == ESPSEC_OK && len == v->len && memcmp(buf, v->data, len) == 0;
    default:
        rc = espsec_nvs_get_blob(n, h, key, buf, &len);
        return rc == ESPSEC_OK && len == v->len && memcmp(buf, v->data, len) == 0;
    }
}

/* After a remount: every key holds its committed value, or for the key in
 * flight, its old or its new value. Returns the number of violations. */
static inline int wl_verify(espsec_nvs_t *n, espsec_nvs_handle_t h[WL_NS], const wl_model_t *m, int verbose)
{
    int bad = 0;
    for (int ns = 0; ns < WL_NS; ns++) {
        for (int k = 0; k < WL_KEYS; k++) {
            const wl_value_t *old = &m->v[ns][k];
            int ok = wl_matches(n, h[ns], k, old);
            if (!ok && m->inflight_ns == ns && m->inflight_key == k) {
                ok = wl_matches(n, h[ns], k, &m->pending);
            }
            if (!ok && m->inflight_ns == ns && m->inflight_key == -2) {
                wl_value_t absent;
                absent.present = 0;
                ok = wl_matches(n, h[ns], k, &absent);
            }
            if (!ok) {
                if (verbose) {
                    fprintf(stderr, "  %s/key%02d: neither its committed value nor (if in flight) the new one\n",
                            WL_NS_NAMES[ns], k);
                }
                bad++;
            }
        }
    }
    return bad;
}

/* After an operation completed, adopt the state the store now shows for the
 * key in flight (old or new) as committed. */
static inline void wl_settle(espsec_nvs_t *n, espsec_nvs_handle_t h[WL_NS], wl_model_t *m)
{
    if (m->inflight_ns < 0) {
        return;
    }
    int ns = m->inflight_ns;
    for (int k = 0; k < WL_KEYS; k++) {
        if (m->inflight_key != -2 && m->inflight_key != k) {
            continue;
        }
        if (m->inflight_key == k && wl_matches(n, h[ns], k, &m->pending)) {
            memcpy(&m->v[ns][k], &m->pending, offsetof(wl_value_t, data) + m->pending.len);
        } else if (m->inflight_key == -2 && !wl_matches(n, h[ns], k, &m->v[ns][k])) {
            m->v[ns][k].present = 0;
        }
    }
    m->inflight_ns = m->inflight_key = -1;
}

#endif
