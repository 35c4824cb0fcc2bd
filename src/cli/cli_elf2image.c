/* espsec image elf2image: esptool's elf2image, same options, same bytes. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_image.h"
#include "espsec/elf2image.h"
#include "espsec/image_target.h"
#include "espsec/io.h"

#define ELF_MAX_LEN (512u << 20)

static void print_log(void *ctx, espsec_e2i_level_t level, const char *msg)
{
    (void)ctx;
    printf("%s%s\n", level == ESPSEC_E2I_WARNING ? "Warning: " : level == ESPSEC_E2I_NOTE ? "Note: " : "", msg);
}

/* esptool's flash_size_bytes: "512KB", "4MB" (a decimal number, then the unit). */
static int parse_size(const char *opt, const char *s, uint32_t *out)
{
    const char *mb = strstr(s, "MB"), *kb = strstr(s, "KB");
    const char *unit = mb ? mb : kb;
    uint64_t mul = mb ? (1u << 20) : 1024u;
    if (unit == NULL) {
        return cli_error("--%s: Unknown size %s (a number of KB or MB expected, e.g. 4MB)", opt, s);
    }
    const char *p = s;
    while (p < unit && isspace((unsigned char)*p)) {
        p++;
    }
    uint64_t v = 0;
    int digits = 0;
    while (p < unit && isdigit((unsigned char)*p)) {
        v = v * 10 + (uint64_t)(*p++ - '0');
        digits++;
        if (v > 0xFFFFFFFFu) {
            return cli_error("--%s: '%s' is larger than the 4 GiB flash address space", opt, s);
        }
    }
    while (p < unit && isspace((unsigned char)*p)) {
        p++;
    }
    if (digits == 0 || p != unit || v * mul > 0xFFFFFFFFu) {
        return cli_error("--%s: '%s' is not a size below 4 GiB in KB or MB", opt, s);
    }
    *out = (uint32_t)(v * mul);
    return 0;
}

static void list_codes(const espsec_flash_code_t *tab, size_t n, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", tab[i].name);
    }
}

static int flash_params(const cli_args_t *a, const espsec_image_target_t *t, espsec_elf2image_opts_t *o)
{
    static const char *const modes[] = {"qio", "qout", "dio", "dout"};
    const char *mode = cli_str(a, "flash-mode") ? cli_str(a, "flash-mode") : "qio";
    const char *size = cli_str(a, "flash-size") ? cli_str(a, "flash-size") : "1MB";
    const char *freq = cli_str(a, "flash-freq");
    size_t m = 0;
    while (m < 4 && strcmp(modes[m], mode) != 0) {
        m++;
    }
    if (m == 4) {
        return cli_error("--flash-mode '%s': qio, qout, dio or dout expected", mode);
    }
    o->flash_mode = (uint8_t)m;
    uint8_t sc = 0, fc = 0;
    char list[160];
    if (espsec_image_target_flash_size(t, size, &sc) != 0) {
        list_codes(t->flash_sizes, t->flash_sizes_len, list, sizeof(list));
        return cli_error("Flash size '%s' is not supported by this chip type. Supported sizes: %s", size, list);
    }
    /* without --flash-freq the header keeps code 0, each chip's default frequency */
    if (freq != NULL && espsec_image_target_flash_freq(t, freq, &fc) != 0) {
        list_codes(t->flash_freqs, t->flash_freqs_len, list, sizeof(list));
        return cli_error("Flash frequency '%s' is not supported by this chip type. Supported frequencies: %s", freq,
                         list);
    }
    o->flash_size_freq = (uint8_t)(sc + fc);
    return 0;
}

static int rev_option(const cli_args_t *a, const char *name, unsigned long long def, unsigned long long max,
                      unsigned long long *out)
{
    if (cli_u64(a, name, def, out) != 0) {
        return -1;
    }
    if (*out > max) {
        return cli_error("--%s %llu: at most %llu", name, *out, max);
    }
    return 0;
}

