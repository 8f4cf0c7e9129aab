/* Tests for unit_file.c: systemd's lexing through inih, settings, diagnostics with our line
 * numbers, specifiers, and the real-world corpus. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

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
    cr_assert_null(c->wanted_by, "socket-activated: fifo-echo.socket has the [Install] section");
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

Test(unit_file, missing_exec_start_UNIT_3)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    cr_assert_eq(load("[Service]\nType=simple\nRestart=always\n", "x.service", &c, &d), -EINVAL);
    cr_assert_null(c);
    cr_assert_not_null(find_diag(&d, "Service has no ExecStart= setting, which is only allowed "
                                     "for Type=oneshot services. Refusing."));
    unit_diags_done(&d);
}

Test(unit_file, defaults)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    cr_assert_eq(load("[Service]\nExecStart=/bin/true\n", "x.service", &c, &d), 0);
    cr_assert_eq(d.n, 0);
    cr_assert_eq(c->kind, UNIT_KIND_SERVICE);
    cr_assert_eq(c->type, SERVICE_TYPE_SIMPLE);
    cr_assert_eq(c->start_limit_interval_usec, 10 * USEC_PER_SEC);
    cr_assert_eq(c->start_limit_burst, 5);
    cr_assert_eq(c->restart, RESTART_NO);
    cr_assert_eq(c->restart_usec, 100 * USEC_PER_MSEC);
    cr_assert_eq(c->timeout_start_usec, 90 * USEC_PER_SEC);
    cr_assert_eq(c->timeout_stop_usec, 90 * USEC_PER_SEC);
    cr_assert_eq(c->kill_mode, KILL_MODE_CONTROL_GROUP);
    cr_assert_eq(c->kill_signal, SIGTERM);
    cr_assert_eq(c->restart_kill_signal, SIGTERM);
    cr_assert_eq(c->final_kill_signal, SIGKILL);
    cr_assert(c->send_sigkill);
    cr_assert_not(c->send_sighup);
    cr_assert(c->guess_main_pid);
    cr_assert_eq(c->umask, 0022);
    cr_assert(c->ignore_sigpipe);
    cr_assert_eq(c->syslog_level, 6);
    cr_assert(c->syslog_level_prefix);
    cr_assert_eq(c->std_output, STD_OUTPUT_JOURNAL);
    cr_assert_eq(c->std_error, STD_OUTPUT_INHERIT);
    cr_assert_null(c->description);
    cr_assert_null(c->after);
    cr_assert_str_eq(c->source_text, "[Service]\nExecStart=/bin/true\n");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, all_settings)
{
    const char *text =
        "[Unit]\n"
        "Description=All of it\n"
        "Documentation=man:x(8) https://example.org/x file:/usr/share/doc/x\n"
        "Requires=a.service\nWants=b.service c.socket\nRequisite=d.service\n"
        "BindsTo=e.service\nPartOf=f.service\nConflicts=g.service\n"
        "After=network.target\nBefore=h.service\n"
        "StartLimitIntervalSec=1min\nStartLimitBurst=3\n"
        "[Service]\n"
        "Type=forking\n"
        "ExecStartPre=-/bin/pre\nExecStart=/bin/main --flag\nExecStartPost=/bin/post\n"
        "ExecReload=/bin/kill -HUP $MAINPID\nExecStop=/bin/stop\nExecStopPost=/bin/stoppost\n"
        "Restart=on-abnormal\nRestartSec=2s\nTimeoutStartSec=infinity\nTimeoutStopSec=0\n"
        "RemainAfterExit=yes\nGuessMainPID=no\nPIDFile=/var/run/x.pid\n"
        "SuccessExitStatus=3 SIGUSR1\nRestartPreventExitStatus=4\nRestartForceExitStatus=5\n"
        "KillMode=mixed\nKillSignal=SIGINT\nRestartKillSignal=HUP\nFinalKillSignal=9\n"
        "SendSIGKILL=no\nSendSIGHUP=yes\n"
        "Environment=A=1 \"B=two words\"\nEnvironmentFile=-/etc/default/x\n"
        "PassEnvironment=LANG TZ\nUnsetEnvironment=FOO BAR=1\n"
        "WorkingDirectory=-/srv/x\nUMask=0077\nUser=nobody\nGroup=nogroup\n"
        "SupplementaryGroups=adm audio\nSyslogIdentifier=xid\nSyslogLevel=debug\n"
        "SyslogLevelPrefix=false\nStandardOutput=append:/var/log/x.log\nStandardError=null\n"
        "IgnoreSIGPIPE=no\nRuntimeDirectory=x x/sub\nStateDirectory=x\nLogsDirectory=x\n"
        "[Install]\nWantedBy=multi-user.target\nRequiredBy=y.service\nAlso=x.socket\n"
        "Alias=xx.service\n";
    struct unit_config *c;
    struct unit_diags d = {0};

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_str_eq(c->description, "All of it");
    cr_assert_eq(strv_length(c->documentation), 3);
    cr_assert_str_eq(c->requires[0], "a.service");
    cr_assert_str_eq(c->wants[1], "c.socket");
    cr_assert_str_eq(c->requisite[0], "d.service");
    cr_assert_str_eq(c->binds_to[0], "e.service");
    cr_assert_str_eq(c->part_of[0], "f.service");
    cr_assert_str_eq(c->conflicts[0], "g.service");
    cr_assert_str_eq(c->after[0], "network.target");
    cr_assert_str_eq(c->before[0], "h.service");
    cr_assert_eq(c->start_limit_interval_usec, 60 * USEC_PER_SEC);
    cr_assert_eq(c->start_limit_burst, 3);
    cr_assert_eq(c->type, SERVICE_TYPE_FORKING);
    cr_assert_eq(c->exec_start_pre.n, 1);
    cr_assert_eq(c->exec_start_pre.items[0].flags, EXEC_FLAG_IGNORE_FAILURE);
    cr_assert_str_eq(c->exec_start.items[0].argv[1], "--flag");
    cr_assert_eq(c->exec_start_post.n, 1);
    cr_assert_str_eq(c->exec_reload.items[0].argv[2], "$MAINPID");
    cr_assert_eq(c->exec_stop.n, 1);
    cr_assert_eq(c->exec_stop_post.n, 1);
    cr_assert_eq(c->restart, RESTART_ON_ABNORMAL);
    cr_assert_eq(c->restart_usec, 2 * USEC_PER_SEC);
    cr_assert_eq(c->timeout_start_usec, USEC_INFINITY);
    cr_assert_eq(c->timeout_stop_usec, USEC_INFINITY, "0 means no timeout");
    cr_assert(c->remain_after_exit);
    cr_assert_not(c->guess_main_pid);
    cr_assert_str_eq(c->pid_file, "/run/x.pid");
    cr_assert_not_null(find_diag(&d, "legacy directory /var/run/"));
    cr_assert(exit_status_set_has_status(&c->success_exit_status, 3));
    cr_assert(exit_status_set_has_signal(&c->success_exit_status, SIGUSR1));
    cr_assert(exit_status_set_has_status(&c->restart_prevent_exit_status, 4));
    cr_assert(exit_status_set_has_status(&c->restart_force_exit_status, 5));
    cr_assert_eq(c->kill_mode, KILL_MODE_MIXED);
    cr_assert_eq(c->kill_signal, SIGINT);
    cr_assert_eq(c->restart_kill_signal, SIGHUP);
    cr_assert_eq(c->final_kill_signal, SIGKILL);
    cr_assert_not(c->send_sigkill);
    cr_assert(c->send_sighup);
    cr_assert_str_eq(strv_env_get(c->environment, "B"), "two words");
    cr_assert_str_eq(c->environment_files[0], "-/etc/default/x");
    cr_assert_str_eq(c->pass_environment[1], "TZ");
    cr_assert_str_eq(c->unset_environment[1], "BAR=1");
    cr_assert_str_eq(c->working_directory, "-/srv/x");
    cr_assert_eq(c->umask, 0077);
    cr_assert_str_eq(c->user, "nobody");
    cr_assert_str_eq(c->group, "nogroup");
    cr_assert_str_eq(c->supplementary_groups[1], "audio");
    cr_assert_str_eq(c->syslog_identifier, "xid");
    cr_assert_eq(c->syslog_level, 7);
    cr_assert_not(c->syslog_level_prefix);
    cr_assert_eq(c->std_output, STD_OUTPUT_APPEND);
    cr_assert_str_eq(c->std_output_path, "/var/log/x.log");
    cr_assert_eq(c->std_error, STD_OUTPUT_NULL);
    cr_assert_not(c->ignore_sigpipe);
    cr_assert_str_eq(c->runtime_directory[1], "x/sub");
    cr_assert_str_eq(c->state_directory[0], "x");
    cr_assert_str_eq(c->logs_directory[0], "x");
    cr_assert_str_eq(c->wanted_by[0], "multi-user.target");
    cr_assert_str_eq(c->required_by[0], "y.service");
    cr_assert_str_eq(c->also[0], "x.socket");
    cr_assert_str_eq(c->alias[0], "xx.service");
    cr_assert_eq(d.n, 1, "only the /var/run notice");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, environment_order)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    size_t len = 0, cap = 1 << 20;
    char *text = malloc(cap);

    len += (size_t)snprintf(text + len, cap - len,
                            "[Service]\nExecStart=/bin/x\nEnvironment=A=1 B=2 \"C=%%n x\"\n");
    /* Enough repetitions to fold the list while parsing. */
    for (int i = 0; i < 3000; i++)
        len += (size_t)snprintf(text + len, cap - len, "Environment=A=%d K%d=%d\n", i, i % 7, i);
    len += (size_t)snprintf(text + len, cap - len, "Environment=1BAD=x D=4\n");
    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    /* A name keeps the place of its first assignment and the value of its last one. */
    cr_assert_eq(strv_length(c->environment), 4 + 7);
    cr_assert_str_eq(c->environment[0], "A=2999");
    cr_assert_str_eq(c->environment[1], "B=2");
    cr_assert_str_eq(c->environment[2], "C=x.service x");
    cr_assert_str_eq(c->environment[3], "K0=2996");
    cr_assert_str_eq(c->environment[10], "D=4");
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.items[0].message, "Invalid environment assignment, ignoring: 1BAD=x");
    unit_config_free(c);
    unit_diags_done(&d);
    free(text);

    /* An empty assignment resets. */
    cr_assert_eq(
        load("[Service]\nExecStart=/bin/x\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n",
             "x.service", &c, &d),
        0);
    cr_assert_eq(strv_length(c->environment), 1);
    cr_assert_str_eq(c->environment[0], "B=2");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, warnings_are_bounded)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    size_t len = 0, cap = 1 << 20;
    char *text = malloc(cap);

    len += (size_t)snprintf(text + len, cap - len, "[Service]\nExecStart=/bin/x\n");
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(text + len, cap - len, "Bogus%d=1\n", i);
    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(d.n, 1001);
    cr_assert_str_eq(d.items[1000].message, "Too many warnings, not reporting more.");
    unit_config_free(c);
    unit_diags_done(&d);
    free(text);
}

