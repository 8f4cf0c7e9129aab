/* The process record (CRASH-1, PID-1): what one instance writes, the next one stops, and a pid
 * whose start time differs from the record (reused) is never signalled. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "proc.h"
#include "process_record.h"

static char dir[] = "/tmp/minisup-precord-XXXXXX";
static char path[256];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/%s", dir, PROCESS_RECORD_NAME);
}

static void teardown(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)!system(cmd);
}

/* A child that ignores SIGTERM, in its own process group, with a grandchild in that group. */
static pid_t spawn_stubborn(void)
{
    int p[2];
    char c;
    pid_t pid;

    cr_assert_eq(pipe(p), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGTERM, SIG_IGN);
        if (fork() == 0) {
            for (;;)
                pause();
        }
        (void)!write(p[1], "r", 1);
        for (;;)
            pause();
    }
    close(p[1]);
    cr_assert_eq(read(p[0], &c, 1), 1);
    close(p[0]);
    return pid;
}

static unsigned short_timeout(const char *unit, void *ud)
{
    return 200;
}

struct stops {
    int n;
    bool killed;
    char unit[64];
};

static void on_stopped(const char *unit, pid_t pid, const char *comm, bool killed, void *ud)
{
    struct stops *s = ud;

    s->n++;
    s->killed = killed;
    snprintf(s->unit, sizeof(s->unit), "%s", unit);
}

static bool reaped_within(pid_t pid, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return true;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

Test(process_record, written_record_is_swept_with_its_group_CRASH_1, .init = setup,
     .fini = teardown)
{
    struct process_record *r;
    pid_t pid = spawn_stubborn();
    struct process_entry e[] = {{pid, "stubborn.service", 0}};
    struct stops st = {0};
    pid_t members[4];

    cr_assert_eq(process_record_new(dir, &r), 0);
    cr_assert_eq(process_record_write(r, e, 1), 0);
    process_record_free(r, false); /* as a kill -9 leaves it */
    cr_assert_eq(access(path, F_OK), 0);
    cr_assert_eq(proc_group_members(pid, members, 4), 2, "leader and grandchild");

    cr_assert_eq(process_record_sweep(dir, short_timeout, on_stopped, &st), 1);
    cr_assert_eq(st.n, 1);
    cr_assert(st.killed, "SIGTERM is ignored: SIGKILL after the unit's timeout");
    cr_assert_str_eq(st.unit, "stubborn.service");
    cr_assert(reaped_within(pid, 1000));
    cr_assert_eq(proc_group_members(pid, members, 4), 0, "the whole group is gone");
    cr_assert_neq(access(path, F_OK), 0, "the record is removed after the sweep");
}

Test(process_record, reused_pid_is_never_signalled_PID_1, .init = setup, .fini = teardown)
{
    pid_t pid = spawn_stubborn();
    uint64_t start;
    pid_t pgid;
    FILE *f;
    struct stops st = {0};

    /* The same pid, but a start time it does not have: another process holds the pid now. */
    cr_assert_eq(proc_start_time(pid, &start, &pgid), 0);
    f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "# test\n%d %d %llu reused.service\n", (int)pid, (int)pgid,
            (unsigned long long)start + 1);
    fprintf(f, "garbage line\n1 1 1 init.service\n");
    fclose(f);

    cr_assert_eq(process_record_sweep(dir, short_timeout, on_stopped, &st), 0);
    cr_assert_eq(st.n, 0);
    cr_assert_eq(kill(pid, 0), 0, "the process with the reused pid still runs");
    cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0);
    kill(-pid, SIGKILL);
    cr_assert(reaped_within(pid, 1000));
}

Test(process_record, clean_exit_removes_the_record_and_gone_processes_are_left_out, .init = setup,
     .fini = teardown)
{
    struct process_record *r;
    pid_t pid = fork();
    char buf[512] = "";
    FILE *f;

    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(0);
    cr_assert(reaped_within(pid, 1000));
    struct process_entry e[] = {{pid, "gone.service", 0}, {getpid(), "self.service", 0}};
    cr_assert_eq(process_record_new(dir, &r), 0);
    cr_assert_eq(process_record_write(r, e, 2), 0);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fread(buf, 1, sizeof(buf) - 1, f) > 0, true);
    fclose(f);
    cr_assert_null(strstr(buf, "gone.service"));
    cr_assert_not_null(strstr(buf, "self.service"));
    process_record_free(r, true);
    cr_assert_neq(access(path, F_OK), 0);
}

static size_t read_record(char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n;

    cr_assert_not_null(f);
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* Each process's line is formatted once and reused; the file must still hold exactly the
 * processes of the last write, in the order given, after it grew and after it shrank. */
Test(process_record, rewrites_hold_exactly_the_last_set, .init = setup, .fini = teardown)
{
    struct process_record *r;
    char buf[4096], want[4096];
    uint64_t start;
    pid_t self = getpid(), parent = getppid(), pgid;
    const char *hdr = "# minisupd process record: pid pgid starttime unit\n";
    int w;

    cr_assert_eq(process_record_new(dir, &r), 0);
    struct process_entry one[] = {{self, "a.service", 0}};
    struct process_entry two[] = {{parent, "b.service", 0}, {self, "a.service", 0}};
    cr_assert_eq(process_record_write(r, one, 1), 0);
    cr_assert_eq(process_record_write(r, two, 2), 0);
    read_record(buf, sizeof(buf));
    cr_assert_eq(proc_start_time(parent, &start, &pgid), 0);
    w = snprintf(want, sizeof(want), "%s%d %d %llu b.service\n", hdr, (int)parent, (int)pgid,
                 (unsigned long long)start);
    cr_assert_eq(proc_start_time(self, &start, &pgid), 0);
    snprintf(want + w, sizeof(want) - (size_t)w, "%d %d %llu a.service\n", (int)self, (int)pgid,
             (unsigned long long)start);
    cr_assert_str_eq(buf, want);

    /* Shrinks: the longer old text must not survive past the new end. */
    cr_assert_eq(process_record_write(r, one, 1), 0);
    read_record(buf, sizeof(buf));
    cr_assert_eq(strncmp(buf, hdr, strlen(hdr)), 0);
    cr_assert_str_eq(buf + strlen(hdr), want + w);

    /* Empty, then the same process again: its line comes back whole. */
    cr_assert_eq(process_record_write(r, NULL, 0), 0);
    read_record(buf, sizeof(buf));
    cr_assert_str_eq(buf, hdr);
    cr_assert_eq(process_record_write(r, two, 2), 0);
    read_record(buf, sizeof(buf));
    cr_assert_str_eq(buf, want);
    process_record_free(r, true);
}
