/*
 * sd_notify without libsystemd: one datagram on an AF_UNIX socket.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <baton/error.h>

#include "bti.h"
#include "notify.h"

/* The address of NOTIFY_SOCKET, "@" naming the abstract namespace; its length into *len. */
static int notify_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(name);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((name[0] != '/' && name[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
		return bti_diag_err(BATON_EINVAL, "NOTIFY_SOCKET: %s: not a socket path", name);
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'));
	return 0;
}

int notify_send(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen = 0;
	int r, fd = -1;

	if (name == NULL || *name == '\0')
		return 0;
	if ((r = notify_addr(name, &sa, &salen)) != 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen) < 0)
		r = bti_diag_err(BATON_EIO, "NOTIFY_SOCKET: %s: %s", name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}
