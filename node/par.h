/*
 * Work spread over the machine's cores: the calling thread and helper
 * threads started once, the first time they are needed, that live as long as
 * the process. Helpers keep their thread-local caches (validated keys,
 * verified signatures) from one call to the next.
 */
#ifndef BATON_NODE_PAR_H
#define BATON_NODE_PAR_H

#include <stddef.h>

/*
 * Calls fn(i, arg) once for every i < n, on this thread and the helpers, and
 * returns when all have returned. fn must be safe to run on several threads
 * at once: it may not use a store transaction, and what it reports goes into
 * arg (baton_diag() is per thread). With one core, or when no helper can be
 * started, everything runs on this thread. One caller at a time, and fn may
 * not call par_for.
 */
void par_for(size_t n, void (*fn)(size_t i, void *arg), void *arg);

#endif
