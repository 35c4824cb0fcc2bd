/*
 * Man pages and shell completions made from the option tables that print
 * --help (cli.h), so the three cannot drift apart. The build runs the hidden
 * options (tools/gen_docs.cmake) and installs what they print:
 *
 *   espsec --list-groups          the group names, one a line
 *   espsec --man                  espsec(1)
 *   espsec --man GROUP            espsec-GROUP(1)
 *   espsec --completion SHELL     bash, zsh or fish
 *
 * Option values complete by their metavar: a chip name for CHIP, folders for
 * DIR, the listed words for "a|b", files for FILE, KEY, OUT, *.pem and the
 * like, nothing for numbers and names. Positionals complete as files.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "espsec/chip.h"
#include "espsec/version.h"

typedef enum { VAL_NONE, VAL_FILE, VAL_DIR, VAL_CHIP, VAL_CHOICES } val_kind_t;

/* The alias of a command, unless it is the name in the other spelling (merge_bin for merge-bin). */
static const char *alias_of(const cli_cmd_t *c)
{
    if (c->alias == NULL || strlen(c->alias) != strlen(c->name)) {
        return c->alias;
    }
    for (size_t i = 0; c->name[i]; i++) {
        char x = c->name[i] == '_' ? '-' : c->name[i], y = c->alias[i] == '_' ? '-' : c->alias[i];
        if (x != y) {
            return c->alias;
        }
    }
    return NULL;
}

static int is_plain(const cli_group_t *g)
{
    return g->cmds[0].name != NULL && g->cmds[0].name[0] == '\0';
}

static int has_opts(const cli_opt_t *o)
{
    return o != NULL && o->name != NULL;
}

static val_kind_t value_kind(const cli_opt_t *o)
{
    const char *m = o->metavar ? o->metavar : "VALUE";
    static const char *const files[] = {"FILE", "KEY", "OUT", "CSV", "CONF", "CERT", "PEM", "BUNDLE", NULL};
    if (strcmp(m, "CHIP") == 0) {
        return VAL_CHIP;
    }
    if (strcmp(m, "DIR") == 0) {
        return VAL_DIR;
    }
    if (strchr(m, '.') != NULL) {
        return VAL_FILE; /* KEY.pem, OUT.S|OUT.c */
    }
    if (strchr(m, '|') != NULL) {
        return VAL_CHOICES; /* 1|2, v1|v2 */
    }
    size_t n = strlen(m);
    if (n >= 4 && strcmp(m + n - 4, "FILE") == 0) {
        return VAL_FILE;
    }
    for (size_t i = 0; files[i] != NULL; i++) {
        if (strcmp(m, files[i]) == 0) {
            return VAL_FILE;
        }
    }
    return VAL_NONE;
}

/* The choices of a "a|b|c" metavar, space-separated. */
static void print_choices(FILE *f, const char *m)
{
    for (; m != NULL && *m; m++) {
        fputc(*m == '|' ? ' ' : *m, f);
    }
}

static void print_chips(FILE *f)
{
    for (size_t i = 0; i < espsec_chip_count(); i++) {
        fprintf(f, "%s%s", i ? " " : "", espsec_chip_at(i)->name);
    }
}

/* Command and group names are matched with '_' and '-' alike; completions offer the '-' spelling. */
static void print_dashed(FILE *f, const char *s)
{
    for (; *s; s++) {
        fputc(*s == '_' ? '-' : *s, f);
    }
}

/* ---- man pages ---- */

/* Text for roff: backslashes escaped, no line taken for a request. A line
 * starting with a space breaks the paragraph, as in --help; an empty line
 * starts a new one. */
static void roff(FILE *f, const char *s)
{
    int bol = 1;
    for (; *s; s++) {
        if (bol && *s == '\n') {
            fputs(".PP\n", f);
            continue;
        }
        if (bol && (*s == '.' || *s == '\'')) {
            fputs("\\&", f);
        }
        if (*s == '\\') {
            fputs("\\e", f);
        } else {
            fputc(*s, f);
        }
        bol = *s == '\n';
    }
    if (!bol) {
        fputc('\n', f);
    }
}

