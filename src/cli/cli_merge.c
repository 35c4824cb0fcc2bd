/* espsec image merge-bin: esptool's merge-bin (the logic is in espsec/merge.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "espsec/chip.h"
#include "espsec/io.h"
#include "espsec/merge.h"
#include "espsec/util.h"

#define MERGE_MAX_INPUT (256u << 20)

static void print_log(void *ctx, int warning, const char *line)
{
    (void)ctx;
    printf("%s%s\n", warning ? "Warning: " : "", line);
}

static int parse_format(const char *s, espsec_merge_format_t *f)
{
    if (s == NULL || strcasecmp(s, "raw") == 0) {
        *f = ESPSEC_MERGE_RAW;
    } else if (strcasecmp(s, "hex") == 0) {
        *f = ESPSEC_MERGE_HEX;
    } else if (strcasecmp(s, "uf2") == 0) {
        *f = ESPSEC_MERGE_UF2;
    } else {
        return cli_error("Invalid format: '%s', choose from 'raw', 'uf2', 'hex'.", s);
    }
    return 0;
}

static int parse_options(cli_args_t *a, espsec_merge_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->log = print_log;
    const char *chip = cli_str(a, "chip");
    if (chip != NULL && strcasecmp(chip, "auto") != 0) {
        o->chip = espsec_chip_by_name(chip);
        if (o->chip == NULL) {
            return cli_error("Invalid chip choice: '%s'", chip);
        }
    }
    if (parse_format(cli_str(a, "format"), &o->format) != 0) {
        return 2;
    }
    unsigned long long target = 0, chunk = 0;
    if (cli_u64(a, "target-offset", 0, &target) != 0 || cli_u64(a, "chunk-size", 0, &chunk) != 0) {
        return 2;
    }
    o->target_offset = target;
    o->uf2_chunk = (size_t)chunk;
    o->uf2_no_md5 = cli_flag(a, "md5-disable");
    const char *pad = cli_str(a, "pad-to-size") ? cli_str(a, "pad-to-size") : cli_str(a, "fill-flash-size");
    if (pad != NULL && (o->pad_to = espsec_merge_size_bytes(pad)) == 0) {
        return cli_error("--pad-to-size '%s': 256KB, 512KB, 1MB, 2MB, 4MB, 8MB, 16MB, 32MB, 64MB or 128MB expected",
                         pad);
    }
    o->flash_mode = cli_str(a, "flash-mode");
    o->flash_freq = cli_str(a, "flash-freq");
    o->flash_size = cli_str(a, "flash-size");
    return 0;
}

/* The ADDRESS FILE pairs into m (Intel HEX files become their runs). */
static int add_inputs(cli_args_t *a, espsec_merge_t *m)
{
    espsec_error_t err;
    for (size_t i = 0; i + 1 < a->npos; i += 2) {
        uint64_t addr;
        if (espsec_parse_u64(a->pos[i], &addr) != 0) {
            return cli_error("Address \"%s\" must be a number.", a->pos[i]);
        }
        uint8_t *data = NULL;
        size_t len = 0;
        if (espsec_read_file(a->pos[i + 1], &data, &len, MERGE_MAX_INPUT, &err) != ESPSEC_OK) {
            return cli_fail(&err);
        }
        espsec_err_t rc = espsec_merge_add(m, addr, data, len, a->pos[i + 1], NULL, &err);
        free(data);
        if (rc != ESPSEC_OK) {
            return cli_fail(&err);
        }
    }
    return 0;
}

int cli_cmd_merge_bin(cli_args_t *a)
{
    const char *out = cli_str(a, "output");
    if (out == NULL) {
        return cli_error("-o/--output FILE is required");
    }
    if (a->npos == 0 || a->npos % 2 != 0) {
        return cli_error("Must be pairs of an address and the binary filename to write there "
                         "(e.g. 0x1000 bootloader.bin 0x8000 partition-table.bin).");
    }
    espsec_merge_opts_t o;
    if (parse_options(a, &o) != 0) {
        return 2;
    }
    espsec_merge_t *m = espsec_merge_new();
    if (m == NULL) {
        return cli_error("out of memory");
    }
    int st = add_inputs(a, m);
    uint8_t *buf = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (st == 0 && espsec_merge_build(m, &o, &buf, &len, &err) != ESPSEC_OK) {
        st = cli_fail(&err);
    }
    espsec_merge_free(m);
    if (st == 0 && espsec_write_file(out, buf, len, ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK) {
        st = cli_fail(&err);
    }
    free(buf);
    if (st != 0) {
        return st;
    }
    if (o.format == ESPSEC_MERGE_UF2) {
        printf("Wrote 0x%zx bytes to file '%s', ready to be flashed with any ESP USB Bridge.\n", len, out);
    } else {
        printf("Wrote 0x%zx bytes to file '%s', ready to flash to offset 0x%llx.\n", len, out,
               (unsigned long long)o.target_offset);
    }
    return 0;
}

const cli_opt_t CLI_MERGE_OPTS[] = {
    {"output", 'o', CLI_VALUE, "FILE", "Output filename."},
    {"format", 'f', CLI_VALUE, "FMT", "raw (default), uf2 or hex."},
    {"chip", 'c', CLI_VALUE, "CHIP", "Target chip: bootloader offset, header codes, UF2 family id."},
    {"flash-mode", 0, CLI_VALUE, "MODE", "keep (default), qio, qout, dio or dout: rewrites the bootloader header."},
    {"flash-freq", 0, CLI_VALUE, "FREQ", "keep (default) or the chip's frequency (40m, 80m, ...): rewrites the "
                                         "bootloader header."},
    {"flash-size", 0, CLI_VALUE, "SIZE", "keep (default) or the chip's size (4MB, ...): rewrites the bootloader "
                                         "header."},
    {"target-offset", 't', CLI_VALUE, "ADDR", "raw: flash address of the output's first byte (default 0)."},
    {"pad-to-size", 0, CLI_VALUE, "SIZE", "raw: pad with 0xFF up to this flash size (256KB ... 128MB)."},
    {"fill-flash-size", 0, CLI_VALUE, "SIZE", "Same as --pad-to-size (esptool v3/v4's name)."},
    {"chunk-size", 0, CLI_VALUE, "N", "uf2: data bytes per 512-byte block (a multiple of 4; default: as many as fit)."},
    {"md5-disable", 0, CLI_FLAG, NULL, "uf2: no MD5 part in the blocks."},
    {0}};

const cli_pos_t CLI_MERGE_POS[] = {
    {"ADDR_FILE", "ADDRESS FILE pairs, in any order; Intel HEX files go at their own addresses.", 0, 1}, {0}};
