/* espsec boot / espsec doctor: the virtual device on eFuse and flash files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espsec/device.h"
#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"

typedef cli_device_inputs_t inputs_t;

void cli_device_free(inputs_t *in)
{
    espsec_efuse_free(in->ef);
    espsec_flash_free(in->fl);
    espsec_wipe(in->key, sizeof(in->key));
}

/* Digits only, below `limit`; NULL when there are none or the number is too large. */
static const char *parse_digits(const char *s, unsigned limit, unsigned *out)
{
    unsigned v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (unsigned)(*p - '0');
        if (v >= limit) {
            return NULL;
        }
        p++;
    }
    if (p == s) {
        return NULL;
    }
    *out = v;
    return p;
}

/* "v3.0", "3.0" or the full number (300). */
static int parse_rev(const char *s, unsigned *out)
{
    unsigned major = 0, minor = 0;
    if (*s == 'v' || *s == 'V') {
        s++;
    }
    const char *p = parse_digits(s, 10000, &major);
    if (p == NULL) {
        return -1;
    }
    if (*p == '\0') {
        *out = major;
        return 0;
    }
    if (*p != '.' || major >= 100) {
        return -1;
    }
    p = parse_digits(p + 1, 100, &minor);
    if (p == NULL || *p != '\0') {
        return -1;
    }
    *out = major * 100 + minor;
    return 0;
}

