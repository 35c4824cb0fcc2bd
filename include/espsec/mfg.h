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
#include "espsec/secure_cert.h"

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
    /* mfg_gen's HMAC-based key protection: NVS keys derived from an HMAC key, a fresh one per device
     * (keys/hmac-keys-PREFIX-ID.bin, 0600) or kp_hmac_inputkey (32 bytes) for every device */
    int key_protect_hmac;
    int kp_hmac_keygen;
    const uint8_t *kp_hmac_inputkey;
    /* mfg_gen's --prefix_num START LEN: files named PREFIX-NNN-ID, NNN = START + row index, LEN digits at least */
    int prefix_num;
    unsigned long long prefix_num_start;
    int prefix_num_len;
    int no_nvs;                  /* no NVS partitions (conf unused): secure-cert partitions only */
    /* esp_secure_cert partitions, one per device (OUTDIR/secure_cert/PREFIX-ID.bin, 0600), from the files the
     * values row names in these columns (NULL: the column is not used); entries as espsec_sc_generate takes them */
    int secure_cert;
    const char *sc_ca_col, *sc_cert_col, *sc_key_col;
    const uint8_t *sc_ca;        /* one CA certificate for every device, or NULL */
    size_t sc_ca_len;
    const espsec_sc_opts_t *sc_opts; /* chip DS facts, signers, password, integrity (entries are per device) */
    const char *manifest;        /* write a manifest (CSV: row,device,kind,file,bytes,sha256) here, or NULL */
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

/* ---- Past one machine: shards on a batch engine ---- */

/** One shard of a plan: values rows [first, last] (counted from 1) into dir. */
typedef struct {
    size_t first, last;
    char dir[512];
} espsec_mfg_shard_t;

/** Device rows of a values CSV (the rows after its header, blank lines skipped). */
espsec_err_t espsec_mfg_count_rows(const char *values, size_t len, size_t *rows, espsec_error_t *err);

/** Split rows into n shards of nearly equal size (n <= rows), dirs BASE/shard-0000 ... */
espsec_err_t espsec_mfg_split(size_t rows, size_t n, const char *base, espsec_mfg_shard_t *out, espsec_error_t *err);

typedef struct {
    const char *espsec;   /* the espsec program the tasks run (absolute path, or a name on the task's PATH) */
    const char *conf, *values, *prefix, *size; /* generate's positionals (absolute paths) */
    const char *const *gen_args; /* more generate options, one word each */
    size_t ngen_args;
    const char *base;     /* the shared folder: shard dirs, plan.csv, logs */
    const char *job_name;
    const char *k8s_image, *k8s_pvc; /* Kubernetes: container image, claim mounted at base */
    int parallelism;      /* tasks at once (0: all) */
} espsec_mfg_plan_t;

/** The plan file (plan.csv: shard,first,last,dir) that mfg merge reads. *out is malloc'd. */
espsec_err_t espsec_mfg_plan_csv(const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n, char **out,
                                 size_t *len, espsec_error_t *err);
/** A Slurm job-array script: task SLURM_ARRAY_TASK_ID runs its shard. *out is malloc'd. */
espsec_err_t espsec_mfg_plan_slurm(const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n, char **out,
                                   size_t *len, espsec_error_t *err);
/** A Kubernetes Indexed Job: pod JOB_COMPLETION_INDEX runs its shard. *out is malloc'd. */
espsec_err_t espsec_mfg_plan_k8s(const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n, char **out,
                                 size_t *len, espsec_error_t *err);

typedef struct {
    size_t devices, files, shards;
    int hashed;
} espsec_mfg_merge_stats_t;

/**
 * Check that the shards of a plan add up, then write one manifest. Each shard
 * must have its manifest (a task that did not finish has none); its rows must
 * lie in its range; every row of the plan must appear exactly once; every
 * device must have the same kinds of file; every file must exist with its size
 * (and, unless !hash, its SHA-256). The merged manifest (paths relative to the
 * plan's base folder) is written to out_path, never over a file. err names the
 * shard, row or file at fault.
 */
espsec_err_t espsec_mfg_merge(const char *plan_path, const char *out_path, int hash, espsec_mfg_merge_stats_t *st,
                              espsec_error_t *err);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif

#endif
