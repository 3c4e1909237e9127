/*
 * baton authority init | add | remove | list | sign: an authority (a state
 * agency, a consortium) keeps the cards of its member schools and the keys
 * it has withdrawn, and signs them as a directory (PROTOCOL.md 3.14) that
 * nodes which pinned its key trust. No node, store or network is involved:
 * the authority's directory holds its key file and its state, "members".
 *
 * The state is one canonical msgpack map, read back with the library's
 * bounded decoder and every card verified again:
 *   {"authority": bin[32], "cards": [card envelope...] in code order,
 *    "name": str, "version": uint (the last version signed, 0 before the
 *    first), "withdrawn": [bin[32]...] ascending}
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "view_peers.h"

#define KEY_FILE         "authority.key"
#define STATE_FILE       "members"
#define LAST_FILE        "last.dir" /* the last directory signed, the floor of the next */
#define STATE_MAX        (2 * BATON_DIRECTORY_MAX)
#define EXPIRES_MAX_DAYS 400
#define DAY              UINT64_C(86400)

struct member {
	uint8_t *card; /* the card envelope, as added */
	size_t len;
	baton_card c; /* decoded */
};

struct authority {
	uint8_t pk[BATON_PK_BYTES];
	char name[BATON_NAME_MAX + 1];
	uint64_t version; /* the last version signed; 0 before the first */
	struct member *m; /* n of them, in code order */
	size_t n;
	uint8_t *withdrawn; /* nw keys, ascending */
	size_t nw;
};

static void authority_free(struct authority *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->m[i].card);
	free(a->m);
	free(a->withdrawn);
	memset(a, 0, sizeof(*a));
}

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

/* ---- the state file ---- */

static const char *const state_keys[] = {"authority", "cards", "name", "version", "withdrawn"};
enum { ST_AUTHORITY, ST_CARDS, ST_NAME, ST_VERSION, ST_WITHDRAWN, ST_N };

static void enc_state(struct enc *e, const void *obj)
{
	const struct authority *a = obj;
	bti_enc_map(e, ST_N);
	bti_enc_str(e, "authority"), bti_enc_bin(e, a->pk, BATON_PK_BYTES);
	bti_enc_str(e, "cards"), bti_enc_array(e, (uint32_t)a->n);
	for (size_t i = 0; i < a->n; i++)
		bti_enc_bin(e, a->m[i].card, a->m[i].len);
	bti_enc_str(e, "name"), bti_enc_str(e, a->name);
	bti_enc_str(e, "version"), bti_enc_uint(e, a->version);
	bti_enc_str(e, "withdrawn"), bti_enc_array(e, (uint32_t)a->nw);
	for (size_t i = 0; i < a->nw; i++)
		bti_enc_bin(e, a->withdrawn + i * BATON_PK_BYTES, BATON_PK_BYTES);
}

static int dec_state(const msgpack_object *o, struct authority *a, const char *path)
{
	const msgpack_object *v[ST_N];
	int r;

	if ((r = bti_mp_fields(o, path, state_keys, ST_N, v)) != 0 ||
	    (r = bti_mp_fixbin(v[ST_AUTHORITY], path, "authority", a->pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk(path, "authority", a->pk)) != 0 ||
	    (r = bti_mp_array(v[ST_CARDS], path, "cards", 0, BATON_DIRECTORY_MEMBERS_MAX)) != 0 ||
	    (r = bti_mp_str(v[ST_NAME], path, "name", 1, a->name, sizeof(a->name))) != 0 ||
	    (r = bti_check_text(path, "name", a->name)) != 0 ||
	    (r = bti_mp_uint(v[ST_VERSION], path, "version", &a->version)) != 0 ||
	    (r = bti_mp_array(v[ST_WITHDRAWN], path, "withdrawn", 0,
	                      BATON_DIRECTORY_MEMBERS_MAX)) != 0)
		return r;
	size_t n = v[ST_CARDS]->via.array.size, nw = v[ST_WITHDRAWN]->via.array.size;
	if ((n > 0 && (a->m = calloc(n, sizeof(*a->m))) == NULL) ||
	    (nw > 0 && (a->withdrawn = malloc(nw * BATON_PK_BYTES)) == NULL))
		return BATON_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const msgpack_object *c = &v[ST_CARDS]->via.array.ptr[i];
		struct member *m = &a->m[i];
		char field[32];
		const uint8_t *p;
		size_t len;
		snprintf(field, sizeof(field), "cards[%zu]", i);
		if ((r = bti_mp_bin(c, path, field, 1, BATON_OBJ_MAX, &p, &len)) != 0)
			return r;
		if ((m->card = malloc(len)) == NULL)
			return BATON_ENOMEM;
		memcpy(m->card, p, len);
		m->len = len;
		a->n = i + 1;
		if ((r = baton_card_parse(m->card, len, &m->c)) != 0) {
			char why[300];
			snprintf(why, sizeof(why), "%s", baton_diag());
			return bti_diag_err(r, "%s: %s: %s", path, field, why);
		}
		if (i > 0 && strcmp(a->m[i - 1].c.code, m->c.code) >= 0)
			return bti_diag_err(BATON_EVALUE, "%s: %s: not in code order", path, field);
	}
	for (size_t i = 0; i < nw; i++) {
		uint8_t *k = a->withdrawn + i * BATON_PK_BYTES;
		char field[32];
		snprintf(field, sizeof(field), "withdrawn[%zu]", i);
		if ((r = bti_mp_fixbin(&v[ST_WITHDRAWN]->via.array.ptr[i], path, field, k,
		                       BATON_PK_BYTES)) != 0)
			return r;
		a->nw = i + 1;
		if (i > 0 && memcmp(k - BATON_PK_BYTES, k, BATON_PK_BYTES) >= 0)
			return bti_diag_err(BATON_EVALUE, "%s: %s: not in order", path, field);
	}
	return 0;
}

