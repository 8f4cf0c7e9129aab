/* Installation (issue 6): `cmake --install` of this build tree into a fresh mkdtemp prefix, then
 * the installed files are checked and the installed programs run: minisupctl --version,
 * minisupd --verify of etc/units, a daemon whose bare ExecStart=fifo-echo must resolve to the
 * installed fifo-echo, each manual formatted by man(1) without a warning, and the installed
 * bash completion offering commands and unit names. The build tree is the parent of
 * MINISUP_BIN_DIR; cmake comes from PATH. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define RUN_TIMEOUT_MS 120000

static struct daemon d;
static char build_dir[PATH_MAX]; /* the tree cmake --install reads */
static char prefix[PATH_MAX];    /* base/prefix, the install prefix */

/* The directories of the install, relative to the prefix, as the build tree configured them. */
static char bindir[PATH_MAX], mandir[PATH_MAX], datadir[PATH_MAX];

/* printf into a PATH_MAX buffer; a path that does not fit fails the test. Returns buf. */
__attribute__((format(printf, 2, 3))) static char *pathf(char *buf, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, PATH_MAX, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && n < PATH_MAX, "path too long: %s", buf);
    return buf;
}

/* Reads "NAME:TYPE=value" from the build tree's CMakeCache.txt into buf; def when absent or
 * empty. */
static void cache_value(const char *name, const char *def, char *buf, size_t size)
{
    char path[PATH_MAX], line[4096];
    size_t n = strlen(name);
    FILE *f;

    snprintf(buf, size, "%s", def);
    pathf(path, "%s/CMakeCache.txt", build_dir);
    f = fopen(path, "re");
    cr_assert_not_null(f, "cannot read %s: %s", path, strerror(errno));
    while (fgets(line, sizeof(line), f)) {
        char *eq = strchr(line, '=');
        if (strncmp(line, name, n) != 0 || line[n] != ':' || !eq)
            continue;
        eq[strcspn(eq, "\n")] = '\0';
        if (eq[1]) /* GNUInstallDirs caches "" for the directories derived from another */
            snprintf(buf, size, "%s", eq + 1);
    }
    fclose(f);
    cr_assert(buf[0] != '/', "%s is absolute (%s): the install would not go under the prefix", name,
              buf);
}

/* Runs argv with stdin from /dev/null, stdout and stderr together into *ret_out (may be NULL),
 * and env (NAME=value strings, NULL-terminated, may be NULL) added to the environment. Returns
 * the exit code; fails the test on a deadline or a signal. */