/* An option name for roff: every '-' a real minus (\-). */
static void roff_opt(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '-') {
            fputs("\\-", f);
        } else if (*s == '\\') {
            fputs("\\e", f);
        } else {
            fputc(*s, f);
        }
    }
}

static void man_opts(FILE *f, const cli_opt_t *opts)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        const cli_opt_t *o = &opts[i];
        fputs(".TP\n", f);
        if (o->short_name) {
            fprintf(f, "\\fB\\-%c\\fR, ", o->short_name);
        }
        fputs("\\fB\\-\\-", f);
        roff_opt(f, o->name);
        fputs("\\fR", f);
        if (o->kind != CLI_FLAG) {
            fputs(" \\fI", f);
            roff_opt(f, o->metavar ? o->metavar : "VALUE");
            fputs(o->kind == CLI_MULTI ? "\\fR ...\n" : "\\fR\n", f);
        } else {
            fputc('\n', f);
        }
        roff(f, o->help ? o->help : "");
    }
}

static void man_usage(FILE *f, const cli_group_t *g, const cli_cmd_t *c)
{
    fputs(".PP\n.B espsec ", f);
    roff_opt(f, g->name);
    fputc('\n', f);
    if (c->name[0] != '\0') {
        if (has_opts(g->opts)) {
            fputs("[\\fIGROUP OPTIONS\\fR] ", f);
        }
        fputs("\\fB", f);
        roff_opt(f, c->name);
        fputs("\\fR ", f);
    }
    if (has_opts(c->opts)) {
        fputs("[\\fIOPTIONS\\fR]", f);
    }
    for (size_t i = 0; c->pos != NULL && c->pos[i].name != NULL; i++) {
        fprintf(f, c->pos[i].optional ? " [\\fI%s\\fR%s]" : " \\fI%s\\fR%s", c->pos[i].name,
                c->pos[i].many ? "..." : "");
    }
    fputc('\n', f);
}

static void man_cmd_body(FILE *f, const cli_cmd_t *c)
{
    fputs(".PP\n", f);
    roff(f, c->summary);
    if (c->alias != NULL) {
        fputs(".PP\nAlso called \\fB", f);
        roff_opt(f, c->alias);
        fputs("\\fR.\n", f);
    }
    if (c->description != NULL) {
        fputs(".PP\n", f);
        roff(f, c->description);
    }
    if (c->pos != NULL && c->pos[0].name != NULL) {
        fputs(".PP\nArguments:\n", f);
        for (size_t i = 0; c->pos[i].name != NULL; i++) {
            fprintf(f, ".TP\n\\fI%s\\fR\n", c->pos[i].name);
            roff(f, c->pos[i].help ? c->pos[i].help : "");
        }
    }
    if (has_opts(c->opts)) {
        fputs(".PP\nOptions:\n", f);
        man_opts(f, c->opts);
    }
}

static void man_header(FILE *f, const char *name, const char *title)
{
    fprintf(f, ".\\\" Made by 'espsec --man' from the option tables that print --help.\n");
    fprintf(f, ".TH \"%s\" 1 \"\" \"espsec %s\" \"espsec manual\"\n.SH NAME\n", title, espsec_version());
    roff_opt(f, name);
    fputs(" \\- ", f);
}

/* "Summary sentence." without its final period, for NAME lines. */
static void man_summary(FILE *f, const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '.') {
        n--;
    }
    fprintf(f, "%.*s\n", (int)n, s);
}