/* Reads DIR/members into *a (authority_free on success). Returns 0 or the error, named. */
static int state_read(const char *dir, struct authority *a)
{
	static const struct dec_limits lim = {STATE_MAX, 3, 2 * BATON_DIRECTORY_MEMBERS_MAX + 16};
	char path[4200];
	uint8_t *buf = NULL;
	size_t len;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(a, 0, sizeof(*a));
	path_in(path, sizeof(path), dir, STATE_FILE);
	if ((r = baton_file_read(path, STATE_MAX, &buf, &len)) != 0) {
		if (r == BATON_EIO && access(path, F_OK) != 0)
			return bti_diag_err(BATON_EIO,
			                    "%s: no authority here (create one with 'baton "
			                    "authority init --name NAME --out %s')",
			                    dir, dir);
		return r;
	}
	if (!msgpack_zone_init(&z, 4096)) {
		free(buf);
		return BATON_ENOMEM;
	}
	if ((r = bti_mp_decode(buf, len, &lim, &z, &o)) == 0)
		r = dec_state(&o, a, path);
	else
		r = bti_diag_err(r, "%s: damaged (%s)", path, baton_diag());
	msgpack_zone_destroy(&z);
	free(buf);
	if (r != 0)
		authority_free(a);
	return r;
}

/* Replaces DIR/members by a's state, whole or not at all, mode 0600. */
static int state_write(const char *dir, const struct authority *a)
{
	char path[4200];
	uint8_t *buf;
	size_t len;
	int r;

	path_in(path, sizeof(path), dir, STATE_FILE);
	if ((r = bti_enc_alloc(enc_state, a, &buf, &len)) != 0)
		return r;
	r = outfile_write(path, buf, len, 0600, 1);
	free(buf);
	return r;
}

/* ---- shared by the commands ---- */

static int is_withdrawn(const struct authority *a, const uint8_t pk[BATON_PK_BYTES])
{
	for (size_t i = 0; i < a->nw; i++)
		if (memcmp(a->withdrawn + i * BATON_PK_BYTES, pk, BATON_PK_BYTES) == 0)
			return 1;
	return 0;
}

/* Adds pk to the withdrawn keys, in order; a key already there stays once. */
static int withdraw(struct authority *a, const uint8_t pk[BATON_PK_BYTES])
{
	size_t at = 0;
	if (is_withdrawn(a, pk))
		return 0;
	if (a->nw >= BATON_DIRECTORY_MEMBERS_MAX)
		return bti_diag_err(BATON_EVALUE, "withdrawn: already %u keys",
		                    BATON_DIRECTORY_MEMBERS_MAX);
	uint8_t *w = realloc(a->withdrawn, (a->nw + 1) * BATON_PK_BYTES);
	if (w == NULL)
		return BATON_ENOMEM;
	a->withdrawn = w;
	while (at < a->nw && memcmp(w + at * BATON_PK_BYTES, pk, BATON_PK_BYTES) < 0)
		at++;
	memmove(w + (at + 1) * BATON_PK_BYTES, w + at * BATON_PK_BYTES,
	        (a->nw - at) * BATON_PK_BYTES);
	memcpy(w + at * BATON_PK_BYTES, pk, BATON_PK_BYTES);
	a->nw++;
	return 0;
}

