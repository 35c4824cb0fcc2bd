/*
 * Factory runs past one machine (espsec/mfg.h): split the device rows into
 * shards, write the batch engine's job (a Slurm job array, a Kubernetes
 * Indexed Job) whose task i runs `espsec mfg generate --rows` for shard i,
 * and check afterwards that the shards add up to the whole run.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/io.h"
#include "espsec/mfg.h"
#include "espsec/util.h"
#include "util/csv.h"

/* A growing text buffer. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void sb_add(sbuf_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = b->p ? vsnprintf(b->p + b->len, room, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (n >= 0 && cap - b->len <= (size_t)n) {
            cap *= 2;
        }
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
}

/* A word for a POSIX shell: single-quoted, ' written as '\'' */
static void sb_word(sbuf_t *b, const char *w)
{
    sb_add(b, " '");
    for (const char *c = w; *c; c++) {
        if (*c == '\'') {
            sb_add(b, "'\\''");
        } else {
            sb_add(b, "%c", *c);
        }
    }
    sb_add(b, "'");
}

static espsec_err_t sb_done(sbuf_t *b, char **out, size_t *len, espsec_error_t *err)
{
    if (b->oom || b->p == NULL) {
        free(b->p);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    *out = b->p;
    *len = b->len;
    return ESPSEC_OK;
}

espsec_err_t espsec_mfg_count_rows(const char *values, size_t len, size_t *rows, espsec_error_t *err)
{
    csv_reader_t r;
    csv_init(&r, values, len, 0);
    size_t n = 0;
    int got = csv_next(&r, err); /* the header */
    while (got == 1 && (got = csv_next(&r, err)) == 1) {
        if (!(r.nfields == 1 && r.fields[0][0] == '\0')) {
            n++;
        }
    }
    csv_free(&r);
    if (got < 0) {
        return err->code;
    }
    if (n == 0) {
        return espsec_fail(err, ESPSEC_ERR_PARSE, "no device rows after the header");
    }
    *rows = n;
    return ESPSEC_OK;
}

espsec_err_t espsec_mfg_split(size_t rows, size_t n, const char *base, espsec_mfg_shard_t *out, espsec_error_t *err)
{
    if (n == 0 || n > rows || n > 100000) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%zu shards for %zu device rows: 1..%zu expected", n, rows,
                           rows < 100000 ? rows : 100000);
    }
    for (size_t k = 0; k < n; k++) {
        out[k].first = k * rows / n + 1;
        out[k].last = (k + 1) * rows / n;
        int w = snprintf(out[k].dir, sizeof(out[k].dir), "%s/shard-%04zu", base, k);
        if (w < 0 || (size_t)w >= sizeof(out[k].dir)) {
            return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "%s: base folder name too long", base);
        }
    }
    return ESPSEC_OK;
}

espsec_err_t espsec_mfg_plan_csv(const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n, char **out,
                                 size_t *len, espsec_error_t *err)
{
    (void)p;
    sbuf_t b = {0};
    sb_add(&b, "shard,first,last,dir\n");
    for (size_t k = 0; k < n; k++) {
        sb_add(&b, "%zu,%zu,%zu,%s\n", k, s[k].first, s[k].last, strrchr(s[k].dir, '/') + 1);
    }
    return sb_done(&b, out, len, err);
}

/* The shell lines every task runs: pick the shard by index, run generate on it. */
static void task_script(sbuf_t *b, const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n,
                        const char *index_var, const char *indent)
{
    sb_add(b, "%sset -eu\n", indent);
    sb_add(b, "%scase \"${%s}\" in\n", indent, index_var);
    for (size_t k = 0; k < n; k++) {
        sb_add(b, "%s%zu) ROWS=%zu-%zu; SHARD=%s ;;\n", indent, k, s[k].first, s[k].last, strrchr(s[k].dir, '/') + 1);
    }
    sb_add(b, "%s*) echo \"espsec mfg: no shard ${%s} in this plan\" >&2; exit 2 ;;\n%sesac\n", indent, index_var,
           indent);
    sb_add(b, "%sexec", indent);
    sb_word(b, p->espsec);
    sb_add(b, " mfg generate");
    sb_word(b, p->conf);
    sb_word(b, p->values);
    sb_word(b, p->prefix);
    sb_word(b, p->size);
    sb_add(b, " --rows \"$ROWS\" --outdir");
    sb_word(b, p->base);
    sb_add(b, "/\"$SHARD\" --manifest");
    sb_word(b, p->base);
    sb_add(b, "/\"$SHARD\"/manifest.csv --quiet");
    for (size_t i = 0; i < p->ngen_args; i++) {
        sb_word(b, p->gen_args[i]);
    }
    sb_add(b, "\n");
}

