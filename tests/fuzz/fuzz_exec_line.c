/* F2: the command-line splitter. parse_exec_line() on arbitrary strings. Properties:
 *   - returns 0, -EINVAL (with an error message) or -ENOMEM, never anything else;
 *   - every command it produces has a non-empty path equal to argv[0], argv0 set exactly when
 *     the "@" prefix was given, and a NULL-terminated argv;
 *   - parse -> print -> parse is stable: on success, the commands printed back with the quoter
 *     below (prefixes, then every word in double quotes with C escapes, commands joined by " ; ")
 *     parse again to the same commands: same flags, path, argv0 and argv. */
#include <errno.h>

#include "fuzz.h"
#include "values.h"

struct out {
    char *s;
    size_t n, cap;
};

static void out_add(struct out *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 256;

        while (cap < o->n + n + 1)
            cap *= 2;
        o->s = realloc(o->s, cap);
        if (!o->s)
            abort();
        o->cap = cap;
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = '\0';
}

static void out_str(struct out *o, const char *s)
{
    out_add(o, s, strlen(s));
}

/* One word in double quotes: '\\' and '"' escaped, control bytes and DEL as \xHH (never \x00:
 * a word cannot hold NUL); everything else, bytes >= 0x80 included, as it is. `prefix` is put
 * inside the quotes before the word (the prefixes are unquoted with the first word, as in
 * systemd, where "-/bin/true" in quotes still counts as "-" + "/bin/true"). */
static void out_quoted(struct out *o, const char *prefix, const char *w)
{
    out_str(o, "\"");
    out_str(o, prefix);
    for (const unsigned char *p = (const unsigned char *)w; *p; p++) {
        char esc[8];

        if (*p == '\\' || *p == '"') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            out_add(o, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            out_str(o, esc);
        } else {
            out_add(o, (const char *)p, 1);
        }
    }
    out_str(o, "\"");
}

static void prefix_string(unsigned flags, char buf[8])
{
    char *p = buf;

    if (flags & EXEC_FLAG_IGNORE_FAILURE)
        *p++ = '-';
    if (flags & EXEC_FLAG_ARGV0)
        *p++ = '@';
    if (flags & EXEC_FLAG_NO_ENV_EXPAND)
        *p++ = ':';
    if (flags & EXEC_FLAG_FULL_PRIVILEGES)
        *p++ = '+';
    if (flags & EXEC_FLAG_AMBIENT) {
        *p++ = '!';
        *p++ = '!';
    } else if (flags & EXEC_FLAG_NO_SETUID) {
        *p++ = '!';
    }
    *p = '\0';
}

/* The inverse of the splitter, for commands it produced. */
static char *print_commands(const struct exec_list *l)
{
    struct out o = {0};

    out_str(&o, "");
    for (size_t i = 0; i < l->n; i++) {
        const struct exec_command *c = &l->items[i];
        char prefix[8];

        if (i > 0)
            out_str(&o, " ; ");
        prefix_string(c->flags, prefix);
        out_quoted(&o, prefix, c->path);
        if (c->flags & EXEC_FLAG_ARGV0) {
            out_str(&o, " ");
            out_quoted(&o, "", c->argv0);
        }
        for (size_t k = 1; c->argv[k]; k++) {
            out_str(&o, " ");
            out_quoted(&o, "", c->argv[k]);
        }
    }
    return o.s;
}

static void check_shape(const struct exec_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct exec_command *c = &l->items[i];

        FUZZ_CHECK(c->path && c->path[0], "command %zu has an empty path", i);
        FUZZ_CHECK(c->argv && c->argv[0] && strcmp(c->argv[0], c->path) == 0,
                   "command %zu: argv[0] is not the path", i);
        FUZZ_CHECK(!!(c->flags & EXEC_FLAG_ARGV0) == !!c->argv0,
                   "command %zu: argv0 set without '@', or '@' without argv0", i);
        FUZZ_CHECK(!((c->flags & EXEC_FLAG_AMBIENT) && (c->flags & EXEC_FLAG_NO_SETUID)),
                   "command %zu: both '!' and '!!'", i);
        FUZZ_CHECK(c->line == 7, "command %zu: line %u, not the 7 given", i, c->line);
    }
}

static void check_same(const struct exec_list *a, const struct exec_list *b, const char *printed)
{
    FUZZ_CHECK(a->n == b->n, "%zu commands, %zu after printing as: %s", a->n, b->n, printed);
    for (size_t i = 0; i < a->n; i++) {
        const struct exec_command *x = &a->items[i], *y = &b->items[i];
        size_t k;

        FUZZ_CHECK(x->flags == y->flags, "command %zu: flags %#x, then %#x; printed: %s", i,
                   x->flags, y->flags, printed);
        FUZZ_CHECK(strcmp(x->path, y->path) == 0, "command %zu: path \"%s\", then \"%s\"", i,
                   x->path, y->path);
        FUZZ_CHECK(!x->argv0 == !y->argv0 && (!x->argv0 || strcmp(x->argv0, y->argv0) == 0),
                   "command %zu: argv0 differs; printed: %s", i, printed);
        for (k = 0; x->argv[k] && y->argv[k]; k++)
            FUZZ_CHECK(strcmp(x->argv[k], y->argv[k]) == 0,
                       "command %zu: argv[%zu] \"%s\", then \"%s\"; printed: %s", i, k, x->argv[k],
                       y->argv[k], printed);
        FUZZ_CHECK(!x->argv[k] && !y->argv[k], "command %zu: argc differs; printed: %s", i,
                   printed);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct exec_list first = {0}, second = {0};
    const char *err = NULL;
    char *s, *printed;
    int r;

    if (size > 16384)
        return 0;
    s = fuzz_cstring(data, size);
    r = parse_exec_line(s, 7, &first, &err);
    FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM, "parse_exec_line returned %d", r);
    FUZZ_CHECK(r != -EINVAL || err, "-EINVAL without an error message");
    check_shape(&first);
    if (r == 0) {
        printed = print_commands(&first);
        err = NULL;
        r = parse_exec_line(printed, 7, &second, &err);
        if (r != 0) {
            fuzz_dump("input", s, strlen(s));
            fuzz_dump("printed", printed, strlen(printed));
        }
        FUZZ_CHECK(r == 0, "the printed commands do not parse: %d (%s)", r, err ? err : "");
        check_shape(&second);
        check_same(&first, &second, printed);
        free(printed);
    }
    exec_list_done(&first);
    exec_list_done(&second);
    free(s);
    return 0;
}
