/* Varlink server. One call is handled at a time per connection: a call that waits (a job, a
 * follow stream) holds back the calls pipelined after it, so replies come in order. Output per
 * connection is bounded; a client that does not read is dropped, never buffered without limit.
 * Nothing a client sends is ever run or used as a path. */
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "manager.h"
#include "service.h"
#include "unit_file.h"
#include "unit_show.h"
#include "unit_verify.h"
#include "varlink.h"

/* Each connection costs an fd and a few hundred bytes; minisupd raises its own fd limit at
 * start-up so this many fit beside the services' pipes. */
#define CONNECTIONS_MAX 4096
#define OUTPUT_MAX (8 * 1024 * 1024)
#define OUTPUT_TOTAL_MAX (32 * 1024 * 1024)
#define OUTPUT_FAIR (256 * 1024)
#define JOURNAL_CHUNK 512
/* Records looked at per step of a GetJournal answer: bounds the time one step holds the loop. */
#define JOURNAL_STEP_WORK 4096
/* The next chunk of a GetJournal answer is read once the client took the previous ones down to
 * this, so a slow reader gets a paced stream rather than being dropped for not reading. */
#define JOURNAL_LOW_WATER (256 * 1024)
/* A GetJournal call without "more" is answered in one message; past this many entries it is
 * refused (ask with "more", or for fewer lines) instead of building an unbounded reply. */
#define JOURNAL_UNSTREAMED_MAX 65536
#define IFACE "io.minisup.Manager."

struct conn {
    uv_pipe_t pipe;
    struct control *ctl;
    struct varlink_buffer in;
    uid_t uid;
    gid_t gid;
    pid_t pid;
    bool privileged;
    bool busy;       /* a call is in progress (job or stream) */
    bool processing; /* inside conn_process(): completions must not re-enter it */
    /* Replies made while requests are processed wait here and leave in one write, so a client
     * that pipelines (status asks GetUnit and GetJournal at once) is woken once, not per reply. */
    char *out;
    size_t out_len, out_cap;
    unsigned cork;
    bool closing;
    bool more;              /* the call in progress asked for "more" */
    bool oneway;            /* the call in progress asked for no reply */
    bool failing;           /* a last error reply is being sent before the close */
    void *watch;            /* manager watcher while a Subscribe stream is open */
    uint64_t partial_since; /* uv_now() when unterminated bytes arrived; 0 = none */
    struct job_waiter waiter;
    struct unit *job_unit; /* units live as long as the daemon (no reload yet) */
    bool waiting_job;
    /* GetJournal in progress: the stored part is read in steps, one chunk per written reply,
     * then (follow) a live follower takes over. The query's strings are the follow_* ones. */
    struct journal_reader *reader;
    struct journal_query jq;
    bool jq_follow;
    void *follow; /* journal follower while a follow stream is open */
    char **follow_units;
    char *follow_invocation;
    char *follow_identifier;
    int follow_min_priority, follow_max_priority;
    struct conn *prev, *next;
};

struct control {
    uv_loop_t *loop;
    uv_pipe_t server;
    uv_timer_t sweep; /* drops clients that sit on half a message */
    char *path;
    struct control_info info;
    struct manager *m;
    struct journal *j;
    struct conn *conns;
    unsigned n_conns;
    size_t out_bytes; /* replies queued and not yet written, over all clients */
    bool closing;
    bool has_sweep;
    unsigned closing_handles;
};

static void conn_close(struct conn *c);
static void conn_process(struct conn *c);
static void on_sweep(uv_timer_t *t);

struct write_req {
    uv_write_t req;
    struct conn *c;
    char *data;
    size_t len;
};

static void journal_step(struct conn *c);

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = w->c;

    c->ctl->out_bytes -= w->len;
    free(w->data);
    free(w);
    /* Cancelled writes come before the close callback frees c. */
    if (status == 0 && !c->closing && c->reader &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) <= JOURNAL_LOW_WATER)
        journal_step(c);
}

/* Hands data (malloc'ed, len counted in out_bytes already) to libuv, which owns it from here. */
static void conn_write(struct conn *c, char *data, size_t len)
{
    uv_buf_t buf = uv_buf_init(data, (unsigned)len);
    struct write_req *w;
    size_t done = 0;

    /* A reply that fits the socket buffer goes at once: no request, no callback, and no
     * epoll_ctl() for libuv's write watcher (one system call less per call). Only with nothing
     * queued, which keeps the order; never for a journal read, whose write callbacks pace it. */
    if (!c->reader) {
        int n = uv_try_write((uv_stream_t *)&c->pipe, &buf, 1);
        done = n > 0 ? (size_t)n : 0;
        c->ctl->out_bytes -= done;
        if (done == len) {
            free(data);
            return;
        }
        buf = uv_buf_init(data + done, (unsigned)(len - done));
    }
    w = calloc(1, sizeof(*w));
    if (!w) {
        c->ctl->out_bytes -= len - done;
        free(data);
        conn_close(c);
        return;
    }
    w->data = data;
    w->len = len - done;
    w->c = c;
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_written) < 0) {
        c->ctl->out_bytes -= len - done;
        free(data);
        free(w);
        conn_close(c);
    }
}

/* Writes what the cork held back. */
static void conn_flush(struct conn *c)
{
    char *data = c->out;
    size_t len = c->out_len;

    c->out = NULL;
    c->out_len = c->out_cap = 0;
    if (!data)
        return;
    if (c->closing) {
        c->ctl->out_bytes -= len;
        free(data);
        return;
    }
    conn_write(c, data, len);
}

/* Queues one message: at once, or behind the cork. Takes no ownership of msg. Drops the
 * connection when the client lets its output pile up past OUTPUT_MAX. */
static void conn_send(struct conn *c, json_t *msg)
{
    size_t len;
    char *data;

    if (c->closing || !msg)
        return;
    size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) + c->out_len;
    /* Each client may hold OUTPUT_MAX unread; all of them together OUTPUT_TOTAL_MAX, past
     * which a client with more than OUTPUT_FAIR unread goes first. */
    if (queued > OUTPUT_MAX || (c->ctl->out_bytes > OUTPUT_TOTAL_MAX && queued > OUTPUT_FAIR)) {
        log_warning("Control client pid %d does not read its replies; disconnecting.", (int)c->pid);
        conn_close(c);
        return;
    }
    data = varlink_encode(msg, &len);
    if (!data) {
        conn_close(c);
        return;
    }
    c->ctl->out_bytes += len;
    if (!c->cork) {
        conn_write(c, data, len);
        return;
    }
    if (!c->out) {
        /* The first reply of a batch is the buffer: most batches have one. */
        c->out = data;
        c->out_len = c->out_cap = len;
        return;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        char *grown = realloc(c->out, cap);
        if (!grown) {
            c->ctl->out_bytes -= len;
            free(data);
            conn_close(c);
            return;
        }
        c->out = grown;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    free(data);
}

static void reply(struct conn *c, json_t *params, bool continues)
{
    json_t *m;

    if (c->oneway) {
        json_decref(params);
        return;
    }
    m = varlink_reply_new(params, continues);

    conn_send(c, m);
    json_decref(m);
}

static void reply_error(struct conn *c, const char *error, json_t *params)
{
    json_t *m;

    if (c->oneway) {
        json_decref(params);
        return;
    }
    m = varlink_error_new(error, params);

    conn_send(c, m);
    json_decref(m);
}

static uint64_t realtime_now_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

static void on_fail_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;

    free(req);
    conn_close(c);
}

/* Answers a broken client with one error, lets it reach the client, then closes: a clear
 * refusal rather than a silent hang-up. */
static void conn_fail(struct conn *c, const char *error, const char *reason)
{
    uv_shutdown_t *req;

    if (c->closing || c->failing)
        return;
    c->failing = true;
    c->oneway = false;
    reply_error(c, error, json_pack("{s:s}", "reason", reason));
    conn_flush(c); /* the error goes before the shutdown */
    uv_read_stop((uv_stream_t *)&c->pipe);
    req = calloc(1, sizeof(*req));
    if (!req || c->closing) {
        free(req);
        conn_close(c);
        return;
    }
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->pipe, on_fail_shutdown) < 0) {
        free(req);
        conn_close(c);
    }
}

/* waitid()'s si_code as systemd's sigchld_code_to_string() names it; "" for none. */
static const char *exit_code_name(int code)
{
    return code == CLD_EXITED   ? "exited"
           : code == CLD_KILLED ? "killed"
           : code == CLD_DUMPED ? "dumped"
                                : "";
}

/* status's "Process:" lines: each command that ran and ended since the configuration applied,
 * in systemd's order of the lists, with its property name and command line. */