Test(unit_file, timeout_sec_sets_both)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nTimeoutSec=7\n", "x.service", &c, &d), 0);
    cr_assert_eq(c->timeout_start_usec, 7 * USEC_PER_SEC);
    cr_assert_eq(c->timeout_stop_usec, 7 * USEC_PER_SEC);
    unit_config_free(c);
    unit_diags_done(&d);

    /* The old spelling of StartLimitIntervalSec= in [Service]. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nStartLimitInterval=3\nStartLimitBurst=2\n",
                      "x.service", &c, &d),
                 0);
    cr_assert_eq(c->start_limit_interval_usec, 3 * USEC_PER_SEC);
    cr_assert_eq(c->start_limit_burst, 2);
    cr_assert_eq(d.n, 0);
    unit_config_free(c);
    unit_diags_done(&d);
}

/* The Limit*= value `value` as loaded for resource `resource`: soft and hard, or -1 with a
 * "resource limit" diagnostic when the value is rejected. */
static int load_rlimit(const char *key, const char *value, int resource, uint64_t *ret_soft,
                       uint64_t *ret_hard)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    char text[256];
    int r = 0;

    snprintf(text, sizeof(text), "[Service]\nExecStart=/bin/x\n%s=%s\n", key, value);
    cr_assert_eq(load(text, "x.service", &c, &d), 0, "%s=%s", key, value);
    if (c->rlimits[resource].set) {
        *ret_soft = c->rlimits[resource].soft;
        *ret_hard = c->rlimits[resource].hard;
    } else {
        cr_assert_not_null(find_diag(&d, "resource limit"), "%s=%s", key, value);
        r = -1;
    }
    unit_config_free(c);
    unit_diags_done(&d);
    return r;
}

/* systemd.exec(5), Limit*=: per-resource value syntax, "soft:hard" and "infinity". */
Test(unit_file, rlimit_values)
{
    static const struct {
        const char *key, *value;
        int resource, ok;
        uint64_t soft, hard;
    } cases[] = {
        /* LimitNICE=: "+"/"-" is a nice level, stored as 20 - nice; bare is the raw rlimit. */
        {"LimitNICE", "+5", RLIMIT_NICE, 1, 15, 15},
        {"LimitNICE", "-10", RLIMIT_NICE, 1, 30, 30},
        {"LimitNICE", "+0", RLIMIT_NICE, 1, 20, 20},
        {"LimitNICE", "+19", RLIMIT_NICE, 1, 1, 1},
        {"LimitNICE", "-20", RLIMIT_NICE, 1, 40, 40},
        {"LimitNICE", "0", RLIMIT_NICE, 1, 0, 0},
        {"LimitNICE", "40", RLIMIT_NICE, 1, 40, 40},
        {"LimitNICE", "+5:-10", RLIMIT_NICE, 1, 15, 30},
        {"LimitNICE", "+20", RLIMIT_NICE, 0, 0, 0},
        {"LimitNICE", "-21", RLIMIT_NICE, 0, 0, 0},
        {"LimitNICE", "41", RLIMIT_NICE, 0, 0, 0},
        {"LimitNICE", "-10:+5", RLIMIT_NICE, 0, 0, 0}, /* soft 30 above hard 15 */
        /* Sizes: parse_size() to base 1024, fractions included. */
        {"LimitAS", "1.5G", RLIMIT_AS, 1, UINT64_C(1610612736), UINT64_C(1610612736)},
        {"LimitMEMLOCK", "64K:1M", RLIMIT_MEMLOCK, 1, 65536, 1048576},
        {"LimitCORE", "infinity", RLIMIT_CORE, 1, RLIM_INFINITY, RLIM_INFINITY},
        {"LimitFSIZE", "0:infinity", RLIMIT_FSIZE, 1, 0, RLIM_INFINITY},
        {"LimitSTACK", "8M", RLIMIT_STACK, 1, 8 << 20, 8 << 20},
        {"LimitAS", "1X", RLIMIT_AS, 0, 0, 0},
        {"LimitAS", "-1", RLIMIT_AS, 0, 0, 0},
        /* Counts are plain numbers, as in systemd. */
        {"LimitNOFILE", "1024:524288", RLIMIT_NOFILE, 1, 1024, 524288},
        {"LimitNOFILE", "infinity", RLIMIT_NOFILE, 1, RLIM_INFINITY, RLIM_INFINITY},
        {"LimitNPROC", "4096", RLIMIT_NPROC, 1, 4096, 4096},
        {"LimitNOFILE", "1.5K", RLIMIT_NOFILE, 0, 0, 0},
        {"LimitNOFILE", "18446744073709551615", RLIMIT_NOFILE, 0, 0, 0},
        {"LimitNOFILE", "2:1", RLIMIT_NOFILE, 0, 0, 0},
        {"LimitNOFILE", "1:2:3", RLIMIT_NOFILE, 0, 0, 0},
        /* Time limits: LimitCPU= in seconds (rounded up), LimitRTTIME= in microseconds. */
        {"LimitCPU", "1min", RLIMIT_CPU, 1, 60, 60},
        {"LimitCPU", "1500ms", RLIMIT_CPU, 1, 2, 2},
        {"LimitCPU", "30", RLIMIT_CPU, 1, 30, 30},
        {"LimitRTTIME", "5ms", RLIMIT_RTTIME, 1, 5000, 5000},
        {"LimitRTTIME", "7", RLIMIT_RTTIME, 1, 7, 7},
        {"LimitRTTIME", "10:infinity", RLIMIT_RTTIME, 1, 10, RLIM_INFINITY},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t soft = 0, hard = 0;
        int r = load_rlimit(cases[i].key, cases[i].value, cases[i].resource, &soft, &hard);

        if (!cases[i].ok) {
            cr_expect_eq(r, -1, "%s=%s must be rejected", cases[i].key, cases[i].value);
            continue;
        }
        cr_expect_eq(r, 0, "%s=%s must load", cases[i].key, cases[i].value);
        cr_expect_eq(soft, cases[i].soft, "%s=%s: soft %llu", cases[i].key, cases[i].value,
                     (unsigned long long)soft);
        cr_expect_eq(hard, cases[i].hard, "%s=%s: hard %llu", cases[i].key, cases[i].value,
                     (unsigned long long)hard);
    }
}

