/*
 * ovn-container's thin client (dist/bin/ovn-container; bin/ovn-container runs
 * it): when the resident agent (`ovnts cni-agent`) listens on its socket in
 * this network namespace, the command line and the environment the tool
 * reads (OS_*, OVS_*, OVNTS_*, DOCKER_*, CONTAINERS_*) go to it as one
 * HTTP/1.0 request (src/cli/ovn-container-agent.ts), and the reply's stdout,
 * stderr and exit status are this program's — a few milliseconds where a
 * Node start and its module loading are hundreds. With no agent, or an agent
 * in another namespace, the tool runs in a Node process of its own
 * (bin/ovn-container-direct): same output, slower.
 */
#include "agent-io.h"

static const char *const FORWARDED_PREFIXES[] = {"OS_", "OVS_", "OVNTS_", "DOCKER_", "CONTAINERS_", "CONTAINER_HOST=", NULL};

extern char **environ;

static int direct(char **argv) {
    exec_beside("ovn-container-direct", argv);
    fprintf(stderr, "ovn-container: no agent answers and bin/ovn-container-direct cannot be run\n");
    return 1;
}

static int forwarded(const char *kv) {
    for (const char *const *p = FORWARDED_PREFIXES; *p != NULL; p++)
        if (strncmp(kv, *p, strlen(*p)) == 0) return 1;
    return 0;
}

int main(int argc, char **argv) {
    int fd = agent_connect();
    if (fd < 0) return direct(argv);

    char netns[256];
    ssize_t nl = readlink("/proc/self/ns/net", netns, sizeof netns - 1);
    if (nl < 0) return direct(argv);
    netns[nl] = '\0';

    struct buf body = {0};
    for (int i = 1; i < argc; i++)
        if (append(&body, argv[i], strlen(argv[i]) + 1) < 0) return direct(argv);
    for (char **e = environ; *e != NULL; e++)
        if (forwarded(*e) && append(&body, *e, strlen(*e) + 1) < 0) return direct(argv);

    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /ovn-container HTTP/1.0\r\nHost: ovnts-cni-agent\r\nX-Argc: %d\r\nX-Netns: %s\r\nContent-Length: %zu\r\n\r\n",
                     argc - 1, netns, body.len);
    if (n < 0 || (size_t)n >= sizeof head) return direct(argv);
    if (write_all(fd, head, (size_t)n) < 0 || (body.len > 0 && write_all(fd, body.p, body.len) < 0)) return direct(argv);

    struct buf resp = {0};
    struct reply r;
    if (read_all(fd, &resp) < 0 || parse_reply(&resp, &r) < 0) {
        /* The agent may have run the command: do not run it twice. */
        fprintf(stderr, "ovn-container: the agent closed the connection without an answer (see its log)\n");
        return 1;
    }
    /* 404: an agent without this route; 409: another network namespace. Nothing was done: run here. */
    if (r.status == 404 || r.status == 409) return direct(argv);
    long status = agent_header(&r, "X-Exit-Status");
    long out_len = agent_header(&r, "X-Stdout-Length");
    if (r.status != 200 || status < 0 || out_len < 0 || (size_t)out_len > r.body_len) {
        fprintf(stderr, "ovn-container: the agent failed (status %d; see its log)\n", r.status);
        return 1;
    }
    if (write_all(1, r.body, (size_t)out_len) < 0) return 1;
    if (write_all(2, r.body + out_len, r.body_len - (size_t)out_len) < 0) return 1;
    return (int)status;
}
