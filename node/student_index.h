/*
 * The search over the students on file, from an index in memory: one line
 * a student (id, statewide id, "given family"), ASCII letters folded to one
 * case, searched with memmem, so that a search of 100,000 students costs a
 * few milliseconds and no allocation per student. The index is built in
 * one read transaction and kept until the students on file or their held
 * records change (store_students_version, not any write: a login or a send
 * leaves it): then the next search builds it again. Threads share it.
 */
#ifndef BATON_NODE_STUDENT_INDEX_H
#define BATON_NODE_STUDENT_INDEX_H

#include <stddef.h>

#include "store.h"
#include "view_students.h"

/*
 * Searches the students on file in st as view_students_find does, with the
 * same matches in the same order, through the index (built first when
 * there is none for st's current version).
 *
 * st  the open store; the index is kept for it until its students change
 *     or view_students_forget.
 * f   the search in, f->students and f->total out (see view_find).
 *
 * Returns 0, BATON_ENOMEM, or the store's error.
 */
int view_students_search(store *st, struct view_find *f);

/* Frees the index kept (before the store it was built from closes). Cannot fail. */
void view_students_forget(void);

#endif