/* A unit whose single ExecStart= value is `value`, padded to `len` bytes of line content. */
static char *long_line_unit(size_t len)
{
    const char *head = "[Service]\nExecStart=/bin/echo ";
    size_t prefix = strlen("ExecStart=/bin/echo ");
    char *s = malloc(strlen(head) + len + 2);

    cr_assert_geq(len, prefix);
    strcpy(s, head);
    memset(s + strlen(head), 'a', len - prefix);
    strcpy(s + strlen(head) + len - prefix, "\n");
    return s;
}

Test(unit_file, long_lines_UNIT_2)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    char *text;

    text = long_line_unit(4096);
    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(strlen(c->exec_start.items[0].argv[1]), 4096 - strlen("ExecStart=/bin/echo "));
    unit_config_free(c);
    free(text);

    text = long_line_unit(1024 * 1024);
    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(strlen(c->exec_start.items[0].argv[1]),
                 1024 * 1024 - strlen("ExecStart=/bin/echo "));
    unit_config_free(c);
    free(text);
    cr_assert_eq(d.n, 0);

    text = long_line_unit(1024 * 1024 + 1);
    cr_assert_eq(load(text, "x.service", &c, &d), -ENOBUFS);
    cr_assert_null(c);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    cr_assert_eq(d.items[0].line, 2);
    cr_assert_str_eq(d.items[0].message, "Line too long");
    free(text);
    unit_diags_done(&d);
}

