/*
 * Power-cut sweep: a random workload of sets, erases and blobs over a
 * 5-page partition; the power is cut at a flash operation (cleanly, or
 * tearing the operation), the partition is remounted, and every key must
 * hold its committed value (the key in flight: old or new). Then the store
 * must keep working: more operations, another remount, another check.
 *
 *   test_nvs_powercut           a sample of cut points (default suite)
 *   test_nvs_powercut --long    every cut point, three workloads, plus a
 *                               second cut during each recovery
 */
#include <time.h>

#include "espsec/flash.h"
#include "nvs_workload.h"

#define PART 0x5000
#define NOPS 400

typedef struct {
    long trials, cuts, violations, mount_failures, recovery_ops;
} stats_t;

static espsec_nvs_keys_t KEYS;

static int open_all(espsec_nvs_t *n, espsec_nvs_handle_t h[WL_NS])
{
    for (int i = 0; i < WL_NS; i++) {
        if (espsec_nvs_open(n, WL_NS_NAMES[i], ESPSEC_NVS_READWRITE, &h[i]) != ESPSEC_OK) {
            return -1;
        }
    }
    return 0;
}

/* Run the workload; returns the flash op count reached (no cut). */
static uint64_t dry_run(uint64_t seed, int encrypted)
{
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_nvs_handle_t h[WL_NS];
    static wl_model_t m;
    memset(&m, 0, sizeof(m));
    espsec_flash_new(PART, &f, NULL);
    espsec_nvs_mount(f, 0, PART, encrypted ? &KEYS : NULL, &n, NULL);
    open_all(n, h);
    uint64_t start = espsec_flash_op_count(f);
    uint64_t rng = seed;
    for (int i = 0; i < NOPS; i++) {
        if (wl_step(n, h, &m, &rng) != ESPSEC_OK) {
            fprintf(stderr, "workload op %d failed without a cut\n", i);
            t_failures++;
            break;
        }
    }
    uint64_t ops = espsec_flash_op_count(f) - start;
    espsec_nvs_unmount(n);
    espsec_flash_free(f);
    return ops;
}

/*
 * One trial: cut after `cut` ops of the workload (tear or not); if
 * second_cut >= 0, cut again during the remount's recovery.
 */
static void trial(uint64_t seed, int encrypted, uint64_t cut, int tear, long second_cut, stats_t *st)
{
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_nvs_handle_t h[WL_NS];
    static wl_model_t m;
    memset(&m, 0, sizeof(m));
    m.inflight_ns = m.inflight_key = -1;
    const espsec_nvs_keys_t *keys = encrypted ? &KEYS : NULL;
    espsec_flash_new(PART, &f, NULL);
    espsec_nvs_mount(f, 0, PART, keys, &n, NULL);
    open_all(n, h);
    st->trials++;
    espsec_flash_cut_after(f, cut, tear, seed ^ cut);
    uint64_t rng = seed;
    int was_cut = 0;
    for (int i = 0; i < NOPS; i++) {
        espsec_err_t rc = wl_step(n, h, &m, &rng);
        if (espsec_flash_is_cut(f)) {
            was_cut = 1;
            break;
        }
        if (rc != ESPSEC_OK) {
            fprintf(stderr, "seed %llu cut %llu: op %d failed (%s) before the cut\n", (unsigned long long)seed,
                    (unsigned long long)cut, i, espsec_err_to_name(rc));
            st->violations++;
            break;
        }
    }
    espsec_nvs_unmount(n);
    n = NULL;
    if (!was_cut) {
        espsec_flash_free(f);
        return;
    }
    st->cuts++;
    espsec_flash_power_on(f);
    espsec_error_t err;
    if (second_cut >= 0) {
        /* cut again while the mount repairs, then mount once more */
        espsec_flash_cut_after(f, (uint64_t)second_cut, tear, seed ^ (cut * 31));
        if (espsec_nvs_mount(f, 0, PART, keys, &n, &err) == ESPSEC_OK) {
            espsec_nvs_unmount(n);
            n = NULL;
        }
        espsec_flash_power_on(f);
    }
    uint64_t before = espsec_flash_op_count(f);
    if (espsec_nvs_mount(f, 0, PART, keys, &n, &err) != ESPSEC_OK || open_all(n, h) != 0) {
        fprintf(stderr, "seed %llu cut %llu tear %d: remount failed: %s\n", (unsigned long long)seed,
                (unsigned long long)cut, tear, err.msg);
        st->mount_failures++;
        espsec_nvs_unmount(n);
        espsec_flash_free(f);
        return;
    }
    st->recovery_ops += (long)(espsec_flash_op_count(f) - before);
    int bad = wl_verify(n, h, &m, 1);
    if (bad) {
        fprintf(stderr, "seed %llu cut %llu tear %d second %ld: %d keys wrong after remount\n",
                (unsigned long long)seed, (unsigned long long)cut, tear, second_cut, bad);
        st->violations += bad;
    }
    /* the store keeps working after the repair */
    wl_settle(n, h, &m);
    for (int i = 0; i < 25 && !bad; i++) {
        espsec_err_t rc = wl_step(n, h, &m, &rng);
        if (rc != ESPSEC_OK) {
            fprintf(stderr, "seed %llu cut %llu: op after recovery failed: %s\n", (unsigned long long)seed,
                    (unsigned long long)cut, espsec_err_to_name(rc));
            st->violations++;
            break;
        }
    }
    espsec_nvs_unmount(n);
    n = NULL;
    if (espsec_nvs_mount(f, 0, PART, keys, &n, &err) != ESPSEC_OK || open_all(n, h) != 0) {
        st->mount_failures++;
    } else {
        int bad2 = wl_verify(n, h, &m, 1);
        if (bad2) {
            fprintf(stderr, "seed %llu cut %llu tear %d: %d keys wrong after work following recovery\n",
                    (unsigned long long)seed, (unsigned long long)cut, tear, bad2);
            st->violations += bad2;
        }
    }
    espsec_nvs_unmount(n);
    espsec_flash_free(f);
}

