/* proc.c: listing our own children, as the escaped-process sweep does (STOP-4), and what
 * status's process list reads of a process: its stat, its command line, its descendants. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "proc.h"

/* More children than one 64 KiB read of /proc/self/task/TID/children can name: 12,000 pids of
 * 5 digits and a space are 72,000 bytes (pid_max 32768; 7-digit pids need only 8,192). */
#define MANY 12000

#define KID_STACK 65536

static pid_t kids[MANY];
static size_t n_kids;
static char *stacks;

/* A child that shares our memory (CLONE_VM, on a stack of its own) and waits to be killed:
 * forking the test process 12,000 times would copy its page tables each time. */
static int kid_main(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return 0;
}

static int cmp_pid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

static void kill_kids(void)
{
    for (size_t i = 0; i < n_kids; i++)
        kill(kids[i], SIGKILL);
    for (size_t i = 0; i < n_kids; i++)
        waitpid(kids[i], NULL, 0);
    n_kids = 0;
    if (stacks)
        munmap(stacks, (size_t)MANY * KID_STACK);
    stacks = NULL;
}

Test(proc, untracked_children_lists_past_64k_of_pids, .fini = kill_kids, .timeout = 110)
{
    static pid_t out[16384];
    size_t n, seen = 0;

    stacks = mmap(NULL, (size_t)MANY * KID_STACK, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    cr_assert(stacks != MAP_FAILED);
    for (n_kids = 0; n_kids < MANY; n_kids++) {
        pid_t pid =
            clone(kid_main, stacks + (n_kids + 1) * (size_t)KID_STACK, CLONE_VM | SIGCHLD, NULL);
        cr_assert(pid > 0, "clone %zu failed", n_kids);
        kids[n_kids] = pid;
    }
    /* No reaper runs here, so nothing is kept between calls: every call reads the file. */
    n = proc_untracked_children(out, 16384, NULL, NULL);
    qsort(kids, n_kids, sizeof(pid_t), cmp_pid);
    for (size_t i = 0; i < n; i++)
        if (bsearch(&out[i], kids, n_kids, sizeof(pid_t), cmp_pid))
            seen++;
    cr_assert_eq(n, MANY, "listed %zu of %d children", n, MANY);
    cr_assert_eq(seen, MANY, "%zu listed pids are ours, of %d", seen, MANY);
}

/* ---- what status's process list reads: /proc/PID/stat, /proc/PID/cmdline, children ---- */

/* comm may hold spaces and parentheses; the fields count from the last ')'. */
Test(proc, parse_stat_fields_after_the_last_paren)
{
    struct proc_stat st;
    const char *text = "4242 (we(ird) na)me) S 4200 4242 4242 0 -1 4194560 123 0 0 0 "
                       "250 40 7 3 20 0 5 0 123456 10000000 300 18446744073709551615\n";

    cr_assert_eq(proc_parse_stat(text, &st), 0);
    cr_expect_str_eq(st.comm, "we(ird) na)me");
    cr_expect_eq(st.state, 'S');
    cr_expect_eq(st.ppid, 4200);
    cr_expect_eq(st.pgrp, 4242);
    cr_expect_eq(st.cpu_ticks, 250 + 40 + 7 + 3);
    cr_expect_eq(st.num_threads, 5);

    cr_expect_eq(proc_parse_stat("4242 (x S 1 2", &st), -EINVAL);
    cr_expect_eq(proc_parse_stat("4242 x) S 1 2", &st), -EINVAL);
    cr_expect_eq(proc_parse_stat("4242 (x) S 1 2 3\n", &st), -EINVAL, "too few fields");
    cr_expect_eq(proc_parse_stat("", &st), -EINVAL);
}

/* proc_format_cmdline() of len bytes of raw into a 4096-byte buffer, as a string to compare. */
static const char *fmt(const char *raw, size_t len, bool truncated, const char *comm)
{
    static char buf[4096];

    proc_format_cmdline(raw, len, truncated, comm, buf, sizeof(buf));
    return buf;
}

#define RAW(s) s, sizeof(s) - 1

/* systemd's get_process_cmdline() without quoting: NULs become spaces, the last one and
 * trailing whitespace go, an empty line is "[comm]". */
Test(proc, format_cmdline_joins_arguments)
{
    cr_expect_str_eq(fmt(RAW("sleep\0"
                             "999\0"),
                         false, "sleep"),
                     "sleep 999");
    cr_expect_str_eq(fmt(RAW("/bin/sh\0-c\0sleep 1 & x\0"), false, "sh"), "/bin/sh -c sleep 1 & x");
    cr_expect_str_eq(fmt(RAW("x\0\0 \0"), false, "x"), "x", "trailing NULs and spaces go");
    cr_expect_str_eq(fmt(RAW("x\n\0"), false, "x"), "x", "a trailing newline too");
    cr_expect_str_eq(fmt(RAW("\0x\0"), false, "x"), " x", "an empty argv[0] stays a space");
    cr_expect_str_eq(fmt(RAW("a\0\0b\0"), false, "a"), "a  b", "an empty argument in between");
    cr_expect_str_eq(fmt(RAW("nginx: worker process"), false, "nginx"), "nginx: worker process",
                     "setproctitle() without a final NUL");
    cr_expect_str_eq(fmt("", 0, false, "kworker/0:1"), "[kworker/0:1]");
    cr_expect_str_eq(fmt(RAW("\0\0"), false, "zed"), "[zed]", "nothing but NULs");
    cr_expect_str_eq(fmt("", 0, false, NULL), "[]");
}

/* Unprintable characters as \xNN per byte (a newline too: one line per process), tab and
 * valid UTF-8 as they are, each byte that is not UTF-8 as U+FFFD, in comm too. */
Test(proc, format_cmdline_escapes)
{
    cr_expect_str_eq(fmt(RAW("a\nb\x1b[0m\0"), false, "a"), "a\\x0ab\\x1b[0m");
    cr_expect_str_eq(fmt(RAW("tab\there\0"), false, "t"), "tab\there");
    cr_expect_str_eq(fmt(RAW("caf\xc3\xa9 \xe2\x97\x8f\0"), false, "c"),
                     "caf\xc3\xa9 \xe2\x97\x8f");
    cr_expect_str_eq(fmt(RAW("C1\xc2\x85\x7f\0"), false, "c"), "C1\\xc2\\x85\\x7f");
    cr_expect_str_eq(fmt(RAW("bad\xff\xc3(\0"), false, "b"), "bad\xef\xbf\xbd\xef\xbf\xbd(");
    cr_expect_str_eq(fmt(RAW("overlong\xc0\xaf\0"), false, "o"),
                     "overlong\xef\xbf\xbd\xef\xbf\xbd");
    cr_expect_str_eq(fmt(RAW("surrogate\xed\xa0\x80\0"), false, "s"),
                     "surrogate\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    cr_expect_str_eq(fmt("", 0, false, "k\x01\xff"), "[k\\x01\xef\xbf\xbd]");
}

/* A line that was read only in part, or does not fit, ends in "…" within the buffer, and a
 * cut never splits a UTF-8 sequence or an escape. */
Test(proc, format_cmdline_cuts_with_an_ellipsis)
{
    char buf[16];

    cr_expect_str_eq(fmt(RAW("sleep\0"
                             "99"),
                         true, "sleep"),
                     "sleep 99\xe2\x80\xa6");
    proc_format_cmdline(RAW("abcdefghijklmnopqrstuvwxyz\0"), false, "x", buf, sizeof(buf));
    cr_expect_str_eq(buf, "abcdefghijkl\xe2\x80\xa6");
    proc_format_cmdline(RAW("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\0"), false,
                        "x", buf, sizeof(buf));
    cr_expect_str_eq(buf, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6");
    proc_format_cmdline(RAW("abcdefghij\x01\0"), false, "x", buf, sizeof(buf));
    cr_expect_str_eq(buf, "abcdefghij\xe2\x80\xa6", "no half escape: %s", buf);
    proc_format_cmdline(RAW("abcdefghijk\0"), false, "x", buf, sizeof(buf));
    cr_expect_str_eq(buf, "abcdefghijk", "fits: no ellipsis");
}

/* A child that has exec'd sleep (its close-on-exec pipe says when), then its zombie. */
Test(proc, cmdline_and_stat_of_a_live_process_and_a_zombie)
{
    int p[2];
    char c, buf[256];
    struct proc_stat st;
    siginfo_t si;
    pid_t pid;

    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(p[0]);
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    cr_assert_eq(read(p[0], &c, 1), 0, "exec'd: the pipe closed");
    close(p[0]);
    proc_cmdline(pid, "sleep", buf, sizeof(buf));
    cr_expect_str_eq(buf, "sleep 30");
    cr_assert_eq(proc_read_stat(pid, &st), 0);
    cr_expect_str_eq(st.comm, "sleep");
    cr_expect_eq(st.ppid, getpid());
    cr_expect_eq(st.num_threads, 1);
    cr_expect_neq(st.state, 'Z');

    kill(pid, SIGKILL);
    cr_assert_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
    cr_assert_eq(proc_read_stat(pid, &st), 0);
    cr_expect_eq(st.state, 'Z');
    proc_cmdline(pid, st.comm, buf, sizeof(buf));
    cr_expect_str_eq(buf, "[sleep]", "a zombie has no command line");
    waitpid(pid, NULL, 0);
    cr_expect_eq(proc_read_stat(pid, &st), -ESRCH);
}

/* A thread that forks a child, says which, and stays alive until its pipe closes: while it
 * lives, the child is listed only in its children file, not in the main thread's. */
static int thread_pipe[2], hold_pipe[2];

static void *thread_forks(void *arg)
{
    pid_t pid = fork();
    char c;

    (void)arg;
    if (pid == 0) {
        pause();
        _exit(0);
    }
    (void)!write(thread_pipe[1], &pid, sizeof(pid));
    (void)!read(hold_pipe[0], &c, 1);
    return NULL;
}

/* Descendants through children and grandchildren, and a child forked by a thread other than
 * the main one, each once; max cuts the walk. */
Test(proc, descendants_of_every_thread_and_generation)
{
    int p[2];
    pid_t child, grandchild = 0, thread_child = 0, all[64], v;
    pthread_t t;
    size_t n;
    bool truncated = true;

    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(pipe(thread_pipe), 0);
    cr_assert_eq(pipe(hold_pipe), 0);
    child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        pid_t g = fork();
        if (g == 0) {
            pause();
            _exit(0);
        }
        (void)!write(p[1], &g, sizeof(g));
        pause();
        _exit(0);
    }
    cr_assert_eq(read(p[0], &grandchild, sizeof(grandchild)), (ssize_t)sizeof(grandchild));
    cr_assert_eq(pthread_create(&t, NULL, thread_forks, NULL), 0);
    cr_assert_eq(read(thread_pipe[0], &thread_child, sizeof(thread_child)),
                 (ssize_t)sizeof(thread_child));
    cr_assert_gt(thread_child, 0);

    all[0] = getpid();
    n = proc_descendants(all, 1, 64, &truncated);
    cr_expect_not(truncated);
    size_t seen_child = 0, seen_grandchild = 0, seen_thread_child = 0;
    for (size_t i = 0; i < n; i++) {
        seen_child += all[i] == child;
        seen_grandchild += all[i] == grandchild;
        seen_thread_child += all[i] == thread_child;
    }
    cr_expect_eq(seen_child, 1);
    cr_expect_eq(seen_grandchild, 1);
    cr_expect_eq(seen_thread_child, 1);

    v = child;
    n = proc_descendants(&v, 1, 1, &truncated);
    cr_expect_eq(n, 1);
    cr_expect(truncated, "the grandchild did not fit");

    /* A byte, not EOF: the children hold the pipe's write end too. */
    cr_assert_eq(write(hold_pipe[1], "x", 1), 1);
    cr_assert_eq(pthread_join(t, NULL), 0);
    kill(child, SIGKILL);
    kill(grandchild, SIGKILL);
    kill(thread_child, SIGKILL);
    waitpid(child, NULL, 0);
    waitpid(thread_child, NULL, 0);
}