static void man_group(FILE *f, const cli_group_t *g)
{
    char name[96], title[96];
    snprintf(name, sizeof(name), "espsec-%s", g->name);
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof(title); i++) {
        title[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 'a' + 'A') : name[i];
    }
    title[i] = '\0';
    man_header(f, name, title);
    man_summary(f, g->summary);
    fputs(".SH SYNOPSIS\n", f);
    if (is_plain(g)) {
        man_usage(f, g, &g->cmds[0]);
    } else {
        fputs(".B espsec ", f);
        roff_opt(f, g->name);
        fprintf(f, "\n%s\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]...\n",
                has_opts(g->opts) ? "[\\fIGROUP OPTIONS\\fR] " : "");
        fputs(".br\n.B espsec ", f);
        roff_opt(f, g->name);
        fputs("\n[\\fICOMMAND\\fR] \\fB\\-\\-help\\fR\n", f);
    }
    fputs(".SH DESCRIPTION\n", f);
    roff(f, g->summary);
    if (g->description != NULL) {
        fputs(".PP\n", f);
        roff(f, g->description);
    }
    if (is_plain(g)) {
        man_cmd_body(f, &g->cmds[0]);
    } else {
        if (has_opts(g->opts)) {
            fputs(".SH \"GROUP OPTIONS\"\nGiven before the command.\n", f);
            man_opts(f, g->opts);
        }
        fputs(".SH COMMANDS\n", f);
        for (size_t k = 0; g->cmds[k].name != NULL; k++) {
            fputs(".SS \"", f);
            roff_opt(f, g->cmds[k].name);
            fputs("\"\n", f);
            man_usage(f, g, &g->cmds[k]);
            man_cmd_body(f, &g->cmds[k]);
        }
    }
    fputs(".SH NOTES\nCommand and option names accept '_' or '-' alike (sign_data = sign\\-data).\n"
          "Every command takes \\fB\\-h\\fR, \\fB\\-\\-help\\fR.\n"
          ".SH \"EXIT STATUS\"\n0 on success; non-zero with one line on standard error otherwise.\n"
          ".SH \"SEE ALSO\"\n\\fBespsec\\fR(1)\n",
          f);
}

static void man_main(FILE *f, const cli_group_t *const *groups, size_t n)
{
    man_header(f, "espsec", "ESPSEC");
    fputs("the ESP32 security model on a Linux host\n"
          ".SH SYNOPSIS\n.B espsec\n\\fIGROUP\\fR [\\fICOMMAND\\fR] [\\fIOPTIONS\\fR] [\\fIARGS\\fR]...\n"
          ".br\n.B espsec\n\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR\n"
          ".SH DESCRIPTION\n"
          "espsec does on a Linux host what the ESP32-family security model needs: Secure Boot signing\n"
          "and verification, flash encryption, virtual eFuses, encrypted NVS partitions, partition\n"
          "tables, TLS checks and a virtual device that boots what was made. It is byte-compatible\n"
          "with Espressif's espsecure, espefuse, nvs_partition_gen and mfg_gen: their commands and\n"
          "options are accepted with the same names.\n"
          ".SH GROUPS\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs(".TP\n\\fB", f);
        roff_opt(f, groups[i]->name);
        fputs("\\fR\n", f);
        roff(f, groups[i]->summary);
        fputs("See \\fBespsec\\-", f);
        roff_opt(f, groups[i]->name);
        fputs("\\fR(1).\n", f);
    }
    fputs(".SH OPTIONS\n.TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nList the groups.\n"
          ".TP\n\\fB\\-\\-version\\fR\nPrint espsec's version and the OpenSSL it runs on.\n"
          ".SH \"EXIT STATUS\"\n0 on success; non-zero with one line on standard error (naming the file,\n"
          "offset or line) otherwise.\n"
          ".SH \"SEE ALSO\"\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs("\\fBespsec\\-", f);
        roff_opt(f, groups[i]->name);
        fputs(i + 1 < n ? "\\fR(1),\n" : "\\fR(1)\n", f);
    }
}

/* ---- bash ---- */

static void bash_opts_words(FILE *f, const cli_opt_t *opts)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        fprintf(f, " --%s", opts[i].name);
        if (opts[i].short_name) {
            fprintf(f, " -%c", opts[i].short_name);
        }
    }
}

