/*
 * The command-line layer: a small declarative option parser in the manner of
 * Espressif's click-based tools, so scripts for espsecure/espefuse/
 * nvs_partition_gen run unchanged with the program name swapped.
 *
 * - Command and option names match with '_' and '-' treated alike
 *   (sign_data = sign-data, --flash_crypt_conf = --flash-crypt-conf).
 * - Options take "--name value", "--name=value" or "-k value".
 * - A CLI_MULTI option eats values up to the next option, as click's
 *   OptionEatAll does, but leaves enough arguments for required positionals.
 * - "-h"/"--help" anywhere prints help and exits 0.
 * - Failure: one line "espsec: error: ..." on stderr and a non-zero status.
 */
#ifndef ESPSEC_CLI_H
#define ESPSEC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "espsec/error.h"

typedef enum {
    CLI_FLAG,   /* no value */
    CLI_VALUE,  /* one value; the last occurrence wins */
    CLI_MULTI,  /* one or more values; may repeat */
} cli_opt_kind_t;

typedef struct {
    const char *name;  /* long name with dashes, "flash-crypt-conf" */
    char short_name;   /* 'k', or 0 */
    cli_opt_kind_t kind;
    const char *metavar;
    const char *help;
} cli_opt_t;

typedef struct {
    const char *name;
    const char *help;
    int optional; /* 0 = required */
    int many;     /* the last positional may take several values */
} cli_pos_t;

#define CLI_MAX_OPTS 32
#define CLI_MAX_VALUES 16
#define CLI_MAX_POS 16

struct cli_args;
typedef int (*cli_run_fn)(struct cli_args *a);

typedef struct cli_cmd {
    const char *name;
    const char *alias; /* another accepted name, or NULL */
    const char *summary;
    const char *description; /* longer text for --help, or NULL */
    const cli_opt_t *opts;   /* terminated by {0} */
    const cli_pos_t *pos;    /* terminated by {0} */
    cli_run_fn run;
} cli_cmd_t;

typedef struct cli_group {
    const char *name;
    const char *summary;
    const char *description;
    const cli_opt_t *opts; /* group options, given before the command (espefuse style) */
    const cli_cmd_t *cmds; /* terminated by {0}; a group with one unnamed command is a plain command */
} cli_group_t;

typedef struct cli_args {
    const cli_group_t *group;
    const cli_cmd_t *cmd;
    const char *prog; /* "espsec secure sign-data" */
    /* option values, indexed like cmd->opts / group->opts */
    size_t nvals[CLI_MAX_OPTS];
    const char *vals[CLI_MAX_OPTS][CLI_MAX_VALUES];
    size_t gnvals[CLI_MAX_OPTS];
    const char *gvals[CLI_MAX_OPTS][CLI_MAX_VALUES];
    size_t npos;
    const char *pos[CLI_MAX_POS * 4];
    /* Chained commands (espefuse's "CMD1 ARGS CMD2 ARGS" in one invocation, efuse group):
     * chain is state the commands share (owned by them, released with chain_free when the
     * run ends early), chain_last is 1 for the last command of the invocation. */
    void *chain;
    void (*chain_free)(void *chain);
    int (*chain_end)(struct cli_args *a); /* run after the last command succeeded (the burn) */
    int chain_index, chain_last;
} cli_args_t;

/** Run a group with argv after the group name. Returns the exit status. */
int cli_run_group(const cli_group_t *g, int argc, char **argv);

/** 1 if the flag was given (command options, then group options). */
int cli_flag(const cli_args_t *a, const char *name);
/** Last value of an option, or NULL. */
const char *cli_str(const cli_args_t *a, const char *name);
/** All values of an option (in order); returns the count. */
size_t cli_list(const cli_args_t *a, const char *name, const char ***vals);
/** Positional i, or NULL. */
const char *cli_pos(const cli_args_t *a, size_t i);

/** Parse an integer option (decimal/0x/0o/0b); def when absent; -1 and an error on junk. */
int cli_u64(const cli_args_t *a, const char *name, unsigned long long def, unsigned long long *out);

/** Write s with control bytes, DEL and invalid UTF-8 as \xNN (valid UTF-8 passes). */
void cli_put_escaped(FILE *f, const char *s);
/** Print "espsec: error: <msg>" on stderr, non-printable bytes escaped; returns 2 (espsecure's fatal exit code). */
int cli_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/** Report an espsec_error_t (message or code name); returns the exit status. */
int cli_fail(const espsec_error_t *err);

