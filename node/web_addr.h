/* An address the web server listens at, parsed from ADDR:PORT (web_conf.c). */
#ifndef BATON_NODE_WEB_ADDR_H
#define BATON_NODE_WEB_ADDR_H

#include <netinet/in.h>

struct web_addr {
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	int ipv6;     /* v6 is the address, else v4 */
	int loopback; /* 127.0.0.0/8 or ::1 */
};

/*
 * Parses s: "A.B.C.D:PORT" or "[V6]:PORT", numeric only (no name is looked
 * up). 0, or BATON_EVALUE naming s.
 */
int web_addr_parse(const char *s, struct web_addr *a);

#endif