Test(unit_file, comment_characters_inside_values_UNIT_8)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "# leading comment\n"
                       "; another\n"
                       "[Unit]\n"
                       "  # indented comment\n"
                       "Description=a ; b # c\n"
                       "[Service]\n"
                       "ExecStart=/bin/sh -c 'echo a ; echo b' # not a comment\n";

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(d.n, 0);
    cr_assert_str_eq(c->description, "a ; b # c");
    cr_assert_str_eq(c->exec_start.items[0].argv[2], "echo a ; echo b");
    cr_assert_str_eq(c->exec_start.items[0].argv[3], "#");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, continuation_lines_UNIT_8)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Service]\n"                     /* 1 */
                       "ExecStart=/bin/echo one \\\n"    /* 2 */
                       "# a comment inside is dropped\n" /* 3 */
                       "  two\\\n"                       /* 4 */
                       "three\n"                         /* 5 */
                       "Description=not here\n"          /* 6: wrong section */
                       "Restrat=always \\\n"             /* 7 */
                       "  continued\n"                   /* 8 */
                       "Environment=A=\\\\\n"            /* 9: escaped backslash ends the line */
                       "Environment=B=1\n";              /* 10 */

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    /* Backslash-newline becomes a space; the indentation of the next line stays. */
    cr_assert_str_eq(c->exec_start.items[0].argv[1], "one");
    cr_assert_str_eq(c->exec_start.items[0].argv[2], "two");
    cr_assert_str_eq(c->exec_start.items[0].argv[3], "three");
    cr_assert_null(c->exec_start.items[0].argv[4]);
    cr_assert_eq(c->exec_start.items[0].line, 5, "systemd reports the last line");
    cr_assert_str_eq(strv_env_get(c->environment, "A"), "\\");
    cr_assert_str_eq(strv_env_get(c->environment, "B"), "1");
    cr_assert_eq(d.n, 2);
    cr_assert_eq(d.items[0].line, 6);
    cr_assert_str_eq(d.items[0].message, "Unknown key name 'Description' in section 'Service', "
                                         "ignoring.");
    cr_assert_eq(d.items[1].line, 8);
    unit_config_free(c);
    unit_diags_done(&d);

    /* A continuation running into the end of the file still counts. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/x a \\", "x.service", &c, &d), 0);
    cr_assert_str_eq(c->exec_start.items[0].argv[1], "a");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, indented_lines_are_assignments_UNIT_9)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Unit]\n"
                       "Description=first\n"
                       "    After=a.service\n"
                       "\tBefore=b.service\n"
                       "[Service]\n"
                       "  ExecStart=/bin/x\n";

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(d.n, 0);
    cr_assert_str_eq(c->description, "first");
    cr_assert_str_eq(c->after[0], "a.service");
    cr_assert_str_eq(c->before[0], "b.service");
    cr_assert_eq(c->exec_start.n, 1);
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, crlf_and_bom_UNIT_1)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "\xef\xbb\xbf[Unit]\r\n"
                       "Description=windows\r\n"
                       "\r\n"
                       "[Service]\r\n"
                       "ExecStart=/bin/x a\r\n"
                       "Restrat=1\r\n";

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_str_eq(c->description, "windows");
    cr_assert_str_eq(c->exec_start.items[0].argv[1], "a");
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.items[0].line, 6, "CRLF is one line break");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, repeated_sections_and_lists_UNIT_7)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Unit]\n"
                       "After=a.service b.service\n"
                       "Description=one\n"
                       "[Service]\n"
                       "ExecStart=/bin/x\n"
                       "Environment=A=1\n"
                       "[Unit]\n"
                       "After=c.service\n"
                       "Description=two\n"
                       "Wants=w.service\n"
                       "Wants=\n"
                       "Wants=v.service\n"
                       "[Service]\n"
                       "ExecStartPre=/bin/p1\n"
                       "ExecStartPre=\n"
                       "ExecStartPre=/bin/p2\n"
                       "Environment=B=2\n"
                       "RestartSec=1\n"
                       "RestartSec=3\n";

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(strv_length(c->after), 3);
    cr_assert_str_eq(c->after[2], "c.service");
    cr_assert_str_eq(c->description, "two", "scalars: last wins");
    cr_assert_eq(strv_length(c->wants), 1, "empty assignment resets the list");
    cr_assert_str_eq(c->wants[0], "v.service");
    cr_assert_eq(c->exec_start_pre.n, 1);
    cr_assert_str_eq(c->exec_start_pre.items[0].path, "/bin/p2");
    cr_assert_eq(strv_length(c->environment), 2);
    cr_assert_eq(c->restart_usec, 3 * USEC_PER_SEC);
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, unknown_keys_and_sections_UNIT_6)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "Orphan=1\n"               /* 1 */
                       "[Unit]\n"                 /* 2 */
                       "Description=x\n"          /* 3 */
                       "description=lower\n"      /* 4 */
                       "X-Custom=fine\n"          /* 5 */
                       "[Service]\n"              /* 6 */
                       "ExecStart=/bin/x\n"       /* 7 */
                       "Restrat=always\n"         /* 8 */
                       "ProtectSystem=strict\n"   /* 9 */
                       "no equals sign here\n"    /* 10 */
                       "=value\n"                 /* 11 */
                       "[Foo]\n"                  /* 12 */
                       "Bar=1\n"                  /* 13 */
                       "[X-Vendor]\n"             /* 14 */
                       "Anything=goes\n"          /* 15 */
                       "[Socket]\n"               /* 16: not in a .service */
                       "ListenStream=1\n"         /* 17 */
                       "[Unit]\n"                 /* 18 */
                       "ConditionACPower=true\n"; /* 19 */
    const struct {
        unsigned line;
        const char *message;
    } want[] = {
        {1, "Assignment outside of section. Ignoring."},
        {4, "Unknown key name 'description' in section 'Unit', ignoring."},
        {8, "Unknown key name 'Restrat' in section 'Service', ignoring."},
        {9, "Unsupported key name 'ProtectSystem' in section 'Service', ignoring."},
        {10, "Missing '=', ignoring line."},
        {11, "Missing key name before '=', ignoring line."},
        {12, "Unknown section 'Foo'. Ignoring."},
        {16, "Unknown section 'Socket'. Ignoring."},
        {19, "Unsupported key name 'ConditionACPower' in section 'Unit', ignoring."},
    };

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_eq(d.n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < d.n; i++) {
        cr_assert_eq(d.items[i].level, DIAG_WARNING);
        cr_assert_str_eq(d.items[i].file, "/etc/test/x.service");
        cr_assert_eq(d.items[i].line, want[i].line, "diag %zu: %s", i, d.items[i].message);
        cr_assert_str_eq(d.items[i].message, want[i].message);
    }
    cr_assert_str_eq(c->description, "x");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, bad_values_leave_settings_unchanged_UNIT_10)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Service]\n"
                       "ExecStart=/bin/x\n"
                       "TimeoutStopSec=abc\n"
                       "RestartSec=5\n"
                       "RestartSec=soon\n"
                       "Restart=sometimes\n"
                       "Type=weird\n"
                       "KillSignal=SIGNOPE\n"
                       "RemainAfterExit=maybe\n"
                       "UMask=0999\n"
                       "SuccessExitStatus=1 banana 2\n"
                       "StandardOutput=carrier-pigeon\n"
                       "SyslogLevel=loud\n";

    cr_assert_eq(load(text, "x.service", &c, &d), 0);
    cr_assert_str_eq(d.items[0].message,
                     "Failed to parse time span value 'abc' for TimeoutStopSec=, ignoring.");
    cr_assert_eq(d.items[0].line, 3);
    cr_assert_eq(c->timeout_stop_usec, 90 * USEC_PER_SEC);
    cr_assert_eq(c->restart_usec, 5 * USEC_PER_SEC);
    cr_assert_eq(c->restart, RESTART_NO);
    cr_assert_eq(c->type, SERVICE_TYPE_SIMPLE);
    cr_assert_eq(c->kill_signal, SIGTERM);
    cr_assert_not(c->remain_after_exit);
    cr_assert_eq(c->umask, 0022);
    cr_assert(exit_status_set_has_status(&c->success_exit_status, 1));
    cr_assert(exit_status_set_has_status(&c->success_exit_status, 2));
    cr_assert_eq(c->std_output, STD_OUTPUT_JOURNAL);
    cr_assert_eq(c->syslog_level, 6);
    cr_assert_not_null(find_diag(&d, "'banana' for SuccessExitStatus="));
    cr_assert_eq(d.n, 10);
    for (size_t i = 0; i < d.n; i++)
        cr_assert_eq(d.items[i].level, DIAG_WARNING);
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, fatal_checks_UNIT_4_UNIT_5)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    /* Missing ExecStart=, with and without Type=. */
    cr_assert_eq(load("[Unit]\nDescription=x\n[Service]\nRestart=always\n", "x.service", &c, &d),
                 -EINVAL);
    cr_assert_null(c);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    cr_assert_str_eq(d.items[0].message, "Service has no ExecStart= setting, which is only "
                                         "allowed for Type=oneshot services. Refusing.");
    unit_diags_done(&d);

    cr_assert_eq(load("[Service]\nType=notify\nExecStop=/bin/x\n", "x.service", &c, &d), -EINVAL);
    cr_assert_not_null(find_diag(&d, "Service has no ExecStart= setting"));
    unit_diags_done(&d);

    /* More than one ExecStart= is only for oneshot. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n", "x.service", &c, &d),
                 -EINVAL);
    cr_assert_str_eq(d.items[0].message, "Service has more than one ExecStart= setting, which is "
                                         "only allowed for Type=oneshot services. Refusing.");
    unit_diags_done(&d);
    cr_assert_eq(load("[Service]\nExecStart=/bin/a ; /bin/b\n", "x.service", &c, &d), -EINVAL);
    unit_diags_done(&d);
    cr_assert_eq(
        load("[Service]\nType=oneshot\nExecStart=/bin/a\nExecStart=/bin/b\n", "x.service", &c, &d),
        0);
    cr_assert_eq(c->exec_start.n, 2);
    unit_config_free(c);
    unit_diags_done(&d);

    /* Without Type= and ExecStart=, systemd makes it oneshot; RemainAfterExit= makes it valid. */
    cr_assert_eq(load("[Service]\nRemainAfterExit=yes\nExecStop=/bin/x\n", "x.service", &c, &d), 0);
    cr_assert_eq(c->type, SERVICE_TYPE_ONESHOT);
    unit_config_free(c);
    unit_diags_done(&d);
    /* SuccessAction= alone is enough for systemd (systemd-poweroff.service and friends). */
    cr_assert_eq(load("[Unit]\nSuccessAction=poweroff-force\n", "x.service", &c, &d), 0);
    cr_assert_eq(c->type, SERVICE_TYPE_ONESHOT);
    cr_assert_eq(c->timeout_start_usec, USEC_INFINITY, "oneshot: no start timeout by default");
    unit_config_free(c);
    unit_diags_done(&d);
    cr_assert_eq(load("[Service]\nType=oneshot\nExecStart=/bin/x\nTimeoutStartSec=5\n"
                      "RestartForceExitStatus=1\n",
                      "x.service", &c, &d),
                 -EINVAL);
    cr_assert_not_null(find_diag(&d, "RestartForceExitStatus= set"));
    unit_diags_done(&d);
    cr_assert_eq(
        load("[Service]\nType=oneshot\nExecStart=/bin/x\nRestart=always\n", "x.service", &c, &d),
        -EINVAL);
    cr_assert_not_null(find_diag(&d, "Restart= set to either always or on-success"));
    unit_diags_done(&d);

    cr_assert_eq(load("[Service]\nType=oneshot\n", "x.service", &c, &d), -EINVAL);
    cr_assert_str_eq(d.items[0].message,
                     "Service has no ExecStart=, ExecStop=, or SuccessAction=. Refusing.");
    unit_diags_done(&d);

    /* Bad quoting after the first word refuses the unit, as in systemd; in the first word the
     * line is ignored with a warning. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/x 'a\n", "x.service", &c, &d), -EINVAL);
    cr_assert_eq(d.items[0].line, 2);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    unit_diags_done(&d);
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nExecStartPre='/bin/y\n", "x.service", &c, &d),
                 0);
    cr_assert_eq(c->exec_start_pre.n, 0);
    cr_assert_eq(d.items[0].level, DIAG_WARNING);
    unit_config_free(c);
    unit_diags_done(&d);

    /* An invalid section header is fatal in systemd too. */
    cr_assert_eq(load("[Service\nExecStart=/bin/x\n", "x.service", &c, &d), -EINVAL);
    cr_assert_str_eq(d.items[0].message, "Invalid section header '[Service'");
    unit_diags_done(&d);

    /* Relative WorkingDirectory= without "-" is fatal, with "-" a warning. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nWorkingDirectory=rel\n", "x.service", &c, &d),
                 -EINVAL);
    unit_diags_done(&d);
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nWorkingDirectory=-rel\n", "x.service", &c, &d),
                 0);
    cr_assert_null(c->working_directory);
    unit_config_free(c);
    unit_diags_done(&d);
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nWorkingDirectory=~\n", "x.service", &c, &d), 0);
    cr_assert_str_eq(c->working_directory, "~");
    unit_config_free(c);
    unit_diags_done(&d);

    /* Not a unit name we handle. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\n", "x.timer", &c, &d), -EINVAL);
    unit_diags_done(&d);
}

Test(unit_file, specifiers_UNIT_11)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Unit]\n"
                       "Description=%n|%N|%p|%P|%i|%I|%j|%J|%f|%%|%t|%S|%L|%y|%Y|100%\n"
                       "[Service]\n"
                       "ExecStart=/bin/echo %u %U %h %H \"%i x\"\n"
                       "Environment=INST=%i\n";
    char host[256], uid[32];

    cr_assert_eq(load(text, "web-front@a\\x2db-c.service", &c, &d), 0);
    cr_assert_eq(d.n, 0, "%s", d.n ? d.items[0].message : "");
    cr_assert_str_eq(c->description, "web-front@a\\x2db-c.service|web-front@a\\x2db-c|web-front|"
                                     "web/front|a\\x2db-c|a-b/c|front|front|/a-b/c|%|/run/test|"
                                     "/var/lib/test|/var/log/test|/etc/test/x.service|/etc/test|"
                                     "100%");
    gethostname(host, sizeof(host));
    snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
    cr_assert_str_eq(c->exec_start.items[0].argv[2], uid);
    cr_assert_str_eq(c->exec_start.items[0].argv[3], getpwuid(getuid())->pw_dir);
    cr_assert_str_eq(c->exec_start.items[0].argv[4], host);
    cr_assert_str_eq(c->exec_start.items[0].argv[5], "a\\x2db-c x");
    cr_assert_str_eq(strv_env_get(c->environment, "INST"), "a\\x2db-c");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, unknown_specifier)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    cr_assert_eq(load("[Unit]\nDescription=ok\nDescription=bad %z here\n"
                      "[Service]\nExecStart=/bin/x\n",
                      "x.service", &c, &d),
                 0);
    cr_assert_str_eq(c->description, "ok", "the value with the bad specifier is rejected");
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.items[0].line, 3);
    cr_assert_str_eq(d.items[0].message, "Failed to resolve specifiers in 'bad %z here' (unknown "
                                         "specifier '%z'), ignoring.");
    unit_config_free(c);
    unit_diags_done(&d);

    /* In a command line it is fatal, as in systemd. */
    cr_assert_eq(load("[Service]\nExecStart=/bin/x %z\n", "x.service", &c, &d), -EINVAL);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    cr_assert_str_eq(d.items[0].message,
                     "Failed to resolve specifiers in '%z' (unknown specifier '%z').");
    unit_diags_done(&d);
    cr_assert_eq(load("[Service]\nExecStart=/bin/x\nExecStop=-/bin/y %z\n", "x.service", &c, &d),
                 0);
    cr_assert_eq(c->exec_stop.n, 0);
    cr_assert_str_eq(d.items[0].message,
                     "Failed to resolve specifiers in '%z', ignoring (unknown specifier '%z').");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, template_instance)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Unit]\nDescription=Instance %i of %p\n"
                       "[Service]\nExecStart=/bin/run --name=%i\n";

    cr_assert_eq(unit_file_load_string(text, strlen(text), "/etc/u/getty@.service",
                                       "getty@tty1.service", &test_ctx, &c, &d),
                 0);
    cr_assert_str_eq(c->name, "getty@tty1.service");
    cr_assert_str_eq(c->path, "/etc/u/getty@.service");
    cr_assert_str_eq(c->description, "Instance tty1 of getty");
    cr_assert_str_eq(c->exec_start.items[0].argv[1], "--name=tty1");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, invalid_utf8_and_nul_UNIT_1)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    static const char text[] = "[Service]\nExecStart=/bin/x\nDescription=a\0b\n";

    /* NUL ends a line, as in systemd's read_line(). */
    cr_assert_eq(
        unit_file_load_string(text, sizeof(text) - 1, "/u/x.service", NULL, &test_ctx, &c, &d), 0);
    cr_assert_not_null(find_diag(&d, "Missing '='"));
    cr_assert_eq(d.items[d.n - 1].line, 4);
    unit_config_free(c);
    unit_diags_done(&d);

    /* systemd refuses a unit with a line that is not UTF-8. */
    cr_assert_eq(
        load("[Unit]\nDescription=\xff\xfe\n[Service]\nExecStart=/bin/x\n", "x.service", &c, &d),
        -EINVAL);
    cr_assert_eq(d.items[0].line, 2);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    unit_diags_done(&d);
    cr_assert_eq(
        load("[Unit]\nDescription=caf\xc3\xa9\n[Service]\nExecStart=/bin/x\n", "x.service", &c, &d),
        0);
    cr_assert_str_eq(c->description, "caf\xc3\xa9");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, empty_input_UNIT_1)
{
    struct unit_config *c;
    struct unit_diags d = {0};

    /* Nothing at all: a service without ExecStart=, refused like any other. */
    cr_assert_eq(unit_file_load_string(NULL, 0, "/u/x.service", NULL, &test_ctx, &c, &d), -EINVAL);
    cr_assert_eq(d.n, 1);
    unit_diags_done(&d);
    cr_assert_eq(unit_file_load_string("", 0, "/u/x.socket", NULL, &test_ctx, &c, &d), -EINVAL);
    unit_diags_done(&d);
}