static int load_sdkconfig(const char *sdk, inputs_t *in)
{
    espsec_error_t err;
    uint8_t *text = NULL;
    size_t len = 0;
    if (espsec_read_file(sdk, &text, &len, 4u << 20, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    espsec_err_t rc = espsec_sdkconfig_parse((const char *)text, len, sdk, &in->cfg, &err);
    free(text);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (in->cfg.have_target && in->cfg.chip != in->chip) {
        return cli_error("%s targets %s but the chip is %s", sdk, espsec_chip_name(in->cfg.chip),
                         espsec_chip_name(in->chip));
    }
    in->cfg.chip = in->chip;
    in->have_cfg = 1;
    return 0;
}

int cli_device_load(cli_args_t *a, inputs_t *in)
{
    memset(in, 0, sizeof(*in));
    espsec_error_t err;
    const char *chip = cli_str(a, "chip"), *sdk = cli_str(a, "sdkconfig"), *fk = cli_str(a, "flash-key");
    const char *build = cli_str(a, "idf-build"), *rev = cli_str(a, "chip-rev");
    espsec_idf_build_t *b = NULL;
    in->chip = chip ? espsec_chip_from_name(chip) : espsec_chip_default()->id;
    if (build != NULL) {
        b = calloc(1, sizeof(*b));
        if (b == NULL) {
            return cli_error("out of memory");
        }
        if (espsec_idf_build_load(build, b, &err) != ESPSEC_OK) {
            free(b);
            return cli_fail(&err);
        }
        if (chip != NULL && in->chip != b->chip) {
            int st = cli_error("--chip %s but the build in %s targets %s", chip, build, espsec_chip_name(b->chip));
            free(b);
            return st;
        }
        in->chip = b->chip;
        if (sdk == NULL && b->sdkconfig[0] != '\0') {
            sdk = b->sdkconfig;
        }
    }
    const espsec_chip_info_t *ci = espsec_chip_by_id(in->chip);
    if (ci != NULL && !ci->has_security) {
        free(b);
        return cli_error("%s", ci->no_security_reason ? ci->no_security_reason : "this chip has no security features");
    }
    if (ci == NULL || ci->efuse == NULL) {
        char list[256];
        free(b);
        return cli_error("--chip '%s': %s expected", chip ? chip : espsec_chip_name(in->chip),
                         espsec_chip_efuse_names(list, sizeof(list)));
    }
    if (rev != NULL) {
        if (parse_rev(rev, &in->chip_rev) != 0) {
            free(b);
            return cli_error("--chip-rev '%s': a revision such as v3.0 (or 300) expected", rev);
        }
        in->have_chip_rev = 1;
    }
    in->efuse_path = cli_str(a, "efuse");
    in->flash_path = cli_str(a, "flash");
    if ((in->efuse_path == NULL && build == NULL) || (in->flash_path == NULL && build == NULL)) {
        free(b);
        return cli_error("--efuse FILE and --flash FILE (or --idf-build DIR) are required");
    }
    if (sdk != NULL) {
        int st = load_sdkconfig(sdk, in);
        if (st != 0) {
            free(b);
            return st;
        }
    }
    if (fk != NULL) {
        uint8_t *kb = NULL;
        size_t kl = 0;
        if (espsec_read_file(fk, &kb, &kl, 1024, &err) != ESPSEC_OK) {
            free(b);
            return cli_fail(&err);
        }
        const unsigned m = ci->fe.modes;
        int ok = (m & ESPSEC_FE_MODE_ESP32_AES) ? (kl == 32 || kl == 24)
                                               : (kl == 32 || (kl == 64 && (m & ESPSEC_FE_MODE_XTS256)) ||
                                                  (kl == 16 && (m & ESPSEC_FE_MODE_XTS128_DERIVED)));
        if (!ok) {
            espsec_free_secret(kb, kl);
            free(b);
            return cli_error("%s: flash encryption key of %zu bytes; %s expected for the %s", fk, kl,
                             (m & ESPSEC_FE_MODE_ESP32_AES)        ? "32 (or 24 with the 3/4 coding scheme)"
                             : (m & ESPSEC_FE_MODE_XTS256)         ? "32 or 64"
                             : (m & ESPSEC_FE_MODE_XTS128_DERIVED) ? "16 or 32"
                                                                   : "32",
                             ci->display);
        }
        memcpy(in->key, kb, kl);
        in->key_len = kl;
        espsec_free_secret(kb, kl);
    }
    int created = 0;
    espsec_err_t rc = in->efuse_path != NULL ? espsec_efuse_load_file(in->chip, in->efuse_path, &in->ef, &created, &err)
                                             : espsec_efuse_new(in->chip, &in->ef, &err);
    if (rc != ESPSEC_OK) {
        free(b);
        return cli_fail(&err);
    }
    /* with --idf-build the flash is assembled from the build; --flash then names where --provision writes it */
    rc = b != NULL ? espsec_idf_build_flash(b, &in->fl, &err) : espsec_flash_load(in->flash_path, &in->fl, &err);
    free(b);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (espsec_flash_size(in->fl) < 0x10000) {
        return cli_error("%s: %zu bytes: a flash image of whole 4 KiB sectors, at least 64 KiB (typically 4 MiB), "
                         "expected",
                         in->flash_path, espsec_flash_size(in->fl));
    }
    return 0;
}

static int cmd_boot(cli_args_t *a)
{
    inputs_t in;
    int st = cli_device_load(a, &in);
    if (st != 0) {
        cli_device_free(&in);
        return st;
    }
    if (cli_flag(a, "powercut-sweep")) {
        st = cli_powercut_sweep(a, &in);
        cli_device_free(&in);
        return st;
    }
    int json = cli_flag(a, "json"), provision = cli_flag(a, "provision");
    espsec_sb_key_t *v1 = NULL;
    const char *v1p = cli_str(a, "sbv1-key");
    espsec_error_t err;
    if (v1p != NULL) {
        uint8_t *kb = NULL;
        size_t kl = 0;
        espsec_err_t krc = espsec_read_file(v1p, &kb, &kl, 1u << 20, &err);
        if (krc == ESPSEC_OK) {
            krc = espsec_sbv1_key_load(kb, kl, &v1, &err);
            espsec_free_secret(kb, kl);
            if (krc != ESPSEC_OK) {
                espsec_error_prefix(&err, "%s: ", v1p);
            }
        }
        if (krc != ESPSEC_OK) {
            cli_device_free(&in);
            return cli_fail(&err);
        }
    }
    espsec_boot_opts_t o = {
        .sbv1_key = v1,
        .config = in.have_cfg ? &in.cfg : NULL,
        .provision = 1, /* simulated in memory; written back only with --provision */
        .flash_key = in.key_len ? in.key : NULL,
        .flash_key_len = in.key_len,
        .log = json ? NULL : stdout,
        .have_chip_rev = in.have_chip_rev,
        .chip_rev_full = in.chip_rev,
    };
    espsec_boot_result_t r;
    espsec_err_t brc = espsec_device_boot(in.ef, in.fl, &o, &r, &err);
    espsec_sb_key_free(v1);
    if (brc != ESPSEC_OK) {
        cli_device_free(&in);
        return cli_fail(&err);
    }
    if ((r.efuse_changed || r.flash_changed) && provision && (in.efuse_path == NULL || in.flash_path == NULL)) {
        cli_device_free(&in);
        return cli_error("--provision with --idf-build needs --efuse FILE and --flash FILE to write the result to");
    }
    if (r.efuse_changed || r.flash_changed) {
        if (provision) {
            espsec_err_t rc = espsec_efuse_save_file(in.ef, in.efuse_path, &err);
            if (rc == ESPSEC_OK) {
                rc = espsec_flash_save(in.fl, in.flash_path, &err);
            }
            if (rc != ESPSEC_OK) {
                cli_device_free(&in);
                return cli_fail(&err);
            }
        }
    }
    if (json) {
        espsec_boot_result_json(&r, stdout);
    } else {
        printf("\n");
        if (r.provisioned) {
            printf("First boot provisioned the device (%s%s%s).\n", r.efuse_changed ? "eFuses burned" : "",
                   r.efuse_changed && r.flash_changed ? ", " : "", r.flash_changed ? "flash rewritten" : "");
            printf(provision ? "Written back to %s and %s.\n"
                             : "Dry run: %s and %s are unchanged (add --provision to write the result back).\n",
                   in.efuse_path, in.flash_path);
        }
        if (r.booted) {
            printf("BOOTED: app '%s' version %s from partition '%s' at 0x%x%s%s%s\n", r.app.project_name,
                   r.app.version, r.app_partition, r.app_offset, r.secure_boot ? ", secure boot" : "",
                   r.flash_encryption ? ", flash encryption" : "",
                   r.nvs_checked ? (r.nvs_encrypted ? ", encrypted NVS" : ", NVS") : "");
        } else {
            printf("DOES NOT BOOT (%s, offset 0x%x): %s\n", r.stage, r.failure_offset, r.failure);
        }
    }
    cli_device_free(&in);
    return r.booted ? 0 : 1;
}

static const cli_opt_t BOOT_OPTS[] = {
    {"chip", 'c', CLI_VALUE, "CHIP", "The chip (esp32 by default; every chip with virtual eFuses); esp8266 is refused (no security features)."},
    {"efuse", 0, CLI_VALUE, "FILE", "Virtual eFuse file (espefuse's format); a missing file is a fresh chip."},
    {"flash", 0, CLI_VALUE, "FILE", "Flash image (whole flash from offset 0)."},
    {"sdkconfig", 0, CLI_VALUE, "FILE", "The project's sdkconfig: what the bootloader does on first boot."},
    {"provision", 0, CLI_FLAG, NULL, "Write what the boot changed back to the files: first-boot provisioning (burned "
                                     "eFuses, encrypted flash) and the otadata states the bootloader moves (app "
                                     "rollback)."},
    {"flash-key", 0, CLI_VALUE, "FILE", "Flash encryption key, when the eFuse file hides it (espefuse zeroes it)."},
    {"sbv1-key", 0, CLI_VALUE, "KEY", "Secure Boot V1: the app verification key built into the bootloader (PEM or 64 "
                                      "raw bytes)."},
    {"idf-build", 0, CLI_VALUE, "DIR", "An idf.py build folder: flash assembled from flasher_args.json, sdkconfig and "
                                       "target from project_description.json (with --provision, --efuse and --flash "
                                       "name where the result is written)."},
    {"chip-rev", 0, CLI_VALUE, "vX.Y", "The chip revision, when the eFuse file records none (espefuse's virtual chips "
                                       "are v0.0)."},
    {"powercut-sweep", 0, CLI_FLAG, NULL, "Cut the power at every eFuse program and flash operation of the first "
                                          "boot (--sdkconfig), reboot, and tell per cut: recovers, stays plaintext, "
                                          "recovers after re-flash, bricked. The files are not changed."},
    {"tear", 0, CLI_FLAG, NULL, "With --powercut-sweep: a cut flash operation lands partly."},
    {"json", 0, CLI_FLAG, NULL, "The result as JSON instead of the console log."},
    {0}};

static const cli_cmd_t BOOT_CMDS[] = {
    {"", NULL, "Boot the virtual device: ROM, bootloader, app; exit 0 only when the app would run.",
     "Plays the ROM (flash decryption, bootloader image, Secure Boot V2/V1), the bootloader (partition table, otadata, "
     "app image and signature, first-boot provisioning from --sdkconfig) and the app start (NVS keys). Prints the "
     "console log the real chip would print. Exit status: 0 the app runs, 1 it does not, 2 bad input.",
     BOOT_OPTS, NULL, cmd_boot},
    {0}};

const cli_group_t CLI_BOOT = {"boot", "Boot the virtual device (ROM, bootloader, app) on eFuse and flash files.", NULL,
                              NULL, BOOT_CMDS};

static void json_text(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            putchar('\\');
        }
        putchar((unsigned char)*s < 0x20 ? ' ' : *s);
    }
    putchar('"');
}

