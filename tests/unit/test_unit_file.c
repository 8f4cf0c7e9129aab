/* Tests for unit_file.c: systemd's lexing through inih, settings, diagnostics with our line
 * numbers, specifiers, and the real-world corpus. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "unit_file.h"

#define CORPUS_DIR MINISUP_SOURCE_DIR "/../shared/corpus"

static const struct unit_load_context test_ctx = {
    .runtime_dir = "/run/test",
    .state_dir = "/var/lib/test",
    .logs_dir = "/var/log/test",
};

/* Loads `text` as unit `name`; the config and diagnostics are kept for the assertions. */
static int load(const char *text, const char *name, struct unit_config **c, struct unit_diags *d)
{
    *c = NULL;
    return unit_file_load_string(text, strlen(text), "/etc/test/x.service", name, &test_ctx, c, d);
}

/* The first diagnostic containing `needle`, or NULL. */
static const struct unit_diag *find_diag(const struct unit_diags *d, const char *needle)
{
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->items[i].message, needle))
            return &d->items[i];
    return NULL;
}

Test(unit_file, fifo_echo_example)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    char path[4096];

    snprintf(path, sizeof(path), "%s/etc/units/fifo-echo.service", MINISUP_SOURCE_DIR);
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    cr_assert_str_eq(c->name, "fifo-echo.service");
    cr_assert_str_eq(c->description, "FIFO echo service");
    cr_assert_eq(c->type, SERVICE_TYPE_EXEC);
    cr_assert_eq(c->exec_start.n, 1);
    cr_assert_str_eq(c->exec_start.items[0].path, "fifo-echo");
    cr_assert_str_eq(c->exec_start.items[0].argv[2], "/run/test/fifo-echo.fifo");
    cr_assert_eq(c->restart, RESTART_ON_FAILURE);
    cr_assert_eq(c->restart_usec, 500000);
    cr_assert_eq(c->timeout_stop_usec, 5000000);
    cr_assert_eq(c->kill_signal, SIGTERM);
    cr_assert_str_eq(c->wanted_by[0], "multi-user.target");
    cr_assert_not_null(c->source_text);
    unit_config_free(c);
    unit_diags_done(&d);
}

/* verify.tsv: every unit systemd loads must load here (warnings are fine). */
Test(unit_file, corpus_loads)
{
    FILE *f = fopen(CORPUS_DIR "/verify.tsv", "re");
    char line[8192];
    unsigned checked = 0;

    if (!f)
        cr_skip("corpus not found at %s", CORPUS_DIR);
    while (fgets(line, sizeof(line), f)) {
        char *fields[8] = {0}, *p = line, path[4096];
        struct unit_config *c = NULL;
        struct unit_diags d = {0};
        int n = 0, r;

        while (n < 8 && (fields[n] = strsep(&p, "\t")))
            n++;
        if (n < 8 || strcmp(fields[0], "set") == 0 || strcmp(fields[6], "yes") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/units/%s", CORPUS_DIR, fields[1]);
        r = unit_file_load(path, NULL, &test_ctx, &c, &d);
        for (size_t i = 0; r < 0 && i < d.n; i++)
            cr_log_error("%s:%u: %s", d.items[i].file, d.items[i].line, d.items[i].message);
        cr_expect_eq(r, 0, "%s: %d", path, r);
        unit_config_free(c);
        unit_diags_done(&d);
        checked++;
    }
    fclose(f);
    cr_assert_gt(checked, 100);
}

Test(unit_file, missing_exec_start)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    cr_assert_eq(load("[Service]\nType=simple\nRestart=always\n", "x.service", &c, &d), -EINVAL);
    cr_assert_null(c);
    cr_assert_not_null(find_diag(&d, "Service has no ExecStart= setting, which is only allowed "
                                     "for Type=oneshot services. Refusing."));
    unit_diags_done(&d);
}