Test(unit_file, bare_template)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Service]\nUser=%i\nExecStart=/usr/lib/x/%i %n\n";

    /* As systemd-analyze verify: the instance is "test_instance"; the name stays. */
    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/u/x@.service", NULL, &test_ctx, &c, &d), 0);
    cr_assert_str_eq(c->name, "x@.service");
    cr_assert_str_eq(c->user, "test_instance");
    cr_assert_str_eq(c->exec_start.items[0].path, "/usr/lib/x/test_instance");
    cr_assert_str_eq(c->exec_start.items[0].argv[1], "x@test_instance.service");
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_file, socket_unit)
{
    struct unit_config *c;
    struct unit_diags d = {0};
    const char *text = "[Unit]\nDescription=sock\n"
                       "[Socket]\nListenStream=/run/x.sock\nListenStream=127.0.0.1:80\n"
                       "ListenDatagram=9000\nListenSequentialPacket=/run/sp\nListenFIFO=%t/x.fifo\n"
                       "ExecStartPre=/bin/pre\nSocketMode=0600\n"
                       "[Service]\nExecStart=/bin/x\n"
                       "[Install]\nWantedBy=sockets.target\n";

    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/u/x.socket", "x.socket", &test_ctx, &c, &d), 0);
    cr_assert_eq(c->kind, UNIT_KIND_SOCKET);
    cr_assert_eq(strv_length(c->listen_stream), 2);
    cr_assert_str_eq(c->listen_datagram[0], "9000");
    cr_assert_str_eq(c->listen_seqpacket[0], "/run/sp");
    cr_assert_str_eq(c->listen_fifo[0], "/run/test/x.fifo");
    cr_assert_eq(c->exec_start_pre.n, 1);
    cr_assert_str_eq(c->socket_service, "x.service", "defaults to the same name");
    cr_assert_eq(c->socket_mode, 0600);
    cr_assert_null(find_diag(&d, "Unsupported key name 'SocketMode' in section 'Socket'"));
    /* The fds are passed in file order across kinds. */
    cr_assert_eq(strv_length(c->listens), 5);
    cr_assert_str_eq(c->listens[0], "S:/run/x.sock");
    cr_assert_str_eq(c->listens[1], "S:127.0.0.1:80");
    cr_assert_str_eq(c->listens[2], "D:9000");
    cr_assert_str_eq(c->listens[3], "Q:/run/sp");
    cr_assert_str_eq(c->listens[4], "F:/run/test/x.fifo");
    cr_assert_not_null(find_diag(&d, "Unknown section 'Service'. Ignoring."));
    unit_config_free(c);
    unit_diags_done(&d);

    text = "[Socket]\nListenStream=/a\nListenFIFO=/b\nListenStream=\nListenStream=/c\nAccept=yes\n"
           "RemoveOnStop=yes\nBacklog=7\nFileDescriptorName=web\nDirectoryMode=0700\n";
    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/u/y.socket", "y.socket", &test_ctx, &c, &d), 0);
    cr_assert_eq(strv_length(c->listens), 1, "an empty Listen*= resets every listener");
    cr_assert_str_eq(c->listens[0], "S:/c");
    cr_assert(c->accept && c->remove_on_stop);
    cr_assert_eq(c->backlog, 7);
    cr_assert_str_eq(c->fd_name, "web");
    cr_assert_eq(c->directory_mode, 0700);
    cr_assert_str_eq(c->socket_service, "y@.service", "Accept=yes uses the template");
    unit_config_free(c);

    text = "[Socket]\nService=other.service\nListenFIFO=/run/f\n";
    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/u/x.socket", "x.socket", &test_ctx, &c, &d), 0);
    cr_assert_str_eq(c->socket_service, "other.service");
    unit_config_free(c);
    unit_diags_done(&d);

    text = "[Socket]\nSocketMode=0600\n";
    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/u/x.socket", "x.socket", &test_ctx, &c, &d),
        -EINVAL);
    cr_assert_not_null(find_diag(&d, "Unit has no Listen setting"));
    unit_diags_done(&d);
}

/* systemd's null_or_empty(): a unit file that is a link to /dev/null or an empty regular file
 * is masked (-ERFKILL, "Unit x is masked."), not a unit without settings; an instance made from
 * a masked template is masked under its own name. A drop-in of either kind is no mask of the
 * unit itself. */
