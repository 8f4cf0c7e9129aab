/* Condition*=/Assert*= (systemd.unit(5)): reading them from a unit file (prefixes, reset,
 * relative paths refused) and testing them as systemd does (negation, trigger lists). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "condition_check.h"
#include "unit_file.h"

static const struct unit_load_context ctx = {
    .runtime_dir = "/run/test",
    .state_dir = "/var/lib/test",
    .logs_dir = "/var/log/test",
};

/* Loads text; the diagnostics come back as one string. */
static struct unit_config *load(const char *text, char **diags)
{
    struct unit_config *c = NULL;
    struct unit_diags d = {0};
    size_t len = 0;

    cr_assert_eq(
        unit_file_load_string(text, strlen(text), "/etc/test/c.service", "c.service", &ctx, &c, &d),
        0);
    for (size_t i = 0; i < d.n; i++)
        len += strlen(d.items[i].message) + 1;
    *diags = calloc(1, len + 1);
    for (size_t i = 0; i < d.n; i++) {
        strcat(*diags, d.items[i].message);
        strcat(*diags, "\n");
    }
    unit_diags_done(&d);
    return c;
}

Test(condition, parsed_with_prefixes_and_reset)
{
    char *diags = NULL;
    struct unit_config *c =
        load("[Unit]\nConditionPathExists=|!/etc/nope\nConditionPathExists=relative/x\n"
             "AssertHost=%H\nConditionFileNotEmpty=/etc/passwd\nConditionFileNotEmpty=\n"
             "ConditionDirectoryNotEmpty=/etc\nConditionVirtualization=container\n"
             "[Service]\nExecStart=/bin/true\n",
             &diags);
    char buf[300];

    cr_assert_not_null(c);
    cr_assert(strstr(diags, "Path in condition not absolute, ignoring: relative/x"), "%s", diags);
    cr_assert(strstr(diags, "Unsupported key name 'ConditionVirtualization'"), "%s", diags);
    /* The empty ConditionFileNotEmpty= reset every condition read before it, not the assert. */
    cr_assert_eq(c->n_conditions, 2);
    condition_format(&c->conditions[0], buf, sizeof(buf));
    cr_assert(strncmp(buf, "AssertHost=", 11) == 0, "%s", buf);
    cr_assert(c->conditions[0].is_assert);
    condition_format(&c->conditions[1], buf, sizeof(buf));
    cr_assert_str_eq(buf, "ConditionDirectoryNotEmpty=/etc");
    free(diags);
    unit_config_free(c);
}

/* Conditions own their parameter; the tests keep them in a static pool. */
static struct condition cond(enum condition_type t, const char *p, bool trigger, bool negate)
{
    static char pool[32][256];
    static unsigned next;
    char *copy = pool[next++ % 32];

    snprintf(copy, sizeof(pool[0]), "%s", p);
    return (struct condition){.type = t, .parameter = copy, .trigger = trigger, .negate = negate};
}