static int parse_opts(const cli_args_t *a, const espsec_image_target_t *t, espsec_elf2image_opts_t *o)
{
    unsigned long long min_rev, min_full, max_full, sha_off;
    const char *ver = cli_str(a, "version") ? cli_str(a, "version") : "1";
    if (strcmp(ver, "1") != 0 && strcmp(ver, "2") != 0 && strcmp(ver, "3") != 0) {
        return cli_error("--version '%s': 1, 2 or 3 expected", ver);
    }
    o->esp8266_version = ver[0] - '0';
    if (rev_option(a, "min-rev", 0, 255, &min_rev) != 0 || rev_option(a, "min-rev-full", 0, 65535, &min_full) != 0 ||
        rev_option(a, "max-rev-full", 65535, 65535, &max_full) != 0 ||
        rev_option(a, "elf-sha256-offset", 0, 0xFFFFFFFFu, &sha_off) != 0) {
        return -1;
    }
    o->min_rev = (uint8_t)min_rev;
    o->min_rev_full = (uint16_t)min_full;
    o->max_rev_full = (uint16_t)max_full;
    o->has_elf_sha256_offset = cli_str(a, "elf-sha256-offset") != NULL;
    o->elf_sha256_offset = (uint32_t)sha_off;
    /* --secure-pad is the ESP32's Secure Boot V1 padding; elsewhere esptool ignores it */
    if (cli_flag(a, "secure-pad") && t->secure_pad_v1) {
        o->secure_pad = 1;
    }
    if (cli_flag(a, "secure-pad-v2")) {
        o->secure_pad = 2;
    }
    o->append_digest = !cli_flag(a, "dont-append-digest");
    o->use_segments = cli_flag(a, "use-segments");
    o->ram_only_header = cli_flag(a, "ram-only-header");
    const char *mmu = cli_str(a, "flash-mmu-page-size");
    if (mmu != NULL) {
        if (strcmp(mmu, "64KB") != 0 && strcmp(mmu, "32KB") != 0 && strcmp(mmu, "16KB") != 0 &&
            strcmp(mmu, "8KB") != 0) {
            return cli_error("--flash-mmu-page-size '%s': 64KB, 32KB, 16KB or 8KB expected", mmu);
        }
        if (parse_size("flash-mmu-page-size", mmu, &o->mmu_page_size) != 0) {
            return -1;
        }
    }
    const char *pad = cli_str(a, "pad-to-size");
    if (pad != NULL && parse_size("pad-to-size", pad, &o->pad_to_size) != 0) {
        return -1;
    }
    return flash_params(a, espsec_elf2image_rules(t, o->esp8266_version), o);
}

/* os.path.splitext(path)[0]: drop the last extension of the last component (not a leading dot). */
static char *strip_ext(const char *path)
{
    char *s = strdup(path);
    if (s == NULL) {
        return NULL;
    }
    char *base = strrchr(s, '/');
    base = base ? base + 1 : s;
    while (*base == '.') {
        base++;
    }
    char *dot = strrchr(base, '.');
    if (dot != NULL) {
        *dot = '\0';
    }
    return s;
}

/* A file name from parts; -1 (with the error printed) when it does not fit. */
static int make_name(char *buf, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int make_name(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        cli_error("output file name too long (%d bytes)", n);
        return -1;
    }
    return 0;
}