static void bash_value(FILE *f, const char *scope, const cli_opt_t *o)
{
    const char *v = NULL;
    switch (value_kind(o)) {
    case VAL_FILE: v = "file"; break;
    case VAL_DIR: v = "dir"; break;
    case VAL_CHIP: v = "chip"; break;
    case VAL_NONE: v = "none"; break;
    case VAL_CHOICES: break;
    }
    for (int s = 0; s < (o->short_name ? 2 : 1); s++) {
        fprintf(f, "    [\"%s|", scope);
        if (s == 0) {
            fprintf(f, "--%s", o->name);
        } else {
            fprintf(f, "-%c", o->short_name);
        }
        if (v != NULL) {
            fprintf(f, "\"]=%s\n", v);
        } else {
            fputs("\"]=\"words:", f);
            print_choices(f, o->metavar);
            fputs("\"\n", f);
        }
    }
}

static void bash_values(FILE *f, const char *scope, const cli_opt_t *opts)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        if (opts[i].kind != CLI_FLAG) {
            bash_value(f, scope, &opts[i]);
        }
    }
}

static void completion_bash(FILE *f, const cli_group_t *const *groups, size_t n)
{
    char scope[160];
    fputs("# bash completion for espsec (made by 'espsec --completion bash' from its option tables)\n", f);
    fputs("_espsec_groups='", f);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? " " : "", f);
        print_dashed(f, groups[i]->name);
    }
    fputs("'\n_espsec_chips='", f);
    print_chips(f);
    fputs("'\n# commands of each group (empty: the group is a command itself)\ndeclare -gA _espsec_cmds=(\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("    [", f);
        print_dashed(f, groups[i]->name);
        fputs("]=\"", f);
        for (size_t k = 0; !is_plain(groups[i]) && groups[i]->cmds[k].name != NULL; k++) {
            fputs(k ? " " : "", f);
            print_dashed(f, groups[i]->cmds[k].name);
            if (alias_of(&groups[i]->cmds[k]) != NULL) {
                fputc(' ', f);
                print_dashed(f, alias_of(&groups[i]->cmds[k]));
            }
        }
        fputs("\"\n", f);
    }
    fputs(")\n# options of \"GROUP\" (given before the command) and \"GROUP COMMAND\"\ndeclare -gA _espsec_opts=(\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const cli_group_t *g = groups[i];
        for (size_t k = 0; g->cmds[k].name != NULL; k++) {
            const cli_cmd_t *c = &g->cmds[k];
            for (int a = 0; a < (alias_of(c) ? 2 : 1); a++) {
                fputs("    [\"", f);
                print_dashed(f, g->name);
                if (c->name[0] != '\0') {
                    fputc(' ', f);
                    print_dashed(f, a ? alias_of(c) : c->name);
                }
                fputs("\"]=\"--help -h", f);
                bash_opts_words(f, c->opts);
                fputs("\"\n", f);
            }
        }
        if (!is_plain(g)) {
            fputs("    [\"", f);
            print_dashed(f, g->name);
            fputs(" \"]=\"--help -h", f);
            bash_opts_words(f, g->opts);
            fputs("\"\n", f);
        }
    }
    fputs(")\n# what the value of an option is: file, dir, chip, none or words:W1 W2...\n"
          "declare -gA _espsec_values=(\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const cli_group_t *g = groups[i];
        if (!is_plain(g)) {
            snprintf(scope, sizeof(scope), "%s ", g->name);
            for (char *p = scope; *p; p++) {
                *p = *p == '_' ? '-' : *p;
            }
            bash_values(f, scope, g->opts);
        }
        for (size_t k = 0; g->cmds[k].name != NULL; k++) {
            const cli_cmd_t *c = &g->cmds[k];
            for (int a = 0; a < (alias_of(c) ? 2 : 1); a++) {
                if (c->name[0] != '\0') {
                    snprintf(scope, sizeof(scope), "%s %s", g->name, a ? alias_of(c) : c->name);
                } else {
                    snprintf(scope, sizeof(scope), "%s", g->name);
                }
                for (char *p = scope; *p; p++) {
                    *p = *p == '_' ? '-' : *p;
                }
                bash_values(f, scope, c->opts);
            }
        }
    }
    fputs(")\n\n"
          "_espsec()\n"
          "{\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} group='' cmd='' scope='' i w kind\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]//_/-}\n"
          "        if [[ -z $group ]]; then\n"
          "            [[ $w == -* ]] && continue\n"
          "            group=$w\n"
          "            [[ -n ${_espsec_cmds[$group]+x} ]] || return 0\n"
          "            if [[ -z ${_espsec_cmds[$group]} ]]; then scope=$group; else scope=\"$group \"; fi\n"
          "        elif [[ $w == -* ]]; then\n"
          "            [[ $w == *=* ]] && continue\n"
          "            if [[ -n ${_espsec_values[\"$scope|$w\"]+x} ]]; then\n"
          "                ((i++))\n"
          "                [[ ${COMP_WORDS[i]} == = ]] && ((i++))  # bash splits --opt=value at '='\n"
          "            fi\n"
          "        elif [[ -z $cmd && $scope == *' ' ]]; then\n"
          "            cmd=$w\n"
          "            scope=\"$group $cmd\"\n"
          "        fi\n"
          "    done\n"
          "    w=${COMP_WORDS[COMP_CWORD-1]//_/-}\n"
          "    if [[ $w == = ]] && ((COMP_CWORD > 2)); then w=${COMP_WORDS[COMP_CWORD-2]//_/-}; fi  # --opt=value\n"
          "    kind=''\n"
          "    if ((COMP_CWORD > 1)) && [[ $w == -* ]]; then\n"
          "        kind=${_espsec_values[\"$scope|$w\"]}\n"
          "    fi\n"
          "    if [[ -z $kind && $cur == --*=* ]]; then\n"
          "        w=${cur%%=*}\n"
          "        w=${w//_/-}\n"
          "        kind=${_espsec_values[\"$scope|$w\"]}\n"
          "        cur=${cur#*=}\n"
          "    fi\n"
          "    case $kind in\n"
          "    file) mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); compopt -o filenames 2>/dev/null; return 0 ;;\n"
          "    dir) mapfile -t COMPREPLY < <(compgen -d -- \"$cur\"); compopt -o filenames 2>/dev/null; return 0 ;;\n"
          "    chip) mapfile -t COMPREPLY < <(compgen -W \"$_espsec_chips\" -- \"$cur\"); return 0 ;;\n"
          "    words:*) mapfile -t COMPREPLY < <(compgen -W \"${kind#words:}\" -- \"$cur\"); return 0 ;;\n"
          "    none) COMPREPLY=(); return 0 ;;\n"
          "    esac\n"
          "    if [[ -z $group ]]; then\n"
          "        mapfile -t COMPREPLY < <(compgen -W \"$_espsec_groups --help --version\" -- \"$cur\")\n"
          "    elif [[ $cur == -* ]]; then\n"
          "        mapfile -t COMPREPLY < <(compgen -W \"${_espsec_opts[$scope]}\" -- \"$cur\")\n"
          "    elif [[ -z $cmd && $scope == *' ' ]]; then\n"
          "        mapfile -t COMPREPLY < <(compgen -W \"${_espsec_cmds[$group]}\" -- \"$cur\")\n"
          "    else\n"
          "        mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
          "        compopt -o filenames 2>/dev/null\n"
          "    fi\n"
          "    return 0\n"
          "}\n"
          "complete -F _espsec espsec\n",
          f);
}

