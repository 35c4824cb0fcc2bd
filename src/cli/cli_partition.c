/* espsec partition-table: gen_esp32part's binary <-> CSV conversion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espsec/io.h"
#include "espsec/partition.h"
#include "espsec/util.h"

static int cmd_partition_table(cli_args_t *a)
{
    const char *in = cli_pos(a, 0), *out = cli_pos(a, 1) ? cli_pos(a, 1) : "-";
    espsec_pt_opts_t o;
    espsec_pt_opts_default(&o);
    unsigned long long off, pbo, rbo;
    if (cli_u64(a, "offset", ESPSEC_PT_OFFSET_DEFAULT, &off) != 0 ||
        cli_u64(a, "primary-bootloader-offset", 0, &pbo) != 0 ||
        cli_u64(a, "recovery-bootloader-offset", 0, &rbo) != 0) {
        return 2;
    }
    if (off > 0xFFFFF000ull || pbo > 0xFFFFFFFFull || rbo > 0xFFFFFFFFull) {
        return cli_error("--offset 0x%llx / bootloader offsets: past the 4 GiB flash address space",
                         off > 0xFFFFF000ull ? off : (pbo > rbo ? pbo : rbo));
    }
    o.table_offset = (uint32_t)off;
    o.primary_bootloader_offset = (uint32_t)pbo;
    o.recovery_bootloader_offset = (uint32_t)rbo;
    o.md5 = !cli_flag(a, "disable-md5sum");
    if (pbo != 0 && pbo >= off) {
        return cli_error("Unsupported configuration. Primary bootloader must be below partition table. Check "
                         "--primary-bootloader-offset=0x%llx and --offset=0x%llx", pbo, off);
    }
    const char *secure = cli_str(a, "secure");
    if (secure != NULL) {
        if (strcmp(secure, "v1") == 0 || strcmp(secure, "V1") == 0) {
            o.secure = 1;
        } else if (strcmp(secure, "v2") == 0 || strcmp(secure, "V2") == 0) {
            o.secure = 2;
        } else {
            return cli_error("--secure '%s': v1 or v2 expected", secure);
        }
    }
    const char *fs = cli_str(a, "flash-size");
    if (fs != NULL) {
        unsigned mb = 0;
        char rest[8] = "";
        // NOLINTNEXTLINE(cert-err34-c): glibc converts %u with strtoul; the value is range-checked here
        if (sscanf(fs, "%uMB%7s", &mb, rest) != 1 || mb == 0 || (mb & (mb - 1)) || mb > 128) {
            return cli_error("--flash-size '%s': 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB or 128MB expected", fs);
        }
        o.flash_size = mb * 1024u * 1024u;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(in, &buf, &len, 1024 * 1024, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_partition_table_t *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        free(buf);
        return cli_error("out of memory");
    }
    int quiet = cli_flag(a, "quiet"), is_bin = len >= 2 && buf[0] == 0xAA && buf[1] == 0x50;
    espsec_err_t rc;
    if (is_bin) {
        rc = espsec_pt_from_binary(buf, len, &o, t, &err);
    } else {
        rc = espsec_pt_from_csv((const char *)buf, len, &o, t, &err);
    }
    free(buf);
    if (rc == ESPSEC_OK && !cli_flag(a, "no-verify")) {
        rc = espsec_pt_verify(t, &o, &err);
    }
    for (size_t i = 0; rc == ESPSEC_OK && !quiet && i < t->nwarnings; i++) {
        fprintf(stderr, "%s\n", t->warnings[i]);
    }
    int st = 0;
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", in);
        st = cli_fail(&err);
    } else if (is_bin) {
        char *csv = espsec_pt_to_csv(t);
        st = csv == NULL ? cli_error("out of memory")
             : espsec_write_file(out, csv, strlen(csv), ESPSEC_MODE_PUBLIC, &err) == ESPSEC_OK ? 0
                                                                                              : cli_fail(&err);
        free(csv);
    } else {
        uint8_t bin[ESPSEC_PT_MAX_LEN];
        if (espsec_pt_to_binary(t, &o, bin, &err) != ESPSEC_OK ||
            espsec_write_file(out, bin, sizeof(bin), ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK) {
            espsec_error_prefix(&err, "%s: ", in);
            st = cli_fail(&err);
        }
    }
    free(t);
    return st;
}

static const cli_opt_t OPTS[] = {
    {"flash-size", 0, CLI_VALUE, "SIZE", "Check the table fits a flash of this size (1MB ... 128MB)."},
    {"disable-md5sum", 0, CLI_FLAG, NULL, "Do not write (or check) the MD5 entry."},
    {"no-verify", 0, CLI_FLAG, NULL, "Do not verify the partition table fields."},
    {"verify", 'v', CLI_FLAG, NULL, "Verify (the default; accepted for compatibility)."},
    {"quiet", 'q', CLI_FLAG, NULL, "Do not print warnings to stderr."},
    {"offset", 'o', CLI_VALUE, "ADDR", "Flash offset of the partition table (default 0x8000)."},
    {"primary-bootloader-offset", 0, CLI_VALUE, "ADDR", "Offset of the primary bootloader ('bootloader' rows)."},
    {"recovery-bootloader-offset", 0, CLI_VALUE, "ADDR", "Offset of the recovery bootloader."},
    {"secure", 0, CLI_VALUE, "v1|v2", "Require app partitions to suit Secure Boot V1 or V2."},
    {0}};
static const cli_pos_t POS[] = {{"INPUT", "A CSV or binary partition table (detected by its first bytes).", 0, 0},
                                {"OUTPUT", "Output file; '-' or absent for standard output.", 1, 0},
                                {0}};
static const cli_cmd_t CMDS[] = {
    {"", NULL, "Convert a partition table between CSV and binary, as ESP-IDF's gen_esp32part.py.",
     "A binary input gives CSV, a CSV input gives the 0xC00-byte binary with its MD5 entry.", OPTS, POS,
     cmd_partition_table},
    {0}};

const cli_group_t CLI_PARTITION_TABLE = {"partition-table", "Partition tables: CSV <-> binary (gen_esp32part).", NULL,
                                         NULL, CMDS};