static int cmd_doctor(cli_args_t *a)
{
    inputs_t in;
    int st = cli_device_load(a, &in);
    if (st != 0) {
        cli_device_free(&in);
        return st;
    }
    espsec_error_t err;
    espsec_sb_key_t *planned = NULL;
    const char *kf = cli_str(a, "keyfile");
    if (kf != NULL) {
        uint8_t *pem = NULL;
        size_t len = 0;
        if (espsec_read_file(kf, &pem, &len, 1u << 20, &err) != ESPSEC_OK) {
            cli_device_free(&in);
            return cli_fail(&err);
        }
        espsec_err_t rc = espsec_sb_key_load_pem(pem, len, &planned, &err);
        espsec_free_secret(pem, len);
        if (rc != ESPSEC_OK) {
            cli_device_free(&in);
            espsec_error_prefix(&err, "%s: ", kf);
            return cli_fail(&err);
        }
    }
    espsec_doctor_opts_t o = {.config = in.have_cfg ? &in.cfg : NULL,
                              .flash_key = in.key_len ? in.key : NULL,
                              .flash_key_len = in.key_len,
                              .planned_key = planned,
                              .have_chip_rev = in.have_chip_rev,
                              .chip_rev_full = in.chip_rev,
                              .planned_download = cli_flag(a, "plan-serial-flash")};
    espsec_doctor_finding_t *f = NULL;
    size_t n = 0;
    espsec_err_t rc = espsec_doctor(in.ef, in.fl, &o, &f, &n, &err);
    espsec_sb_key_free(planned);
    cli_device_free(&in);
    if (rc != ESPSEC_OK) {
        return cli_fail(&err);
    }
    size_t errors = 0, warnings = 0;
    for (size_t i = 0; i < n; i++) {
        errors += f[i].severity == ESPSEC_DOCTOR_ERROR;
        warnings += f[i].severity == ESPSEC_DOCTOR_WARNING;
    }
    if (cli_flag(a, "json")) {
        printf("{\n  \"errors\": %zu,\n  \"warnings\": %zu,\n  \"findings\": [", errors, warnings);
        for (size_t i = 0; i < n; i++) {
            printf("%s\n    {\"severity\": \"%s\", \"id\": \"%s\", \"message\": ", i ? "," : "",
                   espsec_doctor_severity_name(f[i].severity), f[i].id);
            json_text(f[i].message);
            printf(", \"explanation\": ");
            json_text(f[i].explanation);
            printf(", \"fix\": ");
            json_text(f[i].fix);
            printf("}");
        }
        printf("\n  ]\n}\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%-7s [%s] %s\n        why: %s\n        fix: %s\n", espsec_doctor_severity_name(f[i].severity),
                   f[i].id, f[i].message, f[i].explanation, f[i].fix);
        }
        printf("%s%zu error%s, %zu warning%s%s\n", n ? "\n" : "", errors, errors == 1 ? "" : "s", warnings,
               warnings == 1 ? "" : "s", errors ? ": do not burn anything yet" : "");
    }
    free(f);
    return errors ? 1 : 0;
}

