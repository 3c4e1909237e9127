/*
 * The node's log: one line per event on standard error, in one format.
 *
 * Each line carries a syslog priority. Where standard error is the journal
 * (systemd says so in JOURNAL_STREAM, naming stderr's device and inode), a
 * line starts with "<N>" and carries no time of its own, since the journal
 * stamps it; elsewhere it starts with the UTC time to the millisecond, as
 * it always has. Lines of different threads do not mix.
 */
#ifndef BATON_NODE_LOG_H
#define BATON_NODE_LOG_H

#include <stdint.h>

/* Priorities, as syslog numbers them. */
#define NODE_LOG_ERR   3 /* the node cannot do something it should */
#define NODE_LOG_WARN  4 /* refused input, failed attempts, keys that do not open */
#define NODE_LOG_INFO  6 /* received, delivered, started, stopped */
#define NODE_LOG_DEBUG 7 /* steps of a transfer */

/*
 * Looks once whether standard error is the journal; later lines follow.
 * Call before the first line (node_log calls it itself when not called).
 * Cannot fail.
 */
void node_log_init(void);

/*
 * Writes one line at priority prio (NODE_LOG_*): fmt and its arguments,
 * printf-style, with no newline. Cannot fail; a line that cannot be written
 * is lost.
 */
void node_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * A refusal of input no pinned school is known to have made, at
 * NODE_LOG_WARN: the first of each second is written, with the count of
 * those refused so far and of those not written since the last such line;
 * the rest are only counted, so that anyone who can reach the port cannot
 * flood the log. Cannot fail.
 */
void node_log_unverified(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * t (seconds since 1970) as "YYYY-MM-DD HH:MM UTC" into buf, which it
 * returns; the number itself when out of range. Cannot fail.
 */
const char *node_log_time(uint64_t t, char buf[static 32]);

#endif