/* The member with code, or NULL; *at is where it is or would go, in code order. */
static struct member *find_code(const struct authority *a, const char *code, size_t *at)
{
	size_t i = 0;
	while (i < a->n && strcmp(a->m[i].c.code, code) < 0)
		i++;
	*at = i;
	return i < a->n && strcmp(a->m[i].c.code, code) == 0 ? &a->m[i] : NULL;
}

/* The authority directory of an authority command: --dir, required. */
static int need_dir(const struct cli_common *com, const char *cmd)
{
	if (com->dir != NULL)
		return 0;
	return cli_usage_error("authority %s: --dir DIR (the authority's directory) is required",
	                       cmd);
}

/* Refuses --no-passphrase: an authority's key is never stored unencrypted. */
static int need_passphrase(const struct cli_common *com)
{
	if (!com->no_passphrase)
		return 0;
	return cli_usage_error("--no-passphrase: an authority key is always encrypted");
}

/* ---- init ---- */

static void init_usage(FILE *f)
{
	fprintf(f, "usage: baton authority init --name NAME --out DIR [--passphrase-file FILE]\n\n"
	           "Creates an authority in the new directory DIR (mode 0700): its signing key\n"
	           "in DIR/authority.key, encrypted under the passphrase, and DIR/members, the\n"
	           "schools it vouches for (none yet). Prints the key line nodes pin and its\n"
	           "fingerprint.\n");
}

static int authority_init(int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct authority a;
	const char *name = NULL, *out = NULL;
	char keypath[4200], statepath[4200], line[BATON_PUBKEY_TEXT_MAX];
	char fpr[BATON_FINGERPRINT_LEN + 1];
	baton_key *k = NULL;
	char *pass = NULL;
	size_t plen = 0;
	int opt, r, rc = EXIT_ENV, made_dir = 0, made_key = 0;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'n')
			name = optarg;
		else if (opt == 'o')
			out = optarg;
		else {
			init_usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc || name == NULL || out == NULL) {
		init_usage(stderr);
		return cli_usage_error("authority init: --name and --out are required");
	}
	if ((rc = need_passphrase(&com)) != 0)
		return rc;
	if (strlen(name) == 0 || strlen(name) > BATON_NAME_MAX)
		return cli_usage_error("--name: 1 to %d bytes", BATON_NAME_MAX);
	if ((r = bti_check_text("authority", "name", name)) != 0)
		return cli_fail("--name", r);
	snprintf(a.name, sizeof(a.name), "%s", name);
	if (strlen(out) > 4000)
		return cli_usage_error("--out: too long");
	path_in(keypath, sizeof(keypath), out, KEY_FILE);
	path_in(statepath, sizeof(statepath), out, STATE_FILE);
	/* Asked first: a refusal leaves no directory behind. */
	if ((r = cli_passphrase(&com, 1, &pass, &plen)) != 0)
		return cli_fail("passphrase", r);
	if (mkdir(out, 0700) != 0) {
		r = errno == EEXIST ? bti_diag_err(BATON_EEXIST,
		                                   "%s: already exists; not "
		                                   "overwriting it",
		                                   out)
		                    : bti_diag_err(BATON_EIO, "%s: %s", out, strerror(errno));
		goto fail;
	}
	made_dir = 1;
	if (chmod(out, 0700) != 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", out, strerror(errno));
		goto fail;
	}
	if ((r = baton_key_generate(BATON_KEY_AUTHORITY, &k)) != 0 ||
	    (r = baton_key_save(k, keypath, pass, plen, NULL)) != 0)
		goto fail;
	made_key = 1;
	memcpy(a.pk, baton_key_id_pk(k), BATON_PK_BYTES);
	if ((r = state_write(out, &a)) != 0)
		goto fail;
	baton_pubkey_format(BATON_PUBKEY_AUTHORITY, a.pk, line);
	baton_fingerprint(a.pk, fpr);
	if (com.json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "name", a.name, "dir", out, "key",
		                         line, "fingerprint", fpr));
	else
		printf(
		    "Created the authority %s in %s\n"
		    "  key          %s\n"
		    "  fingerprint  %s\n"
		    "Give nodes the key line ('baton directory trust KEY --expect FINGERPRINT')\n"
		    "and read them the fingerprint over the phone. Keep %s offline.\n",
		    a.name, out, line, fpr, keypath);
	rc = EXIT_OK;
	goto done;