static void add_exec_statuses(json_t *o, const struct unit *u, const struct unit_config *c)
{
    const struct exec_list *l;
    const char *name;
    json_t *arr = NULL;

    for (size_t i = 0; (l = unit_show_exec_list(c, i, &name)); i++)
        for (size_t k = 0; k < l->n; k++) {
            const struct exec_command *cmd = &l->items[k];
            struct exec_status es;
            char *line;

            if (!manager_exec_status(u, cmd, &es) || es.code == 0)
                continue;
            line = unit_show_command_line(cmd);
            if (!line)
                continue;
            if (!arr)
                arr = json_array();
            json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:i}", "name", name, "pid",
                                                 (int)es.pid, "argv", line, "code",
                                                 exit_code_name(es.code), "status", es.status));
            free(line);
        }
    if (arr)
        json_object_set_new(o, "execStatus", arr);
}

static json_t *unit_json(const struct unit *u)
{
    struct unit_status st;
    json_t *o;

    manager_unit_status(u, &st);
    o = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:i, s:i, "
                  "s:s}",
                  "name", st.name, "description", st.description, "loadState", st.load_state,
                  "fragmentPath", st.fragment_path, "enabled", st.enabled, "activeState",
                  st.active_state, "subState", st.sub_state, "result", st.result,
                  "stateChangeTimestamp", (json_int_t)st.state_change.realtime,
                  "activeEnterTimestamp", (json_int_t)st.active_enter.realtime,
                  "inactiveEnterTimestamp", (json_int_t)st.inactive_enter.realtime, "mainPid",
                  (json_int_t)st.main_pid, "execMainCode", st.exec_main_code, "execMainStatus",
                  st.exec_main_status, "nRestarts", (int)st.n_restarts, "invocationId",
                  st.invocation);
    if (!o)
        return NULL;
    if (st.load_error)
        json_object_set_new(o, "loadError", json_string(st.load_error));
    if (st.job)
        json_object_set_new(o, "job", json_string(st.job));
    if (st.main_command)
        json_object_set_new(o, "mainCommand", json_string(st.main_command));
    json_object_set_new(o, "unitFileChanged", json_boolean(st.changed_on_disk));
    if (st.dropin_paths) {
        json_t *paths = json_array();

        for (size_t i = 0; paths && st.dropin_paths[i]; i++)
            json_array_append_new(paths, json_string(st.dropin_paths[i]));
        json_object_set_new(o, "dropInPaths", paths);
    }
    json_object_set_new(o, "conditionResult", json_boolean(st.condition_result));
    json_object_set_new(o, "conditionTimestamp", json_integer((json_int_t)st.condition.realtime));
    json_object_set_new(o, "failedCondition", json_string(st.failed_condition));
    json_object_set_new(o, "assertResult", json_boolean(st.assert_result));
    json_object_set_new(o, "assertTimestamp", json_integer((json_int_t)st.assert.realtime));
    json_object_set_new(o, "inactiveExitTimestamp",
                        json_integer((json_int_t)st.inactive_exit.realtime));
    json_object_set_new(o, "activeExitTimestamp",
                        json_integer((json_int_t)st.active_exit.realtime));
    if (st.exec_main_pid > 0)
        json_object_set_new(o, "execMainPid", json_integer(st.exec_main_pid));
    if (st.control_pid > 0) {
        json_object_set_new(o, "controlPid", json_integer(st.control_pid));
        json_object_set_new(o, "controlCommand", json_string(st.control_command));
    }
    if (st.config)
        add_exec_statuses(o, u, st.config);
    json_object_set_new(o, "failedAssert", json_string(st.failed_assert));
    if (st.status_text)
        json_object_set_new(o, "statusText", json_string(st.status_text));
    if (st.status_errno)
        json_object_set_new(o, "statusErrno", json_integer(st.status_errno));
    if (st.n_deaths > 0) {
        /* Monotonic times become wall-clock ones as of now. */
        uint64_t mono_now = uv_hrtime() / 1000, real_now = realtime_now_usec();
        json_t *deaths = json_array();
        for (size_t i = 0; i < st.n_deaths; i++) {
            const struct service_death *d = st.deaths[i];
            json_array_append_new(
                deaths,
                json_pack("{s:I, s:I, s:s, s:i, s:s, s:b, s:s, s:i}", "timestamp",
                          (json_int_t)(real_now - (mono_now - d->when_usec)), "runtimeUSec",
                          (json_int_t)d->runtime_usec, "code", exit_code_name(d->exit.code),
                          "status", d->exit.status, "result", service_result_to_string(d->result),
                          "restart", d->restart, "reason", d->reason ? d->reason : "",
                          "restartNumber", (int)d->restart_number));
        }
        json_object_set_new(o, "deaths", deaths);
    }
    /* Only when something was dropped: the usual reply stays as it was. */
    if (st.log_lost > 0) {
        json_object_set_new(o, "journalLost", json_integer((json_int_t)st.log_lost));
        json_object_set_new(o, "journalLostUnreported",
                            json_integer((json_int_t)st.log_unreported));
        json_object_set_new(o, "journalError", json_string(strerror(st.log_error)));
    }
    if (st.log_suppressed > 0)
        json_object_set_new(o, "journalSuppressed", json_integer((json_int_t)st.log_suppressed));
    if (st.n_leftovers > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < st.n_leftovers; i++)
            json_array_append_new(arr, json_integer(st.leftovers[i]));
        json_object_set_new(o, "leftoverPids", arr);
    }
    if (st.restart_policy) {
        json_object_set_new(o, "restart", json_string(st.restart_policy));
        json_object_set_new(o, "startLimitBurst", json_integer(st.start_limit_burst));
        json_object_set_new(o, "startLimitIntervalUSec",
                            json_integer((json_int_t)st.start_limit_interval_usec));
    }
    if (st.is_socket) {
        json_t *listens = json_array();
        for (char *const *l = st.listens; l && *l; l++) {
            static const char *const kinds[] = {"S", "Stream",           "D", "Datagram",
                                                "Q", "SequentialPacket", "F", "FIFO"};
            const char *kind = "Stream";
            for (size_t k = 0; k < 8; k += 2)
                if ((*l)[0] == kinds[k][0])
                    kind = kinds[k + 1];
            json_array_append_new(listens,
                                  json_pack("{s:s, s:s}", "type", kind, "address", *l + 2));
        }
        json_object_set_new(o, "listen", listens);
        json_object_set_new(o, "triggers", json_string(st.triggers ? st.triggers : ""));
        json_object_set_new(o, "nAccepted", json_integer(st.n_accepted));
        json_object_set_new(o, "nConnections", json_integer(st.n_connections));
    }
    return o;
}

static json_t *entry_json(const struct journal_record *r)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:i, s:s, s:i}", "realtime",
                          (json_int_t)r->realtime_usec, "monotonic", (json_int_t)r->monotonic_usec,
                          "seq", (json_int_t)r->seq, "unit", r->unit, "invocationId",
                          r->invocation ? r->invocation : "", "identifier",
                          r->identifier ? r->identifier : "", "pid", (int)r->pid, "stream",
                          journal_stream_to_string(r->stream), "priority", r->priority);
    json_t *msg;

    if (!o)
        return NULL;
    /* jansson refuses invalid UTF-8, and a JSON decoder without JSON_ALLOW_NUL (minisupctl's,
     * most others) refuses "\u0000" and with it the whole reply: such messages travel as bytes,
     * as journald's JSON does. */
    msg =
        memchr(r->message, '\0', r->message_len) ? NULL : json_stringn(r->message, r->message_len);
    if (msg) {
        json_object_set_new(o, "message", msg);
    } else {
        json_t *bytes = json_array();
        for (size_t i = 0; i < r->message_len; i++)
            json_array_append_new(bytes, json_integer((unsigned char)r->message[i]));
        json_object_set_new(o, "messageBytes", bytes);
    }
    return o;
}

static struct unit *lookup_unit(struct conn *c, json_t *params)
{
    const char *name = json_string_value(json_object_get(params, "name"));
    struct unit *u = name ? manager_find(c->ctl->m, name) : NULL;

    if (!u) {
        char *n = name ? unit_name_normalize(name) : NULL;
        const char *at = n ? strchr(n, '@') : NULL;
        json_t *p = json_pack("{s:s}", "name", n ? n : "");
        /* "x@.service" names a template, never a unit: systemd's own words for it. */
        if (p && at && at[1] == '.') {
            char reason[300];
            snprintf(reason, sizeof(reason), "Unit name %s is missing the instance name.", n);
            json_object_set_new(p, "reason", json_string(reason));
        }
        reply_error(c, IFACE "NoSuchUnit", p);
        free(n);
    }
    return u;
}

