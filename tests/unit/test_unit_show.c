/* Tests for unit_show.c: systemctl show's names, order and value formats for a parsed unit, the
 * key-to-property table, and the real-world corpus (show prints every key a unit file sets). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "unit_file.h"
#include "unit_show.h"

#define CORPUS_DIR MINISUP_SOURCE_DIR "/../shared/corpus"

static const struct unit_load_context test_ctx = {
    .runtime_dir = "/run/test",
    .state_dir = "/var/lib/test",
    .logs_dir = "/var/log/test",
};

/* Every (name, value) the serializer passed, in order. */
struct props {
    char **names, **values;
    size_t n;
};

static int collect(const char *name, const char *value, void *userdata)
{
    struct props *p = userdata;

    p->names = realloc(p->names, (p->n + 1) * sizeof(char *));
    p->values = realloc(p->values, (p->n + 1) * sizeof(char *));
    cr_assert(p->names && p->values);
    p->names[p->n] = strdup(name);
    p->values[p->n] = strdup(value);
    cr_assert(p->names[p->n] && p->values[p->n]);
    p->n++;
    return 0;
}

static void props_done(struct props *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->names);
    free(p->values);
    *p = (struct props){0};
}

/* The value of the k-th property called `name`, or NULL. */
static const char *nth(const struct props *p, const char *name, size_t k)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0 && k-- == 0)
            return p->values[i];
    return NULL;
}

static const char *get(const struct props *p, const char *name)
{
    return nth(p, name, 0);
}

static size_t count(const struct props *p, const char *name)
{
    size_t n = 0;

    while (nth(p, name, n))
        n++;
    return n;
}

/* Loads `text` as unit `name` (must succeed) and collects its properties. */
static void show(const char *text, const char *name, unsigned flags, struct props *p)
{
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    int r;

    r = unit_file_load_string(text, strlen(text), "/etc/test/unit", name, &test_ctx, &c, &d);
    for (size_t i = 0; r < 0 && i < d.n; i++)
        cr_log_error("%u: %s", d.items[i].line, d.items[i].message);
    cr_assert_eq(r, 0);
    *p = (struct props){0};
    cr_assert_eq(unit_show_properties(c, flags, collect, p), 0);
    unit_config_free(c);
    unit_diags_done(&d);
}

#define T_START UINT64_C(1795287705000000) /* Sat 2026-11-21 19:01:45 UTC */
#define EXEC_TAIL " ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }"