static const cli_opt_t DOCTOR_OPTS[] = {
    {"chip", 'c', CLI_VALUE, "CHIP", "The chip (esp32 by default; every chip with virtual eFuses); esp8266 is refused (no security features)."},
    {"efuse", 0, CLI_VALUE, "FILE", "Virtual eFuse file (a missing file is a fresh chip)."},
    {"flash", 0, CLI_VALUE, "FILE", "Flash image."},
    {"sdkconfig", 0, CLI_VALUE, "FILE", "The project's sdkconfig (what will be enabled)."},
    {"keyfile", 'k', CLI_VALUE, "KEY.pem", "The Secure Boot key whose digest will be burned."},
    {"flash-key", 0, CLI_VALUE, "FILE", "Flash encryption key, when the eFuse file hides it."},
    {"idf-build", 0, CLI_VALUE, "DIR", "An idf.py build folder (flasher_args.json, sdkconfig, "
                                       "project_description.json) instead of --flash and --sdkconfig."},
    {"chip-rev", 0, CLI_VALUE, "vX.Y", "The chip revision, when the eFuse file records none."},
    {"plan-serial-flash", 0, CLI_FLAG, NULL, "The plan still writes flash over the serial ROM loader after the burn."},
    {"json", 0, CLI_FLAG, NULL, "Findings as JSON."},
    {0}};

static const cli_cmd_t DOCTOR_CMDS[] = {
    {"", NULL, "Check eFuses, flash and project for the mistakes that brick devices, before burning anything.",
     "Each finding has a severity, an explanation and a fix. Exit status: 0 no errors (warnings allowed), 1 errors "
     "found, 2 bad input.",
     DOCTOR_OPTS, NULL, cmd_doctor},
    {0}};

const cli_group_t CLI_DOCTOR = {"doctor", "Pre-burn checks: what would brick or expose the device.", NULL, NULL,
                                DOCTOR_CMDS};
