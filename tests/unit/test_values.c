/* Tests for values.c: time spans, booleans, signals, exit statuses, command lines,
 * environment assignments and strv helpers. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "values.h"

Test(values, timespan_basic)
{
    uint64_t t;

    cr_assert_eq(parse_timespan("5", USEC_PER_SEC, &t), 0);
    cr_assert_eq(t, 5 * USEC_PER_SEC);
    cr_assert_eq(parse_timespan("1min 30s", USEC_PER_SEC, &t), 0);
    cr_assert_eq(t, 90 * USEC_PER_SEC);
    cr_assert_eq(parse_timespan("99999999999999999999h", USEC_PER_SEC, &t), -ERANGE);
}
