/*
 * Chunk spools and their bounds. A spool's name says whose it is and how
 * long it will be, so that slots and the bytes still to come are counted
 * per sending school without reading anything but the directory.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "log.h"
#include "spool.h"

/* Spools may claim half the free disk beyond this and the store's map (it grows by doubling). */
#define SPOOL_RESERVE (UINT64_C(256) << 20)

static int spool_name(const char *name, uint8_t id[BATON_ID_BYTES], uint8_t sender[BATON_PK_BYTES],
                      uint64_t *total)
{
	char idh[2 * BATON_ID_BYTES + 1], sh[2 * BATON_PK_BYTES + 1];
	unsigned long long t;
	int end = 0;
	if (sscanf(name, "%32[0-9a-f].%64[0-9a-f].%20llu.part%n", idh, sh, &t, &end) != 3 ||
	    name[end] != '\0' || strlen(idh) != sizeof(idh) - 1 || strlen(sh) != sizeof(sh) - 1 ||
	    sodium_hex2bin(id, BATON_ID_BYTES, idh, strlen(idh), NULL, NULL, NULL) != 0 ||
	    sodium_hex2bin(sender, BATON_PK_BYTES, sh, strlen(sh), NULL, NULL, NULL) != 0)
		return -1;
	*total = t;
	return 0;
}

void spool_scan(const struct serve_node *nd, const uint8_t *id, const uint8_t *sender,
                struct spool_scan *s)
{
	uint8_t fid[BATON_ID_BYTES], fsender[BATON_PK_BYTES];
	char path[sizeof(s->path)];
	uint64_t total;
	struct stat sb;
	DIR *d = opendir(nd->spool);

	memset(s, 0, sizeof(*s));
	for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
		if (spool_name(de->d_name, fid, fsender, &total) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", nd->spool, de->d_name);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		s->all++;
		s->mine += sender && memcmp(fsender, sender, BATON_PK_BYTES) == 0;
		s->owed += total > (uint64_t)sb.st_size ? total - (uint64_t)sb.st_size : 0;
		if (id && memcmp(fid, id, BATON_ID_BYTES) == 0) {
			memcpy(s->path, path, sizeof(path));
			s->total = total;
			s->found = 1;
		}
	}
	if (d)
		closedir(d);
}

/*
 * Bytes the spools may claim in all: half the free disk beyond a reserve
 * for the store, which needs as much again as its map to grow it once.
 */
static uint64_t spool_room(const struct serve_node *nd)
{
	struct statvfs vfs;
	uint64_t avail, keep = SPOOL_RESERVE + store_map_size(nd->st), room;
	if (statvfs(nd->spool, &vfs) != 0)
		return 0;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	room = avail > keep ? (avail - keep) / 2 : 0;
	return nd->spool_room && nd->spool_room < room ? nd->spool_room : room;
}

int spool_claim(const struct serve_node *nd, const uint8_t *id, const uint8_t *sender,
                uint64_t total, char *path, size_t cap)
{
	char idh[2 * BATON_ID_BYTES + 1], sh[2 * BATON_PK_BYTES + 1];
	struct spool_scan s;
	uint64_t room;

	spool_sweep(nd);
	spool_scan(nd, NULL, sender, &s);
	if (s.all >= SPOOL_MAX)
		return bti_diag_err(BATON_EIO, "%u packets are arriving already; try later", s.all);
	if (s.mine >= SPOOL_PER_PEER)
		return bti_diag_err(BATON_EIO,
		                    "%u packets of this sender's are arriving already; "
		                    "try later",
		                    s.mine);
	room = spool_room(nd);
	if (s.owed > room || total > room - s.owed)
		return bti_diag_err(BATON_EIO,
		                    "no room: %llu bytes are still to come for other packets, the "
		                    "spools may hold %llu",
		                    (unsigned long long)s.owed, (unsigned long long)room);
	sodium_bin2hex(idh, sizeof(idh), id, BATON_ID_BYTES);
	sodium_bin2hex(sh, sizeof(sh), sender, BATON_PK_BYTES);
	snprintf(path, cap, "%s/%s.%s.%llu.part", nd->spool, idh, sh, (unsigned long long)total);
	return 0;
}

void spool_sweep(const struct serve_node *nd)
{
	char path[sizeof(nd->spool) + 300];
	struct stat sb;
	DIR *d = opendir(nd->spool);
	time_t now = time(NULL);
	for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
		if (strstr(de->d_name, ".part") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", nd->spool, de->d_name);
		if (lstat(path, &sb) == 0 && now - sb.st_mtime > (time_t)nd->spool_idle) {
			unlink(path);
			node_log(NODE_LOG_INFO, "inbox: spool %.32s idle for over %u s: removed",
			         de->d_name, nd->spool_idle);
		}
	}
	if (d)
		closedir(d);
}