espsec_err_t espsec_mfg_plan_slurm(const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n, char **out,
                                   size_t *len, espsec_error_t *err)
{
    sbuf_t b = {0};
    sb_add(&b, "#!/bin/sh\n");
    sb_add(&b, "# espsec mfg plan: %zu shards of %s (rows %zu-%zu), one Slurm array task each.\n", n, p->values,
           s[0].first, s[n - 1].last);
    sb_add(&b, "# Submit: sbatch THIS_FILE; afterwards: espsec mfg merge --plan %s/plan.csv -o %s/manifest.csv\n",
           p->base, p->base);
    sb_add(&b, "#SBATCH --job-name=%s\n", p->job_name);
    if (p->parallelism > 0) {
        sb_add(&b, "#SBATCH --array=0-%zu%%%d\n", n - 1, p->parallelism);
    } else {
        sb_add(&b, "#SBATCH --array=0-%zu\n", n - 1);
    }
    sb_add(&b, "#SBATCH --ntasks=1\n#SBATCH --output=%s/slurm-%%A_%%a.out\n", p->base);
    task_script(&b, p, s, n, "SLURM_ARRAY_TASK_ID", "");
    return sb_done(&b, out, len, err);
}

/* A YAML double-quoted scalar. */
static void yq(sbuf_t *b, const char *v)
{
    sb_add(b, "\"");
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\') {
            sb_add(b, "\\%c", *c);
        } else if (*c == '\n') {
            sb_add(b, "\\n");
        } else {
            sb_add(b, "%c", *c);
        }
    }
    sb_add(b, "\"");
}

espsec_err_t espsec_mfg_plan_k8s(const espsec_mfg_plan_t *p, const espsec_mfg_shard_t *s, size_t n, char **out,
                                 size_t *len, espsec_error_t *err)
{
    if (p->k8s_image == NULL || p->k8s_pvc == NULL) {
        return espsec_fail(err, ESPSEC_ERR_INVALID_ARG, "a Kubernetes plan needs --image (with espsec in it) and "
                                                        "--pvc (the claim mounted at the base folder)");
    }
    sbuf_t script = {0};
    task_script(&script, p, s, n, "JOB_COMPLETION_INDEX", "");
    if (script.oom || script.p == NULL) {
        free(script.p);
        return espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    }
    sbuf_t b = {0};
    sb_add(&b, "# espsec mfg plan: %zu shards, one pod of an Indexed Job each.\n", n);
    sb_add(&b, "# Apply: kubectl apply -f THIS_FILE; afterwards: espsec mfg merge --plan %s/plan.csv -o "
               "%s/manifest.csv\n", p->base, p->base);
    sb_add(&b, "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: ");
    yq(&b, p->job_name);
    sb_add(&b, "\nspec:\n  completionMode: Indexed\n  completions: %zu\n  parallelism: %zu\n  backoffLimit: %zu\n",
           n, p->parallelism > 0 ? (size_t)p->parallelism : n, n);
    sb_add(&b, "  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: mfg\n"
               "          image: ");
    yq(&b, p->k8s_image);
    sb_add(&b, "\n          command: [\"/bin/sh\", \"-c\"]\n          args:\n            - ");
    yq(&b, script.p);
    sb_add(&b, "\n          volumeMounts:\n            - name: work\n              mountPath: ");
    yq(&b, p->base);
    sb_add(&b, "\n      volumes:\n        - name: work\n          persistentVolumeClaim:\n            claimName: ");
    yq(&b, p->k8s_pvc);
    sb_add(&b, "\n");
    free(script.p);
    return sb_done(&b, out, len, err);
}

/* ---- merge ---- */

typedef struct {
    size_t row;
    char *device, *kind, *file;
    size_t bytes;
    char sha[65];
    size_t shard;
} mline_t;

static int mline_cmp(const void *a, const void *b)
{
    const mline_t *x = a, *y = b;
    if (x->row != y->row) {
        return x->row < y->row ? -1 : 1;
    }
    return strcmp(x->kind, y->kind);
}

static char *dir_of(const char *path)
{
    const char *sl = strrchr(path, '/');
    size_t n = sl ? (size_t)(sl - path) : 1;
    char *d = malloc(n + 1);
    if (d != NULL) {
        memcpy(d, sl ? path : ".", n);
        d[n] = '\0';
    }
    return d;
}

