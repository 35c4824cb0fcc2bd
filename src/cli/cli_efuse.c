/* espsec efuse: espefuse's commands on a virtual eFuse file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "espsec/efuse.h"
#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"
#include "json.h"

typedef struct {
    espsec_efuse_t *e;
    const char *path;
    espsec_chip_t chip;
    const espsec_chip_info_t *info;
    const char *pending; /* what the invocation burns at its end ("Burn keys in eFuse blocks."), or NULL */
    int show_custom_mac; /* burn-custom-mac: show the address after the burn */
    int check_after;     /* burn-efuse, *-protect-efuse: espefuse's "Checking eFuses..." after the burn */
    const char *burned[CLI_MAX_POS * 4]; /* burn-efuse: the fields burned, checked after the burn */
    size_t nburned;
} efctx_t;

static void ctx_free(void *p)
{
    efctx_t *c = p;
    if (c != NULL) {
        espsec_efuse_free(c->e);
        free(c);
    }
}

static int open_efuse_file(cli_args_t *a, efctx_t *c);
static int burn_at_end(cli_args_t *a);

/* The eFuse set of this invocation: opened by its first command, shared by the
 * chained ones (espefuse's CMD1 ... CMD2 ...), released when the run ends. */
static int open_efuse(cli_args_t *a, efctx_t *c)
{
    memset(c, 0, sizeof(*c)); /* defined on every path (gcc -O3 cannot see cli_error never returns 0) */
    if (a->chain != NULL) {
        *c = *(efctx_t *)a->chain;
        return 0;
    }
    efctx_t *shared = calloc(1, sizeof(*shared));
    if (shared == NULL) {
        return cli_error("out of memory");
    }
    int st = open_efuse_file(a, shared);
    if (st != 0) {
        free(shared);
        return st;
    }
    a->chain = shared;
    a->chain_free = ctx_free;
    a->chain_end = burn_at_end;
    *c = *shared;
    return 0;
}

/* Open the virtual eFuse file named by the group options. */
static int open_efuse_file(cli_args_t *a, efctx_t *c)
{
    memset(c, 0, sizeof(*c));
    const char *chip = cli_str(a, "chip");
    c->info = chip == NULL || strcmp(chip, "auto") == 0 ? espsec_chip_default() : espsec_chip_by_name(chip);
    if (c->info == NULL) {
        char names[256];
        return cli_error("--chip '%s': one of %s expected", chip, espsec_chip_efuse_names(names, sizeof(names)));
    }
    if (!c->info->has_security) {
        return cli_error("%s: %s", c->info->name, c->info->no_security_reason);
    }
    if (c->info->efuse == NULL) {
        char names[256];
        return cli_error("--chip %s: virtual eFuses exist for %s", c->info->name,
                         espsec_chip_efuse_names(names, sizeof(names)));
    }
    c->chip = c->info->id;
    if (cli_str(a, "port") != NULL && !cli_flag(a, "virt")) {
        return cli_error("espsec works on virtual eFuses only: use --virt --path-efuse-file FILE (no serial port)");
    }
    c->path = cli_str(a, "path-efuse-file");
    if (c->path == NULL) {
        return cli_error("--path-efuse-file FILE is required (espsec keeps virtual eFuses in a file, as espefuse --virt "
                         "does)");
    }
    espsec_error_t err;
    int created = 0;
    if (espsec_efuse_load_file(c->chip, c->path, &c->e, &created, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    const char *csv = cli_str(a, "extend-efuse-table");
    if (csv != NULL) {
        uint8_t *text = NULL;
        size_t tlen = 0;
        espsec_err_t rc = espsec_read_file(csv, &text, &tlen, 1u << 20, &err);
        if (rc == ESPSEC_OK) {
            rc = espsec_efuse_extend_table(c->e, (const char *)text, tlen, &err);
            free(text);
            if (rc != ESPSEC_OK) {
                espsec_error_prefix(&err, "%s: ", csv);
            }
        }
        if (rc != ESPSEC_OK) {
            espsec_efuse_free(c->e);
            return cli_fail(&err);
        }
    }
    if (created) {
        /* as espefuse: a missing or empty file becomes a fresh chip */
        if (espsec_efuse_save_file(c->e, c->path, &err) != ESPSEC_OK) {
            espsec_efuse_free(c->e);
            return cli_fail(&err);
        }
    }
    return 0;
}

/* A burn command is done staging: the burn itself happens once, after the last command of the
 * invocation (espefuse's batch mode), in burn_at_end. */
static int finish_burn(cli_args_t *a, efctx_t *c, const char *what)
{
    (void)c;
    efctx_t *shared = a->chain;
    if (shared != NULL && shared->pending == NULL) {
        shared->pending = what;
    }
    return 0;
}

/* Set the bits of a field in a block-sized mask (BLOCK0's postponed fields). */
static void field_mask(const espsec_efuse_t *e, const char *name, uint8_t mask[32])
{
    int i = name != NULL ? espsec_efuse_find(e, name) : -1;
    espsec_efuse_field_info_t fi;
    if (i < 0 || espsec_efuse_field_info(e, (size_t)i, &fi) != ESPSEC_OK || fi.word < 0 || fi.block != 0) {
        return;
    }
    for (int k = 0; k < fi.bit_len; k++) {
        int bit = fi.word * 32 + fi.pos + k;
        if (bit >= 0 && bit < 256) {
            mask[bit / 8] |= (uint8_t)(1u << (bit % 8));
        }
    }
}

static int all_zero(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (d[i] != 0) {
            return 0;
        }
    }
    return 1;
}

/* 1 when every bit of sub is set in set. */
static int bits_in(const uint8_t *sub, const uint8_t *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((sub[i] & set[i]) != sub[i]) {
            return 0;
        }
    }
    return 1;
}

/* espefuse's verdict on one block program: nothing when the block already holds every bit to write,
 * else whether the block now reads exactly what was written or holds it among other bits. */
static void burn_line(int b, const uint8_t *before, const uint8_t *wr, const uint8_t *rd)
{
    if (all_zero(wr, 32) || (!all_zero(before, 32) && bits_in(wr, before, 32))) {
        return;
    }
    if (memcmp(wr, rd, 32) == 0) {
        printf("BURN BLOCK%-2d - OK (write block == read block)\n", b);
    } else if (bits_in(wr, rd, 32) && bits_in(before, rd, 32)) {
        printf("BURN BLOCK%-2d - OK (all write block bits are set)\n", b);
    }
}

/* espefuse stages BLOCK0's postponed fields again after the first BLOCK0 program, and says so for
 * each one that adds nothing to what is burned (no bits to write, or only bits already set). */
static void print_postponed_same(const efctx_t *c, const uint8_t before[32], const uint8_t staged[32])
{
    for (size_t k = 0; k < sizeof(c->info->burn_last) / sizeof(c->info->burn_last[0]); k++) {
        const char *name = c->info->burn_last[k];
        uint8_t m[32] = {0};
        if (name == NULL) {
            break;
        }
        field_mask(c->e, name, m);
        int rd = 0, wr = 0, added = 0;
        for (size_t i = 0; i < 32; i++) {
            rd |= (before[i] & m[i]) != 0;
            wr |= (staged[i] & m[i]) != 0;
            added |= (staged[i] & m[i] & (uint8_t)~before[i]) != 0;
        }
        if ((wr && !added) || (!wr && rd)) {
            printf("\tThe same value for %s is already burned. Do not change the eFuse.\n", name);
        }
    }
}

/* What espefuse prints while it burns: BLOCKn down to BLOCK1, then BLOCK0 without and then with its
 * postponed fields (protection and lock-down bits, late_mask). espsec programs BLOCK0 once. */
static void print_burn_lines(const efctx_t *c, int nb, uint8_t (*before)[32], uint8_t (*staged)[32],
                             uint8_t (*after)[32], const uint8_t late_mask[32], int postpone)
{
    for (int b = nb - 1; b >= 1; b--) {
        if (espsec_efuse_coding_34(c->e)) {
            /* a 6-byte group written again with what it holds is left out of the program */
            for (size_t g = 0; g < 24; g += 6) {
                if (!all_zero(before[b] + g, 6) && memcmp(before[b] + g, staged[b] + g, 6) == 0) {
                    memset(staged[b] + g, 0, 6);
                }
            }
        }
        burn_line(b, before[b], staged[b], after[b]);
    }
    uint8_t wr1[32], wr2[32], mid[32];
    for (size_t i = 0; i < 32; i++) {
        wr1[i] = staged[0][i] & (uint8_t)~late_mask[i];
        wr2[i] = staged[0][i] & late_mask[i];
        mid[i] = before[0][i] | wr1[i];
    }
    burn_line(0, before[0], wr1, all_zero(wr2, 32) ? after[0] : mid);
    if (postpone) {
        printf("Burn postponed eFuses from BLOCK0.\n");
        print_postponed_same(c, before[0], staged[0]);
        burn_line(0, mid, wr2, after[0]);
    }
    printf("Reading updated eFuses...\n");
}

/* A block's bits as espefuse prints a block's bitstring: "0x", its last byte first. */
static void print_block_hex(const char *label, const uint8_t *d, size_t n)
{
    printf("\t(%s): 0x", label);
    for (size_t i = n; i-- > 0;) {
        printf("%02x", d[i]);
    }
    printf("\n");
}

/* espefuse's look at every block before a burn ("Check all blocks for burn..."): for each block
 * with bits to write, whether it is empty, already holds them, or what it holds beside them and
 * its coding scheme (a second write the scheme forbids is the burn's refusal, after this).
 * Returns 0 when no block has bits to add, 2 when an RS-coded block would take a second write
 * (refused by the burn before anything is written), else 1. */
