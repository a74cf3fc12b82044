/*
 * What the thin clients of the resident agent (ovnts-cni.c, ovn-container.c)
 * share: connecting to its unix socket ($OVNTS_CNI_SOCKET, default
 * /run/ovnts/cni.sock), whole writes and reads, a growing buffer, and the
 * status line and headers of its HTTP/1.0 reply. Header-only: each client is
 * one static program built from one .c file.
 */
#ifndef OVNTS_AGENT_IO_H
#define OVNTS_AGENT_IO_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define AGENT_DEFAULT_SOCKET "/run/ovnts/cni.sock"

/* A connected socket to the agent; -1 when none listens (or the path is unusable). */
static inline int agent_connect(void) {
    const char *sock = getenv("OVNTS_CNI_SOCKET");
    if (sock == NULL || *sock == '\0') sock = AGENT_DEFAULT_SOCKET;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof sa.sun_path) return -1;
    strcpy(sa.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Execs `name` from this checkout's bin/ (this program is dist/bin/NAME); returns only on failure. */
static inline void exec_beside(const char *name, char **argv) {
    char self[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) *slash = '\0';
    snprintf(path, sizeof path, "%s/../../bin/%s", self, name);
    execv(path, argv);
}

static inline int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A growing buffer, always NUL-terminated. */
struct buf {
    char *p;
    size_t len, cap;
};

static inline int append(struct buf *b, const char *p, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t c = (b->cap == 0 ? 4096 : b->cap);
        while (b->len + n + 1 > c) c *= 2;
        char *np = realloc(b->p, c);
        if (np == NULL) return -1;
        b->p = np;
        b->cap = c;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static inline int read_all(int fd, struct buf *b) {
    char chunk[65536];
    if (append(b, "", 0) < 0) return -1;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return 0;
        if (append(b, chunk, (size_t)r) < 0) return -1;
    }
}

/* The agent's reply split: status, the head (for agent_header), the body. */
struct reply {
    int status;
    const char *head;
    const char *body;
    size_t body_len;
};

static inline int parse_reply(struct buf *resp, struct reply *r) {
    char *head_end = strstr(resp->p, "\r\n\r\n");
    if (head_end == NULL || sscanf(resp->p, "HTTP/%*s %d", &r->status) != 1) return -1;
    head_end[2] = '\0'; /* the head ends with its last header's CRLF */
    r->head = resp->p;
    r->body = head_end + 4;
    r->body_len = resp->len - (size_t)(r->body - resp->p);
    return 0;
}

/* A header's value as a number (-1 when absent). */
static inline long agent_header(const struct reply *r, const char *name) {
    size_t n = strlen(name);
    for (const char *l = strstr(r->head, "\r\n"); l != NULL && l[2] != '\0'; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, name, n) == 0 && l[2 + n] == ':') return strtol(l + 3 + n, NULL, 10);
    }
    return -1;
}

#endif