fail:
	rc = cli_fail("authority init", r);
	if (made_key)
		unlink(keypath);
	if (made_dir) {
		unlink(statepath);
		rmdir(out);
	}
done:
	cli_pass_free(pass);
	baton_key_free(k);
	return rc;
}

/* ---- add ---- */

static int authority_add(int argc, char **argv)
{
	static const struct option opts[] = {{"expect", required_argument, NULL, 'e'},
	                                     {"replace", no_argument, NULL, 'r'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct authority a;
	const char *expect = NULL, *what = "Added";
	uint8_t *bytes = NULL;
	size_t len, at;
	baton_card card;
	char fpr[BATON_FINGERPRINT_LEN + 1], old_fpr[BATON_FINGERPRINT_LEN + 1] = "";
	int opt, r, rc, replace = 0;

	memset(&a, 0, sizeof(a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'e')
			expect = optarg;
		else if (opt == 'r')
			replace = 1;
		else {
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton authority add CARDFILE --expect FINGERPRINT [--replace] "
			    "--dir DIR\n\n"
			    "Adds a school's card (as 'baton card' writes it) to the directory's\n"
			    "members. Check its fingerprint with the school first. A newer card "
			    "of\n"
			    "a member (same key) replaces its card; a card with another key for a\n"
			    "member's code needs --replace, and the old key is then withdrawn.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("authority add: one CARDFILE expected");
	if (expect == NULL)
		return cli_usage_error("authority add: --expect FINGERPRINT is required (read it "
		                       "with the school)");
	if ((rc = need_dir(&com, "add")) != 0)
		return rc;
	const char *path = argv[optind];
	if ((r = baton_file_read(path, BATON_OBJ_MAX, &bytes, &len)) != 0 ||
	    (r = baton_card_parse(bytes, len, &card)) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	if ((r = peers_card_valid(&card, cli_now())) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	baton_fingerprint(card.id_pk, fpr);
	if (!peers_fpr_match(expect, fpr)) {
		fprintf(stderr,
		        "baton: %s: fingerprint %s does not match the expected %s; not added\n",
		        path, fpr, expect);
		rc = EXIT_REJECTED;
		goto out;
	}
	if ((r = state_read(com.dir, &a)) != 0) {
		rc = cli_fail("authority add", r);
		goto out;
	}
	if (is_withdrawn(&a, card.id_pk)) {
		fprintf(stderr,
		        "baton: %s: the key of %s (%s) is withdrawn; a withdrawn key is never a "
		        "member again\n",
		        path, card.code, fpr);
		rc = EXIT_REJECTED;
		goto out;
	}
	for (size_t i = 0; i < a.n; i++)
		if (strcmp(a.m[i].c.code, card.code) != 0 &&
		    memcmp(a.m[i].c.id_pk, card.id_pk, BATON_PK_BYTES) == 0) {
			fprintf(stderr,
			        "baton: %s: this key is already the member %s; not added as %s\n",
			        path, a.m[i].c.code, card.code);
			rc = EXIT_REJECTED;
			goto out;
		}
	struct member *m = find_code(&a, card.code, &at);
	if (m != NULL && memcmp(m->c.id_pk, card.id_pk, BATON_PK_BYTES) == 0) {
		if (m->len == len && memcmp(m->card, bytes, len) == 0) {
			printf("Already a member: %s (%s), fingerprint %s\n", card.name, card.code,
			       fpr);
			rc = EXIT_OK;
			goto out;
		}
		if (card.valid_from <= m->c.valid_from) {
			fprintf(
			    stderr,
			    "baton: %s: the card of %s is not newer than the member's (valid from "
			    "%s",
			    path, card.code, cli_time(card.valid_from));
			fprintf(stderr, ", the member's from %s); not replaced\n",
			        cli_time(m->c.valid_from));
			rc = EXIT_REJECTED;
			goto out;
		}
		what = "Replaced the card of";
	} else if (m != NULL) {
		baton_fingerprint(m->c.id_pk, old_fpr);
		if (!replace) {
			fprintf(
			    stderr,
			    "baton: %s: %s is a member with another key (%s); give --replace to "
			    "withdraw that key and take this one\n",
			    path, card.code, old_fpr);
			rc = EXIT_REJECTED;
			goto out;
		}
		if ((r = withdraw(&a, m->c.id_pk)) != 0) {
			rc = cli_fail("authority add", r);
			goto out;
		}
		what = "Replaced the key of";
	} else {
		if (a.n >= BATON_DIRECTORY_MEMBERS_MAX) {
			rc = cli_fail("authority add",
			              bti_diag_err(BATON_EVALUE, "already %u members",
			                           BATON_DIRECTORY_MEMBERS_MAX));
			goto out;
		}
		struct member *grown = realloc(a.m, (a.n + 1) * sizeof(*a.m));
		if (grown == NULL) {
			rc = cli_fail("authority add", BATON_ENOMEM);
			goto out;
		}
		a.m = grown;
		memmove(a.m + at + 1, a.m + at, (a.n - at) * sizeof(*a.m));
		a.n++;
		m = &a.m[at];
		m->card = NULL;
	}
	free(m->card);
	m->card = bytes;
	m->len = len;
	m->c = card;
	bytes = NULL;
	if ((r = state_write(com.dir, &a)) != 0) {
		rc = cli_fail("authority add", r);
		goto out;
	}
	if (com.json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "code", card.code, "name",
		                         card.name, "fingerprint", fpr, "result",
		                         old_fpr[0]       ? "replaced key"
		                         : what[0] == 'R' ? "replaced card"
		                                          : "added"));
	else {
		printf("%s %s (%s), fingerprint %s\n", what, card.name, card.code, fpr);
		if (old_fpr[0])
			printf("Withdrew the old key, fingerprint %s\n", old_fpr);
		printf("Nodes see it in the next directory you sign ('baton authority sign').\n");
	}
	rc = EXIT_OK;
out:
	authority_free(&a);
	free(bytes);
	return rc;
}

/* ---- remove ---- */

static int authority_remove(int argc, char **argv)
{
	struct cli_common com = {0};
	struct authority a;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	size_t at;
	int rc, r;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton authority remove CODE [--json] --dir DIR\n\n"
	                          "Drops the member school CODE and withdraws its key, so nodes\n"
	                          "stop trusting it once they take the next directory.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("authority remove: one school CODE expected");
	if ((rc = need_dir(&com, "remove")) != 0)
		return rc;
	const char *code = argv[optind];
	if ((r = state_read(com.dir, &a)) != 0)
		return cli_fail("authority remove", r);
	struct member *m = find_code(&a, code, &at);
	if (m == NULL) {
		fprintf(stderr, "baton: authority remove: no member has the code \"%s\"\n", code);
		authority_free(&a);
		return EXIT_REJECTED;
	}
	baton_card gone = m->c;
	if ((r = withdraw(&a, gone.id_pk)) != 0) {
		authority_free(&a);
		return cli_fail("authority remove", r);
	}
	free(m->card);
	memmove(a.m + at, a.m + at + 1, (a.n - at - 1) * sizeof(*a.m));
	a.n--;
	r = state_write(com.dir, &a);
	authority_free(&a);
	if (r != 0)
		return cli_fail("authority remove", r);
	baton_fingerprint(gone.id_pk, fpr);
	if (com.json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "code", gone.code, "name",
		                         gone.name, "fingerprint", fpr, "result",
		                         "removed and withdrawn"));
	else
		printf("Removed %s (%s) and withdrew its key, fingerprint %s\n", gone.name,
		       gone.code, fpr);
	return EXIT_OK;
}

/* ---- list ---- */

static int authority_list(int argc, char **argv)
{
	struct cli_common com = {0};
	struct authority a;
	char fpr[BATON_FINGERPRINT_LEN + 1], line[BATON_PUBKEY_TEXT_MAX];
	int rc, r;

	if ((rc = cli_common_only(
	         argc, argv, &com,
	         "usage: baton authority list --dir DIR [--json]\n\n"
	         "The authority's key, its member schools (code, name,\n"
	         "fingerprint), the keys it withdrew and the last version signed.\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("authority list: no operand expected");
	if ((rc = need_dir(&com, "list")) != 0)
		return rc;
	if ((r = state_read(com.dir, &a)) != 0)
		return cli_fail("authority list", r);
	baton_pubkey_format(BATON_PUBKEY_AUTHORITY, a.pk, line);
	baton_fingerprint(a.pk, fpr);
	if (com.json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "name", a.name, "key", line,
		                      "fingerprint", fpr, "version", (json_int_t)a.version);
		json_t *ms = json_array(), *ws = json_array();
		for (size_t i = 0; i < a.n; i++)
			json_array_append_new(ms, peers_card_json(&a.m[i].c));
		for (size_t i = 0; i < a.nw; i++) {
			baton_fingerprint(a.withdrawn + i * BATON_PK_BYTES, fpr);
			json_array_append_new(ws, json_string(fpr));
		}
		json_object_set_new(j, "members", ms);
		json_object_set_new(j, "withdrawn", ws);
		cli_print_json(j);
		authority_free(&a);
		return EXIT_OK;
	}
	printf("%s\n  key          %s\n  fingerprint  %s\n", a.name, line, fpr);
	if (a.version == 0)
		printf("  last signed  never\n");
	else
		printf("  last signed  version %llu\n", (unsigned long long)a.version);
	printf("%zu member%s\n", a.n, a.n == 1 ? "" : "s");
	for (size_t i = 0; i < a.n; i++) {
		baton_fingerprint(a.m[i].c.id_pk, fpr);
		printf("  ");
		cli_pad(stdout, a.m[i].c.code, 14);
		printf(" %s  ", fpr);
		printf("%s\n", a.m[i].c.name);
	}
	printf("%zu key%s withdrawn\n", a.nw, a.nw == 1 ? "" : "s");
	for (size_t i = 0; i < a.nw; i++) {
		baton_fingerprint(a.withdrawn + i * BATON_PK_BYTES, fpr);
		printf("  %s\n", fpr);
	}
	authority_free(&a);
	return EXIT_OK;
}

/* ---- sign ---- */

/* "30d" or "12h": a whole number of days or hours, at most EXPIRES_MAX_DAYS days. */
static int parse_expires(const char *s, uint64_t *secs)
{
	uint64_t n = 0;
	const char *c = s;
	while (*c >= '0' && *c <= '9' && n <= 100000)
		n = n * 10 + (uint64_t)(*c++ - '0');
	uint64_t unit = *c == 'd' ? DAY : *c == 'h' ? 3600 : 0;
	if (c == s || unit == 0 || c[1] != '\0' || n == 0 || n > 100000)
		return bti_diag_err(BATON_EVALUE,
		                    "--expires: \"%s\": a number of days or hours (30d, 12h)", s);
	if (n * unit > EXPIRES_MAX_DAYS * DAY)
		return bti_diag_err(BATON_EVALUE, "--expires: \"%s\" is more than %d days", s,
		                    EXPIRES_MAX_DAYS);
	*secs = n * unit;
	return 0;
}

/* ---- the last directory signed: the floor of the next ---- */

static int in_withdrawn(const uint8_t *keys, size_t n, const uint8_t pk[BATON_PK_BYTES])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(keys + i * BATON_PK_BYTES, pk, BATON_PK_BYTES) == 0)
			return 1;
	return 0;
}

/*
 * Reads DIR/last.dir into *held (its bytes in *buf), verified with the
 * authority's key. *found is 0 when there is none, which is right only
 * before the first version.
 */
static int last_read(const char *dir, const struct authority *a, uint8_t **buf,
                     baton_directory *held, int *found)
{
	char path[4200];
	size_t len = 0;
	int r;

	*found = 0;
	*buf = NULL;
	memset(held, 0, sizeof(*held));
	path_in(path, sizeof(path), dir, LAST_FILE);
	if (access(path, F_OK) != 0) {
		if (a->version == 0)
			return 0;
		return bti_diag_err(BATON_EVALUE,
		                    "%s: missing, but %s/" STATE_FILE
		                    " says version %llu was signed; put back the "
		                    "last directory signed",
		                    path, dir, (unsigned long long)a->version);
	}
	if ((r = baton_file_read(path, BATON_DIRECTORY_MAX, buf, &len)) != 0)
		return r;
	if ((r = baton_directory_parse(*buf, len, held)) != 0)
		return bti_diag_err(r, "%s: %s", path, baton_diag());
	if (sodium_memcmp(held->authority, a->pk, BATON_PK_BYTES) != 0) {
		baton_directory_free(held);
		return bti_diag_err(BATON_EBADKEY, "%s: not signed by this authority's key", path);
	}
	*found = 1;
	return 0;
}

/*
 * The state may be signed only as the next version after the last one
 * signed, and only if every key withdrawn then is withdrawn still: an
 * edited members file cannot go back on a withdrawal or skip versions.
 */
static int last_check(const char *dir, const struct authority *a, const baton_directory *held)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	for (size_t i = 0; i < held->n_withdrawn; i++) {
		const uint8_t *k = held->withdrawn + i * BATON_PK_BYTES;
		if (in_withdrawn(a->withdrawn, a->nw, k))
			continue;
		baton_fingerprint(k, fpr);
		return bti_diag_err(BATON_EVALUE,
		                    "%s/" STATE_FILE
		                    ": key %s, withdrawn in version %llu, is not withdrawn; "
		                    "not signed",
		                    dir, fpr, (unsigned long long)held->version);
	}
	if (a->version != held->version)
		return bti_diag_err(
		    BATON_EVALUE,
		    "%s/" STATE_FILE " says version %llu was signed last, but %s/" LAST_FILE
		    " is version %llu; not signed",
		    dir, (unsigned long long)a->version, dir, (unsigned long long)held->version);
	return 0;
}

/* What the state changes since the last directory signed, one line a code. */
static void last_summary(FILE *f, const struct authority *a, const baton_directory *held)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	size_t i = 0, j = 0, n = 0;
	while (i < a->n || j < held->n_members) {
		const baton_card *now = i < a->n ? &a->m[i].c : NULL;
		const baton_card *was = j < held->n_members ? &held->members[j].parsed : NULL;
		int c = now == NULL ? 1 : was == NULL ? -1 : strcmp(now->code, was->code);
		if (c < 0) {
			fprintf(f, "  added        %s\n", now->code), n++;
			i++;
		} else if (c > 0) {
			fprintf(f, "  removed      %s\n", was->code), n++;
			j++;
		} else {
			if (memcmp(now->id_pk, was->id_pk, BATON_PK_BYTES) != 0) {
				baton_fingerprint(now->id_pk, fpr);
				fprintf(f, "  key changed  %s (now %s)\n", now->code, fpr), n++;
			}
			i++, j++;
		}
	}
	for (size_t w = 0; w < a->nw; w++) {
		if (in_withdrawn(held->withdrawn, held->n_withdrawn,
		                 a->withdrawn + w * BATON_PK_BYTES))
			continue;
		baton_fingerprint(a->withdrawn + w * BATON_PK_BYTES, fpr);
		fprintf(f, "  withdrawn    %s\n", fpr), n++;
	}
	fprintf(f, "Since version %llu: %zu change%s\n", (unsigned long long)held->version, n,
	        n == 1 ? "" : "s");
}

static int authority_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"expires", required_argument, NULL, 'e'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct authority a;
	const char *expires_arg = NULL, *out = NULL;
	const uint8_t **cards = NULL;
	size_t *lens = NULL, plen = 0, len = 0;
	uint8_t *dir_bytes = NULL, *last_bytes = NULL;
	baton_directory held;
	int have_last = 0;
	char keypath[4200], lastpath[4200], *pass = NULL;
	baton_key *k = NULL;
	uint64_t span = 0;
	int opt, r, rc, force = 0;

	memset(&a, 0, sizeof(a));
	memset(&held, 0, sizeof(held));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'e')
			expires_arg = optarg;
		else if (opt == 'o')
			out = optarg;
		else if (opt == 'F')
			force = 1;
		else {
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton authority sign --expires 30d --out FILE [--force] --dir "
			    "DIR\n"
			    "                            [--passphrase-file FILE]\n\n"
			    "Signs the next version of the directory (the members' cards and the\n"
			    "withdrawn keys), valid from now for --expires (days or hours, at "
			    "most\n"
			    "%d days), and writes it to FILE for the nodes that trust the "
			    "authority.\n",
			    EXPIRES_MAX_DAYS);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error("authority sign: no operand expected");
	if (expires_arg == NULL || out == NULL)
		return cli_usage_error("authority sign: --expires and --out are required");
	if ((rc = need_dir(&com, "sign")) != 0 || (rc = need_passphrase(&com)) != 0)
		return rc;
	if ((r = parse_expires(expires_arg, &span)) != 0)
		return cli_fail(NULL, r);
	if ((r = outfile_check(out, force)) != 0)
		return cli_fail(out, r);
	if ((r = state_read(com.dir, &a)) != 0)
		return cli_fail("authority sign", r);
	if (a.version == UINT64_MAX) {
		rc = cli_fail("authority sign",
		              bti_diag_err(BATON_EVALUE, "version %llu is the last there is",
		                           (unsigned long long)a.version));
		goto out;
	}
	path_in(keypath, sizeof(keypath), com.dir, KEY_FILE);
	if ((r = cli_passphrase(&com, 0, &pass, &plen)) != 0) {
		rc = cli_fail("passphrase", r);
		goto out;
	}
	if ((r = baton_key_load(keypath, pass, plen, &k)) != 0) {
		rc = cli_fail(keypath, r);
		goto out;
	}
	if (baton_key_kind_of(k) != BATON_KEY_AUTHORITY ||
	    sodium_memcmp(baton_key_id_pk(k), a.pk, BATON_PK_BYTES) != 0) {
		fprintf(stderr, "baton: %s: not the key of the authority in %s\n", keypath,
		        com.dir);
		rc = EXIT_REJECTED;
		goto out;
	}
	if ((r = last_read(com.dir, &a, &last_bytes, &held, &have_last)) != 0 ||
	    (have_last && (r = last_check(com.dir, &a, &held)) != 0)) {
		rc = cli_fail("authority sign", r);
		goto out;
	}
	if (have_last && !com.json)
		last_summary(stdout, &a, &held);
	uint64_t now = cli_now(), version = a.version + 1;
	if (a.n > 0 && ((cards = calloc(a.n, sizeof(*cards))) == NULL ||
	                (lens = calloc(a.n, sizeof(*lens))) == NULL)) {
		rc = cli_fail("authority sign", BATON_ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < a.n; i++) {
		cards[i] = a.m[i].card;
		lens[i] = a.m[i].len;
		/* As a node checks a member's card (five minutes allowed before valid_from). */
		r = baton_check_validity(a.m[i].c.valid_from, a.m[i].c.valid_until, now, 300);
		if (r == BATON_EEXPIRED)
			fprintf(
			    stderr,
			    "baton: authority sign: warning: the card of %s expired %s; nodes do "
			    "not trust it until you add a newer one\n",
			    a.m[i].c.code, cli_time(a.m[i].c.valid_until));
		else if (r == BATON_ENOTYET)
			fprintf(
			    stderr,
			    "baton: authority sign: warning: the card of %s is valid only from %s; "
			    "nodes do not trust it before then\n",
			    a.m[i].c.code, cli_time(a.m[i].c.valid_from));
	}
	if ((r = baton_directory_sign(a.name, version, now, now + span, cards, lens, a.n,
	                              a.withdrawn, a.nw, baton_key_id_sk(k), &dir_bytes, &len)) !=
	    0) {
		rc = cli_fail("authority sign", r);
		goto out;
	}
	if ((r = outfile_write(out, dir_bytes, len, 0644, force)) != 0) {
		rc = cli_fail(out, r);
		goto out;
	}
	/* The floor of the next version, kept before the state names this one signed. */
	path_in(lastpath, sizeof(lastpath), com.dir, LAST_FILE);
	if ((r = outfile_write(lastpath, dir_bytes, len, 0600, 1)) != 0) {
		fprintf(stderr,
		        "baton: authority sign: %s holds version %llu, but it could not be kept "
		        "in %s; do not hand it out\n",
		        out, (unsigned long long)version, lastpath);
		rc = cli_fail(lastpath, r);
		goto out;
	}
	/* Recorded only once the file is there: a failed write does not use up the version. */
	a.version = version;
	if ((r = state_write(com.dir, &a)) != 0) {
		fprintf(
		    stderr,
		    "baton: authority sign: %s holds version %llu, but it could not be recorded "
		    "in %s/" STATE_FILE "; do not hand out another version %llu\n",
		    out, (unsigned long long)version, com.dir, (unsigned long long)version);
		rc = cli_fail("authority sign", r);
		goto out;
	}
	if (com.json)
		cli_print_json(json_pack("{s:I, s:s, s:I, s:I, s:I, s:I}", "version",
		                         (json_int_t)version, "out", out, "members",
		                         (json_int_t)a.n, "withdrawn", (json_int_t)a.nw, "issued",
		                         (json_int_t)now, "expires", (json_int_t)(now + span)));
	else {
		printf("Signed version %llu of the directory of %s: %zu school%s, %zu key%s "
		       "withdrawn\n",
		       (unsigned long long)version, a.name, a.n, a.n == 1 ? "" : "s", a.nw,
		       a.nw == 1 ? "" : "s");
		printf("  valid until  %s\n  wrote        %s (%zu bytes)\n", cli_time(now + span),
		       out, len);
	}
	rc = EXIT_OK;
out:
	authority_free(&a);
	baton_directory_free(&held);
	free(last_bytes);
	cli_pass_free(pass);
	baton_key_free(k);
	free(dir_bytes);
	free(cards);
	free(lens);
	return rc;
}

int cmd_authority(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"init", authority_init, "create an authority: its signing key and its member list"},
	    {"add", authority_add, "add a school's card to the members"},
	    {"remove", authority_remove, "drop a member and withdraw its key"},
	    {"list", authority_list, "the members, the withdrawn keys, the last version"},
	    {"sign", authority_sign, "sign the next version of the directory into a file"},
	};
	return cli_dispatch("authority", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}