/* ---- zsh ---- */

/* Text inside '...' in zsh, also inside an _arguments [description]. */
static void zsh_text(FILE *f, const char *s, int in_brackets)
{
    for (; *s; s++) {
        if (*s == '\'') {
            fputs("'\\''", f);
        } else if (*s == '\n') {
            fputc(' ', f);
        } else if ((in_brackets && (*s == '[' || *s == ']' || *s == '\\')) ||
                   (!in_brackets && (*s == ':' || *s == '\\'))) {
            fputc('\\', f);
            fputc(*s, f);
        } else {
            fputc(*s, f);
        }
    }
}

static void zsh_action(FILE *f, const cli_opt_t *o)
{
    switch (value_kind(o)) {
    case VAL_FILE: fputs(":_files", f); break;
    case VAL_DIR: fputs(":_files -/", f); break;
    case VAL_CHIP: fputs(":($_espsec_chips)", f); break;
    case VAL_CHOICES:
        fputs(":(", f);
        print_choices(f, o->metavar);
        fputc(')', f);
        break;
    case VAL_NONE: fputs(": ", f); break;
    }
}

static void zsh_opt_specs(FILE *f, const cli_opt_t *opts, const char *indent)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        const cli_opt_t *o = &opts[i];
        for (int s = 0; s < (o->short_name ? 2 : 1); s++) {
            fprintf(f, "%s'*", indent);
            if (s == 0) {
                fprintf(f, "--%s", o->name);
            } else {
                fprintf(f, "-%c", o->short_name);
            }
            if (o->kind != CLI_FLAG && s == 0) {
                fputc('=', f); /* --name=value and --name value */
            }
            fputc('[', f);
            zsh_text(f, o->help ? o->help : "", 1);
            fputc(']', f);
            if (o->kind != CLI_FLAG) {
                fputc(':', f);
                zsh_text(f, o->metavar ? o->metavar : "VALUE", 0);
                zsh_action(f, o);
            }
            fputs("' \\\n", f);
        }
    }
}