Test(unit_file, null_or_empty_unit_file_is_masked)
{
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    char dir[] = "/tmp/minisup-unitXXXXXX", path[256];
    FILE *f;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/null.service", dir);
    cr_assert_eq(symlink("/dev/null", path), 0);
    cr_assert_eq(unit_file_load(path, NULL, NULL, &c, &d), -ERFKILL);
    cr_assert_null(c);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    cr_assert_str_eq(d.items[0].message, "Unit null.service is masked.");
    unit_diags_done(&d);
    unlink(path);

    snprintf(path, sizeof(path), "%s/tpl@.service", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fclose(f);
    cr_assert_eq(unit_file_load(path, "tpl@a.service", NULL, &c, &d), -ERFKILL);
    cr_assert_eq(d.n, 1);
    cr_assert_str_eq(d.items[0].message, "Unit tpl@a.service is masked.");
    unit_diags_done(&d);

    /* One byte is no longer empty: a unit without ExecStart=, refused as a bad setting. */
    f = fopen(path, "w");
    fputs("\n", f);
    fclose(f);
    cr_assert_eq(unit_file_load(path, "tpl@a.service", NULL, &c, &d), -EINVAL);
    cr_assert_null(find_diag(&d, "masked"));
    unit_diags_done(&d);
    unlink(path);

    /* An empty drop-in masks only that drop-in's name. */
    snprintf(path, sizeof(path), "%s/x.service", dir);
    f = fopen(path, "w");
    fputs("[Service]\nExecStart=/bin/true\n", f);
    fclose(f);
    char dropin_dir[300], dropin[320];
    snprintf(dropin_dir, sizeof(dropin_dir), "%s/x.service.d", dir);
    cr_assert_eq(mkdir(dropin_dir, 0755), 0);
    snprintf(dropin, sizeof(dropin), "%s/empty.conf", dropin_dir);
    f = fopen(dropin, "w");
    fclose(f);
    cr_assert_eq(unit_file_load(path, NULL, NULL, &c, &d), 0);
    unit_config_free(c);
    unit_diags_done(&d);
    unlink(dropin);
    rmdir(dropin_dir);
    unlink(path);
    rmdir(dir);
}

Test(unit_file, file_errors)
{
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    char dir[] = "/tmp/minisup-unitXXXXXX", path[256];
    FILE *f;

    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(unit_file_load(dir, "x.service", NULL, &c, &d), -EISDIR);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(d.items[0].level, DIAG_ERROR);
    cr_assert(strstr(d.items[0].message, "Is a directory"), "%s", d.items[0].message);
    unit_diags_done(&d);

    snprintf(path, sizeof(path), "%s/missing.service", dir);
    cr_assert_eq(unit_file_load(path, NULL, NULL, &c, &d), -ENOENT);
    cr_assert(strstr(d.items[0].message, "No such file or directory"));
    unit_diags_done(&d);

    /* Larger than 16 MiB: refused before reading (a sparse file costs nothing). */
    snprintf(path, sizeof(path), "%s/big.service", dir);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(ftruncate(fileno(f), 16 * 1024 * 1024 + 1), 0);
    fclose(f);
    cr_assert_eq(unit_file_load(path, NULL, NULL, &c, &d), -EFBIG);
    cr_assert_eq(d.n, 1);
    unit_diags_done(&d);
    unlink(path);

    /* A readable file loads, and source_text is its content. */
    snprintf(path, sizeof(path), "%s/ok.service", dir);
    f = fopen(path, "w");
    fputs("[Service]\nExecStart=/bin/true\n", f);
    fclose(f);
    cr_assert_eq(unit_file_load(path, NULL, NULL, &c, &d), 0);
    cr_assert_str_eq(c->name, "ok.service");
    cr_assert_str_eq(c->path, path);
    cr_assert_str_eq(c->source_text, "[Service]\nExecStart=/bin/true\n");
    unit_config_free(c);
    unit_diags_done(&d);
    unlink(path);

    /* Unreadable (only meaningful when not root). */
    if (geteuid() != 0) {
        snprintf(path, sizeof(path), "%s/secret.service", dir);
        f = fopen(path, "w");
        fclose(f);
        chmod(path, 0);
        cr_assert_eq(unit_file_load(path, NULL, NULL, &c, &d), -EACCES);
        unit_diags_done(&d);
        unlink(path);
    }
    rmdir(dir);
}

/* systemctl's and journalctl's unit_name_mangle(name, UNIT_NAME_MANGLE_GLOB): valid names and
 * globs of name characters stay, paths become .device/.mount names without a notice, anything
 * else is escaped (with the escaped text for the notice) and gets ".service" unless it is a
 * valid name or a glob. */
Test(unit_file, unit_name_mangle_as_systemctl)
{
    static const struct {
        const char *in, *out, *escaped;
        int r;
    } cases[] = {
        {"foo", "foo.service", NULL, 1},
        {"foo.service", "foo.service", NULL, 0},
        {"foo.socket", "foo.socket", NULL, 0},
        {"a:b", "a:b.service", NULL, 1},
        {"foo.bar", "foo.bar.service", NULL, 1},
        {"tpl@a b", "tpl@a\\x20b.service", "tpl@a\\x20b", 1},
        {"tpl@/dev/sda1", "tpl@-dev-sda1.service", "tpl@-dev-sda1", 1},
        {"tpl@a b.service", "tpl@a\\x20b.service", "tpl@a\\x20b.service", 1},
        {"web-*", "web-*", NULL, 0},
        {"web-[12].service", "web-[12].service", NULL, 0},
        {"x y*", "x\\x20y*", "x\\x20y*", 1},
        {"/dev/sda1", "dev-sda1.device", NULL, 1},
        {"//sys//x-y/", "sys-x\\x2dy.device", NULL, 1},
        {"/home//x-y/./", "home-x\\x2dy.mount", NULL, 1},
        {"/.dot/a b", "\\x2edot-a\\x20b.mount", NULL, 1},
        {"/", "-.mount", NULL, 1},
        /* ".." is no normalized path: escaped as any other name. */
        {"/a/../b", "-a-..-b.service", "-a-..-b", 1},
    };
    char *name, *escaped;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int r = unit_name_mangle(cases[i].in, &name, &escaped);

        cr_assert_eq(r, cases[i].r, "%s: %d", cases[i].in, r);
        cr_assert_str_eq(name, cases[i].out, "%s", cases[i].in);
        if (cases[i].escaped)
            cr_assert_str_eq(escaped, cases[i].escaped, "%s", cases[i].in);
        else
            cr_assert_null(escaped, "%s: %s", cases[i].in, escaped);
        free(name);
        free(escaped);
    }
    cr_assert_eq(unit_name_mangle("", &name, &escaped), -EINVAL);
    cr_assert_eq(unit_name_mangle("tpl@a b", &name, NULL), 1);
    cr_assert_str_eq(name, "tpl@a\\x20b.service");
    free(name);
}

Test(unit_file, names_and_tables)
{
    enum unit_kind k;
    char *s;

    cr_assert(unit_name_is_valid("a.service"));
    cr_assert(unit_name_is_valid("a@b.service"));
    cr_assert(unit_name_is_valid("a@.service"));
    cr_assert(unit_name_is_valid("dev-disk-by\\x2duuid.device"));
    cr_assert_not(unit_name_is_valid("a"));
    cr_assert_not(unit_name_is_valid("a.foo"));
    cr_assert_not(unit_name_is_valid("@a.service"));
    cr_assert_not(unit_name_is_valid("a b.service"));
    cr_assert_not(unit_name_is_valid(".service"));
    cr_assert_eq(unit_name_kind("x.service", &k), 0);
    cr_assert_eq(k, UNIT_KIND_SERVICE);
    cr_assert_eq(unit_name_kind("x.socket", &k), 0);
    cr_assert_eq(k, UNIT_KIND_SOCKET);
    cr_assert_eq(unit_name_kind("x.target", &k), -EINVAL);
    cr_assert_eq(unit_name_kind("x", &k), -EINVAL);

    s = unit_name_normalize("fifo-echo");
    cr_assert_str_eq(s, "fifo-echo.service");
    free(s);
    s = unit_name_normalize("fifo-echo.socket");
    cr_assert_str_eq(s, "fifo-echo.socket");
    free(s);

    cr_assert_str_eq(service_type_to_string(SERVICE_TYPE_NOTIFY), "notify");
    cr_assert_str_eq(restart_policy_to_string(RESTART_ON_ABNORMAL), "on-abnormal");
    cr_assert_str_eq(kill_mode_to_string(KILL_MODE_CONTROL_GROUP), "control-group");
    cr_assert_null(service_type_to_string(SERVICE_TYPE_MAX));
    for (int i = 0; i < SERVICE_TYPE_MAX; i++)
        cr_assert_not_null(service_type_to_string(i));
    for (int i = 0; i < RESTART_MAX; i++)
        cr_assert_not_null(restart_policy_to_string(i));
    for (int i = 0; i < KILL_MODE_MAX; i++)
        cr_assert_not_null(kill_mode_to_string(i));
    cr_assert_null(unit_config_free(NULL));
    unit_diags_done(NULL);
}

/* UNIT-12: thousands of unit files all load (bench/unit_load times it: linear, 0.33 s for
 * 10000); a 100 MiB unit file is refused by its size before anything is read into memory. */
Test(unit_file, thousands_of_files_and_a_huge_one_UNIT_12)
{
    char dir[] = "/tmp/minisup-unit12-XXXXXX", path[128];
    struct unit_config *c;
    struct unit_diags d = {0};
    int fd;

    cr_assert_not_null(mkdtemp(dir));
    for (int i = 0; i < 3000; i++) {
        FILE *f;

        snprintf(path, sizeof(path), "%s/u%d.service", dir, i);
        f = fopen(path, "w");
        cr_assert_not_null(f);
        fprintf(f, "[Unit]\nDescription=unit %d\n[Service]\nExecStart=/bin/sleep %d\n", i, i);
        fclose(f);
        c = NULL;
        cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0, "%s", path);
        cr_assert_eq(c->exec_start.n, 1);
        unit_config_free(c);
        unlink(path);
    }
    unit_diags_done(&d);

    snprintf(path, sizeof(path), "%s/huge.service", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, 100 * 1024 * 1024), 0); /* sparse: no disk used */
    close(fd);
    memset(&d, 0, sizeof(d));
    c = NULL;
    cr_assert_lt(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    cr_assert_null(c);
    cr_assert_geq(d.n, 1);
    cr_assert(strstr(d.items[d.n - 1].message, "large") || strstr(d.items[d.n - 1].message, "big"),
              "%s", d.items[d.n - 1].message);
    unit_diags_done(&d);
    unlink(path);
    rmdir(dir);
}

