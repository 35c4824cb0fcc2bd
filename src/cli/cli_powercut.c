/* espsec boot --powercut-sweep: every power cut of the first boot and what it leaves (espsec/powercut.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espsec/powercut.h"
#include "espsec/util.h"

static void json_str(const char *s)
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

int cli_powercut_sweep(cli_args_t *a, cli_device_inputs_t *in)
{
    if (!in->have_cfg) {
        return cli_error("--powercut-sweep needs --sdkconfig (what the first boot provisions)");
    }
    static const uint8_t seed[32] = {0x5e, 0xed};
    espsec_pc_opts_t o = {.config = &in->cfg, .random_seed = seed, .tear = cli_flag(a, "tear"), .tear_seed = 1};
    espsec_pc_point_t *p = NULL;
    espsec_pc_summary_t s;
    espsec_error_t err;
    if (espsec_powercut_sweep(in->ef, in->fl, &o, &p, &s, &err) != ESPSEC_OK) {
        return cli_fail(&err);
    }
    if (cli_flag(a, "json")) {
        printf("{\n  \"points\": %zu,\n  \"efuse_programs\": %zu,\n  \"flash_ops\": %zu,\n", s.points,
               s.efuse_programs, s.flash_ops);
        printf("  \"recovers\": %zu,\n  \"stays_plaintext\": %zu,\n  \"reflash\": %zu,\n  \"bricked\": %zu,\n",
               s.count[ESPSEC_PC_RECOVERS], s.count[ESPSEC_PC_STAYS_PLAINTEXT], s.count[ESPSEC_PC_REFLASH],
               s.count[ESPSEC_PC_BRICKED]);
        printf("  \"cuts\": [");
        for (size_t i = 0; i < s.points; i++) {
            printf("%s\n    {\"what\": ", i ? "," : "");
            json_str(p[i].what);
            printf(", \"efuse\": %s, \"flash_before\": %llu, \"efuse_before\": %llu, \"outcome\": \"%s\", \"detail\": ",
                   p[i].efuse ? "true" : "false", (unsigned long long)p[i].flash_before,
                   (unsigned long long)p[i].efuse_before, espsec_pc_outcome_name(p[i].outcome));
            json_str(p[i].detail);
            printf("}");
        }
        printf("\n  ]\n}\n");
    } else {
        printf("%-4s %-46s %-24s %s\n", "#", "power cut during", "after power-on", "how");
        for (size_t i = 0; i < s.points; i++) {
            printf("%-4zu %-46s %-24s %s\n", i, p[i].what, espsec_pc_outcome_name(p[i].outcome), p[i].detail);
        }
        printf("\n%zu cut points (%zu eFuse block programs, %zu flash operations): %zu recover, %zu stay plaintext, "
               "%zu recover after re-flash, %zu bricked\n",
               s.points, s.efuse_programs, s.flash_ops, s.count[ESPSEC_PC_RECOVERS], s.count[ESPSEC_PC_STAYS_PLAINTEXT],
               s.count[ESPSEC_PC_REFLASH], s.count[ESPSEC_PC_BRICKED]);
    }
    free(p);
    return 0;
}