static void method_list_units(struct conn *c, json_t *params)
{
    json_t *states = json_object_get(params, "states");
    json_t *arr = json_array();

    for (size_t i = 0; i < manager_unit_count(c->ctl->m); i++) {
        struct unit *u = manager_unit_at(c->ctl->m, i);
        if (!unit_is_visible(u))
            continue;
        if (json_array_size(states) > 0) {
            struct unit_status st;
            bool match = false;
            size_t k;
            json_t *v;
            manager_unit_status(u, &st);
            json_array_foreach(states, k, v)
            {
                const char *s = json_string_value(v);
                if (s && (!strcmp(s, st.active_state) || !strcmp(s, st.sub_state) ||
                          !strcmp(s, st.load_state)))
                    match = true;
            }
            if (!match)
                continue;
        }
        json_array_append_new(arr, unit_json(u));
    }
    reply(c, json_pack("{s:o}", "units", arr), false);
}

static int add_property(const char *name, const char *value, void *userdata)
{
    json_array_append_new(userdata, json_pack("{s:s, s:s}", "name", name, "value", value));
    return 0;
}

/* systemd prints timestamps in show as "Sat 2026-11-21 19:42:27 UTC" (0 stays empty, and is
 * left out without --all), each followed by its monotonic twin in µs, always printed. The value
 * is in minisupd's time zone; `usec` lets a client write it in its own, as systemctl formats
 * timestamps where it runs. */
static void add_timestamp(json_t *list, const char *name, struct dual_timestamp ts, bool all)
{
    char buf[64], mono_name[64], num[32];

    unit_show_format_timestamp(buf, sizeof(buf), ts.realtime);
    if (*buf || all)
        json_array_append_new(list, json_pack("{s:s, s:s, s:I}", "name", name, "value", buf, "usec",
                                              (json_int_t)ts.realtime));
    snprintf(mono_name, sizeof(mono_name), "%sMonotonic", name);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)ts.monotonic);
    add_property(mono_name, num, list);
}

/* The configuration's properties of one unit, with the last run of the command each Exec*=
 * line shows: unit_show_properties_ran() looks a command up just before it passes its line. */
struct show_list {
    json_t *list;
    const struct unit *unit;
    bool have_run;
    struct exec_status run;
};

static bool exec_lookup(const struct exec_command *cmd, struct exec_status *ret, void *userdata)
{
    struct show_list *sl = userdata;
    bool ran = manager_exec_status(sl->unit, cmd, ret);

    sl->run = ran ? *ret : (struct exec_status){0};
    sl->have_run = true;
    return ran;
}

/* An Exec*= line carries its start_time= and stop_time= as µs too (startUsec, stopUsec), for a
 * client to write them in its own time zone, as add_timestamp() does for the others. */
static int add_config_property(const char *name, const char *value, void *userdata)
{
    struct show_list *sl = userdata;
    json_t *p = json_pack("{s:s, s:s}", "name", name, "value", value);

    if (p && sl->have_run) {
        json_object_set_new(p, "startUsec", json_integer((json_int_t)sl->run.start_usec));
        json_object_set_new(p, "stopUsec", json_integer((json_int_t)sl->run.exit_usec));
    }
    sl->have_run = false;
    json_array_append_new(sl->list, p);
    return 0;
}

/* show: the runtime properties, then the configuration's (unit_show.c), systemd's names. */
static void method_get_unit_properties(struct conn *c, json_t *params)
{
    struct unit *u = lookup_unit(c, params);
    bool all = json_is_true(json_object_get(params, "all"));
    struct unit_status st;
    json_t *list;
    char num[32];
    bool masked;

    if (!u)
        return;
    manager_unit_status(u, &st);
    masked = strcmp(st.load_state, "masked") == 0 && st.load_error;
    list = json_array();
    add_property("LoadState", st.load_state, list);
    if (masked) {
        /* systemd's LoadError= is the D-Bus error bus_unit_validate_load_state() gives. */
        char err[400];
        snprintf(err, sizeof(err), "org.freedesktop.systemd1.UnitMasked \"%s\"", st.load_error);
        add_property("LoadError", err, list);
    } else if (st.load_error || all) {
        add_property("LoadError", st.load_error ? st.load_error : "", list);
    }
    add_property("ActiveState", st.active_state, list);
    add_property("SubState", st.sub_state, list);
    add_property("Result", st.result, list);
    /* Without WantedBy=/RequiredBy= there is nothing to enable: systemd calls that static. */
    add_property("UnitFileState", masked ? "masked" : st.enabled ? "enabled" : "static", list);
    add_property("NeedDaemonReload", manager_unit_need_daemon_reload(u) ? "yes" : "no", list);
    add_timestamp(list, "StateChangeTimestamp", st.state_change, all);
    add_timestamp(list, "InactiveExitTimestamp", st.inactive_exit, all);
    add_timestamp(list, "ActiveEnterTimestamp", st.active_enter, all);
    add_timestamp(list, "ActiveExitTimestamp", st.active_exit, all);
    add_timestamp(list, "InactiveEnterTimestamp", st.inactive_enter, all);
    add_property("ConditionResult", st.condition_result ? "yes" : "no", list);
    add_property("AssertResult", st.assert_result ? "yes" : "no", list);
    add_timestamp(list, "ConditionTimestamp", st.condition, all);
    add_timestamp(list, "AssertTimestamp", st.assert, all);
    if (!st.is_socket) {
        snprintf(num, sizeof(num), "%d", (int)st.main_pid);
        add_property("MainPID", num, list);
        snprintf(num, sizeof(num), "%d", (int)st.control_pid);
        add_property("ControlPID", num, list);
        add_timestamp(list, "ExecMainStartTimestamp", st.exec_main_start, all);
        add_timestamp(list, "ExecMainExitTimestamp", st.exec_main_exit, all);
        /* Kept after the process exited, next to ExecMainCode= and ExecMainStatus=, as
         * systemd keeps it. */
        snprintf(num, sizeof(num), "%d", (int)st.exec_main_pid);
        add_property("ExecMainPID", num, list);
        add_property("ExecMainCode",
                     !strcmp(st.exec_main_code, "exited")   ? "1"
                     : !strcmp(st.exec_main_code, "killed") ? "2"
                     : !strcmp(st.exec_main_code, "dumped") ? "3"
                                                            : "0",
                     list);
        snprintf(num, sizeof(num), "%d", st.exec_main_status);
        add_property("ExecMainStatus", num, list);
        snprintf(num, sizeof(num), "%u", st.n_restarts);
        add_property("NRestarts", num, list);
        add_property("InvocationID", st.invocation, list);
        if (st.status_text || all)
            add_property("StatusText", st.status_text ? st.status_text : "", list);
        /* systemd's TasksCurrent=: the tasks (threads) of the unit's processes, "[not set]"
         * when it has none (systemd has no cgroup to count then). Counted here, from /proc,
         * since show asked; never for GetUnit or ListUnits. */
        struct unit_processes procs;
        if (manager_unit_processes(u, false, &procs) == 0 && procs.n > 0)
            snprintf(num, sizeof(num), "%llu", (unsigned long long)procs.tasks);
        else
            snprintf(num, sizeof(num), "[not set]");
        manager_unit_processes_done(&procs);
        add_property("TasksCurrent", num, list);
    } else {
        snprintf(num, sizeof(num), "%u", st.n_accepted);
        add_property("NAccepted", num, list);
        snprintf(num, sizeof(num), "%u", st.n_connections);
        add_property("NConnections", num, list);
    }
    if (st.config) {
        struct show_list sl = {.list = list, .unit = u};

        unit_show_properties_ran(st.config, all ? UNIT_SHOW_EMPTY : 0, exec_lookup, &sl,
                                 add_config_property, &sl);
    }
    reply(c, json_pack("{s:o}", "properties", list), false);
}

/* verify: the daemon's own unit directory checked as a reload would read it, without applying
 * anything. No path comes from the client. */
static void method_verify(struct conn *c)
{
    struct unit_load_context ctx = {
        .runtime_dir = c->ctl->info.runtime_dir,
        .state_dir = c->ctl->info.runtime_dir,
        .logs_dir = c->ctl->info.log_dir,
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    json_t *lines = json_array();
    int r;

    if (!out) {
        json_decref(lines);
        reply_error(c, IFACE "JobFailed", json_pack("{s:s}", "reason", strerror(errno)));
        return;
    }
    r = unit_verify_directory(c->ctl->info.unit_dir, &ctx, out);
    fclose(out);
    for (char *p = buf, *nl; p && *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl) {
            json_array_append_new(lines, json_string(p));
            break;
        }
        json_array_append_new(lines, json_stringn(p, (size_t)(nl - p)));
    }
    free(buf);
    if (r < 0) {
        json_decref(lines);
        reply_error(c, IFACE "ReloadFailed", json_pack("{s:s}", "reason", strerror(-r)));
        return;
    }
    reply(c, json_pack("{s:i, s:o}", "failedUnits", r, "diagnostics", lines), false);
}