static void zsh_case_label(FILE *f, const char *name, const char *alias)
{
    fputs("        ", f);
    print_dashed(f, name);
    fputs("|", f);
    fputs(name, f);
    if (alias != NULL) {
        fputs("|", f);
        print_dashed(f, alias);
        fputs("|", f);
        fputs(alias, f);
    }
    fputs(")\n", f);
}

static void completion_zsh(FILE *f, const cli_group_t *const *groups, size_t n)
{
    fputs("#compdef espsec\n# zsh completion for espsec (made by 'espsec --completion zsh' from its option tables)\n\n"
          "_espsec_chips=(",
          f);
    print_chips(f);
    fputs(")\n\n_espsec() {\n    local curcontext=$curcontext state line ret=1\n    local -a groups\n"
          "    groups=(\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs("        '", f);
        print_dashed(f, groups[i]->name);
        fputc(':', f);
        zsh_text(f, groups[i]->summary, 0);
        fputs("'\n", f);
    }
    fputs("    )\n"
          "    _arguments -C '(- *)'{-h,--help}'[list the groups]' '(- *)--version[print the version]' \\\n"
          "        '1:group:->group' '*::arg:->args' && ret=0\n"
          "    case $state in\n"
          "    group) _describe -t groups 'espsec group' groups && ret=0 ;;\n"
          "    args)\n"
          "        case ${words[1]//_/-} in\n",
          f);
    for (size_t i = 0; i < n; i++) {
        const cli_group_t *g = groups[i];
        fputs("        ", f);
        print_dashed(f, g->name);
        fputs(") _espsec_group_", f);
        for (const char *p = g->name; *p; p++) {
            fputc(*p == '-' ? '_' : *p, f);
        }
        fputs(" && ret=0 ;;\n", f);
    }
    fputs("        esac\n        ;;\n    esac\n    return ret\n}\n\n", f);

    for (size_t i = 0; i < n; i++) {
        const cli_group_t *g = groups[i];
        fputs("_espsec_group_", f);
        for (const char *p = g->name; *p; p++) {
            fputc(*p == '-' ? '_' : *p, f);
        }
        fputs("() {\n", f);
        if (is_plain(g)) {
            fputs("    _arguments -s '(- *)'{-h,--help}'[show help]' \\\n", f);
            zsh_opt_specs(f, g->cmds[0].opts, "        ");
            fputs("        '*:file:_files'\n}\n\n", f);
            continue;
        }
        fputs("    local curcontext=$curcontext state line\n    local -a cmds\n    cmds=(\n", f);
        for (size_t k = 0; g->cmds[k].name != NULL; k++) {
            for (int a = 0; a < (alias_of(&g->cmds[k]) ? 2 : 1); a++) {
                fputs("        '", f);
                print_dashed(f, a ? alias_of(&g->cmds[k]) : g->cmds[k].name);
                fputc(':', f);
                zsh_text(f, g->cmds[k].summary, 0);
                fputs("'\n", f);
            }
        }
        fputs("    )\n    _arguments -C '(- *)'{-h,--help}'[show help]' \\\n", f);
        zsh_opt_specs(f, g->opts, "        ");
        fputs("        '1:command:->cmd' '*::arg:->args' || return 1\n"
              "    case $state in\n"
              "    cmd) _describe -t commands 'command' cmds ;;\n"
              "    args)\n"
              "        case $words[1] in\n",
              f);
        for (size_t k = 0; g->cmds[k].name != NULL; k++) {
            const cli_cmd_t *c = &g->cmds[k];
            zsh_case_label(f, c->name, alias_of(c));
            fputs("            _arguments -s '(- *)'{-h,--help}'[show help]' \\\n", f);
            zsh_opt_specs(f, c->opts, "                ");
            fputs("                '*:file:_files' ;;\n", f);
        }
        fputs("        esac\n        ;;\n    esac\n}\n\n", f);
    }
    fputs("if [ \"$funcstack[1]\" = _espsec ]; then\n    _espsec \"$@\"\nelse\n    compdef _espsec espsec\nfi\n", f);
}

