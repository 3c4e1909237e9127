/*
 * baton demo: two schools, a parent, a consent, a sealed transfer with a PDF
 * attachment, the receiving school's checks and its signed receipt, shown
 * step by step in a temporary directory with real key files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"

#define DAY 86400

static const char record_identity[] =
    "{\"birth_date\":\"2011-04-17\",\"family_name\":\"Okafor\",\"given_name\":\"Amara\","
    "\"preferred_name\":\"Amy\"}";
static const char record_enrollment[] =
    "[{\"entry_date\":\"2022-08-22\",\"exit_date\":\"2026-11-20\",\"grade_level\":\"09\","
    "\"school_code\":\"LHS-001\",\"school_name\":\"Lincoln High School\"}]";
static const char record_transcript[] =
    "[{\"course_code\":\"MATH101\",\"course_title\":\"Algebra I\",\"credits_attempted\":1.0,"
    "\"credits_earned\":1.0,\"grade\":\"A-\",\"school_year\":\"2025-2026\",\"term\":\"S1\"}]";
static const char record_health[] =
    "{\"allergies\":[\"peanuts\"],\"conditions\":[],\"immunizations\":[]}";

/* A small, valid one-page PDF. */
static const char pdf[] = "%PDF-1.4\n"
                          "1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                          "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                          "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R"
                          "/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
                          "4 0 obj<</Length 58>>stream\n"
                          "BT /F1 18 Tf 72 720 Td (Official transcript: A. Okafor) Tj ET\n"
                          "endstream endobj\n"
                          "5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
                          "trailer<</Root 1 0 R>>\n%%EOF\n";

static int step_no;

static void step(const char *title)
{
	printf("\n== %d. %s\n", ++step_no, title);
}

static void hex(const char *label, const uint8_t *p, size_t n)
{
	char buf[2 * 64 + 1];
	sodium_bin2hex(buf, sizeof(buf), p, n < 64 ? n : 64);
	printf("   %-16s %s\n", label, buf);
}

struct mem_reader {
	const uint8_t *p;
	size_t off, len;
};

static int mem_read(void *ctx, uint8_t *buf, size_t n)
{
	struct mem_reader *m = ctx;
	if (n > m->len - m->off)
		return BATON_ETRUNC;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return 0;
}

