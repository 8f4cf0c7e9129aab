/* Varlink (varlink.org) wire codec shared by minisupd and minisupctl: NUL-terminated JSON
 * messages on a stream socket, call and reply objects, and a small blocking client with a
 * deadline for the CLI. JSON goes through jansson. No logging. */
#ifndef MINISUP_VARLINK_H
#define MINISUP_VARLINK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define VARLINK_INTERFACE "io.minisup.Manager"
/* Hard bound on one message, checked before anything is allocated for it. */
#define VARLINK_MESSAGE_MAX (1024 * 1024)

enum varlink_call_flags {
    VARLINK_CALL_MORE = 1 << 0,   /* "more": true, the reply may be a stream */
    VARLINK_CALL_ONEWAY = 1 << 1, /* "oneway": true, no reply at all */
};

/* Accumulates bytes from a stream and yields complete messages. Zero-initialised is empty.
 * data[0, len) are the bytes not yet taken off (at most 2 * VARLINK_MESSAGE_MAX); they lie in
 * the allocation base[0, cap), whose front is reclaimed lazily, so that taking n bytes of
 * messages off costs O(n). tail counts the bytes after the last terminator (the message still
 * being received): tail == len > 0 means bytes without a terminator. */
struct varlink_buffer {
    char *data;
    size_t len, cap;
    char *base;
    size_t tail;
};

/* Appends n bytes. -EMSGSIZE, with nothing appended, when a message in them (or the one still
 * unterminated) would be longer than VARLINK_MESSAGE_MAX bytes without its NUL, or more than
 * 2 * VARLINK_MESSAGE_MAX bytes would be buffered; -ENOMEM. */
int varlink_buffer_append(struct varlink_buffer *b, const void *p, size_t n);

/* Takes the next complete message off the front. Returns 1 with *ret (a new reference) set, 0
 * when no complete message is buffered, -EBADMSG when the message is not a JSON object. */
int varlink_buffer_next(struct varlink_buffer *b, json_t **ret);

void varlink_buffer_done(struct varlink_buffer *b);

/* Serialises msg (compact) followed by the terminating NUL. New buffer, length in *ret_len, or
 * NULL on out-of-memory. */
char *varlink_encode(const json_t *msg, size_t *ret_len);

/* {"method": M, "parameters": P, "more"/"oneway": true}. Steals `params` (may be NULL). */
json_t *varlink_call_new(const char *method, json_t *params, unsigned flags);

/* {"parameters": P, "continues": true?}. Steals `params` (may be NULL). */
json_t *varlink_reply_new(json_t *params, bool continues);

/* {"error": NAME, "parameters": P}. Steals `params` (may be NULL). */
json_t *varlink_error_new(const char *error, json_t *params);

/* Splits a call. Borrowed results. -EBADMSG when it is not a well-formed call. */
int varlink_call_parse(json_t *msg, const char **ret_method, json_t **ret_params,
                       unsigned *ret_flags);

/* Splits a reply. *ret_error is NULL for a success reply. Borrowed results. */
int varlink_reply_parse(json_t *msg, const char **ret_error, json_t **ret_params,
                        bool *ret_continues);

/* A blocking client: one connection, calls answered in order, every wait bounded. */
struct varlink_client;

/* Connects to the Unix socket at path. 0 or a negative errno. */
int varlink_client_connect(const char *path, struct varlink_client **ret);

/* Sends a call (steals params), after any queued ones. 0 or a negative errno. */
int varlink_client_send(struct varlink_client *c, const char *method, json_t *params,
                        unsigned flags);

/* Queues a call (steals params) to go out with the next flush or send, so that pipelined
 * calls reach the server in one write and are read in one wake-up. 0 or -ENOMEM. */
int varlink_client_queue(struct varlink_client *c, const char *method, json_t *params,
                         unsigned flags);

/* Writes the queued calls. 0 or a negative errno (the queue is dropped either way). */
int varlink_client_flush(struct varlink_client *c);

/* Waits for the next reply, at most timeout_ms (-1 = forever). Returns 0 with *ret_reply (new
 * reference), -ETIMEDOUT, -ECONNRESET when the daemon closed, or another negative errno. */
int varlink_client_receive(struct varlink_client *c, int timeout_ms, json_t **ret_reply);

/* The socket, for poll() by callers that also watch other fds. */
int varlink_client_fd(const struct varlink_client *c);

struct varlink_client *varlink_client_free(struct varlink_client *c);

#endif