/* The file's text as it is on disk, for a unit that failed to load (nothing kept of it); NULL
 * when it cannot be read. Bounded by the reply's size limit; text that is not UTF-8 is sent as ""
 * (JSON strings are UTF-8). */
static char *read_unit_file(const char *path)
{
    enum { MAX_TEXT = 512 * 1024 };
    FILE *f = path && *path ? fopen(path, "re") : NULL;
    char *buf;
    size_t n;

    if (!f)
        return NULL;
    buf = malloc(MAX_TEXT + 1);
    n = buf ? fread(buf, 1, MAX_TEXT, f) : 0;
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* cat: the file and its drop-ins as loaded; systemctl cat prints the files whatever the load
 * state, so a unit that failed to load gets them from disk. */
static void method_get_unit_file(struct conn *c, json_t *params)
{
    struct unit *u = lookup_unit(c, params);
    struct unit_status st;
    char *disk = NULL, **disk_dropins = NULL;
    char *const *dropins;
    json_t *text, *list;

    if (!u)
        return;
    manager_unit_status(u, &st);
    dropins = st.dropin_paths;
    if (!st.source_text) {
        disk = read_unit_file(st.fragment_path);
        if (unit_dropins_find(c->ctl->info.unit_dir, st.name, &disk_dropins) >= 0)
            dropins = disk_dropins;
    }
    text = st.source_text ? json_string(st.source_text) : disk ? json_string(disk) : NULL;
    free(disk);
    list = json_array();
    for (size_t i = 0; list && dropins && dropins[i]; i++) {
        char *dtext = st.source_text ? NULL : read_unit_file(dropins[i]);
        json_t *t = json_string(st.source_text ? st.dropin_texts[i] : dtext ? dtext : "");

        free(dtext);
        json_array_append_new(
            list, json_pack("{s:s, s:o}", "path", dropins[i], "text", t ? t : json_string("")));
    }
    strv_free(disk_dropins);
    reply(c,
          json_pack("{s:s, s:o, s:o}", "path", st.fragment_path, "text",
                    text ? text : json_string(""), "dropIns", list ? list : json_array()),
          false);
}

/* Subscribe: one reply per state change of any unit, until the client hangs up. */
static void on_unit_changed(struct unit *u, void *userdata)
{
    struct conn *c = userdata;

    reply(c, json_pack("{s:o}", "unit", unit_json(u)), true);
}

static void method_subscribe(struct conn *c, unsigned flags)
{
    if (!(flags & VARLINK_CALL_MORE)) {
        reply_error(c, "org.varlink.service.ExpectedMore", NULL);
        return;
    }
    c->busy = true; /* later calls on this connection wait behind the stream */
    /* At the change: a restart's inactive step is seen before the start that follows. */
    c->watch = manager_watch(c->ctl->m, on_unit_changed, c, true);
    if (!c->watch) {
        c->busy = false;
        reply_error(c, IFACE "JobFailed", json_pack("{s:s}", "reason", strerror(ENOMEM)));
        return;
    }
    /* The first reply says the stream is open, with every unit's state as a starting point. */
    json_t *arr = json_array();
    for (size_t i = 0; i < manager_unit_count(c->ctl->m); i++) {
        struct unit *u = manager_unit_at(c->ctl->m, i);
        if (unit_is_visible(u))
            json_array_append_new(arr, unit_json(u));
    }
    reply(c, json_pack("{s:o}", "units", arr), true);
}

static void method_list_sockets(struct conn *c)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < manager_unit_count(c->ctl->m); i++) {
        struct unit *u = manager_unit_at(c->ctl->m, i);
        struct unit_status st;
        manager_unit_status(u, &st);
        if (st.is_socket && unit_is_visible(u))
            json_array_append_new(arr, unit_json(u));
    }
    reply(c, json_pack("{s:o}", "sockets", arr), false);
}

/* status's Tasks:, CPU: and CGroup: lines: the unit's live processes with their command
 * lines. Read from /proc for this one unit, so only when the caller asks: GetUnit is otherwise
 * answered from memory. */
static void add_processes(json_t *o, const struct unit *u)
{
    struct unit_processes procs;
    json_t *arr;

    if (manager_unit_processes(u, true, &procs) < 0) {
        manager_unit_processes_done(&procs);
        return; /* out of memory: the reply goes without the list */
    }
    arr = json_array();
    for (size_t i = 0; arr && i < procs.n; i++) {
        const struct unit_process *p = &procs.items[i];
        json_t *e = json_pack("{s:i, s:i, s:s}", "pid", (int)p->pid, "ppid", (int)p->ppid,
                              "commandLine", p->command_line);
        if (e)
            json_array_append_new(arr, e);
    }
    json_object_set_new(o, "processes", arr);
    json_object_set_new(o, "tasksCurrent", json_integer((json_int_t)procs.tasks));
    json_object_set_new(o, "cpuUsageUSec", json_integer((json_int_t)procs.cpu_usec));
    if (procs.truncated)
        json_object_set_new(o, "processesTruncated", json_true());
    manager_unit_processes_done(&procs);
}

static void method_get_unit(struct conn *c, json_t *params)
{
    struct unit *u = lookup_unit(c, params);
    const struct unit *socks[8];
    json_t *o;
    size_t n;

    if (!u)
        return;
    o = unit_json(u);
    if (o && json_is_true(json_object_get(params, "processes")))
        add_processes(o, u);
    /* Only here, not in ListUnits: it stats the unit's files. */
    if (o)
        json_object_set_new(o, "needDaemonReload",
                            json_boolean(manager_unit_need_daemon_reload(u)));
    /* Documentation=, for status's "Docs:" lines. */
    if (o) {
        struct unit_status st;
        manager_unit_status(u, &st);
        if (st.config && st.config->documentation && st.config->documentation[0]) {
            json_t *docs = json_array();
            for (char **d = st.config->documentation; docs && *d; d++)
                json_array_append_new(docs, json_string(*d));
            json_object_set_new(o, "documentation", docs);
        }
    }
    /* Only here, not in ListUnits: finding them walks every unit. */
    n = manager_triggered_by(u, socks, sizeof(socks) / sizeof(socks[0]));
    if (o && n > 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            struct unit_status st;
            manager_unit_status(socks[i], &st);
            json_array_append_new(
                arr, json_pack("{s:s, s:s}", "name", st.name, "activeState", st.active_state));
        }
        json_object_set_new(o, "triggeredBy", arr);
    }
    reply(c, json_pack("{s:o}", "unit", o), false);
}

static void on_job_done(struct job_waiter *w, const char *result)
{
    struct conn *c = (struct conn *)((char *)w - offsetof(struct conn, waiter));
    c->waiting_job = false;
    c->busy = false;
    reply(c, json_pack("{s:s, s:o}", "result", result, "unit", unit_json(c->job_unit)), false);
    if (!c->processing)
        conn_process(c);
}

static const char *st_name(const struct unit *u)
{
    struct unit_status st;

    manager_unit_status(u, &st);
    return st.name;
}

static void reply_job_error(struct conn *c, const struct unit *u, int r)
{
    struct unit_status st;

    switch (r) {
    case -EPERM:
        manager_unit_status(u, &st);
        reply_error(c, IFACE "UnitNotLoaded",
                    json_pack("{s:s, s:s, s:s}", "name", st.name, "loadState", st.load_state,
                              "loadError", st.load_error ? st.load_error : ""));
        break;
    case -ESHUTDOWN:
        reply_error(c, IFACE "ShuttingDown", NULL);
        break;
    case -ENOTCONN:
        reply_error(c, IFACE "UnitNotActive", json_pack("{s:s}", "name", st_name(u)));
        break;
    case -EOPNOTSUPP:
        reply_error(c, IFACE "JobNotApplicable", json_pack("{s:s}", "name", st_name(u)));
        break;
    default:
        reply_error(c, IFACE "JobFailed", json_pack("{s:s}", "reason", strerror(-r)));
        break;
    }
}