static int make_school(const char *dir, const char *file, const char *name, const char *code,
                       const char *url, uint64_t now, baton_key **key, uint8_t **card,
                       size_t *card_len)
{
	char path[512], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_card c;
	int r;

	if ((r = baton_key_generate(BATON_KEY_SCHOOL, key)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	/* Unencrypted only because this is a throwaway demo; real nodes use a passphrase. */
	if ((r = baton_key_save(*key, path, NULL, 0, NULL)) != 0)
		return r;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", name);
	snprintf(c.code, sizeof(c.code), "%s", code);
	memcpy(c.id_pk, baton_key_id_pk(*key), BATON_PK_BYTES);
	memcpy(c.enc_pk, baton_key_enc_pk(*key), BATON_PK_BYTES);
	snprintf(c.endpoints[0], sizeof(c.endpoints[0]), "%s", url);
	c.n_endpoints = 1;
	c.valid_from = now - DAY;
	c.valid_until = now + 365 * DAY;
	if ((r = baton_card_sign(&c, baton_key_id_sk(*key), card, card_len)) != 0)
		return r;
	baton_fingerprint(c.id_pk, fpr);
	printf("   %s (%s)\n   key file    %s (mode 0600)\n   card        %zu bytes, signed "
	       "by its identity key\n   fingerprint %s\n",
	       name, code, path, *card_len, fpr);
	return 0;
}

int cmd_demo(int argc, char **argv)
{
	char dir[] = "/tmp/baton-demo-XXXXXX", path[512], line[BATON_PUBKEY_TEXT_MAX];
	char secs[160], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_key *lhs = NULL, *ras = NULL, *parent = NULL;
	uint8_t *card_a = NULL, *card_b = NULL, *consent = NULL, *receipt = NULL;
	size_t card_a_len, card_b_len, consent_len, receipt_len;
	baton_card peer_a, peer_b;
	baton_consent c, cv;
	baton_opened *opened = NULL;
	baton_packet_info sent;
	int r = 0, fd = -1;
	uint64_t now = (uint64_t)time(NULL);

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			printf("usage: baton demo\n\nCreates two schools and a parent key in a "
			       "temporary directory and walks\nthrough one consented transfer, "
			       "printing every step.\n");
			return EXIT_OK;
		}
		fprintf(stderr, "baton demo: takes no arguments\n");
		return EXIT_USAGE;
	}
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "baton demo: cannot create a temporary directory: %s\n",
		        strerror(errno));
		return EXIT_ENV;
	}
	printf("Baton demo, working in %s\n", dir);

	step("Two schools create their identities (Ed25519 + X25519) and signed cards");
	if ((r = make_school(dir, "lincoln.key", "Lincoln High School", "LHS-001",
	                     "tcp://127.0.0.1:7701", now, &lhs, &card_a, &card_a_len)) != 0 ||
	    (r = make_school(dir, "riverside.key", "Riverside Academy", "RAS-204",
	                     "tcp://127.0.0.1:7702", now, &ras, &card_b, &card_b_len)) != 0)
		goto fail;

	step("Each registrar checks the other's card and reads the fingerprint aloud");
	if ((r = baton_card_parse(card_a, card_a_len, &peer_a)) != 0 ||
	    (r = baton_card_parse(card_b, card_b_len, &peer_b)) != 0)
		goto fail;
	baton_fingerprint(peer_b.id_pk, fpr);
	printf("   Lincoln pins %s, fingerprint %s\n", peer_b.name, fpr);
	baton_fingerprint(peer_a.id_pk, fpr);
	printf("   Riverside pins %s, fingerprint %s\n", peer_a.name, fpr);

	step("A parent creates a guardian key on their own device");
	if ((r = baton_key_generate(BATON_KEY_GUARDIAN, &parent)) != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/parent.key", dir);
	if ((r = baton_key_save(parent, path, "correct horse battery staple", 28,
	                        &baton_kdf_min)) != 0)
		goto fail;
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, baton_key_id_pk(parent), line);
	printf("   key file    %s (passphrase-protected, Argon2id)\n", path);
	printf("   public key  %s  (the registrar links this to the student)\n", line);

	step("The parent signs a consent: named sections, one school to another");
	memset(&c, 0, sizeof(c));
	randombytes_buf(c.id, sizeof(c.id));
	snprintf(c.student, sizeof(c.student), "S-1001");
	memcpy(c.from_pk, peer_a.id_pk, BATON_PK_BYTES);
	snprintf(c.from_code, sizeof(c.from_code), "%s", peer_a.code);
	memcpy(c.to_pk, peer_b.id_pk, BATON_PK_BYTES);
	snprintf(c.to_code, sizeof(c.to_code), "%s", peer_b.code);
	if ((r = baton_sections_parse("identity,enrollment,transcript", &c.sections)) != 0)
		goto fail;
	snprintf(c.purpose, sizeof(c.purpose), "Enrollment at Riverside Academy");
	c.issued = now;
	c.expires = now + 30 * DAY;
	memcpy(c.signer, baton_key_id_pk(parent), BATON_PK_BYTES);
	c.role = BATON_ROLE_GUARDIAN;
	if ((r = baton_consent_sign(&c, baton_key_id_sk(parent), &consent, &consent_len)) != 0)
		goto fail;
	baton_sections_format(c.sections, secs, sizeof(secs));
	printf("   student %s, from %s to %s\n   sections %s (health is not named, so it "
	       "stays at Lincoln)\n   purpose \"%s\", valid 30 days, %zu bytes signed\n",
	       c.student, c.from_code, c.to_code, secs, c.purpose, consent_len);

	step("Lincoln seals the record for Riverside: only the consented sections");
	baton_attachment att;
	memset(&att, 0, sizeof(att));
	snprintf(att.name, sizeof(att.name), "transcript.pdf");
	snprintf(att.media_type, sizeof(att.media_type), "application/pdf");
	att.section = BATON_SEC_TRANSCRIPT;
	att.size = sizeof(pdf) - 1;
	crypto_generichash(att.hash, sizeof(att.hash), (const uint8_t *)pdf, sizeof(pdf) - 1, NULL,
	                   0);
	baton_body body;
	memset(&body, 0, sizeof(body));
	snprintf(body.student, sizeof(body.student), "S-1001");
	snprintf(body.state_id, sizeof(body.state_id), "ST-4410-2291");
	body.section[BATON_SEC_IDENTITY] = (const uint8_t *)record_identity;
	body.section_len[BATON_SEC_IDENTITY] = sizeof(record_identity) - 1;
	body.section[BATON_SEC_ENROLLMENT] = (const uint8_t *)record_enrollment;
	body.section_len[BATON_SEC_ENROLLMENT] = sizeof(record_enrollment) - 1;
	body.section[BATON_SEC_TRANSCRIPT] = (const uint8_t *)record_transcript;
	body.section_len[BATON_SEC_TRANSCRIPT] = sizeof(record_transcript) - 1;
	(void)record_health; /* on file at Lincoln; not consented, so never sealed */
	body.consent = consent;
	body.consent_len = consent_len;
	memcpy(body.guardians[0], baton_key_id_pk(parent), BATON_PK_BYTES);
	body.n_guardians = 1;
	body.attachments = &att;
	body.n_attachments = 1;
	struct mem_reader rd = {(const uint8_t *)pdf, 0, sizeof(pdf) - 1};
	baton_att_reader reader = {mem_read, &rd};
	baton_seal_params sp = {BATON_KIND_TRANSFER,  now,          now + 14 * DAY,
	                        baton_key_id_sk(lhs), peer_b.id_pk, peer_b.enc_pk};
	snprintf(path, sizeof(path), "%s/S-1001.baton", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
		r = BATON_EIO;
		goto fail;
	}
	if ((r = baton_packet_seal(&sp, &body, &reader, baton_write_fd, &fd, &sent)) != 0)
		goto fail;
	close(fd);
	fd = -1;
	printf("   packet file %s, %llu bytes\n", path, (unsigned long long)sent.len);
	hex("packet id", sent.id, sizeof(sent.id));
	hex("packet hash", sent.hash, sizeof(sent.hash));

	step("Riverside opens it: recipient, signature, validity, decryption, consent");
	if ((fd = open(path, O_RDONLY)) < 0) {
		r = BATON_EIO;
		goto fail;
	}
	baton_source src;
	baton_open_params op = {baton_key_id_pk(ras), baton_key_enc_sk(ras), baton_key_enc_pk(ras),
	                        now, 300};
	if ((r = baton_source_fd(&src, &fd)) != 0 ||
	    (r = baton_packet_open(&src, &op, &opened)) != 0)
		goto fail;
	const baton_body *got = baton_opened_body(opened);
	printf("   from %s, student %s (state id %s)\n", peer_a.name, got->student, got->state_id);
	for (int s = 0; s < BATON_SEC_COUNT; s++)
		if (got->section[s])
			printf("   %-12s %.*s\n", baton_section_name((baton_section)s),
			       (int)got->section_len[s], (const char *)got->section[s]);
	printf("   health       (absent: not in the consent)\n");
	snprintf(path, sizeof(path), "%s/received-%s", dir, got->attachments[0].name);
	int afd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (afd < 0) {
		r = BATON_EIO;
		goto fail;
	}
	r = baton_opened_attachment(opened, 0, baton_write_fd, &afd);
	close(afd);
	if (r != 0)
		goto fail;
	printf("   attachment  %s (%s, %llu bytes, hash verified) -> %s\n",
	       got->attachments[0].name, got->attachments[0].media_type,
	       (unsigned long long)got->attachments[0].size, path);
	if ((r = baton_consent_parse(got->consent, got->consent_len, &cv)) != 0)
		goto fail;
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, cv.signer, line);
	printf("   consent     signed by %s\n", line);

	step("Riverside signs a receipt; Lincoln verifies it against what it sent");
	baton_receipt rc, rv;
	memset(&rc, 0, sizeof(rc));
	memcpy(rc.packet_id, baton_opened_info(opened)->id, BATON_ID_BYTES);
	memcpy(rc.packet_hash, baton_opened_info(opened)->hash, BATON_HASH_BYTES);
	memcpy(rc.receiver, baton_key_id_pk(ras), BATON_PK_BYTES);
	rc.reason = BATON_REASON_ACCEPTED;
	rc.time = now;
	if ((r = baton_receipt_sign(&rc, baton_key_id_sk(ras), &receipt, &receipt_len)) != 0 ||
	    (r = baton_receipt_parse(receipt, receipt_len, &rv)) != 0)
		goto fail;
	if (sodium_memcmp(rv.receiver, peer_b.id_pk, BATON_PK_BYTES) != 0 ||
	    sodium_memcmp(rv.packet_hash, sent.hash, BATON_HASH_BYTES) != 0) {
		r = BATON_EHASH;
		goto fail;
	}
	printf("   receipt: %s, %zu bytes, signed by %s, names the packet hash Lincoln "
	       "sent\n",
	       baton_reason_name(rv.reason), receipt_len, peer_b.name);

	step("A packet changed in transit is refused");
	baton_opened_free(opened);
	opened = NULL;
	{
		uint8_t *copy = malloc((size_t)src.len);
		if (copy == NULL || src.read_at(src.ctx, 0, copy, (size_t)src.len) != 0) {
			free(copy);
			r = BATON_EIO;
			goto fail;
		}
		copy[src.len / 2] ^= 0x01;
		baton_source msrc;
		baton_source_mem(&msrc, copy, (size_t)src.len);
		int t = baton_packet_open(&msrc, &op, &opened);
		printf("   one flipped bit at byte %llu: %s (%s)\n",
		       (unsigned long long)(src.len / 2), baton_strerror(t), baton_errname(t));
		free(copy);
		if (t == 0) {
			r = BATON_EINTERNAL;
			goto fail;
		}
	}
	printf("\nDone. Every step above used the same formats the nodes exchange.\n");
	r = 0;
	goto out;
fail:
	cli_fail("demo", r);
out:
	if (fd >= 0)
		close(fd);
	baton_opened_free(opened);
	baton_key_free(lhs);
	baton_key_free(ras);
	baton_key_free(parent);
	free(card_a);
	free(card_b);
	free(consent);
	free(receipt);
	return cli_exit_code(r);
}
