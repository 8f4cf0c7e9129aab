/* The Varlink codec: NUL framing across arbitrary read boundaries, message shapes, and the
 * bound on a message that never ends. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "varlink.h"

Test(varlink, frames_split_at_every_byte)
{
    const char wire[] = "{\"method\":\"a.b.C\"}\0{\"method\":\"a.b.D\",\"more\":true}";
    size_t len = sizeof(wire); /* includes the final NUL */

    for (size_t cut = 0; cut <= len; cut++) {
        struct varlink_buffer b = {0};
        json_t *m;
        const char *method;
        json_t *params;
        unsigned flags;

        cr_assert_eq(varlink_buffer_append(&b, wire, cut), 0);
        cr_assert_eq(varlink_buffer_append(&b, wire + cut, len - cut), 0);
        cr_assert_eq(varlink_buffer_next(&b, &m), 1);
        cr_assert_eq(varlink_call_parse(m, &method, &params, &flags), 0);
        cr_assert_str_eq(method, "a.b.C");
        cr_assert_eq(flags, 0);
        json_decref(m);
        cr_assert_eq(varlink_buffer_next(&b, &m), 1);
        cr_assert_eq(varlink_call_parse(m, &method, &params, &flags), 0);
        cr_assert_str_eq(method, "a.b.D");
        cr_assert_eq(flags, VARLINK_CALL_MORE);
        json_decref(m);
        cr_assert_eq(varlink_buffer_next(&b, &m), 0);
        varlink_buffer_done(&b);
    }
}

Test(varlink, bad_json_and_non_objects_are_rejected)
{
    struct varlink_buffer b = {0};
    json_t *m;

    cr_assert_eq(varlink_buffer_append(&b, "{nope\0[1,2]\0{\"a\":1,\"a\":2}\0", 26), 0);
    cr_assert_eq(varlink_buffer_next(&b, &m), -EBADMSG);
    cr_assert_eq(varlink_buffer_next(&b, &m), -EBADMSG);
    cr_assert_eq(varlink_buffer_next(&b, &m), -EBADMSG, "duplicate keys must be refused");
    cr_assert_eq(varlink_buffer_next(&b, &m), 0);
    varlink_buffer_done(&b);
}

Test(varlink, unterminated_message_is_bounded)
{
    struct varlink_buffer b = {0};
    char *chunk = malloc(64 * 1024);
    int r = 0;

    memset(chunk, 'x', 64 * 1024);
    for (size_t total = 0; total <= 2 * VARLINK_MESSAGE_MAX && r == 0; total += 64 * 1024)
        r = varlink_buffer_append(&b, chunk, 64 * 1024);
    cr_assert_eq(r, -EMSGSIZE);
    cr_assert_leq(b.cap, 4 * (size_t)VARLINK_MESSAGE_MAX);
    free(chunk);
    varlink_buffer_done(&b);
}

/* V1 (docs/fuzzing.md): the bound held only for the first message buffered; one behind a
 * complete message could grow to nearly 2 MiB and was then decoded. */
Test(varlink, every_message_is_bounded)
{
    static const char first[] = "{\"method\":\"a\"}";
    size_t piece = 64 * 1024;
    char *chunk = malloc(piece);
    struct varlink_buffer b = {0};
    size_t total = 0;
    json_t *m;
    int r = 0;

    cr_assert_not_null(chunk);
    memset(chunk, ' ', piece);
    cr_assert_eq(varlink_buffer_append(&b, first, sizeof(first)), 0);
    /* A 1.5 MiB call behind it, in reads of 64 KiB, nothing taken off in between. */
    while (total < VARLINK_MESSAGE_MAX * 3 / 2 && r == 0) {
        r = varlink_buffer_append(&b, chunk, piece);
        if (r == 0)
            total += piece;
    }
    cr_assert_eq(r, -EMSGSIZE);
    cr_assert_eq(total, VARLINK_MESSAGE_MAX, "refused at %zu bytes", total);
    cr_assert_eq(b.len, sizeof(first) + total, "nothing of a refused read is kept");
    cr_assert_eq(varlink_buffer_next(&b, &m), 1);
    json_decref(m);
    cr_assert_eq(varlink_buffer_next(&b, &m), 0);
    varlink_buffer_done(&b);

    /* The bound is exact wherever the message starts: MAX bytes plus the NUL are accepted,
     * MAX + 1 are not, also when both arrive in one read behind another message. */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t n = sizeof(first) + VARLINK_MESSAGE_MAX + extra + 1;
        char *wire = malloc(n);

        cr_assert_not_null(wire);
        memcpy(wire, first, sizeof(first));
        memset(wire + sizeof(first), ' ', VARLINK_MESSAGE_MAX + extra);
        memcpy(wire + sizeof(first), "{}", 2);
        wire[n - 1] = '\0';
        cr_assert_eq(varlink_buffer_append(&b, wire, n), extra ? -EMSGSIZE : 0);
        cr_assert_eq(b.len, extra ? 0 : n);
        if (!extra) {
            cr_assert_eq(varlink_buffer_next(&b, &m), 1);
            json_decref(m);
            cr_assert_eq(varlink_buffer_next(&b, &m), 1, "a message of exactly the bound");
            json_decref(m);
        }
        varlink_buffer_done(&b);
        free(wire);
    }
    free(chunk);
}

