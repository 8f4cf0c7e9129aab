/* The unit directory's change counter (unit_dir_watch.c) on a real loop and a real directory:
 * every change NeedDaemonReload looks for must move the generation, and a watch that is gone
 * must say "unknown" (0) rather than "unchanged". */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "unit_dir_watch.h"

static uv_loop_t loop;
static char dir[64];
static struct unit_dir_watch *w;

static void on_deadline(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* Runs the loop until the generation differs from before, or 5 s passed. */
static uint64_t wait_moved(uint64_t before)
{
    uv_timer_t t;
    int expired = 0;

    uv_timer_init(&loop, &t);
    t.data = &expired;
    uv_timer_start(&t, on_deadline, 5000, 0);
    while (!expired && unit_dir_watch_generation(w) == before)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_neq(unit_dir_watch_generation(w), before, "the generation did not move in 5 s");
    return unit_dir_watch_generation(w);
}

static void write_file(const char *name, const char *text)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "a");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
}

static void setup(void)
{
    strcpy(dir, "/tmp/minisup-dirwatch-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(uv_loop_init(&loop), 0);
}

static void teardown(void)
{
    char cmd[128];

    unit_dir_watch_free(w);
    w = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    cr_expect_eq(uv_loop_close(&loop), 0, "a handle was left open");
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(unit_dir_watch, .init = setup, .fini = teardown, .timeout = 30);

Test(unit_dir_watch, a_unit_file_written_moves_the_generation)
{
    write_file("a.service", "[Service]\nExecStart=/bin/true\n");
    w = unit_dir_watch_new(&loop, dir);
    uint64_t g = unit_dir_watch_generation(w);
    cr_assert_neq(g, 0, "watching a directory that exists");

    /* Quiet: no change, no movement. */
    for (int i = 0; i < 5; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    cr_assert_eq(unit_dir_watch_generation(w), g);

    write_file("a.service", "Restart=always\n"); /* edited in place */
    g = wait_moved(g);
    char from[128], to[128];
    snprintf(from, sizeof(from), "%s/a.service", dir);
    snprintf(to, sizeof(to), "%s/.a.service.swp", dir);
    cr_assert_eq(rename(from, to), 0); /* an editor's save: away and back again */
    g = wait_moved(g);
    cr_assert_eq(rename(to, from), 0);
    wait_moved(g);
}

Test(unit_dir_watch, a_drop_in_written_moves_the_generation)
{
    make_dir("a.service.d");
    w = unit_dir_watch_new(&loop, dir);
    uint64_t g = unit_dir_watch_generation(w);

    write_file("a.service.d/override.conf", "[Service]\nEnvironment=A=1\n");
    g = wait_moved(g);
    write_file("a.service.d/override.conf", "Environment=B=2\n");
    wait_moved(g);
}

Test(unit_dir_watch, a_drop_in_directory_made_later_is_watched_too)
{
    w = unit_dir_watch_new(&loop, dir);
    uint64_t g = unit_dir_watch_generation(w);

    make_dir("service.d");
    g = wait_moved(g);
    /* Its watch is set up when the mkdir is heard: a file written after that is heard too. */
    write_file("service.d/all.conf", "[Service]\nNice=1\n");
    g = wait_moved(g);
    write_file("service.d/all.conf", "Nice=2\n");
    wait_moved(g);
}

Test(unit_dir_watch, a_missing_directory_says_unknown)
{
    char missing[96];

    snprintf(missing, sizeof(missing), "%s/none", dir);
    w = unit_dir_watch_new(&loop, missing);
    cr_assert_not_null(w);
    cr_assert_eq(unit_dir_watch_generation(w), 0);
}

Test(unit_dir_watch, a_directory_removed_says_unknown_until_rescanned)
{
    char sub[96], cmd[256];

    snprintf(sub, sizeof(sub), "%s/units", dir);
    cr_assert_eq(mkdir(sub, 0755), 0);
    w = unit_dir_watch_new(&loop, sub);
    uint64_t g = unit_dir_watch_generation(w);
    cr_assert_neq(g, 0);

    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir %s", sub, sub);
    cr_assert_eq(system(cmd), 0);
    /* The old watch is dead: nothing in the new directory would be heard. */
    wait_moved(g);
    cr_assert_eq(unit_dir_watch_generation(w), 0);

    unit_dir_watch_rescan(w);
    g = unit_dir_watch_generation(w);
    cr_assert_neq(g, 0, "watching again after a rescan");
    write_file("units/b.service", "[Service]\nExecStart=/bin/true\n");
    wait_moved(g);
}

Test(unit_dir_watch, a_rescan_moves_the_generation)
{
    w = unit_dir_watch_new(&loop, dir);
    uint64_t g = unit_dir_watch_generation(w);

    unit_dir_watch_rescan(w);
    cr_assert_neq(unit_dir_watch_generation(w), g);
    cr_assert_neq(unit_dir_watch_generation(w), 0);
}
