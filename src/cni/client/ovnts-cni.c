/*
 * ovnts-cni, the executable a CNI runtime runs: a thin client of the resident
 * agent (`ovnts cni-agent`, src/cni/agent.ts). It forwards the CNI_* variables
 * and the network configuration on stdin to the agent's unix socket
 * ($OVNTS_CNI_SOCKET, default /run/ovnts/cni.sock) as one HTTP/1.0 request and
 * prints the reply: exit 0 for status 200, 1 otherwise. Its whole cost is an
 * exec of a small static program (a Node start is 100+ ms; curl's dynamic
 * linking alone is tens of ms). When no agent listens, it runs the plugin in
 * a process of its own instead (bin/ovnts-cni-direct beside this checkout's
 * dist/, stdin untouched).
 *
 * Built by `npm run build` (scripts/build-cni-client.sh) into dist/bin/.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *const FORWARDED[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",   "CNI_ARGS",
                                        "CNI_PATH",    "OVS_RUNDIR",      "OVNTS_TIMING", NULL};

/* A CNI error the runtime can read (code 11: try again later). */
static int fail(const char *msg) {
    printf("{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"ovnts-cni: %s\"}\n", msg);
    return 1;
}

/* No agent: run the plugin here, from the checkout this binary was built in (dist/bin/ -> bin/). */
static int run_direct(char **argv) {
    char self[PATH_MAX], path[PATH_MAX + 64];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) return fail("no agent answers and /proc/self/exe is unreadable");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash != NULL) *slash = '\0';
    snprintf(path, sizeof path, "%s/../../bin/ovnts-cni-direct", self);
    execv(path, argv);
    return fail("no agent answers and bin/ovnts-cni-direct cannot be run");
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Appends to a growing buffer. */
static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = (*cap == 0 ? 4096 : *cap);
        while (*len + n + 1 > c) c *= 2;
        char *b = realloc(*buf, c);
        if (b == NULL) return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}

static int read_all(int fd, char **buf, size_t *len) {
    size_t cap = 0;
    char chunk[65536];
    *buf = NULL;
    *len = 0;
    if (append(buf, len, &cap, "", 0) < 0) return -1;
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return 0;
        if (append(buf, len, &cap, chunk, (size_t)r) < 0) return -1;
    }
}

int main(int argc, char **argv) {
    (void)argc;
    const char *sock = getenv("OVNTS_CNI_SOCKET");
    if (sock == NULL || *sock == '\0') sock = "/run/ovnts/cni.sock";
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(sock) >= sizeof sa.sun_path) return fail("OVNTS_CNI_SOCKET is too long");
    strcpy(sa.sun_path, sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail("cannot make a socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return run_direct(argv);
    }

    char *body = NULL;
    size_t body_len = 0;
    if (isatty(0)) body_len = 0;
    else if (read_all(0, &body, &body_len) < 0) return fail("cannot read the network configuration on stdin");

    char *req = NULL;
    size_t req_len = 0, req_cap = 0;
    char line[8192];
    int n = snprintf(line, sizeof line, "POST /cni HTTP/1.0\r\nHost: ovnts-cni-agent\r\nContent-Length: %zu\r\n", body_len);
    if (append(&req, &req_len, &req_cap, line, (size_t)n) < 0) return fail("out of memory");
    for (const char *const *v = FORWARDED; *v != NULL; v++) {
        const char *val = getenv(*v);
        if (val == NULL || strpbrk(val, "\r\n") != NULL) continue;
        n = snprintf(line, sizeof line, "%s: %s\r\n", *v, val);
        if (n < 0 || (size_t)n >= sizeof line) continue;
        if (append(&req, &req_len, &req_cap, line, (size_t)n) < 0) return fail("out of memory");
    }
    if (append(&req, &req_len, &req_cap, "\r\n", 2) < 0 || (body_len > 0 && append(&req, &req_len, &req_cap, body, body_len) < 0))
        return fail("out of memory");
    if (write_all(fd, req, req_len) < 0) return fail("the agent closed the connection; try again");

    char *resp;
    size_t resp_len;
    if (read_all(fd, &resp, &resp_len) < 0) return fail("cannot read the agent's reply; try again");
    int status = 0;
    char *head_end = strstr(resp, "\r\n\r\n");
    if (head_end == NULL || sscanf(resp, "HTTP/%*s %d", &status) != 1) return fail("the agent did not answer; try again");
    char *reply = head_end + 4;
    size_t reply_len = resp_len - (size_t)(reply - resp);
    if (status != 200 && status != 400) return fail("the agent failed (see its log); try again");
    if (reply_len > 0 && write_all(1, reply, reply_len) < 0) return 1;
    return status == 200 ? 0 : 1;
}