static void method_job(struct conn *c, json_t *params, enum job_type type)
{
    struct unit *u = lookup_unit(c, params);
    bool no_block = json_is_true(json_object_get(params, "noBlock")) || c->oneway;
    int r;

    if (!u)
        return;
    if (type == JOB_STOP) {
        /* systemd stops a masked unit as any other (only starts are refused): one that never
         * loaded runs nothing, so its stop job is done at once. */
        struct unit_status st;

        manager_unit_status(u, &st);
        if (!st.config && strcmp(st.load_state, "masked") == 0) {
            reply(c,
                  no_block ? json_pack("{s:s}", "result", "queued")
                           : json_pack("{s:s, s:o}", "result", "done", "unit", unit_json(u)),
                  false);
            return;
        }
    }
    if (no_block) {
        r = manager_job(c->ctl->m, u, type, NULL);
        if (r < 0)
            reply_job_error(c, u, r);
        else
            reply(c, json_pack("{s:s}", "result", "queued"), false);
        return;
    }
    c->busy = true;
    c->waiting_job = true;
    c->job_unit = u;
    c->waiter.cb = on_job_done;
    r = manager_job(c->ctl->m, u, type, &c->waiter);
    if (r < 0) {
        c->busy = false;
        c->waiting_job = false;
        manager_job_cancel(&c->waiter);
        reply_job_error(c, u, r);
    }
}

/* try-restart: restart only what runs; reload-or-restart: reload when it can, else restart. */
static void method_conditional(struct conn *c, json_t *params, bool reload_first)
{
    struct unit *u = lookup_unit(c, params);
    struct unit_status st;

    if (!u)
        return;
    manager_unit_status(u, &st);
    if (!reload_first && !st.is_active) {
        reply(c, json_pack("{s:s, s:o}", "result", "done", "unit", unit_json(u)), false);
        return;
    }
    method_job(c, params, reload_first && st.is_active && st.can_reload ? JOB_RELOAD : JOB_RESTART);
}

static void method_reset_failed(struct conn *c, json_t *params)
{
    struct unit *u = lookup_unit(c, params);

    if (!u)
        return;
    manager_reset_failed(c->ctl->m, u);
    reply(c, json_pack("{s:o}", "unit", unit_json(u)), false);
}

static void method_kill(struct conn *c, json_t *params)
{
    struct unit *u = lookup_unit(c, params);
    json_t *sig = json_object_get(params, "signal");
    const char *whom = json_string_value(json_object_get(params, "whom"));
    int signo = SIGTERM, r;

    if (!u)
        return;
    if (sig &&
        (!json_is_integer(sig) || json_integer_value(sig) < 1 || json_integer_value(sig) >= NSIG)) {
        reply_error(c, "org.varlink.service.InvalidParameter",
                    json_pack("{s:s}", "parameter", "signal"));
        return;
    }
    if (sig)
        signo = (int)json_integer_value(sig);
    /* systemctl's --kill-whom= values; "-fail" asks for an error when nothing was signalled. */
    static const struct {
        const char *name;
        enum kill_whom whom;
        bool fail;
    } whoms[] = {
        {"all", KILL_WHOM_ALL, false},         {"main", KILL_WHOM_MAIN, false},
        {"control", KILL_WHOM_CONTROL, false}, {"all-fail", KILL_WHOM_ALL, true},
        {"main-fail", KILL_WHOM_MAIN, true},   {"control-fail", KILL_WHOM_CONTROL, true},
    };
    size_t w = 0;
    if (whom)
        for (w = 0; w < sizeof(whoms) / sizeof(whoms[0]) && strcmp(whom, whoms[w].name); w++)
            ;
    if (w == sizeof(whoms) / sizeof(whoms[0])) {
        reply_error(c, "org.varlink.service.InvalidParameter",
                    json_pack("{s:s}", "parameter", "whom"));
        return;
    }
    r = manager_kill(c->ctl->m, u, signo, whoms[w].whom, whoms[w].fail);
    if (r == -ENOENT || r == -ESRCH) {
        /* systemd's words for each case (unit_kill_common()). */
        const char *reason = r == -ESRCH                       ? "No matching processes to kill"
                             : whoms[w].whom == KILL_WHOM_MAIN ? "No main process to kill"
                                                               : "No control process to kill";
        reply_error(c, IFACE "NoSuchProcess",
                    json_pack("{s:s, s:s}", "name", st_name(u), "reason", reason));
        return;
    }
    reply(c, json_pack("{s:o}", "unit", unit_json(u)), false);
}

static int collect_entry(const struct journal_record *r, void *userdata)
{
    return json_array_append_new(userdata, entry_json(r)) < 0 ? -ENOMEM : 0;
}

static bool follow_matches(struct conn *c, const struct journal_record *r)
{
    if (r->priority < c->follow_min_priority || r->priority > c->follow_max_priority)
        return false;
    if (c->follow_identifier && strcmp(c->follow_identifier, r->identifier ? r->identifier : ""))
        return false;
    if (c->follow_invocation && strcmp(c->follow_invocation, r->invocation ? r->invocation : ""))
        return false;
    if (!c->follow_units)
        return true;
    for (char **u = c->follow_units; *u; u++)
        if (strcmp(*u, r->unit) == 0)
            return true;
    return false;
}

static void on_follow(const struct journal_record *recs, size_t n, void *userdata)
{
    struct conn *c = userdata;
    json_t *entries = NULL;

    for (size_t i = 0; i < n; i++) {
        if (!follow_matches(c, &recs[i]))
            continue;
        if (!entries)
            entries = json_array();
        json_array_append_new(entries, entry_json(&recs[i]));
    }
    if (entries)
        reply(c, json_pack("{s:o}", "entries", entries), true);
}

/* Optional filters of GetJournal; false (after an InvalidParameter reply) on a bad value. */
static bool journal_params(struct conn *c, json_t *params, struct journal_query *q)
{
    static const char *const ints[] = {"since", "until", "minPriority", "maxPriority"};
    json_int_t v[4] = {0, 0, 0, 7};

    for (size_t i = 0; i < 4; i++) {
        json_t *j = json_object_get(params, ints[i]);
        if (!j || json_is_null(j))
            continue;
        bool prio = i >= 2;
        if (!json_is_integer(j) || json_integer_value(j) < 0 ||
            (prio && json_integer_value(j) > 7)) {
            reply_error(c, "org.varlink.service.InvalidParameter",
                        json_pack("{s:s}", "parameter", ints[i]));
            return false;
        }
        v[i] = json_integer_value(j);
    }
    q->since_usec = (uint64_t)v[0];
    q->until_usec = (uint64_t)v[1];
    q->min_priority = (int)v[2];
    q->max_priority = (int)v[3];
    /* The reader reads 0..0 as "no filter" (zeroed queries); -1..0 asks for emerg only. */
    if (q->min_priority == 0 && q->max_priority == 0)
        q->min_priority = -1;
    q->identifier = json_string_value(json_object_get(params, "identifier"));
    q->reverse = json_is_true(json_object_get(params, "reverse"));
    return true;
}

/* Frees what a GetJournal call holds; the follower, if any, stays. */
static void journal_call_done(struct conn *c)
{
    journal_reader_free(c->reader);
    c->reader = NULL;
    if (c->follow)
        return;
    strv_free(c->follow_units);
    free(c->follow_invocation);
    free(c->follow_identifier);
    c->follow_units = NULL;
    c->follow_invocation = c->follow_identifier = NULL;
}

/* Opens the reader for records after_seq < seq <= the last stored one. Returns 1 when there is
 * something to read, 0 when there is not, or a negative errno. */
static int journal_open_range(struct conn *c, uint64_t after_seq)
{
    uint64_t last = journal_last_seq(c->ctl->j);
    int r;

    journal_reader_free(c->reader);
    c->reader = NULL;
    /* Nothing to read: the range still ends here, where a follow's catching up starts. */
    c->jq.until_seq = after_seq;
    if (last <= after_seq)
        return 0;
    c->jq.after_seq = after_seq;
    c->jq.until_seq = last;
    r = journal_reader_open(journal_directory(c->ctl->j), &c->jq, &c->reader);
    if (r == -ENOENT)
        return 0;
    return r < 0 ? r : 1;
}

/* The stored part is sent: either the call ends, or records stored meanwhile are read too and,
 * once none came in, the follower takes over in the same loop turn, so nothing is missed or
 * sent twice. Returns true when more reading was set up. */
