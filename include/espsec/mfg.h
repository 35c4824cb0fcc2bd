/*
 * espsec/mfg.h — per-device NVS partitions for manufacturing, as ESP-IDF's
 * mfg_gen: a config CSV (key,type,encoding[,REPEAT], with namespace rows)
 * and a values CSV (a header of keys, one row per device) give, per device,
 * OUTDIR/csv/PREFIX-ID.csv (the device's nvs_partition_gen CSV),
 * OUTDIR/bin/PREFIX-ID.bin (its partition) and, with per-device keys,
 * OUTDIR/keys/keys-PREFIX-ID.bin (its nvs_keys partition, mode 0600). ID is
 * the value of the --fileid column, or the row number from 1.
 *
 * Devices are independent: rows are shared among worker threads, every
 * file is created atomically and never replaces an existing one, and the
 * output for a device depends only on its row and its keys.
 */
#ifndef ESPSEC_MFG_H
#define ESPSEC_MFG_H

#include <stddef.h>
#include <stdint.h>

#include "espsec/error.h"
#include "espsec/nvs.h"

#ifdef __cplusplus
extern "C" {
#endif
#pragma GCC visibility push(default) /* the public API of libespsec.so */

typedef struct {
    const char *conf_name, *values_name; /* for messages */
    const char *prefix;
    size_t size;                 /* partition size (multiple of 4096, >= 0x3000) */
    int version;                 /* 1 or 2 */
    const char *outdir;          /* default "." */
    const char *fileid;          /* values column naming each device's files, or NULL */
    int keygen;                  /* a fresh key per device */
    const espsec_nvs_keys_t *inputkey; /* or one key for all */
    int jobs;                    /* worker threads (0: one per core) */
    int sync_each;               /* fsync every file (default: one sync of the file system at the end) */
    int no_csv;                  /* skip the per-device CSV files (mfg_gen always writes them) */
    size_t first_row, row_count; /* a shard: rows [first_row, first_row + row_count) of the values (0, 0: all) */
    const uint8_t *random_seed;  /* 32 bytes: reproducible keys for tests */
    void (*progress)(void *ctx, size_t done, size_t total);
    void *progress_ctx;
} espsec_mfg_opts_t;

typedef struct {
    size_t devices;
    double seconds;
    /* summed over the workers, seconds of CPU */
    double t_values, t_layout, t_crypto, t_io;
} espsec_mfg_stats_t;

/**
 * Generate every device of the values CSV. On failure err names the values
 * row (line) and the cause; the devices already written stay (each one
 * complete), nothing partial is left.
 */
espsec_err_t espsec_mfg_generate(const char *conf, size_t conf_len, const char *values, size_t values_len,
                                 const espsec_mfg_opts_t *opts, espsec_mfg_stats_t *stats, espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
