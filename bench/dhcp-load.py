#!/usr/bin/env python3
"""DHCPv4 load generator for bench/controller-dhcp.ts.

Runs complete DISCOVER -> OFFER -> REQUEST -> ACK handshakes (RFC 2131
section 3.1) as fast as the server answers, on several ports at once, and
prints one JSON object with the counts. Each port is an interface inside its
own network namespace; one AF_PACKET socket per port is opened inside that
namespace (setns(2)), so one process drives them all. Frames carry the port's
own MAC as Ethernet source and chaddr (the logical port's port security).

Usage: dhcp-load.py [--duration S] [--window W] [--timeout-ms T] [--warmup-s S]
                    NETNS:IFACE:MAC ...

--window is how many handshakes each port keeps in flight (distinct xids).
Before the timed phase every port must complete one handshake (warm-up);
a port that never does makes the run fail (exit 2). Only handshakes that
complete inside the timed phase are counted.
"""
import argparse
import ctypes
import json
import os
import random
import select
import socket
import struct
import sys
import time

CLONE_NEWNET = 0x40000000
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4

DISCOVER, OFFER, REQUEST, ACK, NAK = 1, 2, 3, 5, 6
MAGIC = b'\x63\x82\x53\x63'
BOOTP_MIN = 300  # what dhclient pads its BOOTP payload to

libc = ctypes.CDLL(None, use_errno=True)


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f'setns {path}: {os.strerror(e)}')
    finally:
        os.close(fd)


def ip_checksum(hdr):
    s = sum(struct.unpack('!10H', hdr))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def dhcp_frame(mac, xid, msg_type, requested=None, server_id=None):
    opts = bytes([53, 1, msg_type])
    if requested is not None:
        opts += bytes([50, 4]) + requested
    if server_id is not None:
        opts += bytes([54, 4]) + server_id
    opts += bytes([55, 4, 1, 3, 51, 54, 255])
    bootp = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', 1, 1, 6, 0, xid, 0, 0,
                        b'\0' * 4, b'\0' * 4, b'\0' * 4, b'\0' * 4, mac, b'', b'')
    bootp += MAGIC + opts
    bootp += b'\0' * max(0, BOOTP_MIN - len(bootp))
    udp = struct.pack('!HHHH', 68, 67, 8 + len(bootp), 0) + bootp
    iph = struct.pack('!BBHHHBBH4s4s', 0x45, 0x10, 20 + len(udp), 0, 0, 64, 17, 0,
                      b'\0\0\0\0', b'\xff\xff\xff\xff')
    iph = iph[:10] + struct.pack('!H', ip_checksum(iph)) + iph[12:]
    return b'\xff' * 6 + mac + struct.pack('!H', ETH_P_IP) + iph + udp


