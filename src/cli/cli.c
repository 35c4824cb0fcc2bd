/* The option parser and help printer (cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "espsec/io.h"
#include "espsec/secure_boot.h"
#include "espsec/util.h"

/* Compare names with '_' and '-' treated alike. */
static int name_eq(const char *a, const char *b, size_t blen)
{
    size_t i = 0;
    for (; i < blen && a[i]; i++) {
        char x = a[i] == '_' ? '-' : a[i];
        char y = b[i] == '_' ? '-' : b[i];
        if (x != y) {
            return 0;
        }
    }
    return i == blen && a[i] == '\0';
}

static size_t count_opts(const cli_opt_t *opts)
{
    size_t n = 0;
    while (opts != NULL && opts[n].name != NULL) {
        n++;
    }
    return n;
}

static size_t count_pos(const cli_pos_t *pos)
{
    size_t n = 0;
    while (pos != NULL && pos[n].name != NULL) {
        n++;
    }
    return n;
}

static size_t required_pos(const cli_pos_t *pos)
{
    size_t n = 0;
    for (size_t i = 0; pos != NULL && pos[i].name != NULL; i++) {
        n += pos[i].optional ? 0 : 1;
    }
    return n;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none (overlong, surrogate, past U+10FFFF). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t len = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (len == 0 || p[0] > 0xF4 || len > n) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) || (p[0] == 0xF0 && p[1] < 0x90) ||
        (p[0] == 0xF4 && p[1] >= 0x90)) {
        return 0;
    }
    return len;
}

void cli_put_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t u = p[i] >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (u > 0) {
            (void)fwrite(p + i, 1, u, f);
            i += u;
        } else if (p[i] < 0x20 || p[i] >= 0x7F) {
            fprintf(f, "\\x%02x", p[i]); /* a file name or value from the input: never a terminal control */
            i++;
        } else {
            fputc(p[i], f);
            i++;
        }
    }
}

/* The error line's prefix: espsec's, or the tool's a group stands in for (espefuse). */
static const char *error_prefix = "espsec: error: ";

int (cli_error)(const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fputs(error_prefix, stderr);
    cli_put_escaped(stderr, msg);
    fputc('\n', stderr);
    return 2;
}

int (cli_fail)(const espsec_error_t *err)
{
    if (err->msg[0] != '\0') {
        return cli_error("%s", err->msg);
    }
    return cli_error("%s (%s)", espsec_strerror(err->code), espsec_err_to_name(err->code));
}

static void print_opts(FILE *f, const cli_opt_t *opts)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        const cli_opt_t *o = &opts[i];
        char lhs[96];
        int n = 0;
        if (o->short_name) {
            n = snprintf(lhs, sizeof(lhs), "-%c, ", o->short_name);
        }
        snprintf(lhs + n, sizeof(lhs) - (size_t)n, "--%s%s%s%s", o->name,
                 o->kind == CLI_FLAG ? "" : " ", o->kind == CLI_FLAG ? "" : (o->metavar ? o->metavar : "VALUE"),
                 o->kind == CLI_MULTI ? " ..." : "");
        fprintf(f, "  %-34s %s\n", lhs, o->help ? o->help : "");
    }
}

static int group_chains(const cli_group_t *g);

static void print_cmd_help(FILE *f, const char *prog, const cli_group_t *g, const cli_cmd_t *c, const cli_args_t *a)
{
    fprintf(f, "Usage: %s", prog);
    if (c->opts != NULL && c->opts[0].name != NULL) {
        fprintf(f, " [OPTIONS]");
    }
    for (size_t i = 0; c->pos != NULL && c->pos[i].name != NULL; i++) {
        fprintf(f, c->pos[i].optional ? " [%s%s]" : " %s%s", c->pos[i].name, c->pos[i].many ? "..." : "");
    }
    fprintf(f, "\n\n  %s\n", c->summary);
    if (group_chains(g)) {
        cli_efuse_help_more(f, a, c);
    }
    if (c->description != NULL) {
        fprintf(f, "\n%s\n", c->description);
    }
    if (c->pos != NULL && c->pos[0].name != NULL) {
        fprintf(f, "\nArguments:\n");
        for (size_t i = 0; c->pos[i].name != NULL; i++) {
            fprintf(f, "  %-34s %s\n", c->pos[i].name, c->pos[i].help ? c->pos[i].help : "");
        }
    }
    fprintf(f, "\nOptions:\n");
    print_opts(f, c->opts);
    fprintf(f, "  %-34s %s\n", "-h, --help", "Show this message and exit.");
    if (g->opts != NULL && g->opts[0].name != NULL) {
        fprintf(f, "\nOptions of '%s' (given before the command):\n", g->name);
        print_opts(f, g->opts);
    }
    fprintf(f, "\nCommand and option names accept '_' or '-' (sign_data = sign-data).\n");
}

