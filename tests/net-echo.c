/*
 * net-echo: a tiny TCP or UDP server for the ports suite, linked
 * statically so that it runs inside the busybox container (whose busybox
 * nc has no UDP mode).
 *
 *   net-echo tcp|udp PORT
 *
 * Listens on every IPv4 and IPv6 address (one dual-stack socket) and
 * answers each connection or datagram with "echo <what it got> from
 * <peer address>", so that a test sees both that the port answers and the
 * source address the container saw (masqueraded or not). Runs until killed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void peer_text(const struct sockaddr_in6 *sa, char *buf, size_t size)
{
	if (IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr))
		inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], buf, (socklen_t)size);
	else
		inet_ntop(AF_INET6, &sa->sin6_addr, buf, (socklen_t)size);
}

static int answer(char *out, size_t size, const char *in, ssize_t n, const struct sockaddr_in6 *peer)
{
	char p[INET6_ADDRSTRLEN];

	peer_text(peer, p, sizeof(p));
	while (n > 0 && (in[n - 1] == '\n' || in[n - 1] == '\r'))
		n--;
	return snprintf(out, size, "echo %.*s from %s\n", (int)n, in, p);
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 }, peer;
	socklen_t len;
	char in[256], out[512];
	int udp, fd, c, zero = 0, one = 1;
	ssize_t n;

	if (argc != 3 || (strcmp(argv[1], "tcp") && strcmp(argv[1], "udp"))) {
		fprintf(stderr, "usage: net-echo tcp|udp PORT\n");
		return 2;
	}
	udp = !strcmp(argv[1], "udp");
	sa.sin6_port = htons((unsigned short)atoi(argv[2]));
	fd = socket(AF_INET6, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (!udp && listen(fd, 16) < 0)) {
		perror("net-echo");
		return 1;
	}
	for (;;) {
		len = sizeof(peer);
		if (udp) {
			n = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&peer, &len);
			if (n >= 0)
				sendto(fd, out, (size_t)answer(out, sizeof(out), in, n, &peer), 0,
				       (struct sockaddr *)&peer, len);
			continue;
		}
		c = accept(fd, (struct sockaddr *)&peer, &len);
		if (c < 0)
			continue;
		n = read(c, in, sizeof(in));
		if (n >= 0 && write(c, out, (size_t)answer(out, sizeof(out), in, n, &peer)) < 0)
			perror("net-echo: write");
		close(c);
	}
}