/* ---- fish ---- */

static void fish_text(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\') {
            fputc('\\', f);
        }
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('\'', f);
}

/* cond: the fish condition, already quoted. */
static void fish_opts(FILE *f, const char *cond, const cli_opt_t *opts)
{
    for (size_t i = 0; opts != NULL && opts[i].name != NULL; i++) {
        const cli_opt_t *o = &opts[i];
        fprintf(f, "complete -c espsec -n %s -l %s", cond, o->name);
        if (o->short_name) {
            fprintf(f, " -s %c", o->short_name);
        }
        if (o->kind != CLI_FLAG) {
            switch (value_kind(o)) {
            case VAL_FILE: fputs(" -r -F", f); break;
            case VAL_DIR: fputs(" -x -a '(__fish_complete_directories)'", f); break;
            case VAL_CHIP: fputs(" -x -a \"$__espsec_chips\"", f); break;
            case VAL_CHOICES:
                fputs(" -x -a '", f);
                print_choices(f, o->metavar);
                fputc('\'', f);
                break;
            case VAL_NONE: fputs(" -x", f); break;
            }
        }
        fputs(" -d ", f);
        fish_text(f, o->help ? o->help : "");
        fputc('\n', f);
    }
}

/* Append " name" to buf (dashed), keeping it terminated; truncation only shortens a condition. */
static void append_name(char *buf, size_t cap, const char *name)
{
    size_t len = strlen(buf);
    if (len + 1 < cap) {
        buf[len++] = ' ';
    }
    for (; *name && len + 2 < cap; name++) {
        buf[len++] = *name == '_' ? '-' : *name;
    }
    buf[len] = '\0';
}

/* '__espsec_at GROUP [COMMAND]' or, before the command, '__espsec_at_group GROUP COMMAND...' */
static void fish_cond(char *buf, size_t cap, const cli_group_t *g, const cli_cmd_t *c, int alias)
{
    snprintf(buf, cap, "'__espsec_at%s", c == NULL ? "_group" : "");
    append_name(buf, cap, g->name);
    if (c != NULL && c->name[0] != '\0') {
        append_name(buf, cap, alias ? alias_of(c) : c->name);
    }
    for (size_t k = 0; c == NULL && g->cmds[k].name != NULL; k++) {
        append_name(buf, cap, g->cmds[k].name);
        if (alias_of(&g->cmds[k]) != NULL) {
            append_name(buf, cap, alias_of(&g->cmds[k]));
        }
    }
    size_t len = strlen(buf);
    if (len + 1 < cap) {
        buf[len] = '\'';
        buf[len + 1] = '\0';
    }
}