static void print_group_help(FILE *f, const cli_group_t *g)
{
    fprintf(f, "Usage: espsec %s", g->name);
    if (g->opts != NULL && g->opts[0].name != NULL) {
        fprintf(f, " [OPTIONS]");
    }
    fprintf(f, group_chains(g) ? " COMMAND1 [ARGS]... [COMMAND2 [ARGS]...]...\n\n  %s\n" : " COMMAND [ARGS]...\n\n  %s\n",
            g->summary);
    if (g->description != NULL) {
        fprintf(f, "\n%s\n", g->description);
    }
    if (g->opts != NULL && g->opts[0].name != NULL) {
        fprintf(f, "\nOptions:\n");
        print_opts(f, g->opts);
    }
    fprintf(f, "\nCommands:\n");
    for (size_t i = 0; g->cmds[i].name != NULL; i++) {
        fprintf(f, "  %-30s %s\n", g->cmds[i].name, g->cmds[i].summary);
    }
    fprintf(f, "\nRun 'espsec %s COMMAND --help' for a command's options.\n", g->name);
}

static int is_help(const char *s)
{
    return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0;
}

/* Find an option by "--name" (len chars) or "-x". */
static int find_opt(const cli_opt_t *opts, const char *arg, size_t len)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        if (arg[1] == '-' ? name_eq(opts[i].name, arg + 2, len - 2)
                          : (len == 2 && opts[i].short_name == arg[1])) {
            return (int)i;
        }
    }
    return -1;
}

static int looks_like_option(const char *s)
{
    /* "-" alone is stdin/stdout; negative numbers are values */
    return s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9');
}

static int add_value(size_t *nvals, const char **vals, const char *optname, const char *v)
{
    if (*nvals >= CLI_MAX_VALUES) {
        return cli_error("--%s: too many values (at most %d)", optname, CLI_MAX_VALUES);
    }
    vals[(*nvals)++] = v;
    return 0;
}

/* How many positionals argv[from...] supplies after the options are skipped. */
static size_t later_positionals(const cli_opt_t *opts, int argc, char **argv, int from)
{
    size_t n = 0;
    for (int j = from; j < argc; j++) {
        if (!looks_like_option(argv[j])) {
            n++;
            continue;
        }
        const char *eq = argv[j][1] == '-' ? strchr(argv[j], '=') : NULL;
        size_t len = eq ? (size_t)(eq - argv[j]) : strlen(argv[j]);
        int k = find_opt(opts, argv[j], len);
        if (k < 0 || eq != NULL || opts[k].kind == CLI_FLAG) {
            continue;
        }
        if (opts[k].kind == CLI_VALUE) {
            j++;
        } else {
            while (j + 1 < argc && !looks_like_option(argv[j + 1])) {
                j++;
            }
        }
    }
    return n;
}

/*
 * Parse options (and positionals when pos_allowed) from argv[*i...]. Group
 * options stop at the first non-option (the command name).
 */