static int run(const char *const *argv, const char *const *env, char **ret_out)
{
    int out = memfd_create("run-out", MFD_CLOEXEC), status;
    pid_t pid;

    cr_assert(out >= 0, "memfd_create: %s", strerror(errno));
    pid = fork();
    cr_assert(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int null_fd = open("/dev/null", O_RDONLY);
        sigset_t none;

        if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(126);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        close_range(3, ~0U, 0);
        for (const char *const *e = env; e && *e; e++)
            putenv((char *)(uintptr_t)*e); /* the child's own copy of the environment */
        /* execvp's prototype predates const; the strings are not modified. */
        execvp(argv[0], (char *const *)(uintptr_t)argv);
        dprintf(2, "cannot execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (!harness_wait_pid(pid, RUN_TIMEOUT_MS, &status)) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        cr_assert_fail("%s did not finish within %d ms", argv[0], RUN_TIMEOUT_MS);
    }
    if (ret_out) {
        off_t len = lseek(out, 0, SEEK_END);
        char *text = malloc((size_t)len + 1);

        cr_assert_not_null(text);
        cr_assert_eq(pread(out, text, (size_t)len, 0), len, "cannot read the output of %s",
                     argv[0]);
        text[len] = '\0';
        *ret_out = text;
    }
    close(out);
    cr_assert(WIFEXITED(status), "%s died of signal %d", argv[0], WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* `cmake --install build_dir --prefix to`, with DESTDIR=destdir when destdir is not NULL. */
static void install_to(const char *to, const char *destdir)
{
    const char *argv[] = {"cmake", "--install", build_dir, "--prefix", to, NULL};
    char env_destdir[PATH_MAX + 16];
    const char *env[] = {env_destdir, NULL};
    char *out = NULL;
    int r;

    snprintf(env_destdir, sizeof(env_destdir), "DESTDIR=%s", destdir ? destdir : "");
    r = run(argv, destdir ? env : NULL, &out);
    cr_assert_eq(r, 0, "cmake --install %s --prefix %s exited %d:\n%s", build_dir, to, r, out);
    free(out);
}

/* <root>/<dir>/<name> into buf (PATH_MAX bytes). */
static char *installed(char *buf, const char *root, const char *dir, const char *name)
{
    return pathf(buf, "%s/%s/%s", root, dir, name);
}

static void assert_file(const char *path, bool executable)
{
    struct stat st;

    cr_assert(stat(path, &st) == 0, "%s is not installed: %s", path, strerror(errno));
    cr_assert(S_ISREG(st.st_mode), "%s is not a regular file", path);
    cr_assert(st.st_size > 0, "%s is empty", path);
    if (executable)
        cr_assert(access(path, X_OK) == 0, "%s is not executable", path);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "re");
    char *text = NULL;
    size_t size = 0;

    cr_assert_not_null(f, "cannot read %s: %s", path, strerror(errno));
    cr_assert(getdelim(&text, &size, '\0', f) >= 0, "cannot read %s", path);
    fclose(f);
    return text;
}

/* The files of every install, under root (the prefix, or DESTDIR + prefix). */
static void assert_installed(const char *root)
{
    char p[PATH_MAX], sub[PATH_MAX];

    assert_file(installed(p, root, bindir, "minisupd"), true);
    assert_file(installed(p, root, bindir, "minisupctl"), true);
    assert_file(installed(p, root, bindir, "fifo-echo"), true);
    pathf(sub, "%s/man1", mandir);
    assert_file(installed(p, root, sub, "minisupctl.1"), false);
    pathf(sub, "%s/man5", mandir);
    assert_file(installed(p, root, sub, "minisup.unit.5"), false);
    pathf(sub, "%s/man8", mandir);
    assert_file(installed(p, root, sub, "minisupd.8"), false);
    pathf(sub, "%s/bash-completion/completions", datadir);
    assert_file(installed(p, root, sub, "minisupctl"), false);
    pathf(sub, "%s/doc/minisup", datadir);
    assert_file(installed(p, root, sub, "minisupd.service"), false);
}

static void setup(void)
{
    char bin[PATH_MAX], dataroot[PATH_MAX], man[PATH_MAX];

    harness_init(&d);
    pathf(bin, "%s", MINISUP_BIN_DIR);
    snprintf(build_dir, sizeof(build_dir), "%s", dirname(bin));
    cache_value("CMAKE_INSTALL_BINDIR", "bin", bindir, sizeof(bindir));
    cache_value("CMAKE_INSTALL_DATAROOTDIR", "share", dataroot, sizeof(dataroot));
    cache_value("CMAKE_INSTALL_DATADIR", dataroot, datadir, sizeof(datadir));
    cache_value("CMAKE_INSTALL_MANDIR", pathf(man, "%s/man", dataroot), mandir, sizeof(mandir));
    harness_path(&d, prefix, "prefix");
    cr_assert(mkdir(prefix, 0755) == 0, "mkdir %s: %s", prefix, strerror(errno));
    install_to(prefix, NULL);
}

static void teardown(void)
{
    harness_cleanup(&d);
}

TestSuite(install, .init = setup, .fini = teardown, .timeout = 240);

Test(install, files_and_binaries)
{
    char ctl[PATH_MAX], daemon[PATH_MAX], units[PATH_MAX], *out = NULL;
    int r;

    assert_installed(prefix);

    installed(ctl, prefix, bindir, "minisupctl");
    r = run((const char *const[]){ctl, "--version", NULL}, NULL, &out);
    cr_assert_eq(r, 0, "%s --version exited %d: %s", ctl, r, out);
    cr_assert(strncmp(out, "minisupctl ", 11) == 0, "%s --version printed: %s", ctl, out);
    free(out);

    installed(daemon, prefix, bindir, "minisupd");
    r = run((const char *const[]){daemon, "--version", NULL}, NULL, &out);
    cr_assert_eq(r, 0, "%s --version exited %d: %s", daemon, r, out);
    cr_assert(strncmp(out, "minisupd ", 9) == 0, "%s --version printed: %s", daemon, out);
    free(out);

    snprintf(units, sizeof(units), "%s/etc/units", MINISUP_SOURCE_DIR);
    r = run((const char *const[]){daemon, "--verify", "-d", units, NULL}, NULL, &out);
    cr_assert_eq(r, 0, "%s --verify -d %s exited %d:\n%s", daemon, units, r, out);
    free(out);
}

/* The example unit names the installed minisupd, and minisupd's own reader accepts it. */
Test(install, example_unit)
{
    char unit[PATH_MAX], dir[PATH_MAX], daemon[PATH_MAX], want[PATH_MAX + 32], *text, *out = NULL;
    int r;

    pathf(dir, "%s/doc/minisup", datadir);
    installed(unit, prefix, dir, "minisupd.service");
    installed(daemon, prefix, bindir, "minisupd");
    text = read_text(unit);
    snprintf(want, sizeof(want), "\nExecStart=%s -d ", daemon);
    cr_assert_not_null(strstr(text, want), "%s does not name the installed minisupd:\n%s", unit,
                       text);
    cr_assert_not_null(strstr(text, "\nType=notify\n"),
                       "%s: minisupd sends READY=1, so the example is Type=notify", unit);
    free(text);

    installed(dir, prefix, datadir, "doc/minisup");
    r = run((const char *const[]){daemon, "--verify", "-d", dir, NULL}, NULL, &out);
    cr_assert_eq(r, 0, "%s --verify -d %s exited %d:\n%s", daemon, dir, r, out);
    free(out);
}

/* DESTDIR stages the tree, while the files still name the prefix. */
Test(install, destdir)
{
    char stage[PATH_MAX], root[PATH_MAX], unit[PATH_MAX], dir[PATH_MAX], *text;
    const char *to = "/opt/minisup-test";

    harness_path(&d, stage, "stage");
    cr_assert(mkdir(stage, 0755) == 0, "mkdir %s: %s", stage, strerror(errno));
    install_to(to, stage);
    pathf(root, "%s%s", stage, to);
    assert_installed(root);
    pathf(dir, "%s/doc/minisup", datadir);
    text = read_text(installed(unit, root, dir, "minisupd.service"));
    cr_assert_not_null(strstr(text, "\nExecStart=/opt/minisup-test/"), "%s:\n%s", unit, text);
    free(text);
}

/* Each manual formats without a warning: MANWIDTH=80 man --warnings -l page 2>&1 >/dev/null. */
Test(install, man_pages)
{
    static const char *const pages[][2] = {
        {"man1", "minisupctl.1"},
        {"man5", "minisup.unit.5"},
        {"man8", "minisupd.8"},
    };
    static const char *const env[] = {"MANWIDTH=80", NULL};

    if (run((const char *const[]){"sh", "-c", "command -v man", NULL}, NULL, NULL) != 0)
        cr_skip_test("man is not installed: the pages are not formatted");
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        char sub[PATH_MAX], page[PATH_MAX], *out = NULL, *text = NULL;
        int r;

        pathf(sub, "%s/%s", mandir, pages[i][0]);
        installed(page, prefix, sub, pages[i][1]);
        r = run((const char *const[]){"sh", "-c", "man --warnings -l \"$1\" 2>&1 >/dev/null", "sh",
                                      page, NULL},
                env, &out);
        cr_assert(r == 0 && out[0] == '\0', "man --warnings -l %s exited %d and said:\n%s", page, r,
                  out);
        free(out);
        /* And it says something: the NAME line. */
        r = run((const char *const[]){"man", "-l", page, NULL}, env, &text);
        cr_assert_eq(r, 0, "man -l %s exited %d", page, r);
        cr_assert_not_null(strstr(text, "NAME"), "man -l %s printed:\n%s", page, text);
        free(text);
    }
}

/* Runs the installed completion for words (the command line, the last word being completed)
 * in bash -c, with the installed bin directory first in PATH. Returns COMPREPLY, one per line. */
static char *complete(const char *const *words)
{
    static const char script[] =
        "source \"$1\" || exit 1\n"
        "shift\n"
        "COMP_WORDS=(\"$@\")\n"
        "COMP_CWORD=$(($# - 1))\n"
        "COMP_LINE=\"$*\"\n"
        "COMP_POINT=${#COMP_LINE}\n"
        "_minisupctl || exit 1\n"
        "[[ ${#COMPREPLY[@]} -eq 0 ]] || printf '%s\\n' \"${COMPREPLY[@]}\"\n";
    char completion[PATH_MAX], sub[PATH_MAX], bin[PATH_MAX], path_env[2 * PATH_MAX + 8];
    const char *env[] = {path_env, NULL};
    const char *argv[32] = {"bash", "-c", script, "bash", completion};
    size_t n = 5;
    char *out = NULL;
    int r;

    pathf(sub, "%s/bash-completion/completions", datadir);
    installed(completion, prefix, sub, "minisupctl");
    installed(bin, prefix, bindir, "");
    snprintf(path_env, sizeof(path_env), "PATH=%s:%s", bin, getenv("PATH") ?: "/usr/bin:/bin");
    for (const char *const *w = words; *w; w++) {
        cr_assert(n + 1 < sizeof(argv) / sizeof(argv[0]));
        argv[n++] = *w;
    }
    argv[n] = NULL;
    r = run(argv, env, &out);
    cr_assert_eq(r, 0, "the completion failed (exit %d):\n%s", r, out);
    return out;
}

static bool offered(const char *reply, const char *word)
{
    return harness_count_lines(reply, word) == 1;
}

Test(install, completion_of_commands)
{
    char *reply = complete((const char *const[]){"minisupctl", "st", NULL});

    cr_assert(offered(reply, "start") && offered(reply, "status") && offered(reply, "stop"),
              "minisupctl st<TAB> offered:\n%s", reply);
    cr_assert(!offered(reply, "restart"), "minisupctl st<TAB> offered:\n%s", reply);
    free(reply);

    reply = complete((const char *const[]){"minisupctl", "--out", NULL});
    cr_assert(offered(reply, "--output="), "minisupctl --out<TAB> offered:\n%s", reply);
    free(reply);

    /* journalctl's options journal has, from --help. */
    reply = complete((const char *const[]){"minisupctl", "journal", "--", NULL});
    cr_assert(offered(reply, "--boot") && offered(reply, "--utc") &&
                  offered(reply, "--no-hostname"),
              "journal --<TAB> offered:\n%s", reply);
    free(reply);

    reply = complete((const char *const[]){"minisupctl", "journal", "-o", "short-", NULL});
    cr_assert(offered(reply, "short-iso") && offered(reply, "short-precise"),
              "journal -o short-<TAB> offered:\n%s", reply);
    free(reply);

    /* -n's value is optional (journalctl's), but the next word is still completed as one. */
    reply = complete((const char *const[]){"minisupctl", "journal", "-n", "", NULL});
    cr_assert_str_eq(reply, "all\n", "journal -n <TAB> offered:\n%s", reply);
    free(reply);

    /* Every mode minisupctl accepts (its -o help), not a subset. */
    reply = complete((const char *const[]){"minisupctl", "journal", "-o", "", NULL});
    {
        static const char *const modes[] = {"short",           "short-iso",  "short-precise",
                                            "short-monotonic", "short-unix", "short-full",
                                            "with-unit",       "cat",        "json",
                                            "json-pretty",     "verbose",    "export"};
        size_t lines = 0;

        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
            cr_assert(offered(reply, modes[i]), "journal -o <TAB> did not offer %s:\n%s", modes[i],
                      reply);
        for (const char *p = reply; (p = strchr(p, '\n')); p++)
            lines++;
        cr_assert_eq(lines, sizeof(modes) / sizeof(modes[0]), "journal -o <TAB> offered:\n%s",
                     reply);
    }
    free(reply);

    /* kill -s is systemctl's --signal: signal names, not files. */
    reply = complete((const char *const[]){"minisupctl", "kill", "-s", "US", NULL});
    cr_assert_str_eq(reply, "USR1\nUSR2\n", "kill -s US<TAB> offered:\n%s", reply);
    free(reply);
    reply = complete((const char *const[]){"minisupctl", "kill", "--kill-whom", "main", NULL});
    cr_assert_str_eq(reply, "main\nmain-fail\n", "kill --kill-whom main<TAB> offered:\n%s", reply);
    free(reply);

    /* No daemon to ask: no unit names, and no noise. */
    reply = complete((const char *const[]){"minisupctl", "-s", "/nonexistent/minisupd.sock",
                                           "status", "", NULL});
    cr_assert_str_empty(reply, "status <TAB> without a daemon offered:\n%s", reply);
    free(reply);
}

/* The installed minisupd, started as the harness starts the built one, runs a unit whose bare
 * ExecStart= must be found beside it; the installed minisupctl drives it; the installed
 * completion asks it for unit names. */
Test(install, installed_daemon_and_unit_names)
{
    char daemon[PATH_MAX], ctl[PATH_MAX], fifo[PATH_MAX], echo[PATH_MAX], want[PATH_MAX];
    char link[32], exe[PATH_MAX], *out = NULL, *reply;
    ssize_t len;
    pid_t main_pid;
    /* `sh -c 'shift; exec "$0" "$@"' INSTALLED BUILT -d ...`: the installed one, same pid. */
    const char *const wrapper[] = {"sh", "-c", "shift; exec \"$0\" \"$@\"", daemon, NULL};
    const struct harness_start_opts opts = {.wrapper = wrapper};
    int r;

    installed(daemon, prefix, bindir, "minisupd");
    installed(ctl, prefix, bindir, "minisupctl");
    harness_path(&d, fifo, "run/install-echo.fifo");
    harness_write_unitf(&d, "install-echo.service",
                        "[Unit]\n"
                        "Description=fifo-echo from the installed bin directory\n"
                        "\n"
                        "[Service]\n"
                        "ExecStart=fifo-echo --fifo %s\n"
                        "Environment=ASAN_OPTIONS=detect_leaks=0\n"
                        "TimeoutStopSec=5s\n",
                        fifo);
    harness_start_with(&d, &opts);

    r = run((const char *const[]){ctl, "-s", d.socket, "start", "install-echo", NULL}, NULL, &out);
    cr_assert_eq(r, 0, "installed minisupctl start exited %d:\n%s", r, out);
    free(out);
    r = run((const char *const[]){ctl, "-s", d.socket, "status", "install-echo", NULL}, NULL, &out);
    cr_assert_eq(r, 0, "installed minisupctl status exited %d:\n%s", r, out);
    cr_assert_not_null(strstr(out, "Active: active (running)"), "status:\n%s", out);
    free(out);
    /* Its program is the installed fifo-echo, found beside the installed minisupd. */
    main_pid = harness_main_pid(&d, "install-echo");
    cr_assert_gt(main_pid, 0, "install-echo has no main PID");
    snprintf(link, sizeof(link), "/proc/%d/exe", (int)main_pid);
    len = readlink(link, exe, sizeof(exe) - 1);
    cr_assert_gt(len, 0, "readlink %s: %s", link, strerror(errno));
    exe[len] = '\0';
    installed(echo, prefix, bindir, "fifo-echo");
    cr_assert_not_null(realpath(echo, want), "realpath %s: %s", echo, strerror(errno));
    cr_assert_str_eq(exe, want, "install-echo runs %s, not the installed fifo-echo", exe);

    r = run((const char *const[]){ctl, "-s", d.socket, "version", NULL}, NULL, &out);
    cr_assert_eq(r, 0, "installed minisupctl version exited %d:\n%s", r, out);
    cr_assert_not_null(strstr(out, "minisupd "), "version:\n%s", out);
    free(out);

    /* Unit names, with and without .service. */
    reply = complete((const char *const[]){"minisupctl", "-s", d.socket, "stop", "install-", NULL});
    cr_assert(offered(reply, "install-echo.service") && offered(reply, "install-echo"),
              "stop install-<TAB> offered:\n%s", reply);
    free(reply);
    reply = complete(
        (const char *const[]){"minisupctl", "--socket", "=", d.socket, "status", "inst", NULL});
    cr_assert(offered(reply, "install-echo.service") && offered(reply, "install-echo"),
              "status inst<TAB> offered:\n%s", reply);
    free(reply);
    reply = complete((const char *const[]){"minisupctl", "-s", d.socket, "journal", "-u",
                                           "install-echo.", NULL});
    cr_assert(offered(reply, "install-echo.service") && !offered(reply, "install-echo"),
              "journal -u install-echo.<TAB> offered:\n%s", reply);
    free(reply);
    /* -b's value is optional and rarely typed: the word after it is a unit. */
    reply = complete(
        (const char *const[]){"minisupctl", "-s", d.socket, "journal", "-b", "install-", NULL});
    cr_assert(offered(reply, "install-echo.service"), "journal -b install-<TAB> offered:\n%s",
              reply);
    free(reply);

    r = run((const char *const[]){ctl, "-s", d.socket, "stop", "install-echo", NULL}, NULL, &out);
    cr_assert_eq(r, 0, "installed minisupctl stop exited %d:\n%s", r, out);
    free(out);
    harness_stop(&d);
}