def parse_reply(frame):
    """(xid, message type, yiaddr, server id) of a BOOTREPLY to port 68, else None."""
    if len(frame) < 14 + 20 + 8 + 240 or frame[12:14] != b'\x08\x00':
        return None
    ihl = (frame[14] & 0x0f) * 4
    if frame[23] != 17:
        return None
    u = 14 + ihl
    if struct.unpack('!H', frame[u + 2:u + 4])[0] != 68:
        return None
    b = u + 8
    if frame[b] != 2 or frame[b + 236:b + 240] != MAGIC:
        return None
    xid = struct.unpack('!I', frame[b + 4:b + 8])[0]
    yiaddr = frame[b + 16:b + 20]
    mtype, sid = None, None
    i = b + 240
    while i < len(frame):
        code = frame[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(frame):
            break
        ln = frame[i + 1]
        val = frame[i + 2:i + 2 + ln]
        if code == 53 and ln == 1:
            mtype = val[0]
        elif code == 54 and ln == 4:
            sid = val
        i += 2 + ln
    return xid, mtype, yiaddr, sid


class Port:
    def __init__(self, spec):
        ns, iface, mac = spec.split(':', 2)
        self.name = f'{ns}/{iface}'
        self.mac = bytes.fromhex(mac.replace(':', ''))
        setns(f'/run/netns/{ns}')
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((iface, ETH_P_IP))
        self.sock.setblocking(False)
        self.inflight = {}  # xid -> [state, started, deadline]


class Load:
    def __init__(self, ports, window, timeout):
        self.ports = ports
        self.window = window
        self.timeout = timeout
        self.counting = False
        self.c = dict(handshakes=0, naks=0, timeouts=0, discovers=0, requests=0, send_errors=0)
        self.latencies = []
        self.done_per_port = {p.name: 0 for p in ports}

    def send(self, port, frame):
        try:
            port.sock.send(frame)
            return True
        except (BlockingIOError, OSError):
            self.c['send_errors'] += self.counting
            return False

    def start(self, port):
        xid = random.getrandbits(32)
        while xid in port.inflight:
            xid = random.getrandbits(32)
        now = time.monotonic()
        port.inflight[xid] = ['offer', now, now + self.timeout]
        self.c['discovers'] += self.counting
        self.send(port, dhcp_frame(port.mac, xid, DISCOVER))

    def fill(self, port):
        while len(port.inflight) < self.window:
            self.start(port)

    def on_frame(self, port, frame):
        r = parse_reply(frame)
        if r is None:
            return
        xid, mtype, yiaddr, sid = r
        st = port.inflight.get(xid)
        if st is None:
            return
        now = time.monotonic()
        if st[0] == 'offer' and mtype == OFFER:
            st[0] = 'ack'
            st[2] = now + self.timeout
            self.c['requests'] += self.counting
            self.send(port, dhcp_frame(port.mac, xid, REQUEST, yiaddr, sid))
        elif st[0] == 'ack' and mtype in (ACK, NAK):
            del port.inflight[xid]
            if mtype == ACK:
                self.done_per_port[port.name] += 1
                if self.counting:
                    self.c['handshakes'] += 1
                    self.latencies.append(now - st[1])
            else:
                self.c['naks'] += self.counting
            self.start(port)

    def expire(self):
        now = time.monotonic()
        for p in self.ports:
            for xid in [x for x, st in p.inflight.items() if st[2] <= now]:
                del p.inflight[xid]
                self.c['timeouts'] += self.counting
            self.fill(p)

    def run_until(self, ep, by_fd, end, stop_when=None):
        next_expire = 0.0
        while True:
            now = time.monotonic()
            if now >= end or (stop_when is not None and stop_when()):
                return
            if now >= next_expire:
                self.expire()
                next_expire = now + 0.05
            for fd, _ in ep.poll(min(end - now, 0.05)):
                port = by_fd[fd]
                while True:
                    try:
                        frame, addr = port.sock.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if addr[2] != PACKET_OUTGOING:
                        self.on_frame(port, frame)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--duration', type=float, default=10.0)
    ap.add_argument('--window', type=int, default=4)
    ap.add_argument('--timeout-ms', type=float, default=1000.0)
    ap.add_argument('--warmup-s', type=float, default=20.0)
    ap.add_argument('ports', nargs='+')
    a = ap.parse_args()

    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    try:
        ports = [Port(s) for s in a.ports]
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)
    ep = select.epoll()
    by_fd = {}
    for p in ports:
        ep.register(p.sock.fileno(), select.EPOLLIN)
        by_fd[p.sock.fileno()] = p

    load = Load(ports, a.window, a.timeout_ms / 1000.0)
    t0 = time.monotonic()
    load.run_until(ep, by_fd, t0 + a.warmup_s, lambda: all(n > 0 for n in load.done_per_port.values()))
    missing = [n for n, c in load.done_per_port.items() if c == 0]
    if missing:
        print(json.dumps({'error': f'no DHCPACK within {a.warmup_s} s on: {", ".join(missing)}'}))
        sys.exit(2)
    warmup = time.monotonic() - t0

    # Timed phase: what is in flight now finishes inside it and counts.
    load.counting = True
    t1 = time.monotonic()
    load.run_until(ep, by_fd, t1 + a.duration)
    elapsed = time.monotonic() - t1
    lat = sorted(load.latencies)
    pick = lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None
    print(json.dumps({
        **load.c,
        'elapsed_s': round(elapsed, 3),
        'warmup_s': round(warmup, 3),
        'per_s': round(load.c['handshakes'] / elapsed, 1),
        'p50_ms': pick(0.5),
        'p99_ms': pick(0.99),
        'ports': len(ports),
        'window': a.window,
    }))


if __name__ == '__main__':
    main()