static void completion_fish(FILE *f, const cli_group_t *const *groups, size_t n)
{
    char cond[8192];
    fputs("# fish completion for espsec (made by 'espsec --completion fish' from its option tables)\n"
          "set -g __espsec_chips '",
          f);
    print_chips(f);
    fputs("'\n"
          "# true when the command line is at GROUP [COMMAND] (names with '_' or '-')\n"
          "function __espsec_at\n"
          "    set -l t (commandline -opc | string replace -a _ -)\n"
          "    test (count $t) -ge 2; and test \"$t[2]\" = \"$argv[1]\"; or return 1\n"
          "    test (count $argv) -ge 2; or return 0\n"
          "    contains -- \"$argv[2]\" $t[3..-1]\n"
          "end\n"
          "# true at GROUP before any of its COMMANDs\n"
          "function __espsec_at_group\n"
          "    set -l t (commandline -opc | string replace -a _ -)\n"
          "    test (count $t) -ge 2; and test \"$t[2]\" = \"$argv[1]\"; or return 1\n"
          "    for c in $argv[2..-1]\n"
          "        contains -- $c $t[3..-1]; and return 1\n"
          "    end\n"
          "    return 0\n"
          "end\n"
          "complete -c espsec -f\n"
          "complete -c espsec -n __fish_use_subcommand -l help -s h -d 'List the groups'\n"
          "complete -c espsec -n __fish_use_subcommand -l version -d 'Print the version'\n",
          f);
    for (size_t i = 0; i < n; i++) {
        fputs("complete -c espsec -n __fish_use_subcommand -a ", f);
        print_dashed(f, groups[i]->name);
        fputs(" -d ", f);
        fish_text(f, groups[i]->summary);
        fputc('\n', f);
    }
    for (size_t i = 0; i < n; i++) {
        const cli_group_t *g = groups[i];
        if (!is_plain(g)) {
            /* before the command: the commands and the group options */
            fish_cond(cond, sizeof(cond), g, NULL, 0);
            for (size_t k = 0; g->cmds[k].name != NULL; k++) {
                for (int a = 0; a < (alias_of(&g->cmds[k]) ? 2 : 1); a++) {
                    fprintf(f, "complete -c espsec -n %s -a ", cond);
                    print_dashed(f, a ? alias_of(&g->cmds[k]) : g->cmds[k].name);
                    fputs(" -d ", f);
                    fish_text(f, g->cmds[k].summary);
                    fputc('\n', f);
                }
            }
            fprintf(f, "complete -c espsec -n %s -l help -s h -d 'Show help'\n", cond);
            fish_opts(f, cond, g->opts);
        }
        /* at a command: its options, files for its arguments */
        for (size_t k = 0; g->cmds[k].name != NULL; k++) {
            const cli_cmd_t *c = &g->cmds[k];
            for (int a = 0; a < (alias_of(c) ? 2 : 1); a++) {
                fish_cond(cond, sizeof(cond), g, c, a);
                fprintf(f, "complete -c espsec -n %s -F\n", cond);
                fprintf(f, "complete -c espsec -n %s -l help -s h -d 'Show help'\n", cond);
                fish_opts(f, cond, c->opts);
            }
        }
    }
}

int cli_doc(int argc, char **argv, const cli_group_t *const *groups, size_t n)
{
    if (strcmp(argv[1], "--list-groups") == 0) {
        for (size_t i = 0; i < n; i++) {
            printf("%s\n", groups[i]->name);
        }
        return 0;
    }
    if (strcmp(argv[1], "--man") == 0) {
        if (argc < 3) {
            man_main(stdout, groups, n);
            return 0;
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(groups[i]->name, argv[2]) == 0) {
                man_group(stdout, groups[i]);
                return 0;
            }
        }
        return cli_error("--man: unknown group '%s' (see 'espsec --list-groups')", argv[2]);
    }
    if (strcmp(argv[1], "--completion") == 0) {
        const char *sh = argc >= 3 ? argv[2] : "";
        if (strcmp(sh, "bash") == 0) {
            completion_bash(stdout, groups, n);
        } else if (strcmp(sh, "zsh") == 0) {
            completion_zsh(stdout, groups, n);
        } else if (strcmp(sh, "fish") == 0) {
            completion_fish(stdout, groups, n);
        } else {
            return cli_error("--completion: shell '%s' unknown (bash, zsh or fish)", sh);
        }
        return 0;
    }
    return -1;
}
