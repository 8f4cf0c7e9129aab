/* Testing Condition*= and Assert*= on this machine, as minisupd does when a unit starts. A
 * check reads the machine as it is then; it never changes anything. */
#ifndef MINISUP_CONDITION_CHECK_H
#define MINISUP_CONDITION_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "condition.h"

/* Tests one condition, negation applied: 1 when it holds, 0 when not. A check that cannot be
 * made (unreadable /proc/cmdline, ...) does not hold. */
int condition_test(const struct condition *c);

/* systemd's rule over one list (conditions or asserts, picked by is_assert): every
 * non-triggering one must hold, and when there are triggering ones, at least one of them.
 * Returns true when the list passes; else *ret_failed is the first failing non-triggering one,
 * or NULL when only the triggering ones all failed. */
bool condition_list_test(const struct condition *v, size_t n, bool is_assert,
                         const struct condition **ret_failed);

#endif
