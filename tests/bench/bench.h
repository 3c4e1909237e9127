/*
 * Shared by the benchmark programs: how they stop on an error. A program
 * defines progname, its name, before it includes this.
 */
#ifndef BATON_BENCH_H
#define BATON_BENCH_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <baton/baton.h>

static __attribute__((noreturn, format(printf, 1, 2))) void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static __attribute__((noreturn)) void die_baton(const char *what, int r)
{
	die("%s: %s (%s)", what, baton_strerror(r), baton_diag());
}

#endif
