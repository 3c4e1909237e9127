/*
 * What a node asks of a card beyond its encoding (proto/PROTOCOL.md section
 * 3.4): an endpoint other schools can dial, and when a newer card of a
 * pinned school replaces the one pinned.
 */
#ifndef BATON_NODE_CARD_H
#define BATON_NODE_CARD_H

#include <baton/baton.h>

/*
 * Checks an endpoint this node is about to put into its own card. It must
 * pass the card's URL rule, and a tcp:// URL must name a host and a port
 * (1..65535): "tcp://HOST:PORT", or "tcp://[V6ADDR]:PORT". Other schemes
 * are left to nng, as section 3.4 says.
 *   url  NUL-terminated, owned by the caller.
 * Returns 0, or BATON_EVALUE with baton_diag() quoting url.
 */
int card_endpoint_check(const char *url);

/*
 * 1 when every endpoint of c names this machine only (a 127.0.0.0/8
 * address, localhost or [::1]), so that no other school can reach it;
 * otherwise 0. c is owned by the caller.
 */
int card_is_loopback_only(const baton_card *c);

/*
 * The rule for a newer card of a pinned school (section 3.4): c replaces
 * pinned when both name the same code and identity key and c's valid_from
 * is later than pinned's. Neither card's validity window is checked here.
 *   pinned  the card pinned now; c  the card offered. Both owned by the caller.
 * Returns 0 when c replaces pinned; BATON_EBADKEY when the identity keys
 * differ (a changed key needs a rotation statement, section 3.8);
 * BATON_EVALUE when the codes differ, or when c is not newer (baton_diag()
 * names both valid_from times).
 */
int card_replaces(const baton_card *pinned, const baton_card *c);

/*
 * Writes t as "2026-11-23 19:41:05 UTC" into buf: with seconds, since two
 * cards of one school made a second apart must read apart. Cannot fail (a
 * time gmtime cannot represent is written as its number).
 *   buf  at least CARD_TIME_LEN bytes, owned by the caller.
 */
#define CARD_TIME_LEN 32
void card_time(uint64_t t, char buf[static CARD_TIME_LEN]);

#endif