static bool journal_read_done(struct conn *c, json_t *entries)
{
    if (c->jq_follow) {
        int r;

        /* Catching up is a forward read of everything new, whatever lines/reverse said. */
        c->jq.lines = 0;
        c->jq.reverse = false;
        r = journal_open_range(c, c->jq.until_seq);
        if (r > 0) {
            if (json_array_size(entries) > 0)
                reply(c, json_pack("{s:o}", "entries", entries), true);
            else
                json_decref(entries);
            return true;
        }
        if (r == 0) {
            reply(c, json_pack("{s:o}", "entries", entries), true);
            c->follow_min_priority = c->jq.min_priority;
            c->follow_max_priority = c->jq.max_priority;
            c->follow = journal_follow(c->ctl->j, on_follow, c);
            if (!c->follow)
                conn_close(c);
            return false;
        }
        json_decref(entries);
        reply_error(c, IFACE "JournalError", json_pack("{s:s}", "reason", strerror(-r)));
    } else {
        reply(c, json_pack("{s:o}", "entries", entries), false);
    }
    journal_call_done(c);
    c->busy = false;
    if (!c->processing)
        conn_process(c);
    return false;
}

/* One step of a streamed GetJournal answer: reads until a chunk is full or the step's work is
 * spent, and sends it; the written reply brings the next step (on_written). */
static void journal_step(struct conn *c)
{
    json_t *entries = json_array();
    size_t work = 0;
    bool more = true;
    int r = entries ? 0 : -ENOMEM;

    while (r >= 0 && more && work < JOURNAL_STEP_WORK && json_array_size(entries) < JOURNAL_CHUNK) {
        r = journal_reader_next(c->reader, collect_entry, entries,
                                JOURNAL_CHUNK - json_array_size(entries), &more);
        work += JOURNAL_CHUNK;
    }
    if (r < 0) {
        json_decref(entries);
        reply_error(c, IFACE "JournalError", json_pack("{s:s}", "reason", strerror(-r)));
        journal_call_done(c);
        c->busy = false;
        if (!c->processing)
            conn_process(c);
        return;
    }
    if (more) {
        /* An empty chunk still goes out: its write completion drives the next step. */
        reply(c, json_pack("{s:o}", "entries", entries), true);
        return;
    }
    if (journal_read_done(c, entries) && !c->closing)
        journal_step(c);
}

/* Without "more" the answer is one message, read at once but bounded in size. */
static void journal_answer_whole(struct conn *c)
{
    json_t *entries = json_array();
    bool more = true;
    int r = entries ? 0 : -ENOMEM;

    while (r >= 0 && more && json_array_size(entries) <= JOURNAL_UNSTREAMED_MAX)
        r = journal_reader_next(c->reader, collect_entry, entries, JOURNAL_CHUNK, &more);
    if (r < 0) {
        reply_error(c, IFACE "JournalError", json_pack("{s:s}", "reason", strerror(-r)));
    } else if (json_array_size(entries) > JOURNAL_UNSTREAMED_MAX) {
        reply_error(c, IFACE "JournalTooLarge",
                    json_pack("{s:i}", "limit", JOURNAL_UNSTREAMED_MAX));
    } else {
        reply(c, json_pack("{s:O}", "entries", entries), false);
    }
    json_decref(entries);
    journal_call_done(c);
}

static void method_get_journal(struct conn *c, json_t *params, unsigned flags)
{
    json_t *units = json_object_get(params, "units");
    json_t *lines = json_object_get(params, "lines");
    json_t *after = json_object_get(params, "afterSeq");
    const char *inv = json_string_value(json_object_get(params, "invocationId"));
    bool current = json_is_true(json_object_get(params, "currentInvocation"));
    bool follow = json_is_true(json_object_get(params, "follow"));
    bool stream = (flags & VARLINK_CALL_MORE) != 0;
    struct journal_query q = {.max_priority = -1};
    char **names = NULL;
    size_t k;
    json_t *v;
    int r;

    if (follow && !stream) {
        reply_error(c, "org.varlink.service.ExpectedMore", NULL);
        return;
    }
    json_array_foreach(units, k, v)
    {
        const char *s = json_string_value(v);
        char *n = s ? unit_name_normalize(s) : NULL;
        if (!n || !unit_name_is_valid(n)) {
            free(n);
            strv_free(names);
            reply_error(c, "org.varlink.service.InvalidParameter",
                        json_pack("{s:s}", "parameter", "units"));
            return;
        }
        strv_push(&names, n);
    }
    if (current && (inv || !names || names[1])) {
        strv_free(names);
        reply_error(c, "org.varlink.service.InvalidParameter",
                    json_pack("{s:s}", "parameter", "currentInvocation"));
        return;
    }
    if (json_is_integer(lines) && json_integer_value(lines) > 0)
        q.lines = (size_t)json_integer_value(lines);
    if (after && !json_is_null(after) &&
        (!json_is_integer(after) || json_integer_value(after) < 0)) {
        strv_free(names);
        reply_error(c, "org.varlink.service.InvalidParameter",
                    json_pack("{s:s}", "parameter", "afterSeq"));
        return;
    }
    if (!journal_params(c, params, &q)) {
        strv_free(names);
        return;
    }
    if (c->oneway) {
        strv_free(names);
        return; /* nobody would see the answer */
    }
    /* The invocation GetUnit reports right now: a GetUnit that came in the same read just
     * before this call was answered in this loop turn, so both name the same run (status in one
     * round trip). A unit that never ran has none; then every run's lines count, as without. */
    if (current) {
        struct unit *u = manager_find(c->ctl->m, names[0]);
        struct unit_status st;
        if (!u) {
            strv_free(names);
            reply(c, json_pack("{s:[]}", "entries"), false);
            return;
        }
        manager_unit_status(u, &st);
        inv = st.invocation;
    }
    /* One run of a unit (status): nothing of it is older than the run, so the read need not
     * go further back; without this, the last lines of a short run in a long journal cost a
     * scan of the whole file (a second of margin for a stepped clock). */
    if (inv && *inv && names && names[0] && !names[1]) {
        struct unit *u = manager_find(c->ctl->m, names[0]);
        struct unit_status st;
        if (u) {
            manager_unit_status(u, &st);
            if (st.invocation_usec > USEC_PER_SEC && !strcmp(st.invocation, inv) &&
                q.since_usec < st.invocation_usec - USEC_PER_SEC)
                q.since_usec = st.invocation_usec - USEC_PER_SEC;
        }
    }
    /* The query lives on the connection while the answer is read in steps. */
    c->follow_units = names;
    c->follow_invocation = inv && *inv ? strdup(inv) : NULL;
    c->follow_identifier = q.identifier ? strdup(q.identifier) : NULL;
    q.units = (const char *const *)c->follow_units;
    q.invocation = c->follow_invocation;
    q.identifier = c->follow_identifier;
    c->jq = q;
    c->jq_follow = follow;

    /* afterSeq: only records stored after one the client already has (journal -f --grep reads
     * the stored part first, then follows from there). */
    r = journal_open_range(c, json_is_integer(after) ? (uint64_t)json_integer_value(after) : 0);
    if (r < 0) {
        reply_error(c, IFACE "JournalError", json_pack("{s:s}", "reason", strerror(-r)));
        journal_call_done(c);
        return;
    }
    if (!stream) {
        if (c->reader)
            journal_answer_whole(c);
        else {
            reply(c, json_pack("{s:[]}", "entries"), false);
            journal_call_done(c);
        }
        return;
    }
    /* Later calls on this connection wait until the answer (or the follow stream) ends. */
    c->busy = true;
    if (c->reader)
        journal_step(c);
    else if (journal_read_done(c, json_array()) && !c->closing)
        journal_step(c);
}

static void method_get_version(struct conn *c)
{
    const struct control_info *i = &c->ctl->info;

    reply(c,
          json_pack("{s:s, s:s, s:s, s:s, s:i}", "version", i->version, "runtimeDirectory",
                    i->runtime_dir, "logDirectory", i->log_dir, "unitDirectory", i->unit_dir, "pid",
                    (int)getpid()),
          false);
}

static void method_get_info(struct conn *c)
{
    reply(c,
          json_pack("{s:s, s:s, s:s, s:s, s:[s, s]}", "vendor", "minisup", "product", "minisupd",
                    "version", c->ctl->info.version, "url", "https://example.invalid/minisup",
                    "interfaces", "org.varlink.service", VARLINK_INTERFACE),
          false);
}

/* The text of docs/io.minisup.Manager.varlink, embedded at build time (cmake/embed.cmake). */
extern const char varlink_interface_description[];

