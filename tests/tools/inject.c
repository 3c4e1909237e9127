/*
 * Fault injection for the baton command: an LD_PRELOAD shim that makes the
 * Nth counted call fail and forwards every other call to the real function
 * (dlsym(RTLD_NEXT)).
 *
 *   make builds it as $(BUILD)/tests/tools/inject.so, and with
 *   -DBATON_FAULT_NO_ALLOC as inject-lmdb.so, a shim that leaves malloc
 *   alone, for valgrind, which replaces malloc. In an ASan build the shim
 *   comes before the runtime (ASAN_OPTIONS=verify_asan_link_order=0) and
 *   fails the calls that reach malloc, calloc and realloc; the runtime's
 *   own interceptors (strdup, ...) allocate inside it, uncounted.
 *
 * Counted calls:
 *   alloc  malloc, calloc, realloc: fail with NULL, errno ENOMEM
 *   lmdb   the LMDB calls the store (store/) makes that can fail: mdb_txn_begin,
 *          mdb_put, mdb_get, mdb_del, mdb_cursor_open, mdb_cursor_get,
 *          mdb_txn_commit, mdb_dbi_open, mdb_env_set_mapsize, mdb_stat; each
 *          fails with an error LMDB itself returns there (each wrapper names it).
 *          Not counted: calls that cannot fail (mdb_txn_abort,
 *          mdb_cursor_close, mdb_env_close, mdb_strerror), or fail only on
 *          NULL arguments (mdb_env_info, mdb_env_get_fd), or whose result the
 *          store ignores by design (mdb_reader_check).
 *
 * Counting starts (the shim "arms") when the first mdb_env_open returns: the
 * start of the command's work on the store, after argument parsing.
 *
 * Environment:
 *   BATON_FAULT_N=N        fail the Nth counted call (0, the default: count only)
 *   BATON_FAULT_KIND=K     alloc, lmdb or all (default all)
 *   BATON_FAULT_FUNCS=F,G  count only calls of the functions named
 *                          ("mdb_put,mdb_txn_commit"); default: every one of KIND
 *   BATON_FAULT_ERR=SPEC   for an LMDB call: the error to return in place of
 *                          the default. SPEC is an error (ENOMEM, EIO,
 *                          MDB_PANIC, MDB_MAP_FULL, MDB_TXN_FULL, MDB_CORRUPTED,
 *                          MDB_BAD_TXN, ... or a number) for every function, or
 *                          a list "mdb_put=MDB_MAP_FULL,mdb_txn_commit=MDB_MAP_FULL"
 *                          for the functions named (the others keep theirs)
 *   BATON_FAULT_COUNT=FILE at exit, write the number of counted calls to FILE
 *   BATON_FAULT_LIST=FILE  write "N FUNCTION" for every counted call to FILE
 *   BATON_FAULT_LOG=FILE   when the fault fires, append
 *                          "fault: call N FUNCTION fails (ERROR)" (and the
 *                          backtrace, with BATON_FAULT_TRACE=1) to FILE
 *   BATON_FAULT_TRACE=1    print the backtrace of the failed call
 *                          (backtrace_symbols_fd) to BATON_FAULT_LOG, or to
 *                          stderr when no log file is named
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

enum { K_ALLOC = 1, K_LMDB = 2 };

static int kinds = K_ALLOC | K_LMDB;
static unsigned long fail_at; /* 0: count only */
static int err_all;           /* 0: each function's default */
static struct {
	char fn[32];
	int err;
} err_fn[16]; /* per-function overrides */
static int n_err_fn;
static const char *count_file, *log_file;
static int list_fd = -1;
static char funcs[512]; /* ",f,g," or empty: every function */
static int trace;
static volatile int armed, configured;
static unsigned long counted; /* calls counted since arming */
static __thread int inside
    __attribute__((tls_model("initial-exec"))); /* the shim's own calls are never counted */

/* ---- configuration ---- */

