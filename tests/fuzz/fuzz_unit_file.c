/* F1: the unit reader. unit_file_load_string() on arbitrary bytes. Properties:
 *   - no crash, leak or undefined behaviour; returns 0, -EINVAL, -ENOBUFS or -ENOMEM;
 *   - every diagnostic has a line number <= the number of physical lines of the input, counted
 *     the way the lexer counts them ("\n", "\r", "\r\n", "\n\r" and NUL end a line), and names
 *     the path it was given; an error diagnostic exists whenever the load failed (-EINVAL);
 *   - determinism: loading the same bytes again gives the same return value, the same
 *     diagnostics and, when it loaded, a field-by-field equal configuration;
 *   - the loaded config keeps the source text byte for byte.
 * The unit name is picked from the input so the three naming paths are all reached: "[Socket]" in
 * the text makes it a socket, and the input length picks plain, instance or template. */
#include <errno.h>

#include "fuzz.h"
#include "unit_file.h"

#define PATH "/etc/minisup/fuzz"

static const struct unit_load_context ctx = {
    .runtime_dir = "/run/fz",
    .state_dir = "/var/lib/fz",
    .logs_dir = "/var/log/fz",
};

/* Physical lines as read_physical_line() in unit_file.c sees them. */
static unsigned count_lines(const uint8_t *s, size_t len)
{
    unsigned lines = 0;
    size_t pos = 0;

    while (pos < len) {
        unsigned seen = 0;

        while (pos < len && s[pos] != '\n' && s[pos] != '\r' && s[pos] != '\0')
            pos++;
        lines++;
        while (pos < len) {
            unsigned bit = s[pos] == '\n' ? 1 : s[pos] == '\r' ? 2 : s[pos] == '\0' ? 4 : 0;

            if (bit == 0 || (seen & bit) || (seen & 4))
                break;
            seen |= bit;
            pos++;
        }
    }
    return lines;
}