static void method_get_interface_description(struct conn *c, json_t *params)
{
    const char *iface = json_string_value(json_object_get(params, "interface"));

    if (iface && strcmp(iface, VARLINK_INTERFACE) == 0) {
        reply(c, json_pack("{s:s}", "description", varlink_interface_description), false);
        return;
    }
    if (iface && strcmp(iface, "org.varlink.service") == 0) {
        reply(c,
              json_pack("{s:s}", "description",
                        "# The Varlink Service Interface is provided by every varlink service.\n"
                        "interface org.varlink.service\n\n"
                        "# Get information about a service.\n"
                        "method GetInfo() -> (vendor: string, product: string, version: string,\n"
                        "  url: string, interfaces: []string)\n\n"
                        "# Get the description of an interface that is implemented by this "
                        "service.\n"
                        "method GetInterfaceDescription(interface: string) -> (description: "
                        "string)\n\n"
                        "# The requested interface was not found.\n"
                        "error InterfaceNotFound (interface: string)\n\n"
                        "# The requested method was not found\n"
                        "error MethodNotFound (method: string)\n\n"
                        "# The interface defines the requested method, but the service does not "
                        "implement it.\n"
                        "error MethodNotImplemented (method: string)\n\n"
                        "# One of the passed parameters is invalid.\n"
                        "error InvalidParameter (parameter: string)\n\n"
                        "# Client is denied access\n"
                        "error PermissionDenied ()\n\n"
                        "# Method is expected to be called with 'more' set to true, but wasn't\n"
                        "error ExpectedMore ()\n"),
              false);
        return;
    }
    reply_error(c, "org.varlink.service.InterfaceNotFound",
                json_pack("{s:s}", "interface", iface ? iface : ""));
}

/* The parameters of each method as docs/io.minisup.Manager.varlink declares them. A key of the
 * wrong JSON type, or a required one missing (or null), is InvalidParameter naming it, as the
 * Varlink spec asks; unknown keys are ignored. Ranges beyond the type are checked by the
 * methods themselves. */
enum param_type { P_STRING, P_BOOL, P_INT, P_COUNT, P_STRINGS };

struct param_spec {
    const char *name;
    enum param_type type;
    bool required;
};

#define UNIT_NAME                                                                                  \
    {                                                                                              \
        "name", P_STRING, true                                                                     \
    }
#define NO_BLOCK                                                                                   \
    {                                                                                              \
        "noBlock", P_BOOL, false                                                                   \
    }

static const struct method_params {
    const char *method;
    struct param_spec params[13];
} method_params[] = {
    {"org.varlink.service.GetInterfaceDescription", {{"interface", P_STRING, true}}},
    {IFACE "ListUnits", {{"states", P_STRINGS, false}}},
    {IFACE "GetUnitProperties", {UNIT_NAME, {"all", P_BOOL, false}}},
    {IFACE "GetUnitFile", {UNIT_NAME}},
    {IFACE "GetUnit", {UNIT_NAME, {"processes", P_BOOL, false}}},
    {IFACE "StartUnit", {UNIT_NAME, NO_BLOCK}},
    {IFACE "StopUnit", {UNIT_NAME, NO_BLOCK}},
    {IFACE "RestartUnit", {UNIT_NAME, NO_BLOCK}},
    {IFACE "ReloadUnit", {UNIT_NAME, NO_BLOCK}},
    {IFACE "TryRestartUnit", {UNIT_NAME, NO_BLOCK}},
    {IFACE "ReloadOrRestartUnit", {UNIT_NAME, NO_BLOCK}},
    {IFACE "ResetFailedUnit", {UNIT_NAME}},
    {IFACE "KillUnit", {UNIT_NAME, {"signal", P_INT, false}, {"whom", P_STRING, false}}},
    {IFACE "GetJournal",
     {{"units", P_STRINGS, false},
      {"lines", P_COUNT, false},
      {"follow", P_BOOL, false},
      {"invocationId", P_STRING, false},
      {"since", P_INT, false},
      {"until", P_INT, false},
      {"minPriority", P_INT, false},
      {"maxPriority", P_INT, false},
      {"identifier", P_STRING, false},
      {"reverse", P_BOOL, false},
      {"currentInvocation", P_BOOL, false},
      {"afterSeq", P_INT, false}}},
};

static bool param_has_type(json_t *v, enum param_type type)
{
    size_t i;
    json_t *e;

    switch (type) {
    case P_STRING:
        return json_is_string(v);
    case P_BOOL:
        return json_is_boolean(v);
    case P_INT:
        return json_is_integer(v);
    case P_COUNT:
        return json_is_integer(v) && json_integer_value(v) >= 0;
    case P_STRINGS:
        if (!json_is_array(v))
            return false;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e))
                return false;
        }
        return true;
    }
    return false;
}

/* False, after an InvalidParameter reply, when params do not match the method's declaration. */
static bool params_valid(struct conn *c, const char *method, json_t *params)
{
    for (size_t i = 0; i < sizeof(method_params) / sizeof(method_params[0]); i++) {
        if (strcmp(method, method_params[i].method) != 0)
            continue;
        for (const struct param_spec *p = method_params[i].params; p->name; p++) {
            json_t *v = json_object_get(params, p->name);
            if ((!v || json_is_null(v)) ? !p->required : param_has_type(v, p->type))
                continue;
            reply_error(c, "org.varlink.service.InvalidParameter",
                        json_pack("{s:s}", "parameter", p->name));
            return false;
        }
        break;
    }
    return true;
}

/* Methods anyone may call: they read unit state, unit files and properties (not secret, as in
 * systemd), never journal lines. Everything else needs a privileged peer (RELIABILITY.md §4.1). */
static bool is_read_only(const char *method)
{
    static const char *const open_methods[] = {"org.varlink.service.GetInfo",
                                               "org.varlink.service.GetInterfaceDescription",
                                               IFACE "ListUnits",
                                               IFACE "ListSockets",
                                               IFACE "GetUnit",
                                               IFACE "GetUnitFile",
                                               IFACE "GetUnitProperties",
                                               IFACE "GetVersion",
                                               NULL};
    for (size_t i = 0; open_methods[i]; i++)
        if (strcmp(method, open_methods[i]) == 0)
            return true;
    return false;
}

static void handle_call(struct conn *c, json_t *msg)
{
    const char *method;
    json_t *params;
    unsigned flags;

    if (varlink_call_parse(msg, &method, &params, &flags) < 0) {
        /* One error reply, then the connection ends: nothing after a bad message can be
         * trusted to be framed right (dinit's BADREQ rule). */
        conn_fail(c, IFACE "InvalidMessage", "not a Varlink call");
        return;
    }
    if (!params)
        params = json_object();
    else
        json_incref(params);
    c->more = (flags & VARLINK_CALL_MORE) != 0;
    c->oneway = (flags & VARLINK_CALL_ONEWAY) != 0;

    if (!c->privileged && !is_read_only(method)) {
        log_notice("Denied %s to uid %u pid %d.", method, (unsigned)c->uid, (int)c->pid);
        reply_error(c, IFACE "PermissionDenied", NULL);
    } else if (!params_valid(c, method, params)) {
        /* answered */
    } else if (!strcmp(method, "org.varlink.service.GetInfo")) {
        method_get_info(c);
    } else if (!strcmp(method, "org.varlink.service.GetInterfaceDescription")) {
        method_get_interface_description(c, params);
    } else if (!strcmp(method, IFACE "ListUnits")) {
        method_list_units(c, params);
    } else if (!strcmp(method, IFACE "Subscribe")) {
        method_subscribe(c, flags);
    } else if (!strcmp(method, IFACE "Shutdown")) {
        /* Ending the daemon is for root and its own user, not the admin group. */
        if (c->uid != 0 && c->uid != geteuid()) {
            reply_error(c, IFACE "PermissionDenied", NULL);
        } else {
            reply(c, json_object(), false);
            if (c->ctl->info.shutdown)
                c->ctl->info.shutdown(c->ctl->info.shutdown_userdata);
        }
    } else if (!strcmp(method, IFACE "Verify")) {
        method_verify(c);
    } else if (!strcmp(method, IFACE "GetUnitProperties")) {
        method_get_unit_properties(c, params);
    } else if (!strcmp(method, IFACE "GetUnitFile")) {
        method_get_unit_file(c, params);
    } else if (!strcmp(method, IFACE "ListSockets")) {
        method_list_sockets(c);
    } else if (!strcmp(method, IFACE "GetUnit")) {
        method_get_unit(c, params);
    } else if (!strcmp(method, IFACE "StartUnit")) {
        method_job(c, params, JOB_START);
    } else if (!strcmp(method, IFACE "StopUnit")) {
        method_job(c, params, JOB_STOP);
    } else if (!strcmp(method, IFACE "RestartUnit")) {
        method_job(c, params, JOB_RESTART);
    } else if (!strcmp(method, IFACE "ReloadUnit")) {
        method_job(c, params, JOB_RELOAD);
    } else if (!strcmp(method, IFACE "TryRestartUnit")) {
        method_conditional(c, params, false);
    } else if (!strcmp(method, IFACE "ReloadOrRestartUnit")) {
        method_conditional(c, params, true);
    } else if (!strcmp(method, IFACE "ResetFailedUnit")) {
        method_reset_failed(c, params);
    } else if (!strcmp(method, IFACE "KillUnit")) {
        method_kill(c, params);
    } else if (!strcmp(method, IFACE "Reload")) {
        int r = manager_reload(c->ctl->m);
        if (r < 0)
            reply_error(c, IFACE "ReloadFailed", json_pack("{s:s}", "reason", strerror(-r)));
        else
            reply(c, json_pack("{s:i}", "failedUnits", r), false);
    } else if (!strcmp(method, IFACE "GetJournal")) {
        method_get_journal(c, params, flags);
    } else if (!strcmp(method, IFACE "GetVersion")) {
        method_get_version(c);
    } else if (strncmp(method, IFACE, strlen(IFACE)) != 0 &&
               strncmp(method, "org.varlink.service.", 20) != 0) {
        const char *dot = strrchr(method, '.');
        char *iface = strndup(method, dot ? (size_t)(dot - method) : strlen(method));
        reply_error(c, "org.varlink.service.InterfaceNotFound",
                    json_pack("{s:s}", "interface", iface ? iface : ""));
        free(iface);
    } else {
        reply_error(c, "org.varlink.service.MethodNotFound", json_pack("{s:s}", "method", method));
    }
    json_decref(params);
}

