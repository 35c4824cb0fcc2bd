/* espsec: entry point and group dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "espsec/version.h"

static const cli_group_t *const GROUPS[] = {
    &CLI_DEMO, &CLI_SECURE, &CLI_EFUSE, &CLI_NVS, &CLI_IMAGE, &CLI_PARTITION_TABLE, &CLI_BOOT, &CLI_DOCTOR, &CLI_TLS, &CLI_EMBED, &CLI_MFG, &CLI_OTA, &CLI_FLASH, &CLI_SECURE_CERT,
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: espsec GROUP [COMMAND] [OPTIONS] [ARGS]...\n\n"
               "  espsec %s: the ESP32 security model on a Linux host, byte-compatible with\n"
               "  Espressif's espsecure, espefuse, nvs_partition_gen and mfg_gen.\n\nGroups:\n",
            ESPSEC_VERSION);
    for (size_t i = 0; i < sizeof(GROUPS) / sizeof(GROUPS[0]); i++) {
        fprintf(f, "  %-18s %s\n", GROUPS[i]->name, GROUPS[i]->summary);
    }
    fprintf(f, "\nRun 'espsec GROUP --help' for the commands of a group.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    /* hidden: the man pages and shell completions the build installs (cli_doc.c) */
    int doc = cli_doc(argc, argv, GROUPS, sizeof(GROUPS) / sizeof(GROUPS[0]));
    if (doc >= 0) {
        return doc;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        /* the OpenSSL it runs on (the shared libcrypto may differ from the headers it was built with) */
        printf("espsec %s\n%s\n", espsec_version(), espsec_openssl_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof(GROUPS) / sizeof(GROUPS[0]); i++) {
        const char *n = GROUPS[i]->name;
        int match = 1;
        size_t k = 0;
        for (; n[k] && argv[1][k]; k++) {
            char x = n[k] == '_' ? '-' : n[k], y = argv[1][k] == '_' ? '-' : argv[1][k];
            if (x != y) {
                match = 0;
                break;
            }
        }
        if (match && n[k] == '\0' && argv[1][k] == '\0') {
            return cli_run_group(GROUPS[i], argc - 2, argv + 2);
        }
    }
    return cli_error("unknown group '%s' (see 'espsec --help')", argv[1]);
}
