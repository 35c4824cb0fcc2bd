/* espsec mfg: mfg_gen's commands, in parallel, with a progress bar. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "espsec/io.h"
#include "espsec/mfg.h"
#include "espsec/util.h"

typedef struct {
    struct timespec t0;
    int tty;
    size_t last;
} progress_t;

static void progress(void *ctx, size_t done, size_t total)
{
    progress_t *p = ctx;
    if (!p->tty || (done == p->last && done != total)) {
        return;
    }
    p->last = done;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (double)(now.tv_sec - p->t0.tv_sec) + (double)(now.tv_nsec - p->t0.tv_nsec) * 1e-9;
    double rate = el > 0 ? (double)done / el : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    char bar[64];
    for (int i = 0; i < width; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu devices, %.0f/s, %d:%02d left ", bar, done, total, rate, (int)left / 60,
            (int)left % 60);
    if (done == total) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

static int cmd_generate(cli_args_t *a)
{
    const char *conf_p = cli_pos(a, 0), *values_p = cli_pos(a, 1), *prefix = cli_pos(a, 2), *size_s = cli_pos(a, 3);
    uint64_t size;
    if (espsec_parse_u64(size_s, &size) != 0) {
        return cli_error("partition size '%s' is not a number (decimal or 0x hex)", size_s);
    }
    unsigned long long version, jobs;
    if (cli_u64(a, "version", 2, &version) != 0 || cli_u64(a, "jobs", 0, &jobs) != 0) {
        return 2;
    }
    if (version != 1 && version != 2) {
        return cli_error("--version %llu: 1 or 2 expected", version);
    }
    size_t first = 0, count = 0;
    const char *rows = cli_str(a, "rows");
    if (rows != NULL) {
        unsigned long long lo, hi;
        if (sscanf(rows, "%llu-%llu", &lo, &hi) != 2 || lo < 1 || hi < lo) {
            return cli_error("--rows '%s': FIRST-LAST (device rows, counted from 1) expected", rows);
        }
        first = (size_t)lo - 1;
        count = (size_t)(hi - lo + 1);
    }
    int keygen = cli_flag(a, "keygen");
    const char *inputkey = cli_str(a, "inputkey");
    if (keygen && inputkey) {
        return cli_error("--keygen and --inputkey both are not allowed");
    }
    espsec_error_t err;
    espsec_nvs_keys_t keys;
    if (inputkey != NULL) {
        uint8_t *kb = NULL;
        size_t kl = 0;
        if (espsec_read_file(inputkey, &kb, &kl, 1u << 20, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        espsec_err_t rc = espsec_nvs_keys_parse(kb, kl, &keys, &err);
        espsec_free_secret(kb, kl);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", inputkey);
            return cli_fail(&err);
        }
    }
    uint8_t *conf = NULL, *values = NULL;
    size_t cl = 0, vl = 0;
    if (espsec_read_file(conf_p, &conf, &cl, 16u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (espsec_read_file(values_p, &values, &vl, 4096u << 20, &err) != ESPSEC_OK) {
        free(conf);
        return cli_fail(&err);
    }
    progress_t pg = {.tty = isatty(2) && !cli_flag(a, "quiet")};
    clock_gettime(CLOCK_MONOTONIC, &pg.t0);
    espsec_mfg_opts_t o = {
        .conf_name = conf_p,
        .values_name = values_p,
        .prefix = prefix,
        .size = (size_t)size,
        .version = (int)version,
        .outdir = cli_str(a, "outdir"),
        .fileid = cli_str(a, "fileid"),
        .keygen = keygen,
        .inputkey = inputkey ? &keys : NULL,
        .jobs = (int)jobs,
        .sync_each = cli_flag(a, "sync"),
        .no_csv = cli_flag(a, "no-csv"),
        .first_row = first,
        .row_count = count,
        .progress = progress,
        .progress_ctx = &pg,
    };
    espsec_mfg_stats_t st;
    espsec_err_t rc = espsec_mfg_generate((const char *)conf, cl, (const char *)values, vl, &o, &st, &err);
    free(conf);
    free(values);
    espsec_wipe(&keys, sizeof(keys));
    if (rc != ESPSEC_OK) {
        if (pg.tty) {
            fputc('\n', stderr);
        }
        return cli_fail(&err);
    }
    printf("Generated %zu device partitions in %s (%.2f s, %.0f devices/s)\n", st.devices,
           o.outdir ? o.outdir : ".", st.seconds, st.seconds > 0 ? (double)st.devices / st.seconds : 0);
    if (cli_flag(a, "stats")) {
        double tot = st.t_values + st.t_layout + st.t_crypto + st.t_io;
        printf("CPU time in: values/CSV %.1f%%, NVS layout %.1f%%, encryption %.1f%%, file writes %.1f%% (%.2f s "
               "over the workers)\n",
               100 * st.t_values / tot, 100 * st.t_layout / tot, 100 * st.t_crypto / tot, 100 * st.t_io / tot, tot);
    }
    return 0;
}

static const cli_opt_t OPT_GEN[] = {
    {"outdir", 0, CLI_VALUE, "DIR", "Output folder: csv/, bin/ and keys/ are made under it (default: here)."},
    {"fileid", 0, CLI_VALUE, "KEY", "Values column naming each device's files (default: the row number from 1)."},
    {"version", 0, CLI_VALUE, "N", "NVS format version 1 or 2 (default)."},
    {"keygen", 0, CLI_FLAG, NULL, "Encrypt, with a fresh key per device (keys/keys-PREFIX-ID.bin, mode 0600)."},
    {"inputkey", 0, CLI_VALUE, "KEYS.bin", "Encrypt every device with these NVS keys."},
    {"jobs", 'j', CLI_VALUE, "N", "Worker threads (default: one per core)."},
    {"rows", 0, CLI_VALUE, "FIRST-LAST", "Only these device rows (a shard; rows counted from 1)."},
    {"no-csv", 0, CLI_FLAG, NULL, "Do not write the per-device CSV files."},
    {"sync", 0, CLI_FLAG, NULL, "fsync every file (default: one file-system sync at the end)."},
    {"stats", 0, CLI_FLAG, NULL, "Print where the time went."},
    {"quiet", 'q', CLI_FLAG, NULL, "No progress bar (it is only shown on a terminal anyway)."},
    {0}};
static const cli_pos_t POS_GEN[] = {{"CONF", "Master config CSV: key,type,encoding[,REPEAT] and namespace rows.", 0, 0},
                                    {"VALUES", "Values CSV: a header of keys, one row per device.", 0, 0},
                                    {"PREFIX", "Output file name prefix.", 0, 0},
                                    {"SIZE", "Partition size (multiple of 4096, at least 0x3000).", 0, 0},
                                    {0}};

static const cli_cmd_t MFG_CMDS[] = {
    {"generate", NULL, "One NVS partition (and key) per device from a config and a values CSV (mfg_gen generate).",
     "Outputs are mfg_gen's: OUTDIR/csv/PREFIX-ID.csv, OUTDIR/bin/PREFIX-ID.bin, OUTDIR/keys/keys-PREFIX-ID.bin. "
     "Files are never replaced; a failure names the values row.",
     OPT_GEN, POS_GEN, cmd_generate},
    {"generate-key", NULL, "Generate NVS encryption keys (mfg_gen generate-key, as espsec nvs generate-key).", NULL,
     CLI_NVS_KEYGEN_OPTS, NULL, cli_nvs_generate_key},
    {0}};

const cli_group_t CLI_MFG = {"mfg", "Manufacturing: per-device NVS partitions at scale (mfg_gen's generate).", NULL,
                             NULL, MFG_CMDS};
