/*
 * Tells the service manager how the node is doing: systemd's notification
 * protocol (sd_notify(3)), which systemd documents as stable. The socket is
 * named by NOTIFY_SOCKET: a path, or an abstract name when it starts with
 * '@'. Without NOTIFY_SOCKET nothing is sent.
 */
#ifndef BATON_NODE_NOTIFY_H
#define BATON_NODE_NOTIFY_H

/*
 * Sends state (one or more "KEY=VALUE" lines, e.g. "READY=1") in one
 * datagram to NOTIFY_SOCKET. state stays the caller's.
 * Returns 0 when sent or when NOTIFY_SOCKET is not set; BATON_EINVAL when
 * NOTIFY_SOCKET is not a socket name this can reach (too long, or neither
 * a path nor '@'); BATON_EIO when the datagram cannot be sent (errno
 * tells; baton_diag() names the socket).
 */
int notify_send(const char *state);

#endif
