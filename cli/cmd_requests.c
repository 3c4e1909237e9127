/*
 * baton requests: requests from other schools, held for the registrar, who
 * releases ('baton release') or refuses ('baton deny') them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

struct find_req {
	const char *hex;
	size_t n;
	int matches;
	uint8_t id[BATON_ID_BYTES];
};

static int find_req_cb(const store_request *e, void *arg)
{
	struct find_req *f = arg;
	char hex[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), e->id, BATON_ID_BYTES);
	if (strncasecmp(hex, f->hex, f->n) == 0) {
		f->matches++;
		memcpy(f->id, e->id, BATON_ID_BYTES);
	}
	return 0;
}

static int find_req_fn(store_txn *t, void *arg)
{
	return store_request_each(t, find_req_cb, arg);
}

int cli_request_id(store *st, const char *hex, uint8_t id[BATON_ID_BYTES])
{
	struct find_req f = {hex, strlen(hex), 0, {0}};
	int r;
	if ((r = cli_id_prefix(hex, "request id")) != 0 ||
	    (r = store_read(st, find_req_fn, &f)) != 0)
		return r;
	if (f.matches == 0)
		return bti_diag_err(BATON_ENOTFOUND, "no request %s (see 'baton requests --all')",
		                    hex);
	if (f.matches > 1)
		return bti_diag_err(BATON_EVALUE,
		                    "request id %s names %d requests: give more digits", hex,
		                    f.matches);
	memcpy(id, f.id, BATON_ID_BYTES);
	return 0;
}

static const char *const req_states[] = {"held", "released", "denied"};

struct list_ctx {
	json_t *arr;
	size_t n;
	int all;
};

static int list_one(const store_request *e, void *arg)
{
	struct list_ctx *c = arg;
	const char *state = e->state >= 0 && e->state <= REQ_DENIED ? req_states[e->state] : "?";
	baton_consent cs;
	char secs[200];

	if (!c->all && e->state != REQ_HELD)
		return 0;
	c->n++;
	memset(&cs, 0, sizeof(cs));
	(void)baton_consent_parse(e->consent, e->consent_len, &cs); /* verified on arrival */
	baton_sections_format(e->want, secs, sizeof(secs));
	if (c->arr) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:s}", "request",
		                      cli_hex(e->id, BATON_ID_BYTES), "from", e->from, "student",
		                      e->student, "state", state, "sections", secs, "purpose",
		                      cs.purpose, "time", (json_int_t)e->time, "note", e->note);
		if (o && e->state == REQ_RELEASED)
			json_object_set_new(o, "packet",
			                    json_string(cli_hex(e->release, BATON_ID_BYTES)));
		if (o && e->state == REQ_DENIED)
			json_object_set_new(o, "reason", json_string(e->answer));
		return json_array_append_new(c->arr, o) ? BATON_ENOMEM : 0;
	}
	printf("%s  from %-10s student %-10s %-8s %s\n", cli_hex(e->id, BATON_ID_BYTES), e->from,
	       e->student, state, cli_time(e->time));
	printf("    sections: %s\n    purpose:  %s\n", secs, cs.purpose);
	if (e->note[0])
		printf("    note:     %s\n", e->note);
	if (e->state == REQ_RELEASED)
		printf("    released as packet %s\n", cli_hex(e->release, BATON_ID_BYTES));
	if (e->state == REQ_DENIED)
		printf("    denied: %s\n", e->answer);
	return 0;
}

static int list_fn(store_txn *t, void *arg)
{
	return store_request_each(t, list_one, arg);
}

int cmd_requests(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct list_ctx c = {NULL, 0, 0};
	store *st;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'a') {
			c.all = 1;
			continue;
		}
		fprintf(
		    opt == 'h' ? stdout : stderr,
		    "usage: baton requests [--all] [--json] [--dir DIR]\n\n"
		    "Requests from other schools waiting for the registrar ('baton release ID'\n"
		    "or 'baton deny ID --reason TEXT'); with --all, answered ones too.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("requests: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	c.arr = com.json ? json_array() : NULL;
	int r = store_read(st, list_fn, &c);
	store_close(st);
	return cli_list_done(r, c.arr, c.n, "requests",
	                     c.all ? "No requests have arrived." : "No requests are waiting.");
}