static int print_burn_check(const efctx_t *c, int nb, uint8_t (*before)[32], uint8_t (*staged)[32])
{
    int any = 0;
    printf("\nCheck all blocks for burn...\nidx, BLOCK_NAME,          Conclusion\n");
    for (int b = 0; b < nb; b++) {
        size_t n = espsec_efuse_block_len(c->e, b);
        const char *name = espsec_efuse_block_name(c->e, b);
        if (n > 32 || all_zero(staged[b], n)) {
            continue;
        }
        if (all_zero(before[b], n)) {
            printf("[%02d] %-20s is empty, will burn the new value\n", b, name);
            any = 1;
            continue;
        }
        if (memcmp(before[b], staged[b], n) == 0) {
            printf("[%02d] %-20s is already written the same value, continue with EMPTY_BLOCK\n", b, name);
            continue;
        }
        printf("[%02d] %-20s is not empty\n", b, name);
        print_block_hex("written ", before[b], n);
        print_block_hex("to write", staged[b], n);
        if (bits_in(staged[b], before[b], n)) {
            printf("\tAll wr_data bits are set in the written block, continue with EMPTY_BLOCK.\n");
            continue;
        }
        any = any ? any : 1;
        const char *scheme = espsec_efuse_block_coding(c->e, b);
        printf("\t(coding scheme = %s)\n", scheme);
        if (strcmp(scheme, "RS") == 0) {
            any = 2;
            break; /* espefuse stops at the first refusal */
        }
        if (strcmp(scheme, "3/4") == 0) {
            /* espefuse walks the 6-byte groups from the block's top; a group written again with what
             * it holds is left out (a different value is the burn's refusal) */
            for (size_t g = n / 6; g-- > 0;) {
                const uint8_t *rd = before[b] + g * 6, *wr = staged[b] + g * 6;
                if (!all_zero(rd, 6) && !all_zero(wr, 6) && memcmp(rd, wr, 6) == 0) {
                    printf("\twritten chunk [%zu] and wr_chunk are not empty. wr_chunk == rd_chunk. Continue with "
                           "empty chunk.\n",
                           n / 6 - 1 - g);
                }
            }
        }
    }
    if (!any) {
        printf("Nothing to burn, see messages above.\n");
    }
    return any;
}

static void burn_report(const efctx_t *c);

static int burn_at_end(cli_args_t *a)
{
    espsec_error_t err;
    efctx_t *c = a->chain;
    if (c == NULL || c->pending == NULL) {
        return 0;
    }
    int nb = espsec_efuse_block_count(c->e);
    if (nb > 32) {
        nb = 32;
    }
    uint8_t(*before)[32] = calloc((size_t)nb * 3, 32);
    if (before == NULL) {
        return cli_error("out of memory");
    }
    uint8_t(*staged)[32] = before + nb, (*after)[32] = before + 2 * nb;
    uint8_t late_mask[32] = {0};
    uint32_t was_readable = 0;
    for (size_t k = 0; k < sizeof(c->info->burn_last) / sizeof(c->info->burn_last[0]) && !cli_flag(a, "no-postpone");
         k++) {
        field_mask(c->e, c->info->burn_last[k], late_mask);
    }
    for (int b = 0; b < nb; b++) {
        espsec_efuse_get_block(c->e, b, before[b]);
        espsec_efuse_get_staged_block(c->e, b, staged[b]);
        was_readable |= espsec_efuse_block_readable(c->e, b) ? 1u << b : 0;
    }
    int check = print_burn_check(c, nb, before, staged);
    if (check == 0 || !espsec_efuse_has_staged(c->e)) {
        /* nothing to add: as espefuse, the commands' own checks and the verdict still follow */
        espsec_wipe(before, (size_t)nb * 3 * 32);
        free(before);
        espsec_efuse_discard(c->e);
        burn_report(c);
        return 0;
    }
    /* espefuse's confirmation, asked or (--do-not-confirm) only said */
    if (check == 2) {
        /* the burn below refuses the second write into an RS-coded block */
    } else if (cli_flag(a, "do-not-confirm")) {
        printf(". \nThis is an irreversible operation!\n");
    } else if (cli_confirm(". ", 0) != 0) {
        espsec_wipe(before, (size_t)nb * 3 * 32);
        free(before);
        espsec_efuse_discard(c->e);
        return cli_error("cancelled: nothing was burned (type BURN to confirm, or pass --do-not-confirm)");
    }
    if (espsec_efuse_burn(c->e, &err) != ESPSEC_OK || espsec_efuse_save_file(c->e, c->path, &err) != ESPSEC_OK) {
        free(before);
        return cli_fail(&err);
    }
    for (int b = 0; b < nb; b++) {
        espsec_efuse_get_block(c->e, b, after[b]);
        if (b > 0 && (was_readable & (1u << b)) && !espsec_efuse_block_readable(c->e, b)) {
            /* read-protected by this burn: espefuse checks the block before BLOCK0 takes RD_DIS,
             * when it still reads what was written */
            for (size_t i = 0; i < 32; i++) {
                after[b][i] = before[b][i] | staged[b][i];
            }
        }
    }
    print_burn_lines(c, nb, before, staged, after, late_mask, !cli_flag(a, "no-postpone"));
    espsec_wipe(before, (size_t)nb * 3 * 32);
    free(before);
    burn_report(c);
    return 0;
}

/* What espefuse prints once the burn is done (or had nothing to add): burn-efuse's read-back
 * check, burn-custom-mac's address, the verdict. */
static void burn_report(const efctx_t *c)
{
    if (c->check_after) {
        printf("Checking eFuses...\n");
    }
    for (size_t i = 0; i < c->nburned; i++) {
        if (espsec_efuse_is_protected(c->e, c->burned[i], 1) == 1) {
            printf("Efuse %s is read-protected. Read back the burn value is not possible.\n", c->burned[i]);
        }
    }
    if (c->show_custom_mac) {
        char v[128];
        if (espsec_efuse_custom_mac_text(c->e, v, sizeof(v)) == 0) {
            printf("%s\n", v);
        }
    }
    printf("Successful.\n");
}

static size_t block_bytes(const efctx_t *c, int b, uint8_t d[32]);

/* Every block's read registers, as espefuse's dump and debug output show them. */
static void print_block_regs(const efctx_t *c)
{
    uint8_t d[32];
    for (int b = 0; b < espsec_efuse_block_count(c->e); b++) {
        size_t n = block_bytes(c, b, d);
        printf("%-15s [%-2d] read_regs:", espsec_efuse_block_name(c->e, b), b);
        for (size_t w = 0; w < n / 4; w++) {
            printf(" %02x%02x%02x%02x", d[4 * w + 3], d[4 * w + 2], d[4 * w + 1], d[4 * w]);
        }
        printf("\n");
    }
}

/* ---- summary ---- */

static void title_case(const char *cat, char *out, size_t cap)
{
    int start = 1;
    size_t i = 0;
    for (; cat[i] && i + 1 < cap; i++) {
        out[i] = start ? (char)toupper((unsigned char)cat[i]) : (char)tolower((unsigned char)cat[i]);
        start = !isalnum((unsigned char)cat[i]);
    }
    out[i] = '\0';
}

static int cmp_cat(const void *x, const void *y)
{
    char a[32], b[32];
    title_case(*(const char *const *)x, a, sizeof(a));
    title_case(*(const char *const *)y, b, sizeof(b));
    return strcmp(a, b);
}

static void print_row(FILE *out, const espsec_efuse_t *e, const espsec_efuse_field_info_t *f)
{
    char info[256], desc50[51];
    snprintf(info, sizeof(info), "%s (BLOCK%d)", f->name, f->block);
    int blk = f->block;
    const espsec_chip_info_t *ci = espsec_efuse_chip_info(e);
    if (ci->fe.key_purpose_field && strncmp(f->name, "BLOCK_KEY", 9) == 0) {
        char kp[32];
        snprintf(kp, sizeof(kp), "KEY_PURPOSE_%d", (blk - 4) & 7);
        /* the purpose as its field shows it (with the fifth bit where the chip keeps one apart) */
        espsec_efuse_field_info_t kpi;
        int ki = espsec_efuse_find(e, kp);
        const char *pn = ki >= 0 && espsec_efuse_field_info(e, (size_t)ki, &kpi) == ESPSEC_OK ? kpi.value : NULL;
        snprintf(info, sizeof(info), "%s (BLOCK%d)\n  Purpose: %s\n ", f->name, blk, pn ? pn : "FORBIDDEN_STATE");
    }
    snprintf(desc50, sizeof(desc50), "%s", f->description);
    const char *perms = f->readable && f->writeable ? "R/W" : f->readable ? "R/-" : f->writeable ? "-/W" : "-/-";
    char raw[90] = "";
    if (f->bitstring[0]) {
        snprintf(raw, sizeof(raw), "(%s)", f->bitstring);
    }
    fprintf(out, "%-50s %-50s%s = %s %s %s\n", info, desc50, strlen(f->value) > 20 ? "\n  " : "", f->value, perms, raw);
    size_t dl = strlen(f->description);
    for (size_t i = 50; i < dl; i += 50) {
        fprintf(out, "%-50s %-50.50s\n", "", f->description + i);
    }
}

