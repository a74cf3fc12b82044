/*
 * ovnts-cni, the executable a CNI runtime runs: a thin client of the resident
 * agent (`ovnts cni-agent`, src/cni/agent.ts). It forwards the CNI_* variables
 * and the network configuration on stdin to the agent's unix socket
 * ($OVNTS_CNI_SOCKET, default /run/ovnts/cni.sock) as one HTTP/1.0 request and
 * prints the reply: exit 0 for status 200, 1 otherwise. Its whole cost is an
 * exec of a small static program (a Node start is 100+ ms; curl's dynamic
 * linking alone is tens of ms). When no agent listens, it runs the plugin in
 * a process of its own instead (bin/ovnts-cni-direct beside this checkout's
 * dist/, stdin untouched). The socket and the I/O are agent-io.h's, shared
 * with ovn-container's client.
 *
 * Built by `npm run build` (scripts/build-cni-client.sh) into dist/bin/.
 */
#include "agent-io.h"

static const char *const FORWARDED[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",   "CNI_ARGS",
                                        "CNI_PATH",    "OVS_RUNDIR",      "OVNTS_TIMING", NULL};

/* A CNI error the runtime can read (code 11: try again later). */
static int fail(const char *msg) {
    printf("{\"cniVersion\":\"1.1.0\",\"code\":11,\"msg\":\"ovnts-cni: %s\"}\n", msg);
    return 1;
}

int main(int argc, char **argv) {
    (void)argc;
    int fd = agent_connect();
    if (fd < 0) {
        /* No agent: run the plugin here, from the checkout this binary was built in (stdin untouched). */
        exec_beside("ovnts-cni-direct", argv);
        return fail("no agent answers and bin/ovnts-cni-direct cannot be run");
    }

    struct buf body = {0};
    if (!isatty(0) && read_all(0, &body) < 0) return fail("cannot read the network configuration on stdin");

    struct buf req = {0};
    char line[8192];
    int n = snprintf(line, sizeof line, "POST /cni HTTP/1.0\r\nHost: ovnts-cni-agent\r\nContent-Length: %zu\r\n", body.len);
    if (append(&req, line, (size_t)n) < 0) return fail("out of memory");
    for (const char *const *v = FORWARDED; *v != NULL; v++) {
        const char *val = getenv(*v);
        if (val == NULL || strpbrk(val, "\r\n") != NULL) continue;
        n = snprintf(line, sizeof line, "%s: %s\r\n", *v, val);
        if (n < 0 || (size_t)n >= sizeof line) continue;
        if (append(&req, line, (size_t)n) < 0) return fail("out of memory");
    }
    if (append(&req, "\r\n", 2) < 0 || (body.len > 0 && append(&req, body.p, body.len) < 0)) return fail("out of memory");
    if (write_all(fd, req.p, req.len) < 0) return fail("the agent closed the connection; try again");

    struct buf resp = {0};
    struct reply r;
    if (read_all(fd, &resp) < 0) return fail("cannot read the agent's reply; try again");
    if (parse_reply(&resp, &r) < 0) return fail("the agent did not answer; try again");
    if (r.status != 200 && r.status != 400) return fail("the agent failed (see its log); try again");
    if (r.body_len > 0 && write_all(1, r.body, r.body_len) < 0) return 1;
    return r.status == 200 ? 0 : 1;
}
