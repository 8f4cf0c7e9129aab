/* Offline verification against what systemd 252 itself says about real Debian unit files
 * (../shared/corpus/verify.tsv): every unit systemd loads loads here, every unit it refuses is
 * refused here, and the shipped etc/units verify clean. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "paths.h"
#include "unit_file.h"
#include "unit_verify.h"

#define CORPUS MINISUP_SOURCE_DIR "/../shared/corpus"

static const struct unit_load_context ctx = {
    .runtime_dir = "/run/test",
    .state_dir = "/var/lib/test",
    .logs_dir = "/var/log/test",
};

Test(unit_verify, shipped_units_verify_clean)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);

    cr_assert_eq(unit_verify_directory(MINISUP_SOURCE_DIR "/etc/units", &ctx, out), 0);
    fclose(out);
    cr_assert_eq(len, 0, "etc/units has diagnostics:\n%s", buf);
    free(buf);
}

/* One verify per corpus file, as systemd-analyze verify was run (a socket beside its
 * service), compared with systemd's own verdict. */
Test(unit_verify, corpus_matches_systemd_verdicts)
{
    FILE *tsv = fopen(CORPUS "/verify.tsv", "r");
    char line[8192];
    unsigned checked = 0;

    if (!tsv)
        cr_skip_test("corpus not found at %s (../shared is absent)", CORPUS);
    while (fgets(line, sizeof(line), tsv)) {
        char *fields[8] = {0};
        char *save = NULL, *p = line;
        size_t n = 0;
        /* set file package scope rc_host rc_stub loads verdict ... */
        for (char *tok = strtok_r(p, "\t\n", &save); tok && n < 8;
             tok = strtok_r(NULL, "\t\n", &save))
            fields[n++] = tok;
        if (n < 7 || strcmp(fields[0], "set") == 0 || strcmp(fields[3], "system") != 0)
            continue;
        char *path = path_join(CORPUS "/units", fields[1]);
        char *paths[] = {path};
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        int failed = unit_verify_files(paths, 1, &ctx, out);
        fclose(out);
        if (strcmp(fields[6], "yes") == 0)
            cr_expect_eq(failed, 0, "%s: systemd loads it, we refuse:\n%s", fields[1], buf);
        else
            cr_expect_gt(failed, 0, "%s: systemd refuses it, we load it", fields[1]);
        checked++;
        free(buf);
        free(path);
    }
    fclose(tsv);
    cr_assert_gt(checked, 100, "only %u corpus units checked", checked);
}

Test(unit_verify, socket_without_service_is_refused)
{
    char dir[] = "/tmp/minisup-verify-XXXXXX";
    char *buf = NULL;
    size_t len = 0;

    cr_assert_not_null(mkdtemp(dir));
    char *sock = path_join(dir, "lonely.socket");
    FILE *f = fopen(sock, "w");
    fputs("[Socket]\nListenStream=/run/lonely.sock\n", f);
    fclose(f);
    FILE *out = open_memstream(&buf, &len);
    cr_assert_eq(unit_verify_directory(dir, &ctx, out), 1);
    fclose(out);
    cr_assert(strstr(buf, "Service lonely.service not found"), "got: %s", buf);
    unlink(sock);
    rmdir(dir);
    free(sock);
    free(buf);
}

/* A unit refused with a diagnostic is reported by that diagnostic alone; "Failed to load:" with
 * the errno is only for a load that said nothing. */
Test(unit_verify, refusal_is_reported_once)
{
    char dir[] = "/tmp/minisup-verify-XXXXXX";
    char *buf = NULL;
    size_t len = 0;

    cr_assert_not_null(mkdtemp(dir));
    char *svc = path_join(dir, "noexec.service");
    FILE *f = fopen(svc, "w");
    fputs("[Service]\nRestart=no\n", f);
    fclose(f);
    FILE *out = open_memstream(&buf, &len);
    cr_assert_eq(unit_verify_files(&svc, 1, &ctx, out), 1);
    fclose(out);
    cr_assert(strstr(buf, "has no ExecStart= setting"), "got: %s", buf);
    cr_assert_null(strstr(buf, "Failed to load"), "got: %s", buf);
    unlink(svc);
    rmdir(dir);
    free(svc);
    free(buf);
}

/* A masked unit fails verify when named, as systemd-analyze verify says "Unit x is masked.";
 * in a directory it is reported and not counted, as daemon-reload does not count it. */
Test(unit_verify, masked_unit_fails_only_when_named)
{
    char dir[] = "/tmp/minisup-verify-XXXXXX";
    char *buf = NULL;
    size_t len = 0;

    cr_assert_not_null(mkdtemp(dir));
    char *svc = path_join(dir, "empty.service");
    FILE *f = fopen(svc, "w");
    fclose(f);
    FILE *out = open_memstream(&buf, &len);
    cr_assert_eq(unit_verify_files(&svc, 1, &ctx, out), 1);
    fclose(out);
    cr_assert(strstr(buf, "empty.service: Unit empty.service is masked.\n"), "got: %s", buf);
    free(buf);
    buf = NULL;
    out = open_memstream(&buf, &len);
    cr_assert_eq(unit_verify_directory(dir, &ctx, out), 0);
    fclose(out);
    cr_assert(strstr(buf, "Unit empty.service is masked."), "got: %s", buf);
    unlink(svc);
    rmdir(dir);
    free(svc);
    free(buf);
}