static int cmd_summary(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    const char *format = cli_str(a, "format");
    if (format == NULL) {
        format = "summary";
    }
    if (cli_flag(a, "debug") && strcmp(format, "summary") == 0) {
        print_block_regs(&c);
    }
    size_t n = espsec_efuse_field_count(c.e);
    espsec_efuse_field_info_t *fi = calloc(n ? n : 1, sizeof(*fi));
    if (fi == NULL) {
        return cli_error("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        espsec_efuse_field_info(c.e, i, &fi[i]);
    }
    /* optional names to show */
    int nfilter = (int)a->npos;
    for (int k = 0; k < nfilter; k++) {
        if (espsec_efuse_find(c.e, a->pos[k]) < 0) {
            free(fi);
            return cli_error("no eFuse named '%s' on %s", a->pos[k], espsec_chip_name(c.chip));
        }
    }
    FILE *out = stdout;
    const char *file = cli_str(a, "file");
    espsec_out_file_t of;
    espsec_error_t err;
    if (file != NULL) {
        if (espsec_out_open(&of, file, ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK) {
            free(fi);
            return cli_fail(&err);
        }
        out = of.fp;
    }
    if (strcmp(format, "json") == 0) {
        json_t j;
        json_init(&j, out);
        json_obj(&j, NULL);
        /* sorted by name, as espefuse's json.dump(sort_keys=True) */
        int *order = malloc((n + 1) * sizeof(int));
        for (size_t i = 0; i < n; i++) {
            order[i] = (int)i;
        }
        for (size_t i = 1; i < n; i++) {
            for (size_t k = i; k > 0 && strcmp(fi[order[k - 1]].name, fi[order[k]].name) > 0; k--) {
                int t = order[k];
                order[k] = order[k - 1];
                order[k - 1] = t;
            }
        }
        for (size_t oi = 0; oi < n; oi++) {
            const espsec_efuse_field_info_t *f = &fi[order[oi]];
            int show = nfilter == 0;
            for (int k = 0; k < nfilter; k++) {
                show |= strcasecmp(a->pos[k], f->name) == 0 || (f->alt_name && strcasecmp(a->pos[k], f->alt_name) == 0);
            }
            if (!show) {
                continue;
            }
            json_obj(&j, f->name);
            json_int(&j, "bit_len", f->bit_len);
            json_int(&j, "block", f->block);
            json_str(&j, "category", f->category);
            json_str(&j, "description", f->description);
            json_str(&j, "efuse_type", f->efuse_type);
            json_str(&j, "name", f->name);
            f->word < 0 ? json_null(&j, "pos") : json_int(&j, "pos", f->pos);
            json_str(&j, "raw_value", f->raw_hex);
            json_bool(&j, "readable", f->readable);
            if (f->value_kind == ESPSEC_EFV_BOOL) {
                json_bool(&j, "value", (int)f->int_value);
            } else if (f->value_kind == ESPSEC_EFV_INT) {
                json_int(&j, "value", f->int_value);
            } else {
                json_str(&j, "value", f->value);
            }
            f->word < 0 ? json_null(&j, "word") : json_int(&j, "word", f->word);
            json_bool(&j, "writeable", f->writeable);
            json_obj_end(&j);
        }
        free(order);
        json_obj_end(&j);
        json_end(&j);
    } else if (strcmp(format, "value_only") == 0) {
        if (nfilter != 1) {
            if (file != NULL) {
                espsec_out_abort(&of);
            }
            free(fi);
            return cli_error("The 'value_only' format can be used exactly for one eFuse.");
        }
        const espsec_efuse_field_info_t *f = &fi[espsec_efuse_find(c.e, a->pos[0])];
        fprintf(out, "%s\n", f->value);
    } else if (strcmp(format, "summary") == 0) {
        fprintf(out, "%-12s %-12s%s = %s %s %s\n", "EFUSE_NAME (Block)", "Description", "", "[Meaningful Value]",
               "[Readable/Writeable]", "(Hex Value)");
        fprintf(out, "----------------------------------------------------------------------------------------\n");
        const char *cats[32];
        size_t ncat = 0;
        for (size_t i = 0; i < n; i++) {
            size_t k = 0;
            while (k < ncat && strcmp(cats[k], fi[i].category) != 0) {
                k++;
            }
            if (k == ncat && ncat < 32) {
                cats[ncat++] = fi[i].category;
            }
        }
        qsort(cats, ncat, sizeof(cats[0]), cmp_cat);
        for (size_t k = 0; k < ncat; k++) {
            char t[32];
            int any = 0;
            title_case(cats[k], t, sizeof(t));
            for (size_t i = 0; i < n; i++) {
                int show = nfilter == 0;
                for (int q = 0; q < nfilter; q++) {
                    show |= strcasecmp(a->pos[q], fi[i].name) == 0;
                }
                if (strcmp(fi[i].category, cats[k]) != 0 || !show) {
                    continue;
                }
                if (!any) {
                    fprintf(out, "%s fuses:\n", t);
                    any = 1;
                }
                print_row(out, c.e, &fi[i]);
            }
            if (any) {
                fprintf(out, "\n");
            }
        }
        if (espsec_efuse_find(c.e, "XPD_SDIO_FORCE") >= 0) {
            uint64_t force = 0, reg = 0, tieh = 0;
            espsec_efuse_get_uint(c.e, "XPD_SDIO_FORCE", &force, NULL);
            espsec_efuse_get_uint(c.e, "XPD_SDIO_REG", &reg, NULL);
            espsec_efuse_get_uint(c.e, "XPD_SDIO_TIEH", &tieh, NULL);
            fprintf(out, "%s\n", !force  ? "Flash voltage (VDD_SDIO) determined by GPIO12 on reset (High for 1.8V, Low/NC for 3.3V)"
                           : !reg  ? "Flash voltage (VDD_SDIO) internal regulator disabled by efuse."
                           : !tieh ? "Flash voltage (VDD_SDIO) set to 1.8V by efuse."
                                   : "Flash voltage (VDD_SDIO) set to 3.3V by efuse.");
        } else {
            fprintf(out, "\n");
        }
    } else {
        if (file != NULL) {
            espsec_out_abort(&of);
        }
        free(fi);
        return cli_error("--format '%s': summary, json or value_only expected", format);
    }
    int rc = 0;
    if (file != NULL) {
        rc = espsec_out_commit(&of, &err) == ESPSEC_OK ? 0 : cli_fail(&err);
        if (rc == 0) {
            printf("Saving eFuse values to %s\nDone\n", file);
        }
    }
    free(fi);
    return rc;
}

/* ---- dump ---- */

/* One block's bytes as the controller reads them (register order). */
static size_t block_bytes(const efctx_t *c, int b, uint8_t d[32])
{
    espsec_efuse_get_block(c->e, b, d);
    return (size_t)espsec_efuse_block_words(c->e, b) * 4;
}

static int write_dump(const char *path, const uint8_t *d, size_t n)
{
    espsec_error_t err;
    if (espsec_write_file(path, d, n, ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    return 0;
}

static int cmd_dump(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    const char *format = cli_str(a, "format"), *file = cli_str(a, "file-name");
    if (format == NULL) {
        format = "default";
    }
    if (strcmp(format, "default") != 0 && strcmp(format, "split") != 0 && strcmp(format, "joint") != 0) {
        return cli_error("--format '%s': default, split or joint expected", format);
    }
    int nb = espsec_efuse_block_count(c.e);
    uint8_t d[32];
    if (strcmp(format, "default") == 0 && file == NULL) {
        print_block_regs(&c);
        return 0;
    }
    if (strcmp(format, "joint") == 0) {
        uint8_t all[32 * 16];
        size_t len = 0;
        for (int b = 0; b < nb && b < 16; b++) {
            size_t n = block_bytes(&c, b, d);
            if (file == NULL) {
                char hex[65];
                espsec_hex(d, n, hex, 0);
                printf("%s\n", hex);
            }
            memcpy(all + len, d, n);
            len += n;
        }
        if (file != NULL) {
            printf("Dump eFuse blocks -> %s\n", file);
            return write_dump(file, all, len);
        }
        return 0;
    }
    /* split (also "default" with a file name): one file per block, NAME<n>.EXT */
    for (int b = 0; b < nb; b++) {
        size_t n = block_bytes(&c, b, d);
        if (file == NULL) {
            char hex[65];
            espsec_hex(d, n, hex, 0);
            printf("%s\n", hex);
            continue;
        }
        char path[4096];
        const char *dot = strrchr(file, '.'), *slash = strrchr(file, '/');
        if (dot != NULL && (slash == NULL || dot > slash)) {
            snprintf(path, sizeof(path), "%.*s%d%s", (int)(dot - file), file, b, dot);
        } else {
            snprintf(path, sizeof(path), "%s%d", file, b);
        }
        printf("Dump eFuse block%d -> %s\n", b, path);
        st = write_dump(path, d, n);
        if (st != 0) {
            return st;
        }
    }
    return 0;
}

/* ---- import ---- */

static int cmd_import(cli_args_t *a)
{
    const char *chip = cli_str(a, "chip"), *out = cli_str(a, "output"), *in = cli_pos(a, 0);
    const espsec_chip_info_t *info = chip ? espsec_chip_by_name(chip) : espsec_chip_default();
    if (info == NULL || info->efuse == NULL) {
        return cli_error("--chip '%s': a chip with virtual eFuses expected", chip ? chip : "");
    }
    if (out == NULL) {
        return cli_error("import needs -o VIRT.bin (the virtual eFuse file to write)");
    }
    espsec_efuse_format_t fmt = ESPSEC_EFUSE_FMT_AUTO, used = ESPSEC_EFUSE_FMT_AUTO;
    const char *fname = cli_str(a, "format");
    if (fname != NULL && espsec_efuse_format_by_name(fname, &fmt) != 0) {
        return cli_error("--format '%s': auto, joint, json or qemu expected", fname);
    }
    espsec_error_t err;
    uint8_t *data = NULL;
    size_t len = 0;
    espsec_efuse_t *e = NULL;
    if (espsec_read_file(in, &data, &len, 1u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_err_t rc = espsec_efuse_import(info->id, data, len, fmt, &used, &e, &err);
    espsec_free_secret(data, len); /* a QEMU file holds keys */
    if (rc == ESPSEC_OK) {
        rc = espsec_efuse_save_file(e, out, &err);
    }
    espsec_efuse_free(e);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in);
        return cli_fail(&err);
    }
    static const char *const what[] = {"", "joint dump", "summary JSON", "QEMU eFuse file"};
    printf("Imported %s (%s %s) -> %s\n", in, info->name, what[used], out);
    return 0;
}

/* ---- export ---- */

static int cmd_export(cli_args_t *a)
{
    const char *fmt = cli_str(a, "format"), *out = cli_str(a, "output");
    if (fmt != NULL && strcasecmp(fmt, "qemu") != 0) {
        return cli_error("--format '%s': qemu expected (Espressif QEMU's eFuse file)", fmt);
    }
    if (out == NULL) {
        return cli_error("export needs -o FILE (the QEMU eFuse file to write)");
    }
    const char *in = cli_str(a, "path-efuse-file");
    if (in != NULL && !espsec_path_exists(in)) {
        return cli_error("%s: no such virtual eFuse file to export", in);
    }
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    uint8_t *data = NULL;
    size_t len = 0;
    if (espsec_efuse_export_qemu(c.e, &data, &len, &err) != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", c.path);
        return cli_fail(&err);
    }
    /* it holds read-protected keys in clear: a key file (0600, never replaced) */
    espsec_err_t rc = espsec_write_secret_file(out, data, len, 0, &err);
    espsec_free_secret(data, len);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    printf("Exported %s (%s) -> %s (QEMU eFuse file, %zu bytes)\n", c.path, c.info->name, out, len);
    return 0;
}

/* ---- check-error ---- */

static int cmd_check_error(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    char which[256];
    if (espsec_efuse_block_errors(c.e, which, sizeof(which)) > 0) {
        /* a virtual chip cannot re-program its blocks, so --recovery cannot help here */
        return cli_error("Error(s) were detected in eFuses (%s)", which);
    }
    printf("No errors detected.\n");
    return 0;
}

/* ---- burn-block-data, burn-bit ---- */

static int cmd_burn_block_data(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    unsigned long long offset = 0;
    if (cli_u64(a, "offset", 0, &offset) != 0) {
        return 2;
    }
    for (size_t i = 0; i < a->npos; i += 2) {
        for (size_t k = 0; k < i; k += 2) {
            if (strcasecmp(a->pos[k], a->pos[i]) == 0) {
                return cli_error("Found repeated %s in the name list", a->pos[i]);
            }
        }
    }
    if (a->npos == 0 || a->npos % 2 != 0) {
        return cli_error("Expected multiple of 2 values, got %zu", a->npos);
    }
    if (offset != 0 && a->npos > 2) {
        return cli_error("The 'offset' option is not applicable when a few blocks are passed. With 'offset', should "
                         "only one block be used.");
    }
    for (size_t i = 0; i < a->npos; i += 2) {
        int blk = espsec_efuse_block_by_name(c.e, a->pos[i]);
        if (blk < 0) {
            return cli_error("Unknown block name - %s.", a->pos[i]);
        }
        for (size_t k = 0; k < i; k += 2) {
            if (espsec_efuse_block_by_name(c.e, a->pos[k]) == blk) {
                return cli_error("There are repeated names %s", a->pos[i]);
            }
        }
        uint8_t *data = NULL;
        size_t len = 0;
        if (espsec_read_file(a->pos[i + 1], &data, &len, 4096, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        espsec_err_t rc = espsec_efuse_stage_block_data(c.e, blk, data, len, (size_t)offset, &err);
        if (rc == ESPSEC_OK) {
            printf("[%02d] %-20s size=%02zu bytes, offset=%02llu - > [", blk, espsec_efuse_block_name(c.e, blk),
                   espsec_efuse_block_len(c.e, blk), offset);
            size_t n = espsec_efuse_block_len(c.e, blk);
            for (size_t k = 0; k < n; k++) {
                uint8_t v = k >= offset && k - offset < len ? data[k - offset] : 0;
                printf("%s%02x", k ? " " : "", v);
            }
            printf("].\n");
        }
        espsec_free_secret(data, len);
        if (rc != ESPSEC_OK) {
            return cli_fail(&err);
        }
    }
    return finish_burn(a, &c, "Burn block data.");
}

static int cmd_burn_bit(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    if (a->npos < 2) {
        return cli_error("burn-bit takes BLOCK BIT_NUMBER...");
    }
    int blk = espsec_efuse_block_by_name(c.e, a->pos[0]);
    if (blk < 0) {
        return cli_error("Unknown block name - %s.", a->pos[0]);
    }
    unsigned bits[CLI_MAX_POS * 4];
    size_t n = 0;
    for (size_t i = 1; i < a->npos; i++) {
        uint64_t v = 0;
        if (espsec_parse_u64(a->pos[i], &v) != 0 || v > 4096) {
            return cli_error("bit number '%s' is not a number", a->pos[i]);
        }
        bits[n++] = (unsigned)v;
    }
    size_t blen = espsec_efuse_block_len(c.e, blk);
    uint8_t d[32] = {0};
    for (size_t i = 0; i < n; i++) {
        if (bits[i] >= blen * 8) {
            return cli_error("%s has bit_number in [0..%zu]", a->pos[0], blen * 8 - 1);
        }
        d[bits[i] / 8] |= (uint8_t)(1u << (bits[i] % 8));
    }
    /* espefuse's picture of the bits: the block as a number, then as its registers */
    printf("bit_number:   [%03zu]........................................................[0]\n", blen * 8 - 1);
    printf("BLOCK%2d   : 0x", blk);
    for (size_t i = blen; i-- > 0;) {
        printf("%02x", d[i]);
    }
    char alias[64] = "";
    for (int k = 0; espsec_efuse_block_alias(c.e, blk, k) != NULL; k++) {
        size_t used = strlen(alias);
        snprintf(alias + used, sizeof(alias) - used, "%s%s", k ? " " : "", espsec_efuse_block_alias(c.e, blk, k));
    }
    alias[16] = '\0';
    printf("\n%-15s (%-16s) [%-2d] regs_to_write:", espsec_efuse_block_name(c.e, blk), alias, blk);
    for (size_t w = 0; w < blen / 4; w++) {
        printf(" %02x%02x%02x%02x", d[4 * w + 3], d[4 * w + 2], d[4 * w + 1], d[4 * w]);
    }
    printf("\n");
    if (espsec_efuse_stage_block_bits(c.e, blk, bits, n, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    return finish_burn(a, &c, "Burn bits.");
}

/* ---- custom MAC ---- */

/* A bitstring of at most 64 bits ("0x0f", "0b101") as a number. */
static uint64_t bitstring_u64(const char *b)
{
    if (strncmp(b, "0b", 2) == 0) {
        return strtoull(b + 2, NULL, 2);
    }
    return strncmp(b, "0x", 2) == 0 ? strtoull(b + 2, NULL, 16) : 0;
}

/* One "    - 'NAME' (description) OLD -> NEW" line of a field, OLD as burned, and espefuse's note
 * when NEW adds no bit to it. */
static void print_field_change(const espsec_efuse_t *e, const char *name, const char *new_)
{
    int i = espsec_efuse_find(e, name);
    espsec_efuse_field_info_t fi;
    char old[140];
    if (i < 0 || espsec_efuse_field_info(e, (size_t)i, &fi) != ESPSEC_OK ||
        espsec_efuse_field_bitstring(e, name, 0, old, sizeof(old)) < 0) {
        return;
    }
    printf("    - '%s' (%s) %s -> %s\n", fi.name, fi.description, old, new_);
    uint64_t o = bitstring_u64(old), n = bitstring_u64(new_);
    if (fi.bit_len <= 64 && (n & o) == n && (n != 0 || o != 0)) {
        printf("\tThe same value for %s is already burned. Do not change the eFuse.\n", fi.name);
    }
}

/* What espefuse prints as it stages a custom MAC (before the burn): the chip's MAC version field
 * when it is still 0, the address as a bitstring (last byte first), the chip's CRC field. */
static void print_custom_mac_lines(const espsec_efuse_t *e, const uint8_t mac[6])
{
    uint64_t ver = 0;
    if (espsec_efuse_find(e, "MAC_VERSION") >= 0 && espsec_efuse_get_uint(e, "MAC_VERSION", &ver, NULL) == ESPSEC_OK &&
        ver == 0) {
        print_field_change(e, "MAC_VERSION", "0x1");
    }
    char bits[16];
    snprintf(bits, sizeof(bits), "0x%02x%02x%02x%02x%02x%02x", mac[5], mac[4], mac[3], mac[2], mac[1], mac[0]);
    print_field_change(e, "CUSTOM_MAC", bits);
    if (espsec_efuse_find(e, "CUSTOM_MAC_CRC") >= 0) {
        char crc[8];
        snprintf(crc, sizeof(crc), "0x%x", espsec_efuse_mac_crc8(mac));
        print_field_change(e, "CUSTOM_MAC_CRC", crc);
    }
}

static int cmd_burn_custom_mac(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    const char *mac = cli_pos(a, 0);
    uint8_t m[6];
    int colons = 0;
    for (const char *p = mac; *p; p++) {
        colons += *p == ':';
    }
    char hex[16];
    size_t hn = 0;
    for (const char *p = mac; *p && hn < sizeof(hex) - 1; p++) {
        if (*p != ':') {
            hex[hn++] = *p;
        }
    }
    hex[hn] = '\0';
    if (colons != 5) {
        return cli_error("MAC Address needs to be a 6-byte hexadecimal format separated by colons (:)!");
    }
    if (strlen(mac) != 17 || espsec_unhex(hex, m, sizeof(m)) != 6) {
        return cli_error("MAC Address needs to be a 6-byte hexadecimal number (12 hexadecimal characters)!");
    }
    if (m[0] & 1) {
        return cli_error("Custom MAC must be a unicast MAC!");
    }
    if (espsec_efuse_stage_custom_mac(c.e, m, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    print_custom_mac_lines(c.e, m);
    ((efctx_t *)a->chain)->show_custom_mac = 1;
    return finish_burn(a, &c, "Burn the custom MAC address.");
}

static int cmd_get_custom_mac(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    char v[128];
    int r = espsec_efuse_custom_mac_text(c.e, v, sizeof(v));
    if (r < 0) {
        return cli_error("%s has no CUSTOM_MAC eFuse", c.info->name);
    }
    if (r > 0) {
        printf("Custom MAC Address is not set in the device.\n");
        return 0;
    }
    printf("%s\n", v);
    return 0;
}

/* ---- adc-info ---- */

static int cmd_adc_info(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    size_t n = espsec_efuse_field_count(c.e);
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        espsec_efuse_field_info_t fi;
        if (espsec_efuse_field_info(c.e, i, &fi) == ESPSEC_OK && strcmp(fi.category, "calibration") == 0) {
            if (!any) {
                uint64_t maj = 0, min = 0;
                espsec_efuse_get_uint(c.e, "BLK_VERSION_MAJOR", &maj, NULL);
                espsec_efuse_get_uint(c.e, "BLK_VERSION_MINOR", &min, NULL);
                printf("Block version: v%llu.%llu\n", (unsigned long long)maj, (unsigned long long)min);
                any = 1;
            }
            printf("%s: %s\n", fi.name, fi.value);
        }
    }
    if (!any) {
        printf("No calibration data in eFuses (BLOCK2 calibration is burned by the factory; this block version has "
               "none).\n");
    }
    return 0;
}

/* ---- set-flash-voltage ---- */

static int cmd_set_flash_voltage(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    const char *v = cli_pos(a, 0);
    if (espsec_efuse_stage_flash_voltage(c.e, v, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    const espsec_chip_lock_t *l = &c.info->lock;
    const char *vdd = l->vdd_name != NULL ? l->vdd_name : "VDD_SPI";
    uint64_t tieh = 0;
    espsec_efuse_get_uint(c.e, l->vdd_tieh, &tieh, NULL);
    if (strcmp(v, "OFF") == 0) {
        printf("Disable internal flash voltage regulator (%s). SPI flash will need to be powered from an external "
               "source.\nThe following eFuse is burned: %s.\nIt is possible to later re-enable the internal "
               "regulator %s by burning an additional eFuse.\n",
               vdd, l->vdd_force, tieh ? "to 3.3V" : "to 1.8V or 3.3V");
    } else if (strcmp(v, "1.8V") == 0) {
        printf("Set internal flash voltage regulator (%s) to 1.8V.\nThe following eFuses are burned: %s, %s.\nIt is "
               "possible to later increase the voltage to 3.3V (permanently) by burning additional eFuse %s.\n",
               vdd, l->vdd_force, l->vdd_reg, l->vdd_tieh);
    } else {
        printf("Enable internal flash voltage regulator (%s) to 3.3V.\nThe following eFuses are burned: %s, %s, %s.\n",
               vdd, l->vdd_force, l->vdd_reg, l->vdd_tieh);
    }
    printf("%s setting complete.\n", vdd);
    return finish_burn(a, &c, "Set the flash voltage.");
}

/* ---- burn-efuse ---- */

static int is_field_name(const espsec_efuse_t *e, const char *s)
{
    /* a value may look like a name (KEY_PURPOSE_0 HMAC_UP): only the chip's field names count */
    return espsec_efuse_find(e, s) >= 0;
}

static int cmd_burn_efuse(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    efctx_t *shared = a->chain;
    /* what espefuse lists: per block the names, then per field its description and bits before and after */
    struct {
        const char *name, *desc;
        int block, noop, is_mac;
        uint8_t mac[6];
        char old[140], new_[140];
    } *rows = calloc(a->npos ? a->npos : 1, sizeof(*rows));
    size_t nrows = 0;
    if (rows == NULL) {
        return cli_error("out of memory");
    }
    /* as espefuse: one name alone (a bool or bit counter takes its next bit), else NAME VALUE pairs */
    if (a->npos > 1 && a->npos % 2 != 0) {
        free(rows);
        return cli_error("The list does not have a valid pair (name value): %zu arguments", a->npos);
    }
    for (size_t i = 0; i < a->npos; i++) {
        if (!is_field_name(c.e, a->pos[i])) {
            free(rows);
            return cli_error("Invalid eFuse name '%s' (burn-efuse --help lists the names of %s)", a->pos[i],
                             c.info->name);
        }
        i += a->npos > 1;
    }
    for (size_t i = 0; i < a->npos; i++) {
        const char *name = a->pos[i];
        const char *val = a->npos > 1 ? a->pos[++i] : NULL;
        espsec_err_t rc;
        int noop = 0;
        uint64_t v = 0;
        int fidx = espsec_efuse_find(c.e, name);
        espsec_efuse_field_info_t fi;
        int is_bytes = fidx >= 0 && espsec_efuse_field_info(c.e, (size_t)fidx, &fi) == ESPSEC_OK &&
                       fi.type == ESPSEC_EF_BYTES;
        if (val == NULL) {
            rc = espsec_efuse_stage_next_bit(c.e, name, &v, &err);
        } else if (is_bytes && strchr(val, ':') != NULL && strstr(fi.name, "MAC") != NULL) {
            /* a MAC address, AA:CD:EF:01:02:03 */
            uint8_t m[8];
            char hex[24];
            size_t hn = 0, colons = 0;
            for (const char *p = val; *p && hn + 1 < sizeof(hex); p++) {
                if (*p == ':') {
                    colons++;
                } else {
                    hex[hn++] = *p;
                }
            }
            hex[hn] = '\0';
            if (colons != 5) {
                rc = espsec_fail(&err, ESPSEC_ERR_PARSE,
                                 "MAC Address needs to be a 6-byte hexadecimal format separated by colons (:)!");
            } else if (hn != 12 || espsec_unhex(hex, m, sizeof(m)) != 6) {
                rc = espsec_fail(&err, ESPSEC_ERR_PARSE,
                                 "MAC Address needs to be a 6-byte hexadecimal number (12 hexadecimal characters)!");
            } else if (strcmp(fi.name, "CUSTOM_MAC") == 0) {
                rc = espsec_efuse_stage_custom_mac(c.e, m, &err);
                if (nrows < a->npos) {
                    rows[nrows].is_mac = 1;
                    memcpy(rows[nrows].mac, m, 6);
                }
            } else if (espsec_efuse_stage_bytes(c.e, fi.name, m, 0, &err) == ESPSEC_ERR_NOT_ALLOWED) {
                rc = ESPSEC_ERR_NOT_ALLOWED; /* the library's refusal (ESP32: the factory MAC is not writable) */
            } else {
                rc = espsec_fail(&err, ESPSEC_ERR_NOT_ALLOWED, "Burning %s is not supported.", fi.name);
            }
        } else if (!is_bytes && espsec_parse_u64(val, &v) == 0) {
            rc = espsec_efuse_stage_uint(c.e, name, v, &noop, &err);
        } else {
            uint8_t bytes[64];
            long nb = espsec_unhex(val, bytes, sizeof(bytes));
            const espsec_key_purpose_t *kpd = espsec_chip_key_purpose(c.info, val);
            int kp = kpd != NULL ? kpd->value : -1;
            if (kp >= 0) {
                rc = espsec_efuse_stage_uint(c.e, name, (uint64_t)kp, &noop, &err);
            } else if (nb > 0) {
                /* espefuse: "0x..." is most significant byte first, plain hex as stored */
                if (strncmp(val, "0x", 2) == 0) {
                    for (long k = 0; k < nb / 2; k++) {
                        uint8_t t = bytes[k];
                        bytes[k] = bytes[nb - 1 - k];
                        bytes[nb - 1 - k] = t;
                    }
                }
                rc = espsec_efuse_stage_bytes(c.e, name, bytes, (size_t)nb, &err);
            } else {
                rc = espsec_fail(&err, ESPSEC_ERR_PARSE, "value '%s' for %s is not a number", val, name);
            }
        }
        if (rc != ESPSEC_OK) {
            free(rows);
            return cli_fail(&err);
        }
        if (fidx >= 0 && nrows < a->npos) {
            espsec_efuse_field_info(c.e, (size_t)fidx, &fi);
            rows[nrows].name = fi.name;
            rows[nrows].desc = fi.description;
            rows[nrows].block = fi.block;
            rows[nrows].noop = noop;
            espsec_efuse_field_bitstring(c.e, fi.name, 0, rows[nrows].old, sizeof(rows[nrows].old));
            espsec_efuse_field_bitstring(c.e, fi.name, noop ? 0 : 1, rows[nrows].new_, sizeof(rows[nrows].new_));
            if (rows[nrows].is_mac) {
                /* the address given, not what the field holds after it */
                const uint8_t *m6 = rows[nrows].mac;
                snprintf(rows[nrows].new_, sizeof(rows[nrows].new_), "0x%02x%02x%02x%02x%02x%02x", m6[5], m6[4],
                         m6[3], m6[2], m6[1], m6[0]);
            }
            if (shared != NULL && shared->nburned < sizeof(shared->burned) / sizeof(shared->burned[0])) {
                shared->burned[shared->nburned++] = fi.name;
            }
            nrows++;
        }
    }
    printf("The eFuses to burn:\n");
    int attention = 0;
    for (int b = 0; b < espsec_efuse_block_count(c.e); b++) {
        int any = 0;
        for (size_t r = 0; r < nrows; r++) {
            if (rows[r].block == b) {
                if (!any) {
                    printf("  from BLOCK%d\n", b);
                }
                printf("     - %s\n", rows[r].name);
                any = 1;
            }
        }
        if (any && strcmp(espsec_efuse_block_coding(c.e, b), "NONE") != 0) {
            /* espefuse's warning: an RS- or 3/4-coded block takes no later write to its other fields */
            attention = 1;
            int n = 0;
            for (size_t i = 0; i < espsec_efuse_field_count(c.e); i++) {
                espsec_efuse_field_info_t f;
                int listed = 0;
                if (espsec_efuse_field_info(c.e, i, &f) != ESPSEC_OK || f.block != b) {
                    continue;
                }
                for (size_t r = 0; r < nrows; r++) {
                    listed |= strcmp(rows[r].name, f.name) == 0;
                }
                if (listed) {
                    continue;
                }
                if (n == 0) {
                    printf("    ATTENTION! This BLOCK uses NOT the NONE coding scheme and after 'BURN', these efuses "
                           "can not be burned in the feature:\n");
                }
                printf("%s'%s'", n % 5 == 0 ? (n ? "]\n               [" : "               [") : ", ", f.name);
                n++;
            }
            if (n > 0) {
                printf("]\n");
            }
        }
    }
    printf("\nBurning eFuses%s:\n", attention ? " (see 'ATTENTION!' above)" : "");
    for (size_t r = 0; r < nrows; r++) {
        printf("    - '%s' (%s) %s -> %s\n", rows[r].name, rows[r].desc, rows[r].old, rows[r].new_);
        if (rows[r].noop) {
            printf("\tThe same value for %s is already burned. Do not change the eFuse.\n", rows[r].name);
        }
        if (rows[r].is_mac) {
            print_custom_mac_lines(c.e, rows[r].mac); /* espefuse's MAC field tells its own burn too */
        }
    }
    printf("\n");
    free(rows);
    /* the chip's fuses that must not be set together (with what earlier chained commands staged) */
    char why[160];
    if (espsec_efuse_staged_conflict(c.e, why, sizeof(why))) {
        printf("%s\n", why);
        if (!cli_flag(a, "force")) {
            return cli_error("Incompatible eFuse settings detected, abort. (use --force flag to skip it).");
        }
        printf("Ignore incompatible eFuse settings.\n");
    }
    if (shared != NULL) {
        shared->check_after = 1;
    }
    st = finish_burn(a, &c, "Burning eFuses.");
    return st;
}

static int protect_cmd(cli_args_t *a, int rd)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    for (size_t i = 0; i < a->npos; i++) {
        /* as espefuse's argument check: only names that have such a protection bit */
        if (espsec_efuse_protect_bit(c.e, a->pos[i], rd) < 0) {
            return cli_error("Invalid value for EFUSE_NAME: '%s' is not an eFuse or block of %s that can be %s-protected",
                             a->pos[i], c.info->name, rd ? "read" : "write");
        }
        for (size_t k = 0; k < i; k++) {
            if (strcasecmp(a->pos[k], a->pos[i]) == 0) {
                return cli_error("Found repeated %s in the name list", a->pos[i]);
            }
        }
    }
    for (size_t i = 0; i < a->npos; i++) {
        int already = espsec_efuse_is_protected(c.e, a->pos[i], rd);
        if (already) {
            /* as espefuse: a notice, not an error */
            printf("Efuse %s is already %s protected%s\n", a->pos[i], rd ? "read" : "write", rd ? "" : ".");
            continue;
        }
        const char *sb_block = c.info->sb.enable_v1 != NULL ? c.info->sb.digest_block : NULL;
        if (rd && sb_block != NULL && strcmp(a->pos[i], sb_block) == 0) {
            uint64_t v1 = 0, v2 = 0;
            espsec_efuse_get_uint(c.e, c.info->sb.enable_v1, &v1, NULL);
            espsec_efuse_get_uint(c.e, c.info->sb.enable, &v2, NULL);
            /* espefuse's virtual chip reports revision v3.0 whatever its eFuses say: always warned */
            if (!v1 && !v2) {
                /* the refusal when V2 is on is the library's (espsec_efuse_stage_read_protect) */
                printf("If Secure Boot V2 is used, %s must be readable, please stop this operation!\n", sb_block);
            }
        }
        char names[512];
        size_t n = espsec_efuse_protect_group(c.e, a->pos[i], rd, names, sizeof(names));
        /* a refusal comes before the notice, as espefuse's checks do */
        espsec_err_t rc = rd ? espsec_efuse_stage_read_protect(c.e, a->pos[i], &err)
                             : espsec_efuse_stage_write_protect(c.e, a->pos[i], &err);
        if (rc != ESPSEC_OK) {
            return cli_fail(&err);
        }
        printf("Permanently %s-disabling eFuse%s %s\n", rd ? "read" : "write", n > 1 ? "s" : "", names);
    }
    if (a->chain != NULL) {
        ((efctx_t *)a->chain)->check_after = 1; /* espefuse reads the protection back */
    }
    return finish_burn(a, &c, rd ? "Read-protecting eFuses." : "Write-protecting eFuses.");
}

static int cmd_read_protect(cli_args_t *a)
{
    return protect_cmd(a, 1);
}

static int cmd_write_protect(cli_args_t *a)
{
    return protect_cmd(a, 0);
}

/* ---- keys ---- */

static int read_key(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t *data = NULL;
    espsec_error_t err;
    if (espsec_read_file(path, &data, len, 4096, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (*len > cap) {
        espsec_free_secret(data, *len);
        return cli_error("%s: key file is %zu bytes, too long for an eFuse block", path, *len);
    }
    memcpy(buf, data, *len);
    espsec_free_secret(data, *len);
    return 0;
}

/* The lines espefuse prints for a key before it checks its length: the field and its (hidden) bytes. */
static void print_key_head(const espsec_chip_info_t *ci, const espsec_efuse_key_step_t *st)
{
    if (st->digest_cut) {
        printf("\tProgramming only left-most 128-bits from SHA256 hash of public key to highest 128-bits of "
               "BLOCK KEY0\n");
    }
    printf(" - %s -> [", st->field);
    for (size_t i = 0; i < st->len; i++) {
        printf("%s??", i ? " " : "");
    }
    printf("]\n");
    if (st->reversed) {
        printf("\tReversing byte order for %s hardware peripheral...\n",
               ci->reverse_notice_names_purpose ? st->purpose : "AES-XTS");
    }
    if (st->already_burned) {
        printf("\tThe same value for %s is already burned. Do not change the eFuse.\n", st->field);
    }
}

/* Print what was staged for one key, as espefuse does (never the key bytes); then, when the
 * staging was refused, the head lines of the refused key. */
static void print_key_steps(const espsec_chip_info_t *ci, const espsec_efuse_key_step_t *st, int n,
                            espsec_err_t rc)
{
    for (int k = 0; k < n; k++) {
        print_key_head(ci, &st[k]);
        if (st[k].size_fuse != NULL && st[k].size_fuse_was_set) {
            printf("\t'%s' is already '1'\n", st[k].size_fuse);
        } else if (st[k].size_fuse != NULL) {
            printf("\t%s -> 1\n", st[k].size_fuse);
        }
        /* (C2's key block has no purpose field) */
        if (st[k].purpose_field != NULL && strcmp(st[k].purpose_before, st[k].purpose) != 0) {
            printf("\t'%s': '%s' -> '%s'.\n", st[k].purpose_field, st[k].purpose_before, st[k].purpose);
        } else if (st[k].purpose_field != NULL) {
            printf("\t'%s' is already '%s'.\n", st[k].purpose_field, st[k].purpose);
        }
        if (st[k].companion != NULL && st[k].companion_before) {
            printf("\t%s is already '1'\n", st[k].companion);
        } else if (st[k].companion != NULL) {
            printf("\t%s: 0 -> 1\n", st[k].companion);
            if (st[k].companion_staged) {
                /* espefuse's check counts what is staged as burned */
                printf("\tThe same value for %s is already burned. Do not change the eFuse.\n", st[k].companion);
            }
        }
        if (st[k].purpose_write_protected) {
            printf("\tDisabling write to '%s'...\n", st[k].purpose_field);
        }
        if (st[k].read_protected) {
            printf("\tDisabling read to key block...\n");
        }
        if (st[k].write_protected) {
            printf("\tDisabling write to key block...\n");
        }
        if (st[k].write_protect_already) {
            printf("\tThe same value for WR_DIS is already burned. Do not change the eFuse.\n");
        }
        printf("\n");
    }
    if (rc != ESPSEC_OK && n < 2 && st[n].field != NULL) {
        print_key_head(ci, &st[n]);
    }
}

/* espefuse's notice before burn-key and burn-key-digest list what they burn (key bytes only with
 * --show-sensitive-info or -d, which espsec accepts and still never prints them). */
static void print_sensitive_notice(cli_args_t *a)
{
    if (!cli_flag(a, "show-sensitive-info") && !cli_flag(a, "debug")) {
        printf("Sensitive data will be hidden (see --show-sensitive-info)\n");
    }
}

/* After the keys of a chip with key purposes: what stays unprotected, as espefuse says it. */
static void print_protect_notes(const cli_args_t *a)
{
    if (cli_flag(a, "no-write-protect")) {
        printf("Keys will remain writeable (due to --no-write-protect).\n");
    }
    if (cli_flag(a, "no-read-protect")) {
        printf("Keys will remain readable (due to --no-read-protect).\n");
    }
}

/* burn-key on chips with key purposes: BLOCK KEYFILE PURPOSE triples, staged, burned together. */
static int burn_keys_by_purpose(cli_args_t *a, efctx_t *c)
{
    espsec_error_t err;
    uint32_t named = 0;
    for (size_t i = 0; i + 2 < a->npos + 2 && i < a->npos; i += 3) {
        int b = espsec_efuse_block_by_name(c->e, a->pos[i]);
        if (b > 0 && b < 32) {
            named |= 1u << b;
        }
    }
    const char *purposes[CLI_MAX_POS * 4 / 3 + 1];
    size_t np = 0;
    for (size_t i = 2; i < a->npos && np < sizeof(purposes) / sizeof(purposes[0]); i += 3) {
        purposes[np++] = a->pos[i];
    }
    if (espsec_efuse_check_key_purposes(c->info, purposes, np, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    print_sensitive_notice(a);
    printf("Burn keys to blocks:\n");
    for (size_t i = 0; i < a->npos; i += 3) {
        const char *bname = a->pos[i], *kf = a->pos[i + 1], *purpose = a->pos[i + 2];
        uint8_t key[64], *file = NULL;
        size_t klen = 0, flen = 0;
        if (espsec_read_file(kf, &file, &flen, 1u << 16, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        espsec_err_t krc = espsec_efuse_key_file_data(c->info, purpose, file, flen, key, &klen, &err);
        espsec_free_secret(file, flen);
        if (krc != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", kf);
            return cli_fail(&err);
        }
        espsec_efuse_key_step_t st[2];
        int n = 0;
        espsec_err_t rc = espsec_efuse_stage_key_purpose(c->e, bname, key, klen, purpose, cli_flag(a, "no-write-protect"),
                                                         cli_flag(a, "no-read-protect"), named, st, &n, &err);
        espsec_wipe(key, sizeof(key));
        print_key_steps(c->info, st, n, rc);
        if (rc != ESPSEC_OK) {
            if (rc != ESPSEC_ERR_INVALID_SIZE) {
                espsec_error_prefix(&err, "%s: ", kf); /* a wrong length: espefuse's words alone */
            }
            return cli_fail(&err);
        }
    }
    print_protect_notes(a);
    return finish_burn(a, c, "Burn keys in eFuse blocks.");
}

static int cmd_burn_key(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    /* chips without key purposes (ESP32) name blocks only */
    int esp32 = c.info->key_purposes == NULL;
    size_t per = esp32 ? 2 : 3;
    if (a->npos == 0 || a->npos % per != 0) {
        return cli_error(esp32 ? "Expected multiple of 2 values, got %zu (burn-key takes BLOCK KEYFILE: "
                                 "flash_encryption, secure_boot_v1, secure_boot_v2, BLOCK1-3)"
                               : "Expected multiple of 3 values, got %zu (burn-key takes BLOCK KEYFILE KEYPURPOSE)",
                         a->npos);
    }
    if (!esp32) {
        return burn_keys_by_purpose(a, &c);
    }
    print_sensitive_notice(a);
    printf("Burn keys to blocks:\n");
    for (size_t i = 0; i < a->npos; i += per) {
        const char *bname = a->pos[i], *kf = a->pos[i + 1], *purpose = esp32 ? NULL : a->pos[i + 2];
        int blk = espsec_efuse_block_by_name(c.e, bname);
        if (blk <= 0) {
            return cli_error("unknown block name - %s", bname);
        }
        uint8_t key[64];
        size_t klen = 0;
        if (read_key(kf, key, sizeof(key), &klen) != 0) {
            return 2;
        }
        int reverse = 0, rdp = 0;
        if (esp32) {
            reverse = strcmp(bname, "flash_encryption") == 0 || strcmp(bname, "secure_boot_v1") == 0;
            rdp = reverse;
        } else {
            const espsec_key_purpose_t *kpd = espsec_chip_key_purpose(c.info, purpose);
            if (kpd == NULL) {
                espsec_wipe(key, sizeof(key));
                return cli_error("unknown key purpose '%s'", purpose);
            }
            reverse = (kpd->flags & ESPSEC_KP_REVERSE) != 0;
            rdp = (kpd->flags & ESPSEC_KP_READ_PROT) != 0;
        }
        size_t need = esp32 && espsec_efuse_coding_34(c.e) ? 24 : 32;
        printf(" - %s -> [", espsec_efuse_block_name(c.e, blk));
        for (size_t k = 0; k < klen; k++) {
            printf("%s??", k ? " " : "");
        }
        printf("]\n");
        if (reverse) {
            for (size_t k = 0; k < klen / 2; k++) {
                uint8_t t = key[k];
                key[k] = key[klen - 1 - k];
                key[klen - 1 - k] = t;
            }
            printf("\tReversing the byte order...\n");
        }
        if (klen != need) {
            /* as espefuse: after the key's line, in its words */
            espsec_wipe(key, sizeof(key));
            return cli_error("Incorrect key file size %zu. Key file must be %zu bytes (%zu bits) of raw binary key "
                             "data.",
                             klen, need, need * 8);
        }
        uint8_t cur[32];
        int same = 1, bits = 0;
        espsec_efuse_get_block(c.e, blk, cur);
        for (size_t k = 0; k < klen; k++) {
            same &= (key[k] & cur[k]) == key[k];
            bits |= key[k] | cur[k];
        }
        espsec_wipe(cur, sizeof(cur));
        if (same && bits) {
            printf("\tThe same value for %s is already burned. Do not change the eFuse.\n",
                   espsec_efuse_block_name(c.e, blk));
        }
        int wp = esp32 ? !cli_flag(a, "no-protect-key") : !cli_flag(a, "no-write-protect");
        int rp = rdp && (esp32 ? !cli_flag(a, "no-protect-key") : !cli_flag(a, "no-read-protect"));
        int wp_already = wp && !espsec_efuse_block_writeable(c.e, blk);
        espsec_err_t rc = espsec_efuse_stage_key(c.e, blk, key, klen, purpose, wp, rp, &err);
        espsec_wipe(key, sizeof(key));
        if (rc != ESPSEC_OK) {
            return cli_fail(&err);
        }
        if (rp) {
            printf("\tDisabling read to key block...\n");
        }
        if (wp) {
            printf("\tDisabling write to key block...\n");
        }
        if (wp_already) {
            printf("\tThe same value for WR_DIS is already burned. Do not change the eFuse.\n");
        }
        printf("\n");
    }
    /* chips without key purposes (ESP32) */
    if (cli_flag(a, "no-protect-key")) {
        printf("Key is left unprotected as per --no-protect-key argument.\n");
    }
    printf("Burn keys in eFuse blocks.\n%s \n\n",
           cli_flag(a, "no-protect-key") ? "The key block will be left readable and writeable (due to --no-protect-key)."
                                         : "The key block will be read and write protected (no further changes or "
                                           "readback).");
    st = finish_burn(a, &c, "Burn keys in eFuse blocks.");
    return st;
}

/* The Secure Boot V2 digest of the public key in a PEM file (RSA or ECDSA). */
static int key_digest(const char *kf, uint8_t digest[32])
{
    uint8_t *pem = NULL;
    size_t plen = 0;
    espsec_sb_key_t *key = NULL;
    espsec_error_t err;
    if (espsec_read_file(kf, &pem, &plen, 1u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_err_t rc = espsec_sb_key_load_pem(pem, plen, &key, &err);
    espsec_free_secret(pem, plen);
    if (rc == ESPSEC_OK) {
        rc = espsec_sbv2_key_digest(key, digest, &err);
        espsec_sb_key_free(key);
    }
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", kf);
        return cli_fail(&err);
    }
    return 0;
}

static int cmd_burn_key_digest(cli_args_t *a)
{
    efctx_t c = {0};
    int st = open_efuse(a, &c);
    if (st != 0) {
        return st;
    }
    espsec_error_t err;
    uint8_t digest[32];
    /* chips with one fixed digest place (ESP32 BLOCK2, C2's half of BLOCK_KEY0) take only the key file */
    if (c.info->sb.digest_block != NULL) {
        if (a->npos != 1) {
            return cli_error("burn-key-digest takes KEYFILE on %s (the digest goes to %s)", c.info->name,
                             c.info->sb.digest_block);
        }
        print_sensitive_notice(a);
        st = key_digest(a->pos[0], digest);
        if (st != 0) {
            return st;
        }
        espsec_err_t rc;
        if (c.info->key_purposes == NULL) {
            if (espsec_efuse_coding_34(c.e)) {
                return cli_error("burn-key-digest only works with 'None' coding scheme");
            }

            int blk = espsec_efuse_block_by_name(c.e, c.info->sb.digest_block);
            int wp = !cli_flag(a, "no-protect-key");
            printf(" - %s -> [", espsec_efuse_block_name(c.e, blk));
            for (size_t k = 0; k < sizeof(digest); k++) {
                printf("%s??", k ? " " : "");
            }
            printf("]\n");
            rc = espsec_efuse_stage_key(c.e, blk, digest, 32, NULL, wp, 0, &err);
            if (rc == ESPSEC_OK && wp) {
                printf("Disabling write to eFuse %s...\n", espsec_efuse_block_name(c.e, blk));
            }
        } else {
            espsec_efuse_key_step_t ks[2];
            int n = 0;
            /* the purpose of the digest place, e.g. C2's SECURE_BOOT_DIGEST */
            const char *purpose = NULL;
            for (const espsec_key_purpose_t *k = c.info->key_purposes; k->name != NULL; k++) {
                if (k->flags & ESPSEC_KP_DIGEST) {
                    purpose = k->name;
                    break;
                }
            }
            /* as espefuse: the digest cut to the bytes the chip keeps (C2: 16), then burn-key's lines */
            printf("Burn keys to blocks:\n");
            rc = espsec_efuse_stage_key_purpose(c.e, c.info->sb.digest_block, digest, c.info->sb.digest_bytes,
                                                purpose, cli_flag(a, "no-write-protect"), 1, 0, ks, &n, &err);
            print_key_steps(c.info, ks, n, rc);
        }
        espsec_wipe(digest, sizeof(digest));
        if (rc != ESPSEC_OK) {
            return cli_fail(&err);
        }
        if (c.info->key_purposes != NULL) {
            print_protect_notes(a);
        }
        return finish_burn(a, &c, "Burn the Secure Boot key digest.");
    }
    if (a->npos == 0 || a->npos % 3 != 0) {
        return cli_error("Expected multiple of 3 values, got %zu (burn-key-digest takes BLOCK KEYFILE KEYPURPOSE)",
                         a->npos);
    }
    uint32_t named = 0;
    for (size_t i = 0; i < a->npos; i += 3) {
        int b = espsec_efuse_block_by_name(c.e, a->pos[i]);
        named |= b > 0 && b < 32 ? 1u << b : 0;
    }
    print_sensitive_notice(a);
    printf("Burn keys to blocks:\n");
    for (size_t i = 0; i < a->npos; i += 3) {
        const char *bname = a->pos[i], *kf = a->pos[i + 1], *purpose = a->pos[i + 2];
        const espsec_key_purpose_t *kpd = espsec_chip_key_purpose(c.info, purpose);
        if (kpd == NULL || !(kpd->flags & ESPSEC_KP_DIGEST)) {
            return cli_error("'%s' is not a digest purpose (SECURE_BOOT_DIGEST0, 1 or 2)", purpose);
        }
        st = key_digest(kf, digest);
        if (st != 0) {
            return st;
        }
        espsec_efuse_key_step_t ks[2];
        int n = 0;
        espsec_err_t rc = espsec_efuse_stage_key_purpose(c.e, bname, digest, 32, purpose,
                                                         cli_flag(a, "no-write-protect"), 1, named, ks, &n, &err);
        print_key_steps(c.info, ks, n, rc);
        if (rc != ESPSEC_OK) {
            return cli_fail(&err);
        }
    }
    print_protect_notes(a);
    return finish_burn(a, &c, "Burn the Secure Boot key digest.");
}

/* ---- command help for the chip of --chip ---- */

/* Items of a list, wrapped as "  Title: [A, B, ...]" lines. */
typedef struct {
    FILE *f;
    size_t col;
    int n;
} help_list_t;

static void list_start(help_list_t *l, FILE *f, const char *title)
{
    l->f = f;
    l->n = 0;
    l->col = (size_t)fprintf(f, "  %s: [", title);
}

static void list_add(help_list_t *l, const char *item)
{
    size_t len = strlen(item) + (l->n ? 2 : 0);
    if (l->n && l->col + len > 116) {
        fprintf(l->f, ",\n  ");
        l->col = 2;
        len -= 2;
    } else if (l->n) {
        fprintf(l->f, ", ");
    }
    fprintf(l->f, "%s", item);
    l->col += len;
    l->n++;
}

static void list_end(help_list_t *l)
{
    fprintf(l->f, "]\n");
}

/* Blocks that take keys or data: every block after BLOCK0 (from > 0) or all, with their aliases. */
static void help_blocks(FILE *f, const espsec_efuse_t *e, const char *title, int from, int aliases)
{
    help_list_t l;
    list_start(&l, f, title);
    for (int b = from; b < espsec_efuse_block_count(e); b++) {
        list_add(&l, espsec_efuse_block_name(e, b));
        for (int k = 0; aliases && espsec_efuse_block_alias(e, b, k) != NULL; k++) {
            list_add(&l, espsec_efuse_block_alias(e, b, k));
        }
    }
    list_end(&l);
}

/* The chip's key purposes (digest: only those that hold a Secure Boot key digest). */
static void help_purposes(FILE *f, const espsec_chip_info_t *ci, int digest)
{
    help_list_t l;
    list_start(&l, f, "Key purpose is one of");
    const espsec_key_purpose_t *k;
    for (size_t i = 0; (k = espsec_chip_key_purpose_at(ci, i)) != NULL; i++) { /* CUSTOM_n ones too */
        if (!digest || (k->flags & ESPSEC_KP_DIGEST)) {
            list_add(&l, k->name);
        }
    }
    list_end(&l);
}

static void help_fields(FILE *f, const espsec_efuse_t *e)
{
    help_list_t l;
    list_start(&l, f, "Allowed options for EFUSE_NAME");
    size_t n = espsec_efuse_field_count(e);
    for (size_t i = 0; i < n; i++) {
        espsec_efuse_field_info_t fi;
        if (espsec_efuse_field_info(e, i, &fi) == ESPSEC_OK && fi.word >= 0) {
            list_add(&l, fi.name);
        }
    }
    list_end(&l);
}

void cli_efuse_help_more(FILE *f, const cli_args_t *a, const cli_cmd_t *c)
{
    const char *chip = cli_str(a, "chip");
    const espsec_chip_info_t *ci =
        chip == NULL || strcmp(chip, "auto") == 0 ? espsec_chip_default() : espsec_chip_by_name(chip);
    espsec_efuse_t *e = NULL;
    if (ci == NULL || ci->efuse == NULL || espsec_efuse_new(ci->id, &e, NULL) != ESPSEC_OK) {
        return; /* the command itself names the problem with --chip */
    }
    fprintf(f, "\n");
    if (strcmp(c->name, "burn-key") == 0 && ci->fe.shared_key0 && ci->fe.key_block != NULL) {
        /* C2: keys go to the one shared key block only, as espefuse lists it */
        fprintf(f, "  Block is one of: [%s]\n", ci->fe.key_block);
        help_purposes(f, ci, 0);
    } else if (strcmp(c->name, "burn-key") == 0) {
        help_blocks(f, e, "Block is one of", 1, 1);
        if (ci->key_purposes != NULL) {
            help_purposes(f, ci, 0);
        }
    } else if (strcmp(c->name, "burn-key-digest") == 0 && ci->sb.digest_block == NULL) {
        help_blocks(f, e, "Block is one of", 1, 1);
        help_purposes(f, ci, 1);
    } else if (strcmp(c->name, "burn-key-digest") == 0) {
        fprintf(f, "  The digest goes to %s.\n", ci->sb.digest_block);
    } else if (strcmp(c->name, "burn-block-data") == 0 || strcmp(c->name, "burn-bit") == 0) {
        help_blocks(f, e, "Allowed options for BLOCK", 0, 0);
    } else if (strcmp(c->name, "burn-efuse") == 0 || strcmp(c->name, "read-protect-efuse") == 0 ||
               strcmp(c->name, "write-protect-efuse") == 0) {
        help_fields(f, e);
    }
    espsec_efuse_free(e);
}

static const cli_opt_t GROUP_OPTS[] = {
    {"chip", 'c', CLI_VALUE, "CHIP",
     "esp32 (default), esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, esp32c61, esp32h2 or esp32p4; esp8266 is "
     "refused (it has no eFuse security)."},
    {"virt", 0, CLI_FLAG, NULL, "Virtual eFuses (always; accepted for espefuse compatibility)."},
    {"path-efuse-file", 0, CLI_VALUE, "FILE", "The virtual eFuse file (espefuse's format); created if missing."},
    {"do-not-confirm", 0, CLI_FLAG, NULL, "Do not ask for confirmation before burning."},
    {"port", 'p', CLI_VALUE, "PORT", "Refused: espsec drives no hardware."},
    {"baud", 'b', CLI_VALUE, "BAUD", "Ignored (no hardware)."},
    {"debug", 'd', CLI_FLAG, NULL, "Show the block registers before a summary."},
    {"postpone", 0, CLI_FLAG, NULL, "Burn protection and lock-down fuses of BLOCK0 last (the default)."},
    {"no-postpone", 0, CLI_FLAG, NULL, "Burn BLOCK0 in one step."},
    {"extend-efuse-table", 0, CLI_VALUE, "CSV", "Custom fields from an esp_efuse_custom_table.csv (by name everywhere)."},
    {0}};

static const cli_opt_t OPT_SUMMARY[] = {
    {"format", 0, CLI_VALUE, "FMT", "summary (default), json or value_only."},
    {"file", 0, CLI_VALUE, "FILE", "Write the summary to FILE."},
    {0}};
static const cli_pos_t POS_SUMMARY[] = {{"EFUSES", "Only these eFuses.", 1, 1}, {0}};
static const cli_opt_t OPT_BURN[] = {
    {"force-write-always", 0, CLI_FLAG, NULL, "Accepted for compatibility; protections are always enforced."},
    {0}};
static const cli_opt_t OPT_BURN_EFUSE[] = {
    {"force", 0, CLI_FLAG, NULL,
     "Burn even fuses the chip must not have set together (espefuse's incompatibility check)."},
    {"force-write-always", 0, CLI_FLAG, NULL, "Accepted for compatibility; protections are always enforced."},
    {0}};
static const cli_pos_t POS_BURN[] = {{"NAME_VALUE", "Pairs NAME [VALUE] (the value may be omitted for booleans and "
                                                    "bit counters).",
                                      0, 1},
                                     {0}};
static const cli_opt_t OPT_KEY[] = {
    {"no-protect-key", 0, CLI_FLAG, NULL, "ESP32: leave the key readable and writable."},
    {"no-write-protect", 0, CLI_FLAG, NULL, "ESP32-C3: leave the key block writable."},
    {"no-read-protect", 0, CLI_FLAG, NULL, "ESP32-C3: leave the key block readable."},
    {"show-sensitive-info", 0, CLI_FLAG, NULL, "Accepted; espsec never prints key bytes."},
    {"force-write-always", 0, CLI_FLAG, NULL, "Accepted for compatibility."},
    {0}};
static const cli_pos_t POS_KEY[] = {{"ARGS",
                                     "BLOCK KEYFILE ... on chips without key purposes (ESP32), BLOCK KEYFILE KEYPURPOSE "
                                     "... on the others; the blocks and purposes of --chip are listed above",
                                     0, 1},
                                    {0}};
static const cli_pos_t POS_NAMES[] = {{"NAMES", "eFuse or block names.", 0, 1}, {0}};
static const cli_opt_t OPT_DUMP[] = {
    {"format", 0, CLI_VALUE, "FMT", "default (registers as text), split (a file per block) or joint (one file)."},
    {"file-name", 0, CLI_VALUE, "FILE", "Write binary dumps here (split: FILE with the block number added)."},
    {0}};
static const cli_opt_t OPT_IMPORT[] = {
    {"output", 'o', CLI_VALUE, "VIRT", "The virtual eFuse file to write (espefuse's --virt format)."},
    {"format", 0, CLI_VALUE, "FMT", "auto (default: from the contents), joint, json or qemu."},
    {0}};
static const cli_pos_t POS_IMPORT[] = {{"FILE",
                                        "A chip's eFuses: espefuse's 'dump --format joint', its 'summary --format "
                                        "json', or Espressif QEMU's eFuse file.",
                                        0, 0},
                                       {0}};
static const cli_opt_t OPT_EXPORT[] = {
    {"output", 'o', CLI_VALUE, "FILE", "The QEMU eFuse file to write (mode 0600, never replaced)."},
    {"format", 0, CLI_VALUE, "FMT", "qemu (Espressif QEMU's eFuse file, for -drive ...,id=efuse)."},
    {0}};
static const cli_opt_t OPT_CHECK[] = {
    {"recovery", 0, CLI_FLAG, NULL, "Re-burn blocks with coding errors (a virtual chip has nothing to recover)."},
    {0}};
static const cli_opt_t OPT_BLOCK_DATA[] = {
    {"offset", 0, CLI_VALUE, "BYTES", "Byte offset of the data in the block (one block only)."},
    {"force-write-always", 0, CLI_FLAG, NULL, "Accepted for compatibility."},
    {0}};
static const cli_pos_t POS_BLOCK_DATA[] = {{"BLOCK_DATAFILE", "Pairs BLOCK DATAFILE.", 0, 1}, {0}};
static const cli_pos_t POS_BIT[] = {{"BLOCK", "Block name.", 0, 0}, {"BIT_NUMBER", "Bit numbers.", 0, 1}, {0}};
static const cli_pos_t POS_MAC[] = {{"MAC", "Custom MAC address, AA:CD:EF:01:02:03.", 0, 0}, {0}};
static const cli_pos_t POS_VOLTAGE[] = {{"VOLTAGE", "1.8V, 3.3V or OFF.", 0, 0}, {0}};
static const cli_opt_t OPT_NONE[] = {{0}};

static const cli_cmd_t EFUSE_CMDS[] = {
    {"summary", NULL, "Show every eFuse: value, protection, raw bits (espefuse's layout; --format json).", NULL,
     OPT_SUMMARY, POS_SUMMARY, cmd_summary},
    {"dump", NULL, "Dump the raw read registers of every block (--format default|split|joint).", NULL, OPT_DUMP,
     NULL, cmd_dump},
    {"import", NULL, "A chip's eFuses (joint dump, summary JSON or QEMU's file) into a virtual eFuse file.", NULL,
     OPT_IMPORT, POS_IMPORT, cmd_import},
    {"export", NULL, "The virtual eFuses as Espressif QEMU's eFuse file (--format qemu -o FILE).", NULL, OPT_EXPORT,
     NULL, cmd_export},
    {"check-error", NULL, "Check the blocks for read errors (as a chip's error registers report them).", NULL,
     OPT_CHECK, NULL, cmd_check_error},
    {"burn-block-data", NULL, "Burn raw data into blocks: BLOCK DATAFILE [BLOCK DATAFILE]... [--offset N].", NULL,
     OPT_BLOCK_DATA, POS_BLOCK_DATA, cmd_burn_block_data},
    {"burn-bit", NULL, "Burn single bits of a block: BLOCK BIT_NUMBER...", NULL, OPT_BURN, POS_BIT, cmd_burn_bit},
    {"burn-custom-mac", NULL, "Burn a custom MAC address (unicast).", NULL, OPT_BURN, POS_MAC, cmd_burn_custom_mac},
    {"get-custom-mac", NULL, "Show the custom MAC address.", NULL, OPT_NONE, NULL, cmd_get_custom_mac},
    {"adc-info", NULL, "Show the ADC and sensor calibration values.", NULL, OPT_NONE, NULL, cmd_adc_info},
    {"set-flash-voltage", NULL, "Fix the flash voltage (VDD_SDIO / VDD_SPI) by eFuse: 1.8V, 3.3V or OFF.", NULL,
     OPT_NONE, POS_VOLTAGE, cmd_set_flash_voltage},
    {"burn-efuse", NULL, "Burn eFuse fields: NAME [VALUE] [NAME [VALUE]]...", NULL, OPT_BURN_EFUSE, POS_BURN,
     cmd_burn_efuse},
    {"burn-key", NULL, "Burn a key into a key block (read/write protected unless told otherwise).", NULL, OPT_KEY,
     POS_KEY, cmd_burn_key},
    {"burn-key-digest", NULL, "Burn the SHA-256 digest of a Secure Boot V2 public key.", NULL, OPT_KEY, POS_KEY,
     cmd_burn_key_digest},
    {"read-protect-efuse", NULL, "Read-protect eFuses or blocks (software then reads zeros).", NULL, OPT_NONE,
     POS_NAMES, cmd_read_protect},
    {"write-protect-efuse", NULL, "Write-protect eFuses or blocks.", NULL, OPT_NONE, POS_NAMES, cmd_write_protect},
    {0}};

const cli_group_t CLI_EFUSE = {
    "efuse",
    "Virtual eFuses (espefuse's commands, on espefuse's --virt file).",
    "Example: espsec efuse --chip esp32 --virt --path-efuse-file efuse.bin --do-not-confirm burn_efuse ABS_DONE_1 1",
    GROUP_OPTS,
    EFUSE_CMDS,
};