Test(condition, each_check)
{
    char dir[] = "/tmp/minisup-cond-XXXXXX", f[256], e[256], x[256], l[256], h[256];
    FILE *fp;

    cr_assert_not_null(mkdtemp(dir));
    snprintf(f, sizeof(f), "%s/full", dir);
    snprintf(e, sizeof(e), "%s/empty", dir);
    snprintf(x, sizeof(x), "%s/exe", dir);
    snprintf(l, sizeof(l), "%s/link", dir);
    snprintf(h, sizeof(h), "%s/.hidden", dir);
    fp = fopen(f, "w");
    fputs("x", fp);
    fclose(fp);
    fclose(fopen(e, "w"));
    fclose(fopen(x, "w"));
    chmod(x, 0755);
    cr_assert_eq(symlink(f, l), 0);

    struct condition c = cond(CONDITION_PATH_EXISTS, f, false, false);
    cr_assert_eq(condition_test(&c), 1);
    c.negate = true;
    cr_assert_eq(condition_test(&c), 0);
    c = cond(CONDITION_FILE_NOT_EMPTY, e, false, false);
    cr_assert_eq(condition_test(&c), 0);
    c = cond(CONDITION_FILE_NOT_EMPTY, f, false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_FILE_IS_EXECUTABLE, x, false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_FILE_IS_EXECUTABLE, f, false, false);
    cr_assert_eq(condition_test(&c), 0);
    c = cond(CONDITION_PATH_IS_SYMBOLIC_LINK, l, false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_PATH_IS_SYMBOLIC_LINK, f, false, false);
    cr_assert_eq(condition_test(&c), 0);
    c = cond(CONDITION_PATH_IS_DIRECTORY, dir, false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_PATH_EXISTS_GLOB, "/tmp/minisup-cond-*/ful?", false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_PATH_IS_MOUNT_POINT, "/", false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_PATH_IS_MOUNT_POINT, dir, false, false);
    cr_assert_eq(condition_test(&c), 0);

    /* Hidden and backup files do not make a directory non-empty. */
    char sub[200];
    snprintf(sub, sizeof(sub), "%s/d", dir);
    mkdir(sub, 0755);
    c = cond(CONDITION_DIRECTORY_NOT_EMPTY, sub, false, false);
    cr_assert_eq(condition_test(&c), 0);
    snprintf(h, sizeof(h), "%s/.hidden", sub);
    fclose(fopen(h, "w"));
    snprintf(h, sizeof(h), "%s/x.dpkg-old", sub);
    fclose(fopen(h, "w"));
    cr_assert_eq(condition_test(&c), 0);
    snprintf(h, sizeof(h), "%s/real", sub);
    fclose(fopen(h, "w"));
    cr_assert_eq(condition_test(&c), 1);

    setenv("MINISUP_COND_TEST", "yes", 1);
    c = cond(CONDITION_ENVIRONMENT, "MINISUP_COND_TEST", false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_ENVIRONMENT, "MINISUP_COND_TEST=no", false, false);
    cr_assert_eq(condition_test(&c), 0);
    c = cond(CONDITION_ENVIRONMENT, "MINISUP_COND_TEST=yes", false, false);
    cr_assert_eq(condition_test(&c), 1);

    char uid[32];
    snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
    c = cond(CONDITION_USER, uid, false, false);
    cr_assert_eq(condition_test(&c), 1);
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    c = cond(CONDITION_HOST, host, false, false);
    cr_assert_eq(condition_test(&c), 1);
    c = cond(CONDITION_HOST, "no-such-host-*", false, false);
    cr_assert_eq(condition_test(&c), 0);

    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    (void)!system(cmd);
}

/* Every plain condition must hold; of the triggering ones, at least one. */
Test(condition, list_rule_as_systemd)
{
    struct condition v[] = {
        cond(CONDITION_PATH_EXISTS, "/", false, false),
        cond(CONDITION_PATH_EXISTS, "/nonexistent-a", true, false),
        cond(CONDITION_PATH_EXISTS, "/nonexistent-b", true, false),
    };
    const struct condition *failed;

    cr_assert_not(condition_list_test(v, 3, false, &failed));
    cr_assert_null(failed, "only triggers failed: none is named");
    v[2].negate = true;
    cr_assert(condition_list_test(v, 3, false, &failed));
    v[0] = cond(CONDITION_PATH_EXISTS, "/nonexistent-c", false, false);
    cr_assert_not(condition_list_test(v, 3, false, &failed));
    cr_assert_eq(failed, &v[0]);
    /* Asserts are a list of their own. */
    cr_assert(condition_list_test(v, 3, true, &failed));
    v[0].is_assert = true;
    cr_assert(condition_list_test(v, 3, false, &failed));
    cr_assert_not(condition_list_test(v, 3, true, &failed));
}