/* V2 (docs/fuzzing.md): taking a message off moved the rest of the buffer, so draining n bytes
 * of small messages cost O(n^2) (2 MiB of "{}": 10 s). Now next() moves no byte, and append()
 * moves the unread rest to the front only when more was taken off than is left. */
Test(varlink, draining_small_messages_is_linear, .timeout = 20)
{
    size_t n = 2 * VARLINK_MESSAGE_MAX / 3, count = 0, moved = 0;
    char *wire = malloc(3 * n);
    struct varlink_buffer b = {0};
    json_t *m;
    int r;

    cr_assert_not_null(wire);
    for (size_t i = 0; i < n; i++)
        memcpy(wire + 3 * i, "{}", 3);
    cr_assert_eq(varlink_buffer_append(&b, wire, 3 * n), 0);
    while ((r = varlink_buffer_next(&b, &m)) == 1) {
        count++;
        json_decref(m);
        if (b.len > 0)
            cr_assert_eq(b.data, b.base + 3 * count, "message %zu: bytes were moved", count);
    }
    cr_assert_eq(r, 0);
    cr_assert_eq(count, n);
    cr_assert_eq(b.len, 0);

    /* A connection that keeps 1 MiB buffered and takes one message off per read: the bytes
     * moved stay within a small multiple of the bytes taken off. */
    cr_assert_eq(varlink_buffer_append(&b, wire, 3 * (n / 2)), 0);
    for (size_t i = 0; i < n; i++) {
        const char *before = b.data;
        size_t len = b.len;

        cr_assert_eq(varlink_buffer_append(&b, "{}", 3), 0);
        if (b.data != before && b.data == b.base)
            moved += len;
        cr_assert_eq(varlink_buffer_next(&b, &m), 1);
        json_decref(m);
    }
    cr_assert_leq(moved, 3 * n, "%zu bytes moved to take %zu off", moved, 3 * n);
    varlink_buffer_done(&b);
    free(wire);
}

Test(varlink, encode_adds_terminator_and_shapes_replies)
{
    json_t *r = varlink_reply_new(json_pack("{s:i}", "x", 1), true);
    size_t len;
    char *s = varlink_encode(r, &len);
    const char *error;
    json_t *params;
    bool continues;

    cr_assert_eq(s[len - 1], '\0');
    cr_assert_eq(strlen(s), len - 1);
    cr_assert_eq(varlink_reply_parse(r, &error, &params, &continues), 0);
    cr_assert_null(error);
    cr_assert(continues);
    cr_assert_eq(json_integer_value(json_object_get(params, "x")), 1);
    free(s);
    json_decref(r);

    r = varlink_error_new("io.minisup.Manager.NoSuchUnit", json_pack("{s:s}", "name", "x"));
    cr_assert_eq(varlink_reply_parse(r, &error, &params, &continues), 0);
    cr_assert_str_eq(error, "io.minisup.Manager.NoSuchUnit");
    cr_assert_not(continues);
    json_decref(r);
}

Test(varlink, call_without_method_is_malformed)
{
    json_t *m = json_pack("{s:{}}", "parameters");
    const char *method;
    json_t *params;
    unsigned flags;

    cr_assert_eq(varlink_call_parse(m, &method, &params, &flags), -EBADMSG);
    json_decref(m);
    m = json_pack("{s:s, s:i}", "method", "a.b", "parameters", 3);
    cr_assert_eq(varlink_call_parse(m, &method, &params, &flags), -EBADMSG);
    json_decref(m);
}