static const struct {
	const char *name;
	int value;
} names[] = {{"ENOMEM", ENOMEM},
             {"EIO", EIO},
             {"EINVAL", EINVAL},
             {"EACCES", EACCES},
             {"MDB_PANIC", MDB_PANIC},
             {"MDB_MAP_FULL", MDB_MAP_FULL},
             {"MDB_TXN_FULL", MDB_TXN_FULL},
             {"MDB_CORRUPTED", MDB_CORRUPTED},
             {"MDB_PAGE_NOTFOUND", MDB_PAGE_NOTFOUND},
             {"MDB_BAD_TXN", MDB_BAD_TXN},
             {"MDB_READERS_FULL", MDB_READERS_FULL},
             {"MDB_DBS_FULL", MDB_DBS_FULL},
             {"MDB_CURSOR_FULL", MDB_CURSOR_FULL},
             {"MDB_MAP_RESIZED", MDB_MAP_RESIZED}};

static const char *err_name(int e)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].value == e)
			return names[i].name;
	return "?";
}

static int parse_err(const char *s)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].value;
	return (int)strtol(s, NULL, 0);
}

static void configure(void)
{
	const char *s;
	if (configured)
		return;
	/*
	 * An ASan build's runtime allocates before libc has set up the
	 * environment: configure at a later call, not with nothing.
	 */
	if (environ == NULL)
		return;
	configured = 1;
	inside++;
	if ((s = getenv("BATON_FAULT_N")) != NULL)
		fail_at = strtoul(s, NULL, 10);
	if ((s = getenv("BATON_FAULT_KIND")) != NULL) {
		if (strcmp(s, "alloc") == 0)
			kinds = K_ALLOC;
		else if (strcmp(s, "lmdb") == 0)
			kinds = K_LMDB;
		else
			kinds = K_ALLOC | K_LMDB;
	}
#ifdef BATON_FAULT_NO_ALLOC
	kinds &= ~K_ALLOC;
#endif
	if ((s = getenv("BATON_FAULT_ERR")) != NULL && *s) {
		if (strchr(s, '=') == NULL) {
			err_all = parse_err(s);
		} else {
			/* "fn=ERR,fn=ERR" */
			char buf[512], *save = NULL, *item;
			snprintf(buf, sizeof(buf), "%s", s);
			for (item = strtok_r(buf, ",", &save); item && n_err_fn < 16;
			     item = strtok_r(NULL, ",", &save)) {
				char *eq = strchr(item, '=');
				if (eq == NULL)
					continue;
				*eq = 0;
				snprintf(err_fn[n_err_fn].fn, sizeof(err_fn[0].fn), "%s", item);
				err_fn[n_err_fn++].err = parse_err(eq + 1);
			}
		}
	}
	if ((s = getenv("BATON_FAULT_FUNCS")) != NULL && *s)
		snprintf(funcs, sizeof(funcs), ",%s,", s);
	count_file = getenv("BATON_FAULT_COUNT");
	if ((s = getenv("BATON_FAULT_LIST")) != NULL && *s)
		list_fd = open(s, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	log_file = getenv("BATON_FAULT_LOG");
	trace = (s = getenv("BATON_FAULT_TRACE")) != NULL && strcmp(s, "1") == 0;
	if (trace) {
		/* backtrace() loads libgcc_s on first use: do it now, not as a call fails. */
		void *frames[4];
		backtrace(frames, 4);
	}
	inside--;
}

__attribute__((constructor)) static void fault_init(void)
{
	configure();
}

/* Writes a string without allocating. */
static void put(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void put_ulong(int fd, unsigned long v)
{
	char b[24];
	int i = (int)sizeof(b) - 1;
	b[i] = 0;
	do
		b[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0 && i > 0);
	put(fd, b + i);
}

__attribute__((destructor)) static void fault_fini(void)
{
	if (count_file == NULL)
		return;
	int fd = open(count_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	put_ulong(fd, counted);
	put(fd, "\n");
	close(fd);
}

/* The fault fired: say which call, and where from. */
static void report(const char *what, const char *err)
{
	int fd = 2, opened = 0;
	if (log_file) {
		fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd < 0)
			return;
		opened = 1;
	}
	if (opened || trace) {
		put(fd, "fault: call ");
		put_ulong(fd, counted);
		put(fd, " ");
		put(fd, what);
		put(fd, " fails (");
		put(fd, err);
		put(fd, ")\n");
	}
	if (trace) {
		void *frames[64];
		int n = backtrace(frames, 64);
		backtrace_symbols_fd(frames, n, fd);
	}
	if (opened)
		close(fd);
}

/*
 * Counts a call of this kind; 1 when it is the one to fail, with *err set
 * to the error to return (def, unless BATON_FAULT_ERR says otherwise).
 */
static int hit_err(int kind, const char *what, int def, int *err)
{
	if (!configured)
		configure();
	if (!armed || inside || !(kinds & kind))
		return 0;
	if (funcs[0]) {
		/* ",name," in the list */
		const char *p = funcs;
		size_t len = strlen(what);
		while ((p = strstr(p, what)) != NULL && (p[-1] != ',' || p[len] != ','))
			p += len;
		if (p == NULL)
			return 0;
	}
	unsigned long n = __atomic_add_fetch(&counted, 1, __ATOMIC_SEQ_CST);
	if (list_fd >= 0) {
		inside++;
		put_ulong(list_fd, n);
		put(list_fd, " ");
		put(list_fd, what);
		put(list_fd, "\n");
		inside--;
	}
	if (fail_at == 0 || n != fail_at)
		return 0;
	int e = def;
	if (kind == K_LMDB) {
		if (err_all)
			e = err_all;
		for (int i = 0; i < n_err_fn; i++)
			if (strcmp(err_fn[i].fn, what) == 0)
				e = err_fn[i].err;
	}
	if (err)
		*err = e;
	inside++;
	report(what, err_name(e));
	inside--;
	return 1;
}

__attribute__((unused)) static int hit(int kind, const char *what)
{
	return hit_err(kind, what, ENOMEM, NULL);
}

/* ---- allocation ---- */

#ifndef BATON_FAULT_NO_ALLOC
/*
 * dlsym may allocate (its error buffer) before the real functions are known:
 * those requests are served from a static arena and never given back.
 */
static char arena[16384] __attribute__((aligned(16)));
static size_t arena_used;
static __thread int resolving __attribute__((tls_model("initial-exec")));

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static int from_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + sizeof(arena);
}

static void *arena_alloc(size_t n)
{
	size_t need = (n + 15 + 16) & ~(size_t)15;
	if (arena_used + need > sizeof(arena))
		return NULL;
	char *p = arena + arena_used;
	arena_used += need;
	memcpy(p, &n, sizeof(n)); /* the size, for a realloc */
	return p + 16;
}

/* The size arena_alloc recorded for p. */
static size_t arena_size(const void *p)
{
	size_t n;
	memcpy(&n, (const char *)p - 16, sizeof(n));
	return n;
}

static void resolve(void)
{
	if (real_free && real_malloc && real_calloc && real_realloc)
		return;
	resolving++;
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	resolving--;
}

void *malloc(size_t n)
{
	if (real_malloc == NULL) {
		if (resolving)
			return arena_alloc(n);
		resolve();
		if (real_malloc == NULL)
			return arena_alloc(n);
	}
	if (hit(K_ALLOC, "malloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	if (real_calloc == NULL) {
		if (size && n > SIZE_MAX / size)
			return NULL;
		if (resolving)
			return arena_alloc(n * size); /* static: already zero */
		resolve();
		if (real_calloc == NULL)
			return arena_alloc(n * size);
	}
	if (hit(K_ALLOC, "calloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return real_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	if (real_realloc == NULL) {
		if (!resolving)
			resolve();
		if (real_realloc == NULL) {
			void *q = arena_alloc(n);
			if (q && p)
				memcpy(q, p, arena_size(p) < n ? arena_size(p) : n);
			return q;
		}
	}
	if (p && from_arena(p)) {
		size_t old = arena_size(p);
		void *q = malloc(n);
		if (q)
			memcpy(q, p, old < n ? old : n);
		return q;
	}
	if (hit(K_ALLOC, "realloc")) {
		errno = ENOMEM;
		return NULL;
	}
	return real_realloc(p, n);
}

void free(void *p)
{
	if (p == NULL || from_arena(p))
		return;
	if (real_free == NULL)
		resolve();
	if (real_free)
		real_free(p);
}
#endif

/* ---- LMDB ---- */

#define REAL(name)                                                                                 \
	static __typeof__(name) *real_##name;                                                      \
	if (real_##name == NULL) {                                                                 \
		inside++;                                                                          \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name);                         \
		inside--;                                                                          \
		if (real_##name == NULL) {                                                         \
			put(2, "inject: no " #name "\n");                                          \
			abort();                                                                   \
		}                                                                                  \
	}

int mdb_env_open(MDB_env *env, const char *path, unsigned int flags, mdb_mode_t mode)
{
	REAL(mdb_env_open);
	int rc = real_mdb_env_open(env, path, flags, mode);
	armed = 1; /* from here on, the command works on the store */
	return rc;
}

int mdb_env_set_mapsize(MDB_env *env, size_t size)
{
	REAL(mdb_env_set_mapsize);
	int e;
	if (hit_err(K_LMDB, "mdb_env_set_mapsize", ENOMEM, &e))
		return e; /* mmap of the new size failed */
	return real_mdb_env_set_mapsize(env, size);
}

int mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags, MDB_txn **txn)
{
	REAL(mdb_txn_begin);
	int e;
	if (hit_err(K_LMDB, "mdb_txn_begin", ENOMEM, &e))
		return e; /* the txn's malloc */
	return real_mdb_txn_begin(env, parent, flags, txn);
}

int mdb_txn_commit(MDB_txn *txn)
{
	REAL(mdb_txn_commit);
	REAL(mdb_txn_abort);
	int e;
	if (hit_err(K_LMDB, "mdb_txn_commit", EIO, &e)) {
		/* A failed commit frees the transaction, as LMDB's does. */
		real_mdb_txn_abort(txn);
		return e; /* the write or fsync failed */
	}
	return real_mdb_txn_commit(txn);
}

int mdb_dbi_open(MDB_txn *txn, const char *name, unsigned int flags, MDB_dbi *dbi)
{
	REAL(mdb_dbi_open);
	int e;
	if (hit_err(K_LMDB, "mdb_dbi_open", ENOMEM, &e))
		return e;
	return real_mdb_dbi_open(txn, name, flags, dbi);
}

int mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	REAL(mdb_get);
	int e;
	if (hit_err(K_LMDB, "mdb_get", MDB_CORRUPTED, &e))
		return e; /* a damaged page on the way */
	return real_mdb_get(txn, dbi, key, data);
}

int mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned int flags)
{
	REAL(mdb_put);
	int e;
	if (hit_err(K_LMDB, "mdb_put", ENOMEM, &e))
		return e; /* a page or the dirty list could not be allocated */
	return real_mdb_put(txn, dbi, key, data, flags);
}

int mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	REAL(mdb_del);
	int e;
	if (hit_err(K_LMDB, "mdb_del", ENOMEM, &e))
		return e;
	return real_mdb_del(txn, dbi, key, data);
}

int mdb_cursor_open(MDB_txn *txn, MDB_dbi dbi, MDB_cursor **cursor)
{
	REAL(mdb_cursor_open);
	int e;
	if (hit_err(K_LMDB, "mdb_cursor_open", ENOMEM, &e))
		return e; /* the cursor's malloc */
	return real_mdb_cursor_open(txn, dbi, cursor);
}

int mdb_cursor_get(MDB_cursor *cursor, MDB_val *key, MDB_val *data, MDB_cursor_op op)
{
	REAL(mdb_cursor_get);
	int e;
	if (hit_err(K_LMDB, "mdb_cursor_get", MDB_CORRUPTED, &e))
		return e;
	return real_mdb_cursor_get(cursor, key, data, op);
}

int mdb_stat(MDB_txn *txn, MDB_dbi dbi, MDB_stat *stat)
{
	REAL(mdb_stat);
	int e;
	if (hit_err(K_LMDB, "mdb_stat", MDB_BAD_TXN, &e))
		return e;
	return real_mdb_stat(txn, dbi, stat);
}
