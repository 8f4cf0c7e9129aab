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