static int parse_opts(const cli_opt_t *opts, size_t nv[], const char *vals[][CLI_MAX_VALUES],
                      cli_args_t *a, const cli_pos_t *pos, int argc, char **argv, int *i,
                      int stop_at_positional)
{
    size_t nreq = required_pos(pos);
    for (; *i < argc; (*i)++) {
        const char *arg = argv[*i];
        if (strcmp(arg, "--") == 0 && !stop_at_positional) {
            for ((*i)++; *i < argc; (*i)++) {
                if (a->npos >= sizeof(a->pos) / sizeof(a->pos[0])) {
                    return cli_error("too many arguments");
                }
                a->pos[a->npos++] = argv[*i];
            }
            break;
        }
        if (!looks_like_option(arg)) {
            if (stop_at_positional) {
                return 0;
            }
            if (a->npos >= sizeof(a->pos) / sizeof(a->pos[0])) {
                return cli_error("too many arguments");
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        const char *eq = arg[1] == '-' ? strchr(arg, '=') : NULL;
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = find_opt(opts, arg, len);
        if (k < 0) {
            if (stop_at_positional) {
                return cli_error("unknown option '%.*s' (options of a command go after the command name)",
                                 (int)len, arg);
            }
            return cli_error("unknown option '%.*s' (see --help)", (int)len, arg);
        }
        const cli_opt_t *o = &opts[k];
        if (o->kind == CLI_FLAG) {
            if (eq != NULL) {
                return cli_error("--%s takes no value", o->name);
            }
            nv[k] = 1;
            continue;
        }
        if (eq != NULL) {
            if (add_value(&nv[k], vals[k], o->name, eq + 1) != 0) {
                return 2;
            }
            if (o->kind == CLI_VALUE) {
                vals[k][0] = vals[k][nv[k] - 1];
                nv[k] = 1;
            }
            continue;
        }
        if (*i + 1 >= argc || looks_like_option(argv[*i + 1])) {
            return cli_error("option --%s needs a value (%s)", o->name, o->metavar ? o->metavar : "VALUE");
        }
        if (o->kind == CLI_VALUE) {
            nv[k] = 0;
            add_value(&nv[k], vals[k], o->name, argv[++(*i)]);
            continue;
        }
        /* CLI_MULTI: eat up to the next option, but leave room for the
         * required positionals that are still missing. */
        int end = *i + 1;
        while (end < argc && !looks_like_option(argv[end])) {
            end++;
        }
        size_t missing = nreq > a->npos ? nreq - a->npos : 0;
        size_t later = later_positionals(opts, argc, argv, end);
        missing = missing > later ? missing - later : 0;
        int last = end;
        if (missing > 0 && (size_t)(end - (*i + 1)) > missing) {
            last = end - (int)missing;
        }
        for (int j = *i + 1; j < last; j++) {
            if (add_value(&nv[k], vals[k], o->name, argv[j]) != 0) {
                return 2;
            }
        }
        *i = last - 1;
    }
    return 0;
}

static const cli_cmd_t *find_cmd(const cli_group_t *g, const char *name)
{
    for (size_t i = 0; g->cmds[i].name != NULL; i++) {
        const cli_cmd_t *c = &g->cmds[i];
        if (name_eq(c->name, name, strlen(name)) || (c->alias && name_eq(c->alias, name, strlen(name)))) {
            return c;
        }
    }
    return NULL;
}

static int opt_index(const cli_opt_t *opts, const char *name)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        if (name_eq(opts[i].name, name, strlen(name))) {
            return (int)i;
        }
    }
    return -1;
}

int cli_flag(const cli_args_t *a, const char *name)
{
    int k = opt_index(a->cmd->opts, name);
    if (k >= 0 && a->nvals[k] > 0) {
        return 1;
    }
    k = opt_index(a->group->opts, name);
    return k >= 0 && a->gnvals[k] > 0;
}

size_t cli_list(const cli_args_t *a, const char *name, const char ***vals)
{
    int k = opt_index(a->cmd->opts, name);
    if (k >= 0 && a->nvals[k] > 0) {
        *vals = (const char **)a->vals[k];
        return a->nvals[k];
    }
    k = opt_index(a->group->opts, name);
    if (k >= 0 && a->gnvals[k] > 0) {
        *vals = (const char **)a->gvals[k];
        return a->gnvals[k];
    }
    *vals = NULL;
    return 0;
}

const char *cli_str(const cli_args_t *a, const char *name)
{
    const char **v = NULL;
    size_t n = cli_list(a, name, &v);
    return n ? v[n - 1] : NULL;
}

const char *cli_pos(const cli_args_t *a, size_t i)
{
    return i < a->npos ? a->pos[i] : NULL;
}