static void conn_process(struct conn *c)
{
    c->processing = true;
    c->cork++;
    while (!c->busy && !c->closing && !c->failing) {
        json_t *msg = NULL;
        int r = varlink_buffer_next(&c->in, &msg);
        if (r == 0)
            break;
        if (r < 0) {
            conn_fail(c, IFACE "InvalidMessage", "not a JSON object");
            break;
        }
        handle_call(c, msg);
        json_decref(msg);
        c->oneway = false;
    }
    c->processing = false;
    if (--c->cork == 0)
        conn_flush(c);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;

    varlink_buffer_done(&c->in);
    free(c);
}

static void conn_close(struct conn *c)
{
    struct control *ctl = c->ctl;

    if (c->closing)
        return;
    c->closing = true;
    if (c->waiting_job)
        manager_job_cancel(&c->waiter);
    if (c->follow)
        journal_unfollow(ctl->j, c->follow);
    if (c->watch)
        manager_unwatch(ctl->m, c->watch);
    c->watch = NULL;
    c->follow = NULL;
    journal_call_done(c);
    conn_flush(c); /* closing: only frees what the cork held */
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ctl->n_conns--;
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static char read_buf[64 * 1024];

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    buf->base = read_buf;
    buf->len = sizeof(read_buf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;

    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0)
        return;
    if (c->failing)
        return; /* the error reply is on its way; the rest is not read */
    if (varlink_buffer_append(&c->in, buf->base, (size_t)nread) < 0) {
        log_notice("Control message from pid %d too large; disconnecting.", (int)c->pid);
        conn_fail(c, IFACE "MessageTooLarge", "a message is limited to 1 MiB");
        return;
    }
    conn_process(c);
    /* Bytes without their terminator start the clock for this client. */
    /* tail is the unterminated part: all of the buffer means no whole message is waiting
     * (no rescan of the buffer per read: a byte-by-byte sender would make that quadratic). */
    if (c->in.len > 0 && c->in.tail == c->in.len) {
        if (!c->partial_since)
            c->partial_since = uv_now(c->ctl->loop);
        /* The sweep runs only while someone sits on half a message: an idle daemon sleeps. */
        if (c->ctl->has_sweep && !uv_is_active((uv_handle_t *)&c->ctl->sweep))
            uv_timer_start(&c->ctl->sweep, on_sweep, 1000, 1000);
    } else {
        c->partial_since = 0;
    }
}

/* A client that sends half a message and waits ties up a connection slot: after PARTIAL_MAX_MS
 * it is dropped (RELIABILITY.md §4.1: a read deadline for partial frames). */
#define PARTIAL_MAX_MS 10000

static void on_sweep(uv_timer_t *t)
{
    struct control *ctl = t->data;
    uint64_t now = uv_now(ctl->loop);
    bool waiting = false;

    for (struct conn *c = ctl->conns, *next; c; c = next) {
        next = c->next;
        if (c->partial_since && now - c->partial_since > PARTIAL_MAX_MS) {
            log_notice("Control client pid %d sent an incomplete message for %d s; "
                       "disconnecting.",
                       (int)c->pid, PARTIAL_MAX_MS / 1000);
            conn_close(c);
        } else if (c->partial_since) {
            waiting = true;
        }
    }
    if (!waiting)
        uv_timer_stop(t);
}

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

/* Members of the admin group may do what root may. The peer's groups come from the kernel
 * (SO_PEERGROUPS: as they were at connect time), never from the client or /proc. */
static bool in_admin_group(const struct control *ctl, int fd, gid_t gid)
{
    gid_t groups[1024];
    socklen_t len = sizeof(groups);

    if (!ctl->info.has_admin_group)
        return false;
    if (gid == ctl->info.admin_gid)
        return true;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
        return false;
    for (size_t i = 0; i < len / sizeof(gid_t); i++)
        if (groups[i] == ctl->info.admin_gid)
            return true;
    return false;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control *ctl = server->data;
    struct conn *c;
    struct ucred cred;
    socklen_t len = sizeof(cred);
    uv_os_fd_t fd;

    if (status < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (!c)
        return;
    c->ctl = ctl;
    uv_pipe_init(ctl->loop, &c->pipe, 0);
    c->pipe.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
        return;
    }
    c->next = ctl->conns;
    if (ctl->conns)
        ctl->conns->prev = c;
    ctl->conns = c;
    ctl->n_conns++;
    if (ctl->n_conns > CONNECTIONS_MAX) {
        log_warning("Too many control connections; refusing one.");
        conn_fail(c, IFACE "TooManyConnections", "the connection limit is reached");
        return;
    }
    /* Identity comes from the kernel, never from what the client says (S1). */
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        conn_close(c);
        return;
    }
    c->uid = cred.uid;
    c->gid = cred.gid;
    c->pid = cred.pid;
    c->privileged = cred.uid == 0 || cred.uid == geteuid() || in_admin_group(ctl, fd, cred.gid);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_server_closed(uv_handle_t *h);

int control_new(uv_loop_t *loop, const char *socket_path, const struct control_info *info,
                struct manager *m, struct journal *j, struct control **ret)
{
    struct control *ctl = calloc(1, sizeof(*ctl));
    mode_t old;
    int r;

    if (!ctl)
        return -ENOMEM;
    ctl->loop = loop;
    ctl->info = *info;
    ctl->m = m;
    ctl->j = j;
    ctl->path = strdup(socket_path);
    if (!ctl->path) {
        free(ctl);
        return -ENOMEM;
    }
    r = uv_pipe_init(loop, &ctl->server, 0);
    if (r < 0) {
        free(ctl->path);
        free(ctl);
        return r;
    }
    ctl->server.data = ctl;
    /* We hold the instance lock, so a socket file left here is stale. */
    (void)unlink(socket_path);
    /* Bind under a tight umask so the socket never exists with looser permissions. */
    old = umask(0177);
    r = uv_pipe_bind(&ctl->server, socket_path);
    umask(old);
    if (r >= 0 && geteuid() == 0)
        r = chmod(socket_path, 0666) < 0 ? -errno : 0;
    if (r >= 0)
        r = uv_listen((uv_stream_t *)&ctl->server, 128, on_connection);
    if (r < 0) {
        /* ctl is freed by the close callback; the caller runs the loop to finish. */
        ctl->closing_handles = 1;
        uv_close((uv_handle_t *)&ctl->server, on_server_closed);
        return r;
    }
    uv_timer_init(loop, &ctl->sweep);
    ctl->sweep.data = ctl;
    ctl->has_sweep = true;
    uv_unref((uv_handle_t *)&ctl->sweep); /* started by the first half message */
    *ret = ctl;
    return 0;
}

static void on_server_closed(uv_handle_t *h)
{
    struct control *ctl = h->data;

    if (--ctl->closing_handles > 0)
        return;
    free(ctl->path);
    free(ctl);
}

void control_close(struct control *ctl)
{
    if (!ctl)
        return;
    while (ctl->conns)
        conn_close(ctl->conns);
    if (ctl->path)
        (void)unlink(ctl->path);
    if (uv_is_closing((uv_handle_t *)&ctl->server))
        return;
    ctl->closing_handles = ctl->has_sweep ? 2 : 1;
    if (ctl->has_sweep)
        uv_close((uv_handle_t *)&ctl->sweep, on_server_closed);
    uv_close((uv_handle_t *)&ctl->server, on_server_closed);
}