/* User=/Group=: systemd's relaxed rules decide (an invalid name refuses the unit); a relaxed
 * name that strict rules would refuse ("bad user", "a.b") loads with systemd's notice. */
Test(unit_file, user_names_relaxed_with_a_notice_strict_silently)
{
    static const char *const quiet[] = {"nobody", "_apt", "www-data", "1000", "a1"};
    static const char *const notice[] = {"bad user", "a.b", "Ä", "1abc"};
    static const char *const refused[] = {"-x", "x:y", "a/b", ".."};
    struct unit_config *c;
    struct unit_diags d = {0};
    char text[128];

    for (size_t i = 0; i < sizeof(quiet) / sizeof(*quiet); i++) {
        snprintf(text, sizeof(text), "[Service]\nExecStart=/bin/x\nUser=%s\n", quiet[i]);
        cr_assert_eq(load(text, "x.service", &c, &d), 0, "%s", quiet[i]);
        cr_assert_eq(d.n, 0, "%s: %s", quiet[i], d.n ? d.items[0].message : "");
        unit_config_free(c);
        unit_diags_done(&d);
    }
    for (size_t i = 0; i < sizeof(notice) / sizeof(*notice); i++) {
        snprintf(text, sizeof(text), "[Service]\nExecStart=/bin/x\nUser=%s\n", notice[i]);
        cr_assert_eq(load(text, "x.service", &c, &d), 0, "%s", notice[i]);
        cr_assert_not_null(find_diag(&d, "does not match strict user/group name rules"), "%s",
                           notice[i]);
        cr_assert_eq(d.items[0].level, DIAG_WARNING);
        unit_config_free(c);
        unit_diags_done(&d);
    }
    for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
        snprintf(text, sizeof(text), "[Service]\nExecStart=/bin/x\nUser=%s\n", refused[i]);
        load(text, "x.service", &c, &d);
        cr_assert_not_null(find_diag(&d, "Invalid user/group name"), "%s", refused[i]);
        unit_config_free(c);
        unit_diags_done(&d);
    }
}

/* ---- drop-ins ------------------------------------------------------------------------------ */

/* Writes `text` to dir/rel, making the directory of rel first. */
static void put(const char *dir, const char *rel, const char *text)
{
    char path[512];
    const char *slash = strrchr(rel, '/');
    FILE *f;

    if (slash) {
        snprintf(path, sizeof(path), "%s/%.*s", dir, (int)(slash - rel), rel);
        cr_assert(mkdir(path, 0755) == 0 || errno == EEXIST, "%s: %s", path, strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

/* The drop-ins of `name` found in dir, relative to dir, joined by spaces. */
static char *found(const char *dir, const char *name)
{
    static char out[1024];
    char **paths = NULL;
    int n = unit_dropins_find(dir, name, &paths);

    cr_assert_geq(n, 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        cr_assert_eq(strncmp(paths[i], dir, strlen(dir)), 0);
        if (i > 0)
            strcat(out, " ");
        strcat(out, paths[i] + strlen(dir) + 1);
    }
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return out;
}

static void rm_tree(const char *dir)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Drop-ins parse after the unit file with its rules: lists append, an empty assignment resets,
 * a later single value wins; they apply in file-name order, and only "*.conf" files count. */
Test(unit_file, dropins_merge_in_name_order)
{
    char dir[] = "/tmp/minisup-dropinXXXXXX", path[256];
    struct unit_config *c = NULL;
    struct unit_diags d = {0};

    cr_assert_not_null(mkdtemp(dir));
    put(dir, "x.service",
        "[Unit]\nDescription=main\nAfter=a.target\n"
        "[Service]\nExecStart=/bin/a\nEnvironment=A=1 S=main\nRestart=always\n");
    put(dir, "x.service.d/20-exec.conf", "[Service]\nExecStart=\nExecStart=/bin/b\n");
    put(dir, "x.service.d/10-env.conf",
        "[Unit]\nDescription=override\nAfter=b.target\n"
        "[Service]\nEnvironment=B=2 S=dropin\n");
    put(dir, "x.service.d/30-restart.conf", "[Service]\nRestart=on-failure\n");
    put(dir, "x.service.d/notes.txt", "[Service]\nExecStart=/bin/ignored\n");
    put(dir, "x.service.d/.hidden.conf", "[Service]\nExecStart=/bin/ignored\n");
    snprintf(path, sizeof(path), "%s/x.service", dir);

    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    cr_expect_eq(d.n, 0, "%s", d.n ? d.items[0].message : "");
    cr_assert_str_eq(c->description, "override");
    cr_assert_str_eq(c->after[0], "a.target");
    cr_assert_str_eq(c->after[1], "b.target");
    cr_assert_null(c->after[2]);
    cr_assert_eq(c->exec_start.n, 1, "ExecStart= in a drop-in resets the list");
    cr_assert_str_eq(c->exec_start.items[0].path, "/bin/b");
    cr_assert_str_eq(c->environment[0], "A=1");
    cr_assert_str_eq(c->environment[1], "S=dropin");
    cr_assert_str_eq(c->environment[2], "B=2");
    cr_assert_null(c->environment[3]);
    cr_assert_eq(c->restart, RESTART_ON_FAILURE);
    cr_assert_str_eq(c->path, path);
    cr_assert_str_eq(c->source_text, "[Unit]\nDescription=main\nAfter=a.target\n"
                                     "[Service]\nExecStart=/bin/a\nEnvironment=A=1 S=main\n"
                                     "Restart=always\n");
    cr_assert_str_eq(found(dir, "x.service"), "x.service.d/10-env.conf x.service.d/20-exec.conf "
                                              "x.service.d/30-restart.conf");
    cr_assert_eq(strv_length(c->dropin_paths), 3);
    cr_assert_eq(strv_length(c->dropin_texts), 3);
    cr_assert(strstr(c->dropin_paths[1], "/x.service.d/20-exec.conf"));
    cr_assert_str_eq(c->dropin_texts[1], "[Service]\nExecStart=\nExecStart=/bin/b\n");
    unit_config_free(c);
    unit_diags_done(&d);

    /* Without drop-ins there is nothing to show. */
    put(dir, "y.service", "[Service]\nExecStart=/bin/y\n");
    snprintf(path, sizeof(path), "%s/y.service", dir);
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    cr_assert_null(c->dropin_paths);
    cr_assert_null(c->dropin_texts);
    unit_config_free(c);
    unit_diags_done(&d);
    rm_tree(dir);
}

/* A drop-in's diagnostics name the drop-in and its own line numbers; a fatal one fails the
 * unit; the final checks (about the unit as a whole) name the unit file. */
Test(unit_file, dropin_diagnostics_name_the_dropin)
{
    char dir[] = "/tmp/minisup-dropinXXXXXX", path[256], dpath[256];
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    const struct unit_diag *g;

    cr_assert_not_null(mkdtemp(dir));
    put(dir, "x.service", "[Service]\nExecStart=/bin/a\n");
    put(dir, "x.service.d/o.conf", "# comment\n\n[Service]\nFrobnicate=yes\nKillMode=sideways\n");
    snprintf(path, sizeof(path), "%s/x.service", dir);
    snprintf(dpath, sizeof(dpath), "%s/x.service.d/o.conf", dir);

    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    g = find_diag(&d, "Frobnicate");
    cr_assert_not_null(g);
    cr_assert_str_eq(g->file, dpath);
    cr_assert_eq(g->line, 4);
    g = find_diag(&d, "sideways");
    cr_assert_not_null(g);
    cr_assert_str_eq(g->file, dpath);
    cr_assert_eq(g->line, 5);
    unit_config_free(c);
    unit_diags_done(&d);

    /* An assignment before any section header: each drop-in starts outside of a section. */
    put(dir, "x.service.d/o.conf", "ExecStart=/bin/b\n");
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    g = find_diag(&d, "Assignment outside of section");
    cr_assert_not_null(g);
    cr_assert_str_eq(g->file, dpath);
    cr_assert_eq(g->line, 1);
    cr_assert_str_eq(c->exec_start.items[0].path, "/bin/a");
    unit_config_free(c);
    unit_diags_done(&d);

    /* A fatal problem in a drop-in: the unit does not load. */
    put(dir, "x.service.d/o.conf", "[Service]\n\n[Service\n");
    c = NULL;
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), -EINVAL);
    cr_assert_null(c);
    g = find_diag(&d, "Invalid section header");
    cr_assert_not_null(g);
    cr_assert_eq(g->level, DIAG_ERROR);
    cr_assert_str_eq(g->file, dpath);
    cr_assert_eq(g->line, 3);
    unit_diags_done(&d);

    /* A drop-in that empties ExecStart=: the unit-wide check names the unit file. */
    put(dir, "x.service.d/o.conf", "[Service]\nExecStart=\n");
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), -EINVAL);
    g = find_diag(&d, "no ExecStart=");
    cr_assert_not_null(g);
    cr_assert_str_eq(g->file, path);
    cr_assert_eq(g->line, 0);
    unit_diags_done(&d);

    /* A drop-in that cannot be read fails the load too (root reads anything). */
    if (geteuid() != 0) {
        put(dir, "x.service.d/o.conf", "[Service]\n");
        cr_assert_eq(chmod(dpath, 0), 0);
        cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), -EACCES);
        cr_assert_str_eq(d.items[0].file, dpath);
        cr_assert(strstr(d.items[0].message, "drop-in"), "%s", d.items[0].message);
        unit_diags_done(&d);
    }
    rm_tree(dir);
}

