/* proc.c: listing our own children, as the escaped-process sweep does (STOP-4). */
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