int cli_u64(const cli_args_t *a, const char *name, unsigned long long def, unsigned long long *out)
{
    const char *s = cli_str(a, name);
    if (s == NULL) {
        *out = def;
        return 0;
    }
    uint64_t v;
    if (espsec_parse_u64(s, &v) != 0) {
        cli_error("--%s: '%s' is not a number (decimal or 0x hex expected)", name, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_confirm(const char *what, int do_not_confirm)
{
    if (do_not_confirm) {
        return 0;
    }
    printf("%s\nThis is an irreversible operation!\nType 'BURN' (all capitals) to continue.\n", what);
    (void)fflush(stdout);
    char line[64];
    if (fgets(line, sizeof(line), stdin) == NULL) {
        return -1;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return strcmp(line, "BURN") == 0 ? 0 : -1;
}

static int run_cmd(const cli_group_t *g, const cli_cmd_t *c, cli_args_t *a, int argc, char **argv,
                   int i)
{
    char prog[128];
    if (c->name[0] != '\0') {
        snprintf(prog, sizeof(prog), "espsec %s %s", g->name, c->name);
    } else {
        snprintf(prog, sizeof(prog), "espsec %s", g->name);
    }
    a->cmd = c;
    a->prog = prog;
    for (int j = i; j < argc; j++) {
        if (strcmp(argv[j], "--") == 0) {
            break;
        }
        if (is_help(argv[j])) {
            print_cmd_help(stdout, prog, g, c, a);
            return 0;
        }
    }
    if (count_opts(c->opts) > CLI_MAX_OPTS) {
        return cli_error("internal: too many options for %s", prog);
    }
    int rc = parse_opts(c->opts, a->nvals, a->vals, a, c->pos, argc, argv, &i, 0);
    if (rc != 0) {
        return rc;
    }
    size_t ndecl = count_pos(c->pos);
    size_t nreq = required_pos(c->pos);
    int many = ndecl > 0 && c->pos[ndecl - 1].many;
    if (a->npos < nreq) {
        return cli_error("%s: missing argument %s (see --help)", prog, c->pos[a->npos].name);
    }
    if (a->npos > ndecl && !many) {
        return cli_error("%s: unexpected extra argument '%s' (see --help)", prog, a->pos[ndecl]);
    }
    return c->run(a);
}

/* espefuse runs several commands in one invocation and burns them together. */
static int group_chains(const cli_group_t *g)
{
    return strcmp(g->name, "efuse") == 0;
}

int cli_run_group(const cli_group_t *g, int argc, char **argv)
{
    if (group_chains(g)) {
        error_prefix = "A fatal error occurred: "; /* espefuse's verdict line */
        /* "-h" among the global options, before any command, is the group's help */
        for (int k = 0; k < argc && find_cmd(g, argv[k]) == NULL; k++) {
            if (is_help(argv[k])) {
                print_group_help(stdout, g);
                return 0;
            }
        }
    }
    cli_args_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        return cli_error("out of memory");
    }
    a->group = g;
    int i = 0, rc;
    /* a plain command: one unnamed command */
    if (g->cmds[0].name != NULL && g->cmds[0].name[0] == '\0') {
        rc = run_cmd(g, &g->cmds[0], a, argc, argv, 0);
        free(a);
        return rc;
    }
    if (argc > 0 && is_help(argv[0])) {
        print_group_help(stdout, g);
        free(a);
        return 0;
    }
    rc = parse_opts(g->opts, a->gnvals, a->gvals, a, NULL, argc, argv, &i, 1);
    if (rc != 0) {
        free(a);
        return rc;
    }
    if (i >= argc) {
        print_group_help(stderr, g);
        free(a);
        return cli_error("espsec %s: a command is required", g->name);
    }
    if (is_help(argv[i])) {
        print_group_help(stdout, g);
        free(a);
        return 0;
    }
    const cli_cmd_t *c = find_cmd(g, argv[i]);
    if (c == NULL) {
        rc = cli_error("espsec %s: unknown command '%s' (see 'espsec %s --help')", g->name, argv[i], g->name);
        free(a);
        return rc;
    }
    if (!group_chains(g)) {
        a->chain_last = 1;
        rc = run_cmd(g, c, a, argc, argv, i + 1);
        free(a);
        return rc;
    }
    /* split at the following command names and run each part, sharing a->chain */
    int start = i;
    rc = 0;
    for (int k = 0; rc == 0 && start < argc; k++) {
        int end = start + 1;
        while (end < argc && find_cmd(g, argv[end]) == NULL) {
            end++;
        }
        c = find_cmd(g, argv[start]);
        if (strcmp(argv[start], c->name) != 0 && strchr(argv[start], '_') != NULL) {
            /* espefuse's notice for the old spelling (it still runs the command) */
            printf("Warning: Deprecated: Command '%s' is deprecated. Use '%s' instead.\n", argv[start], c->name);
        }
        memset(a->nvals, 0, sizeof(a->nvals));
        a->npos = 0;
        a->chain_index = k;
        a->chain_last = end >= argc;
        rc = run_cmd(g, c, a, end, argv, start + 1);
        start = end;
    }
    if (rc == 0 && a->chain_end != NULL) {
        rc = a->chain_end(a);
    }
    if (a->chain != NULL && a->chain_free != NULL) {
        a->chain_free(a->chain);
    }
    free(a);
    return rc;
}

const char *cli_key_password(const cli_args_t *a, int *bad)
{
    *bad = 0;
    const char *var = cli_str(a, "keyfile-password-env");
    if (var == NULL) {
        return NULL;
    }
    const char *pw = getenv(var);
    if (pw == NULL) {
        cli_error("--keyfile-password-env %s: the environment variable is not set", var);
        *bad = 1;
    }
    return pw;
}

int cli_load_sb_key(const cli_args_t *a, const char *path, espsec_sb_key_t **key)
{
    int bad = 0;
    const char *pw = cli_key_password(a, &bad);
    if (bad) {
        return -1;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    espsec_error_t err;
    if (espsec_read_file(path, &buf, &len, 1u << 20, &err) != ESPSEC_OK) {
        cli_fail(&err);
        return -1;
    }
    espsec_err_t rc = espsec_sb_key_load_pem_pw(buf, len, pw, pw == NULL && isatty(0), key, &err);
    espsec_free_secret(buf, len);
    if (rc != ESPSEC_OK) {
        espsec_error_prefix(&err, "%s: ", path);
        cli_fail(&err);
        return -1;
    }
    return 0;
}
