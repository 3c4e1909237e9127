/*
 * What a registrar sees of transfers: the outbox, the inbox, the requests
 * from other schools, and what needs attention now. The command line
 * ('baton outbox --json', 'inbox', 'requests') and the console's API read
 * the same JSON from here, so that the two cannot disagree. Each function
 * reads in one transaction of its own and returns 0 or a negative BATON_E*
 * code with baton_diag() saying what failed (error.h); on error, nothing is
 * returned to free.
 */
#ifndef BATON_NODE_VIEW_TRANSFERS_H
#define BATON_NODE_VIEW_TRANSFERS_H

#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define VIEW_HOME_FIRST    5  /* items of each kind the home view lists */
#define VIEW_HOME_ATTEMPTS 3  /* a queued packet tried this often needs attention */
#define VIEW_HOME_DAYS     14 /* a consent expiring this soon needs attention */

/*
 * The outbox, oldest first (by "created"), as a JSON array of objects:
 * packet (hex), kind ("transfer", "request", "refusal"), to, student,
 * state ("queued", "sent", "receipted", "rejected", "expired", "denied",
 * "delivered", "answered"), attempts, last_error, created, expires, file;
 * next_try while queued; reason (the receipt's, by name) once answered.
 * *arr: new, the caller frees it with json_decref. Returns 0, BATON_ENOMEM
 * or the store's error.
 */
int view_outbox(store *st, json_t **arr);

/*
 * An outbox entry's state (store_out_state) by the name view_outbox gives
 * it, "?" for one it does not know. Static; cannot fail.
 */
const char *view_out_state(int state);

/*
 * The inbox, oldest first (by "time"), as a JSON array of objects: packet,
 * from, student, result (the receipt's reason by name), time, note (the
 * receipt's note: "held for review", a refusal's reason, or ""). *arr and
 * returns as view_outbox.
 */
int view_inbox(store *st, json_t **arr);

/*
 * The requests from other schools, in id order, as a JSON array of
 * objects: request (hex), from, student, state ("held", "released",
 * "denied"), sections (in words), purpose, time, note, school (the name on
 * the requesting school's pinned card, "" once unpinned); packet (released:
 * the transfer's id) or reason (denied: the registrar's). all 0: only held
 * ones. *arr and returns as view_outbox.
 */
int view_requests(store *st, int all, json_t **arr);

/*
 * What needs the registrar at now, as a JSON object: for each of
 * "requests" (held), "review" (records held for review), "outbox" (packets
 * rejected or expired, or queued and tried VIEW_HOME_ATTEMPTS times or
 * more) and "consents" (on file, neither revoked nor expired, expiring
 * within VIEW_HOME_DAYS days), an object {count, first: [the first
 * VIEW_HOME_FIRST items]}; and "total", their sum. No names of students:
 * ids only. *out: new, the caller frees it with json_decref. Returns 0,
 * BATON_EIO when a stored consent does not parse, BATON_ENOMEM, or the
 * store's error.
 */
int view_home(store *st, uint64_t now, json_t **out);

#endif