static void sweep(uint64_t seed, int encrypted, uint64_t step, int second_cuts, const char *label)
{
    stats_t st = {0};
    uint64_t total = dry_run(seed, encrypted);
    time_t t0 = time(NULL);
    for (uint64_t c = 0; c <= total; c += step) {
        for (int tear = 0; tear < 2; tear++) {
            trial(seed, encrypted, c, tear, -1, &st);
            if (second_cuts) {
                for (long s = 0; s < 12; s++) {
                    trial(seed, encrypted, c, tear, s, &st);
                }
            }
        }
    }
    printf("%s: seed %llu, %llu flash ops in the workload, every %llu-th cut point, %ld trials, %ld cuts, "
           "%ld violations, %ld failed remounts, %.1f recovery ops per cut, %lds\n",
           label, (unsigned long long)seed, (unsigned long long)total, (unsigned long long)step, st.trials, st.cuts,
           st.violations, st.mount_failures, st.cuts ? (double)st.recovery_ops / (double)st.cuts : 0.0,
           (long)(time(NULL) - t0));
    CHECK(st.violations == 0);
    CHECK(st.mount_failures == 0);
    CHECK(st.cuts > 0);
}

/* A cut while a namespace is being created: the namespace then exists or not, and opening works. */
static void namespace_cuts(void)
{
    for (uint64_t c = 0; c < 4; c++) {
        for (int tear = 0; tear < 2; tear++) {
            espsec_flash_t *f = NULL;
            espsec_nvs_t *n = NULL;
            espsec_nvs_handle_t h;
            espsec_flash_new(PART, &f, NULL);
            espsec_nvs_mount(f, 0, PART, NULL, &n, NULL);
            espsec_flash_cut_after(f, c, tear, c + 7);
            espsec_err_t rc = espsec_nvs_open(n, "config", ESPSEC_NVS_READWRITE, &h);
            espsec_nvs_unmount(n);
            espsec_flash_power_on(f);
            CHECK_OK(espsec_nvs_mount(f, 0, PART, NULL, &n, NULL));
            CHECK_OK(espsec_nvs_open(n, "config", ESPSEC_NVS_READWRITE, &h));
            CHECK_OK(espsec_nvs_set_u8(n, h, "x", 1));
            espsec_nvs_stats_t st;
            CHECK_OK(espsec_nvs_get_stats(n, &st));
            CHECK(st.namespace_count == 1);
            (void)rc;
            espsec_nvs_unmount(n);
            espsec_flash_free(f);
        }
    }
}

/* What the workload does: how many of its operations succeed, by kind. */
static void describe(uint64_t seed)
{
    espsec_flash_t *f = NULL;
    espsec_nvs_t *n = NULL;
    espsec_nvs_handle_t h[WL_NS];
    static wl_model_t m;
    memset(&m, 0, sizeof(m));
    espsec_flash_new(PART, &f, NULL);
    espsec_nvs_mount(f, 0, PART, NULL, &n, NULL);
    open_all(n, h);
    uint64_t rng = seed;
    int kinds[4] = {0};
    for (int i = 0; i < NOPS; i++) {
        uint64_t peek = rng;
        t_rand(&peek);
        t_rand(&peek);
        unsigned op = (unsigned)(t_rand(&peek) % 100);
        wl_step(n, h, &m, &rng);
        kinds[op < 40 ? 0 : op < 65 ? 1 : op < 85 ? 2 : 3]++;
    }
    printf("workload of %d operations: %d u32 sets, %d string sets, %d blob sets (up to %d bytes), %d erases, on a "
           "%d-page partition\n",
           NOPS, kinds[0], kinds[1], kinds[2], WL_MAXVAL, kinds[3], PART / 4096);
    espsec_nvs_unmount(n);
    espsec_flash_free(f);
}

int main(int argc, char **argv)
{
    int longrun = argc > 1 && strcmp(argv[1], "--long") == 0;
    for (int i = 0; i < 32; i++) {
        KEYS.eky[i] = (uint8_t)(i * 3 + 1);
        KEYS.tky[i] = (uint8_t)(i * 5 + 2);
    }
    describe(1);
    namespace_cuts();
    if (longrun) {
        for (uint64_t seed = 1; seed <= 40; seed++) {
            sweep(seed, seed % 4 == 0, 1, 0, seed % 4 == 0 ? "exhaustive, encrypted" : "exhaustive");
        }
        sweep(41, 0, 1, 1, "exhaustive double cuts");
        sweep(42, 1, 3, 1, "double cuts, encrypted");
    } else {
        sweep(1, 0, 1, 0, "exhaustive");
        sweep(3, 1, 1, 0, "exhaustive, encrypted");
        sweep(4, 0, 13, 1, "sample of double cuts");
    }
    return test_done();
}