static bool str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool strv_eq(char **a, char **b)
{
    size_t i;

    if (!a || !b)
        return !a && !b;
    for (i = 0; a[i] && b[i]; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return !a[i] && !b[i];
}

static bool exec_eq(const struct exec_list *a, const struct exec_list *b)
{
    if (a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct exec_command *x = &a->items[i], *y = &b->items[i];

        if (!str_eq(x->path, y->path) || !strv_eq(x->argv, y->argv) ||
            !str_eq(x->argv0, y->argv0) || x->flags != y->flags || x->line != y->line)
            return false;
    }
    return true;
}

#define SAME(f) FUZZ_CHECK(a->f == b->f, "field " #f " differs between two loads")
#define SAME_STR(f) FUZZ_CHECK(str_eq(a->f, b->f), "field " #f " differs between two loads")
#define SAME_STRV(f) FUZZ_CHECK(strv_eq(a->f, b->f), "field " #f " differs between two loads")
#define SAME_EXEC(f) FUZZ_CHECK(exec_eq(&a->f, &b->f), "field " #f " differs between two loads")
#define SAME_MEM(f)                                                                                \
    FUZZ_CHECK(memcmp(&a->f, &b->f, sizeof(a->f)) == 0, "field " #f " differs between two loads")

static void check_config_eq(const struct unit_config *a, const struct unit_config *b)
{
    SAME_STR(name);
    SAME_STR(path);
    SAME_STR(source_text);
    SAME(kind);
    SAME_STR(description);
    SAME_STRV(documentation);
    SAME_STRV(requires);
    SAME_STRV(wants);
    SAME_STRV(requisite);
    SAME_STRV(binds_to);
    SAME_STRV(part_of);
    SAME_STRV(conflicts);
    SAME_STRV(after);
    SAME_STRV(before);
    SAME(start_limit_interval_usec);
    SAME(start_limit_burst);
    SAME(type);
    SAME_EXEC(exec_start_pre);
    SAME_EXEC(exec_start);
    SAME_EXEC(exec_start_post);
    SAME_EXEC(exec_reload);
    SAME_EXEC(exec_stop);
    SAME_EXEC(exec_stop_post);
    SAME(restart);
    SAME(restart_usec);
    SAME(timeout_start_usec);
    SAME(timeout_stop_usec);
    SAME(remain_after_exit);
    SAME(guess_main_pid);
    SAME_STR(pid_file);
    SAME_MEM(success_exit_status);
    SAME_MEM(restart_prevent_exit_status);
    SAME_MEM(restart_force_exit_status);
    SAME(kill_mode);
    SAME(kill_signal);
    SAME(restart_kill_signal);
    SAME(final_kill_signal);
    SAME(send_sigkill);
    SAME(send_sighup);
    SAME_STRV(environment);
    SAME_STRV(environment_files);
    SAME_STRV(pass_environment);
    SAME_STRV(unset_environment);
    SAME_STR(working_directory);
    SAME(umask);
    SAME_STR(user);
    SAME_STR(group);
    SAME_STRV(supplementary_groups);
    SAME_STR(syslog_identifier);
    SAME(syslog_level);
    SAME(syslog_level_prefix);
    SAME(std_output);
    SAME(std_error);
    SAME_STR(std_output_path);
    SAME_STR(std_error_path);
    SAME(ignore_sigpipe);
    SAME(log_rate_limit_interval_usec);
    SAME(log_rate_limit_burst);
    SAME_STRV(runtime_directory);
    SAME_STRV(state_directory);
    SAME_STRV(logs_directory);
    for (size_t i = 0; i < sizeof(a->rlimits) / sizeof(a->rlimits[0]); i++) {
        FUZZ_CHECK(a->rlimits[i].set == b->rlimits[i].set &&
                       (!a->rlimits[i].set || (a->rlimits[i].soft == b->rlimits[i].soft &&
                                               a->rlimits[i].hard == b->rlimits[i].hard)),
                   "rlimit %zu differs between two loads", i);
    }
    SAME(nice_set);
    SAME(nice);
    SAME(no_new_privileges);
    SAME_STRV(listen_stream);
    SAME_STRV(listen_datagram);
    SAME_STRV(listen_seqpacket);
    SAME_STRV(listen_fifo);
    SAME_STRV(listens);
    SAME_STR(socket_service);
    SAME(socket_mode);
    SAME(directory_mode);
    SAME_STR(socket_user);
    SAME_STR(socket_group);
    SAME(backlog);
    SAME(accept);
    SAME(max_connections);
    SAME_STR(fd_name);
    SAME(remove_on_stop);
    SAME_STRV(wanted_by);
    SAME_STRV(required_by);
    SAME_STRV(also);
    SAME_STRV(alias);
}

static void check_diags(const struct unit_diags *d, unsigned lines, int r)
{
    bool error = false;

    for (size_t i = 0; i < d->n; i++) {
        const struct unit_diag *g = &d->items[i];

        FUZZ_CHECK(g->line <= lines, "diagnostic %zu at line %u, but the input has %u lines: %s", i,
                   g->line, lines, g->message ? g->message : "(null)");
        FUZZ_CHECK(g->message && g->file && strcmp(g->file, PATH) == 0,
                   "diagnostic %zu without message or with another file name", i);
        FUZZ_CHECK(g->level == DIAG_WARNING || g->level == DIAG_ERROR, "diagnostic %zu level %d", i,
                   (int)g->level);
        error |= g->level == DIAG_ERROR;
    }
    FUZZ_CHECK(r != -EINVAL || error, "-EINVAL without an error diagnostic");
}

static void check_diags_eq(const struct unit_diags *a, const struct unit_diags *b)
{
    FUZZ_CHECK(a->n == b->n, "%zu diagnostics, then %zu", a->n, b->n);
    for (size_t i = 0; i < a->n; i++)
        FUZZ_CHECK(a->items[i].level == b->items[i].level && a->items[i].line == b->items[i].line &&
                       str_eq(a->items[i].message, b->items[i].message),
                   "diagnostic %zu differs between two loads: \"%s\" / \"%s\"", i,
                   a->items[i].message, b->items[i].message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[2][3] = {
        {"fz.service", "fz@in-st\\x2d.service", "fz@.service"},
        {"fz.socket", "fz@in-st\\x2d.socket", "fz@.socket"},
    };
    struct unit_config *c1 = NULL, *c2 = NULL;
    struct unit_diags d1 = {0}, d2 = {0};
    bool socket = size >= 8 && memmem(data, size, "[Socket]", 8);
    const char *name = names[socket][size % 3];
    unsigned lines = count_lines(data, size);
    int r1, r2;

    if (size > 256 * 1024)
        return 0;
    r1 = unit_file_load_string((const char *)data, size, PATH, name, &ctx, &c1, &d1);
    FUZZ_CHECK(r1 == 0 || r1 == -EINVAL || r1 == -ENOBUFS || r1 == -ENOMEM,
               "unit_file_load_string returned %d", r1);
    FUZZ_CHECK((r1 == 0) == (c1 != NULL), "return %d but config %p", r1, (void *)c1);
    check_diags(&d1, lines, r1);
    if (c1) {
        FUZZ_CHECK(size == 0 || memcmp(c1->source_text, data, size) == 0,
                   "source_text differs from the input");
        FUZZ_CHECK(c1->source_text[size] == '\0', "source_text not NUL-terminated");
        FUZZ_CHECK(strcmp(c1->name, name) == 0, "name \"%s\", loaded as \"%s\"", c1->name, name);
    }

    r2 = unit_file_load_string((const char *)data, size, PATH, name, &ctx, &c2, &d2);
    FUZZ_CHECK(r1 == r2, "first load returned %d, the second %d", r1, r2);
    check_diags_eq(&d1, &d2);
    if (c1 && c2)
        check_config_eq(c1, c2);

    unit_config_free(c1);
    unit_config_free(c2);
    unit_diags_done(&d1);
    unit_diags_done(&d2);
    return 0;
}