Test(unit_show, service_defaults)
{
    struct props p;

    show("[Service]\nExecStart=/bin/x a b\n", "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "Type"), "simple");
    cr_assert_str_eq(get(&p, "Restart"), "no");
    cr_assert_str_eq(get(&p, "RestartUSec"), "100ms");
    cr_assert_str_eq(get(&p, "TimeoutStartUSec"), "1min 30s");
    cr_assert_str_eq(get(&p, "TimeoutStopUSec"), "1min 30s");
    cr_assert_str_eq(get(&p, "RemainAfterExit"), "no");
    cr_assert_str_eq(get(&p, "GuessMainPID"), "yes");
    cr_assert_str_eq(get(&p, "ExecStart"),
                     "{ path=/bin/x ; argv[]=/bin/x a b ; ignore_errors=no" EXEC_TAIL);
    cr_assert_str_eq(get(&p, "ExecStartEx"),
                     "{ path=/bin/x ; argv[]=/bin/x a b ; flags=" EXEC_TAIL);
    cr_assert_str_eq(get(&p, "UMask"), "0022");
    cr_assert_str_eq(get(&p, "StandardOutput"), "journal");
    cr_assert_str_eq(get(&p, "StandardError"), "inherit");
    cr_assert_str_eq(get(&p, "SyslogLevelPrefix"), "yes");
    cr_assert_str_eq(get(&p, "SyslogLevel"), "6");
    cr_assert_str_eq(get(&p, "LogRateLimitIntervalUSec"), "0");
    cr_assert_str_eq(get(&p, "LogRateLimitBurst"), "0");
    cr_assert_str_eq(get(&p, "IgnoreSIGPIPE"), "yes");
    cr_assert_str_eq(get(&p, "KillMode"), "control-group");
    cr_assert_str_eq(get(&p, "KillSignal"), "15");
    cr_assert_str_eq(get(&p, "RestartKillSignal"), "15");
    cr_assert_str_eq(get(&p, "FinalKillSignal"), "9");
    cr_assert_str_eq(get(&p, "SendSIGKILL"), "yes");
    cr_assert_str_eq(get(&p, "SendSIGHUP"), "no");
    cr_assert_str_eq(get(&p, "Id"), "x.service");
    cr_assert_str_eq(get(&p, "Names"), "x.service");
    cr_assert_str_eq(get(&p, "Description"), "x.service", "systemd shows the name without one");
    cr_assert_str_eq(get(&p, "FragmentPath"), "/etc/test/unit");
    cr_assert_str_eq(get(&p, "StartLimitIntervalUSec"), "10s");
    cr_assert_str_eq(get(&p, "StartLimitBurst"), "5");

    /* Empty values are left out, as plain systemctl show does; no socket properties. */
    cr_assert_null(get(&p, "User"));
    cr_assert_null(get(&p, "PIDFile"));
    cr_assert_null(get(&p, "SuccessExitStatus"));
    cr_assert_null(get(&p, "After"));
    cr_assert_null(get(&p, "ExecStartPre"));
    cr_assert_null(get(&p, "Listen"));
    cr_assert_null(get(&p, "Triggers"));
    for (size_t i = 0; i < p.n; i++)
        cr_assert_neq(p.values[i][0], '\0', "%s", p.names[i]);
    props_done(&p);
}

/* With UNIT_SHOW_EMPTY (systemctl show --all): every property, in systemd's order, the empty
 * ones too; lists of commands only as many times as they have commands. */
Test(unit_show, order_is_stable)
{
    /* clang-format off */
    static const char *const expected[] = {
        "Type", "Restart", "PIDFile", "RestartUSec", "TimeoutStartUSec", "TimeoutStopUSec",
        "RemainAfterExit", "GuessMainPID", "NotifyAccess", "WatchdogUSec",
        "RestartPreventExitStatus", "RestartForceExitStatus",
        "SuccessExitStatus", "ExecStartPre", "ExecStartPreEx", "ExecStart", "ExecStartEx",
        "ExecStop", "ExecStopEx",
        "Environment", "EnvironmentFiles", "PassEnvironment", "UnsetEnvironment", "UMask",
        "LimitCPU", "LimitCPUSoft", "LimitFSIZE", "LimitFSIZESoft", "LimitDATA", "LimitDATASoft",
        "LimitSTACK", "LimitSTACKSoft", "LimitCORE", "LimitCORESoft", "LimitRSS", "LimitRSSSoft",
        "LimitNOFILE", "LimitNOFILESoft", "LimitAS", "LimitASSoft", "LimitNPROC", "LimitNPROCSoft",
        "LimitMEMLOCK", "LimitMEMLOCKSoft", "LimitLOCKS", "LimitLOCKSSoft", "LimitSIGPENDING",
        "LimitSIGPENDINGSoft", "LimitMSGQUEUE", "LimitMSGQUEUESoft", "LimitNICE", "LimitNICESoft",
        "LimitRTPRIO", "LimitRTPRIOSoft", "LimitRTTIME", "LimitRTTIMESoft", "WorkingDirectory",
        "Nice", "StandardInput", "StandardOutput", "StandardError", "SyslogIdentifier",
        "SyslogLevelPrefix", "SyslogLevel", "LogRateLimitIntervalUSec", "LogRateLimitBurst",
        "User", "Group", "SupplementaryGroups", "IgnoreSIGPIPE", "NoNewPrivileges",
        "RuntimeDirectory", "StateDirectory", "LogsDirectory",
        "KillMode", "KillSignal", "RestartKillSignal", "FinalKillSignal", "SendSIGKILL",
        "SendSIGHUP",
        "Id", "Names", "Requires", "Requisite", "Wants", "BindsTo", "PartOf", "RequiredBy",
        "WantedBy", "Conflicts", "Before", "After", "Documentation", "Description", "FragmentPath",
        "DropInPaths", "JobTimeoutUSec", "JobRunningTimeoutUSec", "StartLimitIntervalUSec", "StartLimitBurst", "Alias", "Also",
    };
    /* clang-format on */
    const char *text = "[Unit]\nAfter=a.target\n[Service]\nExecStartPre=/bin/a\n"
                       "ExecStart=/bin/x\nExecStop=/bin/s\nEnvironmentFile=/etc/e\n";
    struct props p, q;

    show(text, "x.service", UNIT_SHOW_EMPTY, &p);
    cr_assert_eq(p.n, sizeof(expected) / sizeof(expected[0]));
    for (size_t i = 0; i < p.n; i++)
        cr_assert_str_eq(p.names[i], expected[i], "property %zu", i);
    cr_assert_str_eq(get(&p, "User"), "");
    cr_assert_str_eq(get(&p, "After"), "a.target");

    /* The same unit twice gives the same lines. */
    show(text, "x.service", UNIT_SHOW_EMPTY, &q);
    cr_assert_eq(p.n, q.n);
    for (size_t i = 0; i < p.n; i++)
        cr_assert_str_eq(p.values[i], q.values[i]);
    props_done(&p);
    props_done(&q);
}

Test(unit_show, time_spans)
{
    struct props p;

    show("[Unit]\nStartLimitIntervalSec=90s\n[Service]\nExecStart=/bin/x\nRestartSec=1.5\n"
         "TimeoutStartSec=2h\nTimeoutStopSec=0\n",
         "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "RestartUSec"), "1.500000s");
    cr_assert_str_eq(get(&p, "TimeoutStartUSec"), "2h");
    cr_assert_str_eq(get(&p, "TimeoutStopUSec"), "infinity", "0 means no timeout");
    cr_assert_str_eq(get(&p, "StartLimitIntervalUSec"), "1min 30s");
    props_done(&p);

    /* TimeoutSec= sets both; a oneshot has no start timeout unless one is set. */
    show("[Service]\nExecStart=/bin/x\nTimeoutSec=500ms\n", "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "TimeoutStartUSec"), "500ms");
    cr_assert_str_eq(get(&p, "TimeoutStopUSec"), "500ms");
    props_done(&p);
    show("[Service]\nType=oneshot\nExecStart=/bin/x\n", "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "Type"), "oneshot");
    cr_assert_str_eq(get(&p, "TimeoutStartUSec"), "infinity");
    props_done(&p);
}

Test(unit_show, exec_prefixes_and_lists)
{
    struct props p;

    show("[Service]\nType=oneshot\n"
         "ExecStartPre=-/bin/pre one ; @/bin/real fake two\n"
         "ExecStartPre=:+/bin/third $X\n"
         "ExecStart=/bin/sh -c 'echo a ; echo b'\n"
         "ExecStart=!!/bin/amb\n",
         "x.service", 0, &p);
    cr_assert_eq(count(&p, "ExecStartPre"), 3, "one value per command");
    cr_assert_str_eq(nth(&p, "ExecStartPre", 0),
                     "{ path=/bin/pre ; argv[]=/bin/pre one ; ignore_errors=yes" EXEC_TAIL);
    cr_assert_str_eq(nth(&p, "ExecStartPre", 1),
                     "{ path=/bin/real ; argv[]=fake two ; ignore_errors=no" EXEC_TAIL);
    cr_assert_str_eq(nth(&p, "ExecStartPre", 2),
                     "{ path=/bin/third ; argv[]=/bin/third $X ; ignore_errors=no" EXEC_TAIL);
    cr_assert_str_eq(nth(&p, "ExecStartPreEx", 0),
                     "{ path=/bin/pre ; argv[]=/bin/pre one ; flags=ignore-failure" EXEC_TAIL);
    cr_assert_str_eq(nth(&p, "ExecStartPreEx", 1),
                     "{ path=/bin/real ; argv[]=fake two ; flags=" EXEC_TAIL);
    cr_assert_str_eq(nth(&p, "ExecStartPreEx", 2), "{ path=/bin/third ; argv[]=/bin/third $X ; "
                                                   "flags=privileged no-env-expand" EXEC_TAIL);
    cr_assert_eq(count(&p, "ExecStart"), 2);
    cr_assert_str_eq(nth(&p, "ExecStart", 0), "{ path=/bin/sh ; argv[]=/bin/sh -c echo a ; echo b "
                                              "; ignore_errors=no" EXEC_TAIL);
    cr_assert_str_eq(nth(&p, "ExecStartEx", 1),
                     "{ path=/bin/amb ; argv[]=/bin/amb ; flags=ambient" EXEC_TAIL);
    props_done(&p);
}

/* A fake daemon's record: the first command exited 3, the second was killed, the third ran
 * and is running; the rest never ran. */
static bool fake_runs(const struct exec_command *cmd, struct exec_status *ret, void *userdata)
{
    const struct unit_config *c = userdata;

    if (cmd == &c->exec_start_pre.items[0])
        *ret = (struct exec_status){T_START, T_START + 1000000, 4001, CLD_EXITED, 3};
    else if (cmd == &c->exec_start.items[0])
        *ret = (struct exec_status){T_START, T_START + 2000000, 4002, CLD_KILLED, SIGTERM};
    else if (cmd == &c->exec_start.items[1])
        *ret = (struct exec_status){T_START, 0, 4003, 0, 0};
    else
        return false;
    return true;
}

Test(unit_show, exec_runtime_fields)
{
    static const char text[] = "[Service]\nType=oneshot\nExecStartPre=/bin/pre\n"
                               "ExecStart=/bin/a\nExecStart=/bin/b x\nExecStop=/bin/s\n";
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    struct props p = {0};

    setenv("TZ", "UTC", 1);
    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/etc/test/unit", "x.service", &test_ctx, &c, &d),
        0);
    cr_assert_eq(unit_show_properties_ran(c, 0, fake_runs, c, collect, &p), 0);
    /* systemctl's own text: the exit status bare, a signal by name, a running command without
     * code, a command that never ran as in configuration-only output. */
    cr_assert_str_eq(nth(&p, "ExecStartPre", 0),
                     "{ path=/bin/pre ; argv[]=/bin/pre ; ignore_errors=no ; start_time=[Sat "
                     "2026-11-21 19:01:45 UTC] ; stop_time=[Sat 2026-11-21 19:01:46 UTC] ; "
                     "pid=4001 ; code=exited ; status=3 }");
    cr_assert_str_eq(nth(&p, "ExecStart", 0),
                     "{ path=/bin/a ; argv[]=/bin/a ; ignore_errors=no ; start_time=[Sat "
                     "2026-11-21 19:01:45 UTC] ; stop_time=[Sat 2026-11-21 19:01:47 UTC] ; "
                     "pid=4002 ; code=killed ; status=15/TERM }");
    cr_assert_str_eq(nth(&p, "ExecStartEx", 1),
                     "{ path=/bin/b ; argv[]=/bin/b x ; flags= ; start_time=[Sat 2026-11-21 "
                     "19:01:45 UTC] ; stop_time=[n/a] ; pid=4003 ; code=(null) ; status=0/0 }");
    cr_assert_str_eq(nth(&p, "ExecStop", 0),
                     "{ path=/bin/s ; argv[]=/bin/s ; ignore_errors=no" EXEC_TAIL);
    props_done(&p);
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_show, environment_quoting)
{
    struct props p;

    show("[Service]\nExecStart=/bin/x\n"
         "Environment=A=1 \"B=two words\" 'C=$HOME' D=a\\\"b E=x\\\\y \"F=tab\\there\" G=ä\n"
         "Environment=H=(x) I=a*b J=\n"
         "EnvironmentFile=-/etc/default/x\nEnvironmentFile=/etc/y\n",
         "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "Environment"),
                     "A=1 \"B=two words\" \"C=\\$HOME\" \"D=a\\\"b\" \"E=x\\\\y\" \"F=tab\\there\" "
                     "G=ä \"H=(x)\" \"I=a*b\" J=");
    cr_assert_eq(count(&p, "EnvironmentFiles"), 2);
    cr_assert_str_eq(nth(&p, "EnvironmentFiles", 0), "/etc/default/x (ignore_errors=yes)");
    cr_assert_str_eq(nth(&p, "EnvironmentFiles", 1), "/etc/y (ignore_errors=no)");
    props_done(&p);

    /* The same quoting for every string list: Documentation=, dependencies. */
    show("[Unit]\nDocumentation=man:x(8) https://example.org/x\n"
         "After=dev-disk-by\\x2duuid-1.device b.target\n[Service]\nExecStart=/bin/x\n",
         "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "Documentation"), "\"man:x(8)\" https://example.org/x");
    cr_assert_str_eq(get(&p, "After"), "\"dev-disk-by\\\\x2duuid-1.device\" b.target");
    props_done(&p);
}

Test(unit_show, exit_status_sets)
{
    struct props p;

    show("[Service]\nExecStart=/bin/x\nSuccessExitStatus=75 SIGUSR1 1 TEMPFAIL SIGKILL\n"
         "RestartPreventExitStatus=SIGRTMIN+2 255\nRestartForceExitStatus=EXEC\n",
         "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "SuccessExitStatus"), "1 75 KILL USR1", "numbers, then signals");
    cr_assert_str_eq(get(&p, "RestartPreventExitStatus"), "255 RTMIN+2");
    cr_assert_str_eq(get(&p, "RestartForceExitStatus"), "203");
    props_done(&p);
}

Test(unit_show, exec_and_kill_settings)
{
    struct props p;

    show("[Unit]\nDescription=Some thing\nRequires=a.service\nWants=b.service c.socket\n"
         "[Service]\nType=forking\nExecStart=/bin/x\nRestart=on-failure\nPIDFile=/var/run/x.pid\n"
         "RemainAfterExit=yes\nKillMode=mixed\nKillSignal=SIGINT\nFinalKillSignal=SIGQUIT\n"
         "SendSIGKILL=no\nSendSIGHUP=yes\nWorkingDirectory=-/srv/x\nUMask=0077\nUser=nobody\n"
         "Group=nogroup\nSupplementaryGroups=adm audio\nSyslogIdentifier=xid\n"
         "SyslogLevel=debug\nSyslogLevelPrefix=no\nStandardOutput=append:/var/log/x.log\n"
         "StandardError=null\nIgnoreSIGPIPE=no\nRuntimeDirectory=x x/sub\nStateDirectory=s\n"
         "LogsDirectory=l\nPassEnvironment=LANG TZ\nUnsetEnvironment=FOO\n"
         "LogRateLimitIntervalSec=30s\nLogRateLimitBurst=100\n"
         "[Install]\nWantedBy=multi-user.target\nRequiredBy=y.service\nAlias=xx.service\n"
         "Also=x.socket\n",
         "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "Description"), "Some thing");
    cr_assert_str_eq(get(&p, "Requires"), "a.service");
    cr_assert_str_eq(get(&p, "Wants"), "b.service c.socket");
    cr_assert_str_eq(get(&p, "Type"), "forking");
    cr_assert_str_eq(get(&p, "Restart"), "on-failure");
    cr_assert_str_eq(get(&p, "PIDFile"), "/run/x.pid", "systemd rewrites /var/run");
    cr_assert_str_eq(get(&p, "RemainAfterExit"), "yes");
    cr_assert_str_eq(get(&p, "KillMode"), "mixed");
    cr_assert_str_eq(get(&p, "KillSignal"), "2");
    cr_assert_str_eq(get(&p, "RestartKillSignal"), "2", "defaults to KillSignal=");
    cr_assert_str_eq(get(&p, "FinalKillSignal"), "3");
    cr_assert_str_eq(get(&p, "SendSIGKILL"), "no");
    cr_assert_str_eq(get(&p, "SendSIGHUP"), "yes");
    cr_assert_str_eq(get(&p, "WorkingDirectory"), "!/srv/x", "systemd's mark for '-'");
    cr_assert_str_eq(get(&p, "UMask"), "0077");
    cr_assert_str_eq(get(&p, "User"), "nobody");
    cr_assert_str_eq(get(&p, "Group"), "nogroup");
    cr_assert_str_eq(get(&p, "SupplementaryGroups"), "adm audio");
    cr_assert_str_eq(get(&p, "SyslogIdentifier"), "xid");
    cr_assert_str_eq(get(&p, "SyslogLevel"), "7");
    cr_assert_str_eq(get(&p, "SyslogLevelPrefix"), "no");
    cr_assert_str_eq(get(&p, "StandardOutput"), "append");
    cr_assert_str_eq(get(&p, "StandardError"), "null");
    cr_assert_str_eq(get(&p, "IgnoreSIGPIPE"), "no");
    cr_assert_str_eq(get(&p, "RuntimeDirectory"), "x x/sub");
    cr_assert_str_eq(get(&p, "StateDirectory"), "s");
    cr_assert_str_eq(get(&p, "LogsDirectory"), "l");
    cr_assert_str_eq(get(&p, "PassEnvironment"), "LANG TZ");
    cr_assert_str_eq(get(&p, "UnsetEnvironment"), "FOO");
    cr_assert_str_eq(get(&p, "LogRateLimitIntervalUSec"), "30s");
    cr_assert_str_eq(get(&p, "LogRateLimitBurst"), "100");
    cr_assert_str_eq(get(&p, "WantedBy"), "multi-user.target");
    cr_assert_str_eq(get(&p, "RequiredBy"), "y.service");
    cr_assert_str_eq(get(&p, "Alias"), "xx.service");
    cr_assert_str_eq(get(&p, "Also"), "x.socket");
    props_done(&p);

    show("[Service]\nExecStart=/bin/x\nWorkingDirectory=~\n", "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "WorkingDirectory"), "~");
    props_done(&p);
}

Test(unit_show, limits_nice_stdin)
{
    struct props p;

    show("[Service]\nExecStart=/bin/x\nLimitNOFILE=1024:65536\nLimitCORE=infinity\n"
         "LimitCPU=1min\nNice=-5\nNoNewPrivileges=yes\nStandardInput=null\n",
         "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "LimitNOFILE"), "65536", "the hard limit");
    cr_assert_str_eq(get(&p, "LimitNOFILESoft"), "1024");
    cr_assert_str_eq(get(&p, "LimitCORE"), "infinity");
    cr_assert_str_eq(get(&p, "LimitCORESoft"), "infinity");
    cr_assert_str_eq(get(&p, "LimitCPU"), "60", "seconds");
    cr_assert_null(get(&p, "LimitNPROC"), "not set: minisupd's own, not known here");
    cr_assert_str_eq(get(&p, "Nice"), "-5");
    cr_assert_str_eq(get(&p, "NoNewPrivileges"), "yes");
    cr_assert_str_eq(get(&p, "StandardInput"), "null");
    props_done(&p);

    show("[Service]\nExecStart=/bin/x\n", "x.service", 0, &p);
    cr_assert_null(get(&p, "Nice"));
    cr_assert_str_eq(get(&p, "NoNewPrivileges"), "no");
    cr_assert_str_eq(get(&p, "StandardInput"), "null");
    props_done(&p);
}

Test(unit_show, socket)
{
    struct props p;
    char backlog[32];

    show("[Socket]\nListenStream=/run/x.sock\nListenStream=80\nListenDatagram=127.0.0.1:53\n"
         "ListenStream=[0:0::1]:8080\nListenSequentialPacket=@abstract\nListenFIFO=/run/x.fifo\n"
         "ExecStartPre=/bin/prep\n",
         "x.socket", 0, &p);
    cr_assert_null(get(&p, "Type"));
    cr_assert_null(get(&p, "ExecStartPreEx"), "systemd has no Ex variants for sockets");
    cr_assert_eq(count(&p, "Listen"), 6, "one value per socket, in file order");
    cr_assert_str_eq(nth(&p, "Listen", 0), "/run/x.sock (Stream)");
    cr_assert_str_eq(nth(&p, "Listen", 1), "[::]:80 (Stream)");
    cr_assert_str_eq(nth(&p, "Listen", 2), "127.0.0.1:53 (Datagram)");
    cr_assert_str_eq(nth(&p, "Listen", 3), "[::1]:8080 (Stream)");
    cr_assert_str_eq(nth(&p, "Listen", 4), "@abstract (SequentialPacket)");
    cr_assert_str_eq(nth(&p, "Listen", 5), "/run/x.fifo (FIFO)");
    cr_assert_str_eq(get(&p, "Triggers"), "x.service");
    cr_assert_str_eq(get(&p, "SocketMode"), "0666");
    cr_assert_str_eq(get(&p, "DirectoryMode"), "0755");
    snprintf(backlog, sizeof(backlog), "%d", SOMAXCONN);
    cr_assert_str_eq(get(&p, "Backlog"), backlog);
    cr_assert_str_eq(get(&p, "Accept"), "no");
    cr_assert_str_eq(get(&p, "RemoveOnStop"), "no");
    cr_assert_str_eq(get(&p, "MaxConnections"), "64");
    cr_assert_str_eq(get(&p, "FileDescriptorName"), "x.socket");
    cr_assert_str_eq(get(&p, "ExecStartPre"),
                     "{ path=/bin/prep ; argv[]=/bin/prep ; ignore_errors=no" EXEC_TAIL);
    cr_assert_str_eq(get(&p, "KillSignal"), "15");
    cr_assert_str_eq(get(&p, "Id"), "x.socket");
    props_done(&p);

    show("[Socket]\nListenStream=/run/y.sock\nService=other.service\nSocketMode=0600\n"
         "DirectoryMode=0700\nBacklog=12\nFileDescriptorName=web\nRemoveOnStop=yes\n"
         "SocketUser=www\nSocketGroup=www\nMaxConnections=5\n",
         "y.socket", 0, &p);
    cr_assert_str_eq(get(&p, "Triggers"), "other.service");
    cr_assert_str_eq(get(&p, "SocketMode"), "0600");
    cr_assert_str_eq(get(&p, "DirectoryMode"), "0700");
    cr_assert_str_eq(get(&p, "Backlog"), "12");
    cr_assert_str_eq(get(&p, "FileDescriptorName"), "web");
    cr_assert_str_eq(get(&p, "RemoveOnStop"), "yes");
    cr_assert_str_eq(get(&p, "SocketUser"), "www");
    cr_assert_str_eq(get(&p, "SocketGroup"), "www");
    cr_assert_str_eq(get(&p, "MaxConnections"), "5");
    props_done(&p);

    /* An accepting socket starts instances per connection: no Triggers=, as in systemd. */
    show("[Socket]\nListenStream=/run/z.sock\nAccept=yes\n", "z.socket", UNIT_SHOW_EMPTY, &p);
    cr_assert_str_eq(get(&p, "Accept"), "yes");
    cr_assert_str_eq(get(&p, "Triggers"), "");
    props_done(&p);
}

Test(unit_show, unprintable_string)
{
    struct props p;

    show("[Unit]\nDescription=a\\nb\n[Service]\nExecStart=/bin/x\n", "x.service", 0, &p);
    cr_assert_str_eq(get(&p, "Description"), "a\\nb", "no C escapes in Description=");
    props_done(&p);
}

static int stop_at_third(const char *name, const char *value, void *userdata)
{
    unsigned *n = userdata;

    (void)name;
    (void)value;
    return ++*n == 3 ? -ECANCELED : 0;
}

Test(unit_show, callback_error_stops)
{
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    const char *text = "[Service]\nExecStart=/bin/x\n";
    unsigned n = 0;

    cr_assert_eq(unit_file_load_string(text, strlen(text), NULL, "x.service", &test_ctx, &c, &d),
                 0);
    cr_assert_eq(unit_show_properties(c, 0, stop_at_third, &n), -ECANCELED);
    cr_assert_eq(n, 3);
    unit_config_free(c);
    unit_diags_done(&d);
}

Test(unit_show, property_for_key)
{
    static const char *const table[][3] = {
        {"Service", "TimeoutStopSec", "TimeoutStopUSec"},
        {"Service", "TimeoutStartSec", "TimeoutStartUSec"},
        {"Service", "TimeoutSec", "TimeoutStartUSec"},
        {"Service", "RestartSec", "RestartUSec"},
        {"Service", "ExecStart", "ExecStart"},
        {"Service", "Restart", "Restart"},
        {"Service", "EnvironmentFile", "EnvironmentFiles"},
        {"Service", "StartLimitInterval", "StartLimitIntervalUSec"},
        {"Service", "LogRateLimitIntervalSec", "LogRateLimitIntervalUSec"},
        {"Unit", "StartLimitIntervalSec", "StartLimitIntervalUSec"},
        {"Unit", "BindTo", "BindsTo"},
        {"Socket", "ListenStream", "Listen"},
        {"Socket", "ListenFIFO", "Listen"},
        {"Socket", "Service", "Triggers"},
        {"Socket", "KillSignal", "KillSignal"},
        {"Socket", "ExecStartPre", "ExecStartPre"},
        {"Install", "WantedBy", "WantedBy"},
        {"Install", "Alias", "Alias"},
        {"Service", "LimitNOFILE", "LimitNOFILE"},
        {"Socket", "Nice", "Nice"},
        {"Service", "StandardInput", "StandardInput"},
    };
    static const char *const none[][2] = {
        {"Service", "ProtectSystem"}, /* unsupported: a warning, no property */
        {"Service", "BusName"},       {"Service", "Restrat"},         {"Socket", "ExecStart"},
        {"Unit", "ExecStart"},        {"Service", "Listen"},          {"X-Foo", "Description"},
        {"Service", "X-Custom"},      {"Install", "DefaultInstance"},
    };

    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const char *p = unit_show_property_for_key(table[i][0], table[i][1]);
        cr_assert_not_null(p, "%s %s", table[i][0], table[i][1]);
        cr_assert_str_eq(p, table[i][2]);
    }
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++)
        cr_assert_null(unit_show_property_for_key(none[i][0], none[i][1]), "%s %s", none[i][0],
                       none[i][1]);
}

/* ---- the corpus ---------------------------------------------------------------------------- */

/* One key a unit file sets: its section, and whether its last assignment was empty. */
struct file_key {
    char section[32];
    char key[128];
    unsigned line;
    bool last_empty;
};

/* Reads the Key= lines of a unit file the way systemd lexes them (comment lines, trailing
 * backslash continuations); returns the keys in first-seen order. */
static struct file_key *read_keys(const char *path, size_t *ret_n)
{
    FILE *f = fopen(path, "re");
    struct file_key *keys = NULL;
    size_t n = 0, cap = 0;
    char section[32] = "", *line = NULL, *logical = NULL;
    size_t line_cap = 0, logical_len = 0;
    unsigned lineno = 0;
    ssize_t k;

    cr_assert_not_null(f, "%s", path);
    while ((k = getline(&line, &line_cap, f)) >= 0) {
        char *s = line, *e;
        size_t len;
        bool cont;

        lineno++;
        while (k > 0 && (line[k - 1] == '\n' || line[k - 1] == '\r'))
            line[--k] = '\0';
        s += strspn(s, " \t");
        if (*s == '#' || *s == ';')
            continue; /* comments, also inside a continuation */
        len = strlen(s);
        cont = len > 0 && s[len - 1] == '\\';
        logical = realloc(logical, logical_len + len + 2);
        cr_assert_not_null(logical);
        memcpy(logical + logical_len, s, len);
        logical_len += len;
        logical[logical_len] = '\0';
        if (cont) {
            logical[logical_len - 1] = ' ';
            continue;
        }
        s = logical;
        logical_len = 0;
        if (s[0] == '[') {
            snprintf(section, sizeof(section), "%.*s", (int)strcspn(s + 1, "]"), s + 1);
            continue;
        }
        e = strchr(s, '=');
        if (!e || e == s)
            continue;
        *e = '\0';
        while (e > s && strchr(" \t", e[-1]))
            *--e = '\0';
        {
            const char *v = e + 1 + strspn(e + 1, " \t");
            size_t i;

            for (i = 0; i < n; i++)
                if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].key, s) == 0)
                    break;
            if (i == n) {
                if (n == cap) {
                    cap = cap ? 2 * cap : 16;
                    keys = realloc(keys, cap * sizeof(*keys));
                    cr_assert_not_null(keys);
                }
                memset(&keys[n], 0, sizeof(keys[n]));
                snprintf(keys[n].section, sizeof(keys[n].section), "%s", section);
                snprintf(keys[n].key, sizeof(keys[n].key), "%s", s);
                keys[n].line = lineno;
                n++;
            }
            keys[i].last_empty = *v == '\0';
        }
    }
    free(line);
    free(logical);
    fclose(f);
    *ret_n = n;
    return keys;
}

/* Whether loading reported `key` in `section` as unsupported or unknown (no property then). */
static bool key_was_ignored(const struct unit_diags *d, const char *section, const char *key)
{
    char a[256], b[256];

    snprintf(a, sizeof(a), "Unsupported key name '%s' in section '%s'", key, section);
    snprintf(b, sizeof(b), "Unknown key name '%s' in section '%s'", key, section);
    for (size_t i = 0; i < d->n; i++)
        if (strstr(d->items[i].message, a) || strstr(d->items[i].message, b))
            return true;
    return false;
}

/* Issue 3, item 6: for every unit systemd loads, show prints a value for every key the file
 * sets (keys minisup only warns about excepted; an empty reset may print empty). */
Test(unit_show, corpus_shows_every_key)
{
    FILE *f = fopen(CORPUS_DIR "/verify.tsv", "re");
    char row[8192];
    unsigned files = 0, keys_checked = 0;

    if (!f)
        cr_skip_test("corpus not found at %s (../shared is not checked out)", CORPUS_DIR);
    while (fgets(row, sizeof(row), f)) {
        char *fields[8] = {0}, *p = row, path[4096];
        const char *name, *dot;
        struct unit_config *c = NULL;
        struct unit_diags d = {0};
        struct props props = {0};
        struct file_key *keys;
        size_t n_keys = 0;
        bool socket;
        int n = 0, r;

        while (n < 8 && (fields[n] = strsep(&p, "\t")))
            n++;
        if (n < 8 || strcmp(fields[0], "set") == 0 || strcmp(fields[6], "yes") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/units/%s", CORPUS_DIR, fields[1]);
        r = unit_file_load(path, NULL, &test_ctx, &c, &d);
        cr_expect_eq(r, 0, "%s: %d", path, r);
        if (r < 0) {
            unit_diags_done(&d);
            continue;
        }
        cr_assert_eq(unit_show_properties(c, UNIT_SHOW_EMPTY, collect, &props), 0);

        name = strrchr(path, '/') + 1;
        dot = strrchr(name, '.');
        socket = strcmp(dot, ".socket") == 0;
        keys = read_keys(path, &n_keys);
        for (size_t i = 0; i < n_keys; i++) {
            const struct file_key *k = &keys[i];
            const char *prop;
            bool shown = false;

            if (strncmp(k->key, "X-", 2) == 0 || strncmp(k->section, "X-", 2) == 0)
                continue;
            if (strcmp(k->section, "Unit") != 0 && strcmp(k->section, "Install") != 0 &&
                strcmp(k->section, socket ? "Socket" : "Service") != 0)
                continue; /* a section this kind of unit does not have: warned about */
            if (key_was_ignored(&d, k->section, k->key))
                continue;
            prop = unit_show_property_for_key(k->section, k->key);
            cr_expect_not_null(prop, "%s:%u: no property for [%s] %s", path, k->line, k->section,
                               k->key);
            if (!prop)
                continue;
            for (size_t j = 0; j < props.n; j++)
                if (strcmp(props.names[j], prop) == 0 && props.values[j][0] != '\0')
                    shown = true;
            cr_expect(shown || k->last_empty, "%s:%u: %s= set, but %s= shows nothing", path,
                      k->line, k->key, prop);
            keys_checked++;
        }
        free(keys);
        props_done(&props);
        unit_config_free(c);
        unit_diags_done(&d);
        files++;
    }
    fclose(f);
    cr_assert_gt(files, 100);
    cr_assert_gt(keys_checked, 500);
}