/* Check one listed file against its size and hash. */
static espsec_err_t check_file(const char *base, const espsec_mfg_shard_t *sh, const mline_t *l, int hash,
                               espsec_error_t *err)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s/%s", base, sh->dir, l->file);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (espsec_read_file(path, &buf, &len, 64u << 20, err) != ESPSEC_OK) {
        return espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "shard %s, row %zu: %s is listed but missing or unreadable",
                           sh->dir, l->row, path);
    }
    espsec_err_t rc = ESPSEC_OK;
    if (len != l->bytes) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_SIZE, "%s: %zu bytes, the manifest says %zu", path, len, l->bytes);
    } else if (hash) {
        uint8_t h[32];
        char hex[65];
        espsec_sha256(buf, len, h);
        espsec_hex(h, sizeof(h), hex, 0);
        if (strcmp(hex, l->sha) != 0) {
            rc = espsec_fail(err, ESPSEC_ERR_VERIFY, "%s: SHA-256 differs from the manifest's (changed after it was "
                                                     "written?)", path);
        }
    }
    espsec_free_secret(buf, len);
    return rc;
}

espsec_err_t espsec_mfg_merge(const char *plan_path, const char *out_path, int hash, espsec_mfg_merge_stats_t *st,
                              espsec_error_t *err)
{
    memset(st, 0, sizeof(*st));
    st->hashed = hash;
    uint8_t *plan = NULL;
    size_t plen = 0;
    if (espsec_read_file(plan_path, &plan, &plen, 64u << 20, err) != ESPSEC_OK) {
        return err->code;
    }
    if (espsec_path_exists(out_path)) {
        free(plan);
        return espsec_fail(err, ESPSEC_ERR_EXISTS, "%s: exists; a manifest is never replaced", out_path);
    }
    char *base = dir_of(plan_path);
    espsec_mfg_shard_t *sh = NULL;
    size_t nsh = 0, cap = 0, total = 0;
    mline_t *lines = NULL;
    size_t nl = 0, lcap = 0;
    espsec_err_t rc = base ? ESPSEC_OK : espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
    csv_reader_t r;
    csv_init(&r, (const char *)plan, plen, 0);
    int got = csv_next(&r, err);
    if (rc == ESPSEC_OK && (got != 1 || r.nfields != 4 || strcmp(r.fields[0], "shard") != 0)) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line 1: not an espsec mfg plan (shard,first,last,dir)", plan_path);
    }
    while (rc == ESPSEC_OK && (got = csv_next(&r, err)) == 1) {
        uint64_t k, a, b;
        if (r.nfields != 4 || espsec_parse_u64(r.fields[0], &k) || espsec_parse_u64(r.fields[1], &a) ||
            espsec_parse_u64(r.fields[2], &b) || k != nsh || a != total + 1 || b < a || strchr(r.fields[3], '/') ||
            strlen(r.fields[3]) >= sizeof(sh[0].dir) || strcmp(r.fields[3], "..") == 0) {
            rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: shard %zu expected, rows from %zu on, in a plain "
                                                    "folder name", plan_path, r.row_line, nsh, total + 1);
            break;
        }
        if (nsh == cap) {
            cap = cap ? cap * 2 : 64;
            espsec_mfg_shard_t *q = realloc(sh, cap * sizeof(*q));
            if (q == NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
                break;
            }
            sh = q;
        }
        sh[nsh].first = (size_t)a;
        sh[nsh].last = (size_t)b;
        snprintf(sh[nsh].dir, sizeof(sh[nsh].dir), "%s", r.fields[3]);
        total = (size_t)b;
        nsh++;
    }
    if (rc == ESPSEC_OK && got < 0) {
        rc = err->code;
    }
    csv_free(&r);
    if (rc == ESPSEC_OK && nsh == 0) {
        rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: no shards", plan_path);
    }
    /* every shard's manifest */
    for (size_t k = 0; rc == ESPSEC_OK && k < nsh; k++) {
        char mp[2048];
        snprintf(mp, sizeof(mp), "%s/%s/manifest.csv", base, sh[k].dir);
        uint8_t *m = NULL;
        size_t ml = 0;
        espsec_error_t e2;
        if (espsec_read_file(mp, &m, &ml, 4096u << 20, &e2) != ESPSEC_OK) {
            rc = espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "shard %s (rows %zu-%zu): no manifest %s: its task did not "
                                                        "finish (run it again)", sh[k].dir, sh[k].first, sh[k].last, mp);
            break;
        }
        csv_init(&r, (const char *)m, ml, 0);
        got = csv_next(&r, err);
        while (rc == ESPSEC_OK && got == 1 && (got = csv_next(&r, err)) == 1) {
            uint64_t row, bytes;
            if (r.nfields != 6 || espsec_parse_u64(r.fields[0], &row) || espsec_parse_u64(r.fields[4], &bytes) ||
                strlen(r.fields[5]) != 64 || strstr(r.fields[3], "..") != NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_PARSE, "%s: line %d: row,device,kind,file,bytes,sha256 expected", mp,
                                 r.row_line);
                break;
            }
            if (row < sh[k].first || row > sh[k].last) {
                rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "%s: line %d: row %llu is outside the shard's rows "
                                                                "%zu-%zu", mp, r.row_line, (unsigned long long)row,
                                 sh[k].first, sh[k].last);
                break;
            }
            if (nl == lcap) {
                lcap = lcap ? lcap * 2 : 4096;
                mline_t *q = realloc(lines, lcap * sizeof(*q));
                if (q == NULL) {
                    rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
                    break;
                }
                lines = q;
            }
            mline_t *l = &lines[nl++];
            l->row = (size_t)row;
            l->device = strdup(r.fields[1]);
            l->kind = strdup(r.fields[2]);
            l->file = strdup(r.fields[3]);
            l->bytes = (size_t)bytes;
            snprintf(l->sha, sizeof(l->sha), "%s", r.fields[5]);
            l->shard = k;
            if (l->device == NULL || l->kind == NULL || l->file == NULL) {
                rc = espsec_fail(err, ESPSEC_ERR_NO_MEM, "out of memory");
            }
        }
        if (rc == ESPSEC_OK && got < 0) {
            rc = err->code;
            espsec_error_prefix(err, "%s: ", mp);
        }
        csv_free(&r);
        free(m);
    }
    if (rc == ESPSEC_OK && nl > 0) {
        qsort(lines, nl, sizeof(*lines), mline_cmp);
    }
    /* every row once, with the same kinds as the first device; every file present */
    size_t i = 0, kinds = 0;
    for (size_t row = 1; rc == ESPSEC_OK && row <= total; row++) {
        size_t j = i;
        while (j < nl && lines[j].row == row) {
            if (j > i && strcmp(lines[j].kind, lines[j - 1].kind) == 0) {
                rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "row %zu: two '%s' files (in shards %s and %s): a "
                                                                "device made twice", row, lines[j].kind,
                                 sh[lines[j - 1].shard].dir, sh[lines[j].shard].dir);
                break;
            }
            j++;
        }
        if (rc != ESPSEC_OK) {
            break;
        }
        if (j == i) {
            rc = espsec_fail(err, ESPSEC_ERR_NOT_FOUND, "row %zu: in no shard's manifest (a gap)", row);
            break;
        }
        if (row == 1) {
            kinds = j - i;
        } else {
            int same = j - i == kinds;
            for (size_t q = 0; same && q < kinds; q++) {
                same = strcmp(lines[i + q].kind, lines[q].kind) == 0;
            }
            if (!same) {
                rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "row %zu (device %s): its files are not the kinds "
                                                                "device 1 has (%zu files, %zu expected): incomplete",
                                 row, lines[i].device, j - i, kinds);
                break;
            }
        }
        for (size_t q = i; rc == ESPSEC_OK && q < j; q++) {
            rc = check_file(base, &sh[lines[q].shard], &lines[q], hash, err);
            st->files++;
        }
        st->devices++;
        i = j;
    }
    if (rc == ESPSEC_OK && i != nl) {
        rc = espsec_fail(err, ESPSEC_ERR_INVALID_STATE, "row %zu: past the plan's %zu rows", lines[i].row, total);
    }
    if (rc == ESPSEC_OK) {
        sbuf_t b = {0};
        sb_add(&b, "row,device,kind,file,bytes,sha256\n");
        for (size_t q = 0; q < nl; q++) {
            sb_add(&b, "%zu,%s,%s,%s/%s,%zu,%s\n", lines[q].row, lines[q].device, lines[q].kind,
                   sh[lines[q].shard].dir, lines[q].file, lines[q].bytes, lines[q].sha);
        }
        char *out = NULL;
        size_t ol = 0;
        rc = sb_done(&b, &out, &ol, err);
        if (rc == ESPSEC_OK) {
            rc = espsec_write_new_file(out_path, out, ol, ESPSEC_MODE_PUBLIC, 1, err);
            free(out);
        }
        st->shards = nsh;
    }
    for (size_t q = 0; q < nl; q++) {
        free(lines[q].device);
        free(lines[q].kind);
        free(lines[q].file);
    }
    free(lines);
    free(sh);
    free(base);
    free(plan);
    return rc;
}
