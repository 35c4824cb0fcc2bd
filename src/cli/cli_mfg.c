/* espsec mfg: mfg_gen's commands, in parallel, with a progress bar. */
#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "espsec/chip.h"
#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/secure_cert.h"
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
    (void)fflush(stderr);
}

/* Read a small key or certificate file whole (wiped by the caller). */
static int read_small(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    espsec_error_t err;
    if (espsec_read_file(path, buf, len, max, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    return 0;
}

/* mfg generate (NVS, and secure-cert with --secure-cert) and mfg secure-cert (secure-cert only). */
static int run(cli_args_t *a, int no_nvs)
{
    const char *conf_p = no_nvs ? NULL : cli_pos(a, 0), *values_p = cli_pos(a, no_nvs ? 0 : 1),
               *prefix = cli_pos(a, no_nvs ? 1 : 2), *size_s = no_nvs ? "0x3000" : cli_pos(a, 3);
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
        char tail;
        // NOLINTNEXTLINE(cert-err34-c): glibc converts %llu with strtoull (saturating); the range is checked here
        if (sscanf(rows, "%llu-%llu%c", &lo, &hi, &tail) != 2 || lo < 1 || hi < lo) {
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
    if (cli_str(a, "kp-hmac-keyfile") != NULL) {
        return cli_error("--kp_hmac_keyfile names one file, and every device gets its own HMAC key "
                         "(keys/hmac-keys-PREFIX-ID.bin): leave it out");
    }
    const char **pn = NULL;
    size_t npn = cli_list(a, "prefix-num", &pn);
    uint64_t pn_start = 0, pn_len = 0;
    if (npn != 0 && (npn != 2 || espsec_parse_u64(pn[0], &pn_start) != 0 || espsec_parse_u64(pn[1], &pn_len) != 0)) {
        return cli_error("--prefix_num START LENGTH: two numbers expected");
    }
    espsec_error_t err;
    espsec_nvs_keys_t keys;
    uint8_t hmac_in[32], *ca = NULL;
    size_t cal = 0;
    int st = 2;
    espsec_sb_key_t *sbkeys[3] = {NULL, NULL, NULL};
    espsec_sbv2_signer_t signers[3];
    memset(signers, 0, sizeof(signers));
    uint8_t *conf = NULL, *values = NULL;
    size_t cl = 0, vl = 0;
    if (inputkey != NULL) {
        uint8_t *kb = NULL;
        size_t kl = 0;
        if (read_small(inputkey, 1u << 20, &kb, &kl) != 0) {
            return 2;
        }
        espsec_err_t rc = espsec_nvs_keys_parse(kb, kl, &keys, &err);
        espsec_free_secret(kb, kl);
        if (rc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", inputkey);
            return cli_fail(&err);
        }
    }
    const char *hin = cli_str(a, "kp-hmac-inputkey");
    if (hin != NULL) {
        uint8_t *hb = NULL;
        size_t hl = 0;
        if (read_small(hin, 4096, &hb, &hl) != 0) {
            return 2;
        }
        if (hl != 32) {
            espsec_free_secret(hb, hl);
            return cli_error("%s: %zu bytes; an HMAC key file holds 32 raw bytes", hin, hl);
        }
        memcpy(hmac_in, hb, 32);
        espsec_free_secret(hb, hl);
    }
    /* secure-cert: the chip, a shared CA, signing keys */
    int sc = no_nvs || cli_flag(a, "secure-cert");
    espsec_sc_opts_t so;
    memset(&so, 0, sizeof(so));
    size_t nsig = 0;
    if (sc) {
        const char *cn = cli_str(a, "target-chip") ? cli_str(a, "target-chip") : "esp32c3";
        const espsec_chip_info_t *chip = espsec_chip_by_name(cn);
        if (chip == NULL || !chip->has_security) {
            return cli_error("--target_chip %s: %s", cn, chip ? chip->no_security_reason : "not a chip espsec knows");
        }
        so.ds_rsa_max_bits = chip->ds.rsa_max_bits;
        so.ds_rsa_sizes = chip->ds.rsa_sizes;
        so.ecdsa_bits = chip->ds.ecdsa_bits;
        so.no_integrity = cli_flag(a, "no-integrity");
        int bad = 0;
        so.key_password = cli_key_password(a, &bad);
        if (bad) {
            goto done;
        }
        const char *cap = cli_str(a, "ca-cert");
        if (cap != NULL && read_small(cap, 1u << 20, &ca, &cal) != 0) {
            goto done;
        }
        const char **sk = NULL;
        size_t nsk = cli_list(a, "sign-key", &sk);
        if (nsk > 3) {
            cli_error("%zu signing keys: the device checks at most 3", nsk);
            goto done;
        }
        for (; nsig < nsk; nsig++) {
            if (cli_load_sb_key(a, sk[nsig], &sbkeys[nsig]) != 0) {
                goto done;
            }
            signers[nsig].key = sbkeys[nsig];
        }
        so.signers = nsig ? signers : NULL;
        so.nsigners = nsig;
    }
    if ((conf_p != NULL && read_small(conf_p, 16u << 20, &conf, &cl) != 0) ||
        read_small(values_p, 4096u << 20, &values, &vl) != 0) {
        goto done;
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
        .key_protect_hmac = cli_flag(a, "key-protect-hmac"),
        .kp_hmac_keygen = cli_flag(a, "kp-hmac-keygen"),
        .kp_hmac_inputkey = hin ? hmac_in : NULL,
        .prefix_num = npn == 2,
        .prefix_num_start = pn_start,
        .prefix_num_len = pn_len > 64 ? 64 : (int)pn_len,
        .no_nvs = no_nvs,
        .secure_cert = sc,
        .sc_ca_col = cli_str(a, "ca-cert-col"),
        .sc_cert_col = sc ? (cli_str(a, "device-cert-col") ? cli_str(a, "device-cert-col") : "device_cert") : NULL,
        .sc_key_col = sc ? (cli_str(a, "private-key-col") ? cli_str(a, "private-key-col") : "private_key") : NULL,
        .sc_ca = ca,
        .sc_ca_len = cal,
        .sc_opts = sc ? &so : NULL,
        .manifest = cli_str(a, "manifest"),
    };
    espsec_mfg_stats_t stt;
    espsec_err_t rc = espsec_mfg_generate((const char *)conf, cl, (const char *)values, vl, &o, &stt, &err);
    if (rc != ESPSEC_OK) {
        if (pg.tty) {
            fputc('\n', stderr);
        }
        st = cli_fail(&err);
        goto done;
    }
    printf("Generated %zu device %s in %s (%.2f s, %.0f devices/s)\n", stt.devices,
           no_nvs ? "secure-cert partitions" : sc ? "NVS and secure-cert partitions" : "partitions",
           o.outdir ? o.outdir : ".", stt.seconds, stt.seconds > 0 ? (double)stt.devices / stt.seconds : 0);
    if (cli_flag(a, "stats")) {
        double tot = stt.t_values + stt.t_layout + stt.t_crypto + stt.t_io;
        printf("CPU time in: values/CSV %.1f%%, NVS layout %.1f%%, encryption/partitions %.1f%%, file writes %.1f%% "
               "(%.2f s over the workers)\n",
               100 * stt.t_values / tot, 100 * stt.t_layout / tot, 100 * stt.t_crypto / tot, 100 * stt.t_io / tot,
               tot);
    }
    st = 0;
done:
    free(conf);
    free(values);
    if (ca != NULL) {
        free(ca);
    }
    for (size_t i = 0; i < 3; i++) {
        espsec_sb_key_free(sbkeys[i]);
    }
    espsec_wipe(&keys, sizeof(keys));
    espsec_wipe(hmac_in, sizeof(hmac_in));
    return st;
}

static int cmd_generate(cli_args_t *a)
{
    return run(a, 0);
}

static int cmd_secure_cert(cli_args_t *a)
{
    return run(a, 1);
}

#define SC_OPTS                                                                                                    \
    {"ca-cert", 0, CLI_VALUE, "CA.pem", "secure-cert: one CA certificate for every device."},                      \
        {"ca-cert-col", 0, CLI_VALUE, "COL", "secure-cert: values column naming each device's CA certificate file."}, \
        {"device-cert-col", 0, CLI_VALUE, "COL", "secure-cert: column of the device certificate files (device_cert)."}, \
        {"private-key-col", 0, CLI_VALUE, "COL", "secure-cert: column of the private key files (private_key)."},      \
        {"target-chip", 0, CLI_VALUE, "CHIP", "secure-cert: the chip (default esp32c3)."},                            \
        {"sign-key", 0, CLI_MULTI, "KEY", "secure-cert: sign each partition with Secure Boot V2 key(s)."},           \
        {"no-integrity", 0, CLI_FLAG, NULL, "secure-cert: no integrity TLV."}, CLI_OPT_KEY_PASSWORD

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
    {"key-protect-hmac", 0, CLI_FLAG, NULL, "With --keygen: derive each device's NVS keys from an HMAC key."},
    {"kp-hmac-keygen", 0, CLI_FLAG, NULL, "A fresh HMAC key per device (keys/hmac-keys-PREFIX-ID.bin, 0600)."},
    {"kp-hmac-inputkey", 0, CLI_VALUE, "FILE", "One 32-byte HMAC key for every device."},
    {"kp-hmac-keyfile", 0, CLI_VALUE, "FILE", "Refused: each device has its own HMAC key file."},
    {"prefix-num", 0, CLI_MULTI, "START LEN", "Number the files PREFIX-NNN-ID from START, LEN digits (mfg_gen)."},
    {"manifest", 0, CLI_VALUE, "FILE", "Also write a manifest: row,device,kind,file,bytes,sha256 (mfg merge reads it)."},
    SC_OPTS,
    {"secure-cert", 0, CLI_FLAG, NULL, "Also an esp_secure_cert partition per device (secure_cert/PREFIX-ID.bin)."},
    {0}};
static const cli_pos_t POS_GEN[] = {{"CONF", "Master config CSV: key,type,encoding[,REPEAT] and namespace rows.", 0, 0},
                                    {"VALUES", "Values CSV: a header of keys, one row per device.", 0, 0},
                                    {"PREFIX", "Output file name prefix.", 0, 0},
                                    {"SIZE", "Partition size (multiple of 4096, at least 0x3000).", 0, 0},
                                    {0}};

/* An absolute path for a job that runs elsewhere (the file must exist). */
static char *absolute(const char *p)
{
    char *r = realpath(p, NULL);
    if (r == NULL) {
        cli_error("%s: %s", p, strerror(errno));
    }
    return r;
}

static int cmd_plan(cli_args_t *a)
{
    unsigned long long shards = 0, par = 0;
    if (cli_u64(a, "shards", 0, &shards) != 0 || cli_u64(a, "parallelism", 0, &par) != 0) {
        return 2;
    }
    const char *slurm = cli_str(a, "slurm"), *k8s = cli_str(a, "k8s"), *base_p = cli_str(a, "base");
    if (shards == 0 || base_p == NULL || (slurm == NULL && k8s == NULL)) {
        return cli_error("mfg plan needs --shards N, --base DIR (shared by every task) and --slurm FILE and/or --k8s FILE");
    }
    if (mkdir(base_p, 0755) != 0 && errno != EEXIST) {
        return cli_error("%s: %s", base_p, strerror(errno));
    }
    char *conf = absolute(cli_pos(a, 0)), *values = absolute(cli_pos(a, 1)), *base = absolute(base_p);
    char *self = NULL;
    const char *espsec = cli_str(a, "espsec");
    if (espsec == NULL) {
        self = realpath("/proc/self/exe", NULL);
        espsec = self ? self : "espsec";
    }
    int st = 2;
    uint8_t *vals = NULL;
    size_t vl = 0, rows = 0;
    espsec_error_t err;
    espsec_mfg_shard_t *sh = NULL;
    char *words[64], *gen = NULL;
    size_t nw = 0;
    if (conf == NULL || values == NULL || base == NULL) {
        goto done;
    }
    if (espsec_read_file(values, &vals, &vl, 4096u << 20, &err) != ESPSEC_OK ||
        espsec_mfg_count_rows((const char *)vals, vl, &rows, &err) != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", cli_pos(a, 1));
        st = cli_fail(&err);
        goto done;
    }
    sh = calloc(shards <= rows ? shards : 1, sizeof(*sh));
    if (sh == NULL || espsec_mfg_split(rows, shards, base, sh, &err) != ESPSEC_OK) {
        st = sh ? cli_fail(&err) : cli_error("out of memory");
        goto done;
    }
    if (cli_str(a, "generate-options") != NULL) {
        gen = strdup(cli_str(a, "generate-options"));
        for (char *t = gen ? strtok(gen, " \t") : NULL; t != NULL && nw < 64; t = strtok(NULL, " \t")) {
            words[nw++] = t;
        }
    }
    const char *prefix = cli_pos(a, 2);
    char job[128];
    snprintf(job, sizeof(job), "espsec-mfg-%s", cli_str(a, "job-name") ? cli_str(a, "job-name") : prefix);
    espsec_mfg_plan_t p = {.espsec = espsec,
                           .conf = conf,
                           .values = values,
                           .prefix = prefix,
                           .size = cli_pos(a, 3),
                           .gen_args = (const char *const *)words,
                           .ngen_args = nw,
                           .base = base,
                           .job_name = job,
                           .k8s_image = cli_str(a, "image"),
                           .k8s_pvc = cli_str(a, "pvc"),
                           .parallelism = (int)par};
    const struct {
        const char *path;
        espsec_err_t (*fn)(const espsec_mfg_plan_t *, const espsec_mfg_shard_t *, size_t, char **, size_t *,
                           espsec_error_t *);
        unsigned mode;
    } outs[3] = {{slurm, espsec_mfg_plan_slurm, 0755}, {k8s, espsec_mfg_plan_k8s, 0644}, {NULL, espsec_mfg_plan_csv, 0644}};
    char plan_path[4200];
    snprintf(plan_path, sizeof(plan_path), "%s/plan.csv", base);
    for (int i = 0; i < 3; i++) {
        const char *path = i == 2 ? plan_path : outs[i].path;
        if (path == NULL) {
            continue;
        }
        char *text = NULL;
        size_t tl = 0;
        if (outs[i].fn(&p, sh, (size_t)shards, &text, &tl, &err) != ESPSEC_OK ||
            espsec_write_file(path, text, tl, outs[i].mode, &err) != ESPSEC_OK) {
            free(text);
            st = cli_fail(&err);
            goto done;
        }
        free(text);
    }
    printf("Plan: %zu device rows in %llu shards (%zu-%zu rows each) under %s\n", rows, shards, rows / (size_t)shards,
           (rows + (size_t)shards - 1) / (size_t)shards, base);
    if (slurm) {
        printf("  Slurm job array: sbatch %s\n", slurm);
    }
    if (k8s) {
        printf("  Kubernetes Indexed Job: kubectl apply -f %s\n", k8s);
    }
    printf("  Then: espsec mfg merge --plan %s -o %s/manifest.csv\n", plan_path, base);
    st = 0;
done:
    free(gen);
    free(sh);
    free(vals);
    free(conf);
    free(values);
    free(base);
    free(self);
    return st;
}

static int cmd_merge(cli_args_t *a)
{
    const char *plan = cli_str(a, "plan"), *out = cli_str(a, "output");
    if (plan == NULL || out == NULL) {
        return cli_error("mfg merge needs --plan BASE/plan.csv and -o MANIFEST");
    }
    espsec_mfg_merge_stats_t s;
    espsec_error_t err;
    if (espsec_mfg_merge(plan, out, !cli_flag(a, "no-hash"), &s, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("%zu shards add up: %zu devices, %zu files%s; manifest written to %s\n", s.shards, s.devices, s.files,
           s.hashed ? " (sizes and SHA-256 checked)" : " (sizes checked)", out);
    return 0;
}

static const cli_opt_t OPT_PLAN[] = {
    {"shards", 'n', CLI_VALUE, "N", "Number of shards (tasks)."},
    {"base", 0, CLI_VALUE, "DIR", "Folder every task sees (shared storage): shard-NNNN/, plan.csv, logs."},
    {"slurm", 0, CLI_VALUE, "FILE", "Write a Slurm job-array script (sbatch FILE)."},
    {"k8s", 0, CLI_VALUE, "FILE", "Write a Kubernetes Indexed Job manifest (kubectl apply -f FILE)."},
    {"image", 0, CLI_VALUE, "IMAGE", "Kubernetes: the container image with espsec."},
    {"pvc", 0, CLI_VALUE, "CLAIM", "Kubernetes: the PersistentVolumeClaim mounted at --base."},
    {"parallelism", 0, CLI_VALUE, "N", "Tasks running at once (default: all)."},
    {"job-name", 0, CLI_VALUE, "NAME", "Job name (default espsec-mfg-PREFIX)."},
    {"espsec", 0, CLI_VALUE, "PATH", "espsec as the tasks run it (default: this program's path)."},
    {"generate-options", 0, CLI_VALUE, "\"OPTS\"", "More mfg generate options for every task, words split at spaces "
                                                   "(e.g. \"--inputkey /shared/keys.bin --fileid serial\")."},
    {0}};
static const cli_opt_t OPT_MERGE[] = {
    {"plan", 0, CLI_VALUE, "PLAN.csv", "The plan mfg plan wrote (BASE/plan.csv)."},
    {"output", 'o', CLI_VALUE, "FILE", "The merged manifest (never replaces a file)."},
    {"no-hash", 0, CLI_FLAG, NULL, "Check sizes only, not SHA-256 (faster on millions of files)."},
    {0}};

static const cli_opt_t OPT_SC[] = {
    {"outdir", 0, CLI_VALUE, "DIR", "Output folder: secure_cert/ is made under it (default: here)."},
    {"fileid", 0, CLI_VALUE, "KEY", "Values column naming each device's files (default: the row number from 1)."},
    {"jobs", 'j', CLI_VALUE, "N", "Worker threads (default: one per core)."},
    {"rows", 0, CLI_VALUE, "FIRST-LAST", "Only these device rows (a shard; rows counted from 1)."},
    {"sync", 0, CLI_FLAG, NULL, "fsync every file (default: one file-system sync at the end)."},
    {"stats", 0, CLI_FLAG, NULL, "Print where the time went."},
    {"quiet", 'q', CLI_FLAG, NULL, "No progress bar."},
    {"prefix-num", 0, CLI_MULTI, "START LEN", "Number the files PREFIX-NNN-ID from START, LEN digits."},
    {"manifest", 0, CLI_VALUE, "FILE", "Also write a manifest: row,device,kind,file,bytes,sha256."},
    SC_OPTS,
    {0}};
static const cli_pos_t POS_SC[] = {{"VALUES", "Values CSV: a header, one row per device naming its files.", 0, 0},
                                   {"PREFIX", "Output file name prefix.", 0, 0},
                                   {0}};

static const cli_cmd_t MFG_CMDS[] = {
    {"generate", NULL, "One NVS partition (and key) per device from a config and a values CSV (mfg_gen generate).",
     "Outputs are mfg_gen's: OUTDIR/csv/PREFIX-ID.csv, OUTDIR/bin/PREFIX-ID.bin, OUTDIR/keys/keys-PREFIX-ID.bin. "
     "Files are never replaced; a failure names the values row.",
     OPT_GEN, POS_GEN, cmd_generate},
    {"secure-cert", NULL, "One esp_secure_cert partition per device row (the files its columns name).",
     "Columns device_cert and private_key (or --device-cert-col/--private-key-col) name each device's files; "
     "--ca-cert gives one CA for all. Same machinery as generate: parallel, shards, never replaces a file.",
     OPT_SC, POS_SC, cmd_secure_cert},
    {"plan", NULL, "Split a run into shards for a batch engine: a Slurm job array and/or a Kubernetes Indexed Job.",
     "Task i runs 'espsec mfg generate --rows' for shard i into BASE/shard-i with a manifest; mfg merge checks the "
     "shards add up.",
     OPT_PLAN, POS_GEN, cmd_plan},
    {"merge", NULL, "Check that a plan's shards add up (every device once, no gap, files complete) and write one "
                    "manifest.", NULL, OPT_MERGE, NULL, cmd_merge},
    {"generate-key", NULL, "Generate NVS encryption keys (mfg_gen generate-key, as espsec nvs generate-key).", NULL,
     CLI_NVS_KEYGEN_OPTS, NULL, cli_nvs_generate_key},
    {0}};

const cli_group_t CLI_MFG = {"mfg", "Manufacturing: per-device NVS partitions at scale (mfg_gen's generate).", NULL,
                             NULL, MFG_CMDS};