/* Both always return 2: said here too, so that each caller's analysis (clang-tidy's path-sensitive
 * checks work one file at a time) knows an error path never continues as a success. The macros call
 * the functions above (a function-like macro does not expand inside itself). */
static inline int cli_status_2(int status)
{
    (void)status;
    return 2;
}
#define cli_error(...) cli_status_2(cli_error(__VA_ARGS__))
#define cli_fail(err) cli_status_2(cli_fail(err))

/** Ask "Type 'BURN' (all capitals) to continue." unless do_not_confirm; 0 = go ahead. */
int cli_confirm(const char *what, int do_not_confirm);

/**
 * Load a Secure Boot key file for a command: a password-protected key takes its
 * password from the command's --keyfile-password-env VAR, or is asked for on a
 * terminal. Reports and returns non-zero on failure.
 */
struct espsec_sb_key;
int cli_load_sb_key(const cli_args_t *a, const char *path, struct espsec_sb_key **key);
/** The password named by --keyfile-password-env (NULL if not given); *bad set when the variable is unset. */
const char *cli_key_password(const cli_args_t *a, int *bad);
/** The --keyfile-password-env option, for command tables. */
#define CLI_OPT_KEY_PASSWORD                                                                                       \
    {"keyfile-password-env", 0, CLI_VALUE, "VAR",                                                               \
     "Password of an encrypted private key from this environment variable (else asked on a terminal)."}

/* nvs_partition_gen's generate-key, shared by espsec nvs and espsec mfg (as mfg_gen has it too). */
int cli_nvs_generate_key(struct cli_args *a);
extern const cli_opt_t CLI_NVS_KEYGEN_OPTS[];

/* The virtual device's files (--chip, --efuse, --flash, --sdkconfig, --flash-key), shared by the device commands. */
#include "espsec/device.h"
typedef struct {
    espsec_chip_t chip;
    const char *efuse_path, *flash_path;
    espsec_efuse_t *ef;
    espsec_flash_t *fl;
    espsec_device_config_t cfg;
    int have_cfg;
    uint8_t key[64];
    size_t key_len;
    int have_chip_rev; /* --chip-rev */
    unsigned chip_rev;
} cli_device_inputs_t;
/** Load them; 0, or the exit status after printing the error. */
int cli_device_load(cli_args_t *a, cli_device_inputs_t *in);
void cli_device_free(cli_device_inputs_t *in);

/* espsec boot --powercut-sweep (cli_powercut.c). */
int cli_powercut_sweep(cli_args_t *a, cli_device_inputs_t *in);

/* espsec ota write/confirm/rollback (cli_ota_device.c), rows of the ota group. */
int cli_ota_write(cli_args_t *a);
int cli_ota_confirm(cli_args_t *a);
int cli_ota_rollback(cli_args_t *a);
extern const cli_opt_t CLI_OTA_DEVICE_OPTS[];
extern const cli_opt_t CLI_OTA_WRITE_OPTS[]; /* with the pre-encrypted image keys */
extern const cli_pos_t CLI_OTA_WRITE_POS[];

/**
 * The hidden generators (cli_doc.c): --list-groups, --man [GROUP],
 * --completion bash|zsh|fish, from the option tables of groups[0..n).
 * Returns the exit status, or -1 when argv[1] is none of them.
 */
int cli_doc(int argc, char **argv, const cli_group_t *const *groups, size_t n);

/* esptool's merge-bin (cli_merge.c), a command of the image group. */
int cli_cmd_merge_bin(struct cli_args *a);
extern const cli_opt_t CLI_MERGE_OPTS[];
extern const cli_pos_t CLI_MERGE_POS[];

/* The efuse group's command help (cli_efuse.c): what a command takes on the chip of --chip, as
 * espefuse lists it ("Block is one of: [...]", "Allowed options for EFUSE_NAME: [...]"). */
void cli_efuse_help_more(FILE *f, const cli_args_t *a, const cli_cmd_t *c);

/* The groups. */
extern const cli_group_t CLI_SECURE;
extern const cli_group_t CLI_IMAGE;
extern const cli_group_t CLI_PARTITION_TABLE;
extern const cli_group_t CLI_EFUSE;
extern const cli_group_t CLI_NVS;
extern const cli_group_t CLI_BOOT;
extern const cli_group_t CLI_DOCTOR;
extern const cli_group_t CLI_DEMO;
extern const cli_group_t CLI_TLS;
extern const cli_group_t CLI_EMBED;
extern const cli_group_t CLI_MFG;
extern const cli_group_t CLI_OTA;
extern const cli_group_t CLI_FLASH;
extern const cli_group_t CLI_SECURE_CERT;

#endif