/* An instance reads its own x@i.service.d/ and its template's x@.service.d/; a file name in
 * both comes from the instance's; all apply in file-name order (systemd.unit(5)). */
Test(unit_file, dropins_of_templates_and_instances)
{
    char dir[] = "/tmp/minisup-dropinXXXXXX", path[256];
    struct unit_config *c = NULL;
    struct unit_diags d = {0};

    cr_assert_not_null(mkdtemp(dir));
    put(dir, "x@.service", "[Service]\nExecStart=/bin/x %i\n");
    put(dir, "x@.service.d/10-t.conf", "[Service]\nEnvironment=T=%i\n");
    put(dir, "x@.service.d/50-same.conf", "[Service]\nEnvironment=S=template\n");
    put(dir, "x@i.service.d/50-same.conf", "[Service]\nEnvironment=S=instance\n");
    put(dir, "x@i.service.d/05-i.conf", "[Service]\nEnvironment=I=only-i\n");
    snprintf(path, sizeof(path), "%s/x@.service", dir);

    cr_assert_str_eq(found(dir, "x@i.service"),
                     "x@i.service.d/05-i.conf x@.service.d/10-t.conf x@i.service.d/50-same.conf");
    cr_assert_str_eq(found(dir, "x@j.service"), "x@.service.d/10-t.conf x@.service.d/50-same.conf");
    cr_assert_str_eq(found(dir, "x@.service"), "x@.service.d/10-t.conf x@.service.d/50-same.conf");

    cr_assert_eq(unit_file_load(path, "x@i.service", &test_ctx, &c, &d), 0);
    cr_assert_str_eq(c->environment[0], "I=only-i");
    cr_assert_str_eq(c->environment[1], "T=i", "specifiers resolve in drop-ins");
    cr_assert_str_eq(c->environment[2], "S=instance");
    cr_assert_null(c->environment[3]);
    unit_config_free(c);
    unit_diags_done(&d);

    cr_assert_eq(unit_file_load(path, "x@j.service", &test_ctx, &c, &d), 0);
    cr_assert_str_eq(c->environment[0], "T=j");
    cr_assert_str_eq(c->environment[1], "S=template");
    unit_config_free(c);
    unit_diags_done(&d);
    rm_tree(dir);
}

/* The dash-prefix hierarchy and the type's service.d/: the most specific directory wins a file
 * name, an empty file or a link to /dev/null masks it, and sockets read socket.d/. */
Test(unit_file, dropins_of_prefixes_and_type)
{
    char dir[] = "/tmp/minisup-dropinXXXXXX", path[256], link[256];
    struct unit_config *c = NULL;
    struct unit_diags d = {0};

    cr_assert_not_null(mkdtemp(dir));
    put(dir, "a-b-c.service", "[Service]\nExecStart=/bin/x\n");
    put(dir, "service.d/05-all.conf", "[Service]\nEnvironment=ALL=1\n");
    put(dir, "service.d/10-same.conf", "[Service]\nEnvironment=SAME=service.d\n");
    put(dir, "a-.service.d/10-same.conf", "[Service]\nEnvironment=SAME=a-\n");
    put(dir, "a-b-.service.d/10-same.conf", "[Service]\nEnvironment=SAME=a-b-\n");
    put(dir, "a-.service.d/20-a.conf", "[Service]\nEnvironment=A=1\n");
    put(dir, "service.d/90-masked.conf", "[Service]\nEnvironment=MASKED=1\n");
    put(dir, "a-b-c.service.d/90-masked.conf", "");
    put(dir, "service.d/91-masked.conf", "[Service]\nEnvironment=MASKED=2\n");
    snprintf(link, sizeof(link), "%s/a-.service.d/91-masked.conf", dir);
    cr_assert_eq(symlink("/dev/null", link), 0);
    put(dir, "service.d/92-dir.conf/x", ""); /* a directory is not a drop-in */
    put(dir, "socket.d/10-s.conf", "[Socket]\nBacklog=7\n");
    put(dir, "a-b-c.socket", "[Socket]\nListenStream=/run/x.sock\n");

    cr_assert_str_eq(found(dir, "a-b-c.service"),
                     "service.d/05-all.conf a-b-.service.d/10-same.conf a-.service.d/20-a.conf");
    cr_assert_str_eq(found(dir, "a-x.service"),
                     "service.d/05-all.conf a-.service.d/10-same.conf a-.service.d/20-a.conf "
                     "service.d/90-masked.conf");
    cr_assert_str_eq(found(dir, "b.service"),
                     "service.d/05-all.conf service.d/10-same.conf service.d/90-masked.conf "
                     "service.d/91-masked.conf");
    cr_assert_str_eq(found(dir, "-a.service"), "service.d/05-all.conf service.d/10-same.conf "
                                               "service.d/90-masked.conf service.d/91-masked.conf");
    cr_assert_str_eq(found(dir, "a-b-c.socket"), "socket.d/10-s.conf");
    cr_assert_str_eq(found(dir, "not a unit name"), "");

    snprintf(path, sizeof(path), "%s/a-b-c.service", dir);
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    cr_assert_str_eq(c->environment[0], "ALL=1");
    cr_assert_str_eq(c->environment[1], "SAME=a-b-");
    cr_assert_str_eq(c->environment[2], "A=1");
    cr_assert_null(c->environment[3]);
    unit_config_free(c);
    unit_diags_done(&d);

    snprintf(path, sizeof(path), "%s/a-b-c.socket", dir);
    cr_assert_eq(unit_file_load(path, NULL, &test_ctx, &c, &d), 0);
    cr_assert_eq(c->backlog, 7);
    unit_config_free(c);
    unit_diags_done(&d);
    rm_tree(dir);
}

/* An instance with dashes, most specific first: x-y@i.service.d, x-y@.service.d and (cut from
 * the template) x-.service.d, then the cut instance's x-@i.service.d and x-@.service.d, then
 * service.d; a file name is taken from the first of these that has it. */
Test(unit_file, dropins_of_dashed_instances)
{
    char dir[] = "/tmp/minisup-dropinXXXXXX";

    cr_assert_not_null(mkdtemp(dir));
    put(dir, "x-y@i.service.d/1.conf", "");
    put(dir, "x-y@i.service.d/a.conf", "[Unit]\n");
    put(dir, "x-y@.service.d/b.conf", "[Unit]\n");
    put(dir, "x-@i.service.d/c.conf", "[Unit]\n");
    put(dir, "x-@.service.d/d.conf", "[Unit]\n");
    put(dir, "x-.service.d/e.conf", "[Unit]\n");
    put(dir, "x-.service.d/a.conf", "[Unit]\n");
    put(dir, "service.d/f.conf", "[Unit]\n");
    put(dir, "service.d/1.conf", "[Unit]\n");
    cr_assert_str_eq(found(dir, "x-y@i.service"),
                     "x-y@i.service.d/a.conf x-y@.service.d/b.conf x-@i.service.d/c.conf "
                     "x-@.service.d/d.conf x-.service.d/e.conf service.d/f.conf");
    rm_tree(dir);
}