static int write_out(const char *path, const uint8_t *data, size_t len)
{
    espsec_error_t err;
    if (espsec_write_file(path, data, len, ESPSEC_MODE_PUBLIC, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    return 0;
}

static int save(const char *elf_path, const char *out, const espsec_image_target_t *t, int version,
                const espsec_elf2image_result_t *r)
{
    char name[4096];
    int rc = 0;
    if (t->format == ESPSEC_IMAGE_FMT_ESP8266 && version == 1) {
        /* two files: PREFIX0x00000.bin and PREFIX0xNNNNN.bin (IROM) */
        const char *prefix = out;
        char auto_prefix[4096];
        if (prefix == NULL) {
            if (make_name(auto_prefix, sizeof(auto_prefix), "%s-", elf_path) != 0) {
                return 2;
            }
            prefix = auto_prefix;
        }
        if (r->has_irom) {
            if (make_name(name, sizeof(name), "%s0x%05x.bin", prefix, r->irom_offset) != 0) {
                return 2;
            }
            rc = write_out(name, r->irom, r->irom_len);
        }
        if (rc != 0 || make_name(name, sizeof(name), "%s0x%05x.bin", prefix, 0u) != 0) {
            return rc != 0 ? rc : 2;
        }
        return write_out(name, r->image, r->image_len);
    }
    if (out != NULL) {
        return write_out(out, r->image, r->image_len);
    }
    char *root = strip_ext(elf_path);
    if (root == NULL) {
        return cli_error("out of memory");
    }
    int bad;
    if (t->format == ESPSEC_IMAGE_FMT_ESP8266 && version == 2) {
        bad = make_name(name, sizeof(name), "%s-0x%05x.bin", root, r->irom_offset & ~0xFFFu);
    } else {
        bad = make_name(name, sizeof(name), "%s.bin", root);
    }
    free(root);
    return bad ? 2 : write_out(name, r->image, r->image_len);
}

int cli_image_elf2image(cli_args_t *a)
{
    const char *chip = cli_str(a, "chip"), *elf_path = cli_pos(a, 0);
    if (chip == NULL || strcmp(chip, "auto") == 0) {
        return cli_error("Specify the --chip argument (esp32, esp32s2, esp32s3, esp32c2, esp32c3, esp32c5, esp32c6, "
                         "esp32c61, esp32h2, esp32h21, esp32h4, esp32p4, esp32s31, esp32e22, esp8266).");
    }
    const espsec_image_target_t *t = espsec_image_target_find(chip);
    if (t == NULL) {
        return cli_error("--chip '%s' is not a chip esptool v5.3.1 knows", chip);
    }
    espsec_elf2image_opts_t o = {.target = t, .log = print_log};
    if (parse_opts(a, t, &o) != 0) {
        return 2;
    }
    uint8_t *elf = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(elf_path, &elf, &len, ELF_MAX_LEN, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_elf2image_result_t r;
    espsec_err_t rc = espsec_elf2image(elf, len, &o, &r, &err);
    free(elf);
    if (rc != ESPSEC_OK) {
        (void)fflush(stdout);
        espsec_error_prefix(&err, "%s: ", elf_path);
        return cli_fail(&err);
    }
    int status = save(elf_path, cli_str(a, "output"), t, o.esp8266_version, &r);
    espsec_elf2image_result_free(&r);
    return status;
}

const cli_opt_t CLI_ELF2IMAGE_OPTS[] = {
    {"chip", 'c', CLI_VALUE, "CHIP", "Target chip (esp32, esp32c3, ..., esp8266)."},
    {"output", 'o', CLI_VALUE, "FILE", "Output file (ESP8266 version 1: file name prefix); default from the ELF name."},
    {"version", 'e', CLI_VALUE, "N", "ESP8266 image version: 1 (default), 2 or 3."},
    {"min-rev", 'r', CLI_VALUE, "N", "Legacy minimal chip revision (0-255)."},
    {"min-rev-full", 0, CLI_VALUE, "N", "Minimal chip revision, major * 100 + minor (default 0)."},
    {"max-rev-full", 0, CLI_VALUE, "N", "Maximal chip revision, major * 100 + minor (default 65535)."},
    {"secure-pad", 0, CLI_FLAG, NULL, "ESP32 Secure Boot V1: pad so the signed image ends on a 64 KB boundary."},
    {"secure-pad-v2", 0, CLI_FLAG, NULL,
     "Secure Boot V2: pad so the signature sector starts at the next MMU page boundary."},
    {"elf-sha256-offset", 0, CLI_VALUE, "OFFSET", "Write the ELF file's SHA-256 (32 bytes) at this image offset."},
    {"dont-append-digest", 0, CLI_FLAG, NULL, "Do not append the image's SHA-256 after the checksum."},
    {"use-segments", 0, CLI_FLAG, NULL, "Build from the ELF program headers instead of its sections."},
    {"flash-mmu-page-size", 0, CLI_VALUE, "SIZE", "MMU page size: 64KB, 32KB, 16KB or 8KB (chips that have a choice)."},
    {"pad-to-size", 0, CLI_VALUE, "SIZE", "Pad the file with 0xFF to a multiple of SIZE (e.g. 4KB, 1MB)."},
    {"ram-only-header", 0, CLI_FLAG, NULL,
     "Header counts only RAM segments (the ROM loads only those); implies --dont-append-digest."},
    {"flash-mode", 0, CLI_VALUE, "MODE", "qio (default), qout, dio or dout."},
    {"flash-freq", 0, CLI_VALUE, "FREQ", "80m, 40m, ... as the chip has (default: the chip's code 0)."},
    {"flash-size", 0, CLI_VALUE, "SIZE", "Flash size in the header (default 1MB)."},
    {0}};

const cli_pos_t CLI_ELF2IMAGE_POS[] = {{"ELF", "The ELF file to convert.", 0, 0}, {0}};
