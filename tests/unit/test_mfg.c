/*
 * Manufacturing through the library: reproducible per-device keys, shards
 * that add up to the whole run, statistics, and each device's partition
 * mounting with its own key.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "espsec/flash.h"
#include "espsec/io.h"
#include "espsec/mfg.h"
#include "espsec/nvs.h"
#include "test.h"

static const char CONF[] = "dev,namespace,\nserial,data,string\nidx,data,u32\nsite,data,string,REPEAT\n";

static char *values(int n, size_t *len)
{
    size_t cap = 64 + (size_t)n * 40;
    char *v = malloc(cap);
    size_t l = (size_t)snprintf(v, cap, "serial,idx,site\n");
    for (int i = 0; i < n; i++) {
        l += (size_t)snprintf(v + l, cap - l, "S%04d,%d,%s\n", i, i, i == 0 ? "line-7" : "");
    }
    *len = l;
    return v;
}

static uint8_t *file(const char *dir, const char *sub, const char *name, size_t *len)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s/%s", dir, sub, name);
    uint8_t *b = NULL;
    if (espsec_read_file(p, &b, len, 0, NULL) != ESPSEC_OK) {
        return NULL;
    }
    return b;
}

static void run(const char *dir, size_t first, size_t count, int jobs, espsec_mfg_stats_t *st)
{
    size_t vl;
    char *v = values(50, &vl);
    uint8_t seed[32];
    memset(seed, 7, sizeof(seed));
    espsec_mfg_opts_t o = {.conf_name = "conf.csv", .values_name = "values.csv", .prefix = "d", .size = 0x3000,
                           .version = 2, .outdir = dir, .fileid = "serial", .keygen = 1, .jobs = jobs,
                           .first_row = first, .row_count = count, .random_seed = seed};
    espsec_error_t err;
    CHECK_OK(espsec_mfg_generate(CONF, sizeof(CONF) - 1, v, vl, &o, st, &err));
    free(v);
}

int main(void)
{
    char a[] = "/tmp/espsec-mfg-XXXXXX", b[] = "/tmp/espsec-mfg-XXXXXX";
    if (mkdtemp(a) == NULL || mkdtemp(b) == NULL) {
        return 2;
    }
    espsec_mfg_stats_t st;
    run(a, 0, 0, 3, &st);
    CHECK(st.devices == 50 && st.seconds > 0);
    /* the same seed in two shards on one job gives the same bytes as one run on three */
    run(b, 0, 20, 1, &st);
    CHECK(st.devices == 20);
    run(b, 20, 30, 1, &st);
    CHECK(st.devices == 30);
    for (int i = 0; i < 50; i++) {
        char name[64];
        size_t la = 0, lb = 0, ka = 0, kb = 0;
        snprintf(name, sizeof(name), "d-S%04d.bin", i);
        uint8_t *x = file(a, "bin", name, &la), *y = file(b, "bin", name, &lb);
        snprintf(name, sizeof(name), "keys-d-S%04d.bin", i);
        uint8_t *kx = file(a, "keys", name, &ka), *ky = file(b, "keys", name, &kb);
        CHECK(x && y && la == 0x3000 && la == lb && memcmp(x, y, la) == 0);
        CHECK(kx && ky && ka == 4096 && memcmp(kx, ky, ka) == 0);
        /* each partition mounts with its own key and holds its row (and the repeated value) */
        espsec_nvs_keys_t k;
        espsec_flash_t *f = NULL;
        espsec_nvs_t *n = NULL;
        espsec_nvs_handle_t h;
        if (x && kx && espsec_nvs_keys_parse(kx, ka, &k, NULL) == ESPSEC_OK &&
            espsec_flash_from(x, la, &f, NULL) == ESPSEC_OK && espsec_nvs_mount(f, 0, 0x3000, &k, &n, NULL) == ESPSEC_OK &&
            espsec_nvs_open(n, "dev", ESPSEC_NVS_READONLY, &h) == ESPSEC_OK) {
            uint32_t idx = 0;
            char site[16];
            size_t sl = sizeof(site);
            CHECK(espsec_nvs_get_u32(n, h, "idx", &idx) == ESPSEC_OK && idx == (uint32_t)i);
            CHECK(espsec_nvs_get_str(n, h, "site", site, &sl) == ESPSEC_OK && strcmp(site, "line-7") == 0);
        } else {
            CHECK(!"device partition does not mount with its key");
        }
        espsec_nvs_unmount(n);
        espsec_flash_free(f);
        free(x);
        free(y);
        free(kx);
        free(ky);
    }
    /* the keys differ per device */
    size_t l0, l1;
    uint8_t *k0 = file(a, "keys", "keys-d-S0000.bin", &l0), *k1 = file(a, "keys", "keys-d-S0001.bin", &l1);
    CHECK(k0 && k1 && memcmp(k0, k1, 64) != 0);
    free(k0);
    free(k1);
    /* a second run into the same folder replaces nothing */
    size_t vl;
    char *v = values(50, &vl);
    espsec_mfg_opts_t o = {.conf_name = "conf.csv", .values_name = "values.csv", .prefix = "d", .size = 0x3000,
                           .version = 2, .outdir = a, .fileid = "serial", .jobs = 2};
    espsec_error_t err;
    CHECK(espsec_mfg_generate(CONF, sizeof(CONF) - 1, v, vl, &o, &st, &err) == ESPSEC_ERR_EXISTS);
    CHECK_MSG(err, "already exists");
    free(v);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s %s", a, b);
    if (system(cmd) != 0) {
        return 2;
    }
    return test_done();
}
