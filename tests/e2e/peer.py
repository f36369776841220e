#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A TCP endpoint the tests drive line by line: the PBX or the phone.

It runs wherever the test put it (a cgroup, a network namespace) and owns
its sockets, so getsockopt reads what the kernel set on them. One command a
line on stdin, one JSON answer a line on stdout:

  listen ADDR PORT           -> {"id": L}        (IPv6 "::" takes v4-mapped too)
  accept L                   -> {"id": C, "opts": {...}}
  connect ADDR PORT [SRC]    -> {"id": C, "local": [addr, port], "opts": {...}}
  opts C                     -> {"opts": {...}}
  send C N | rst C | close C -> {}
  serve L                    -> {}   (accept and close on L from now on, in a thread)
  hold L                     -> {}   (accept on L from now on, in a thread, and never close,
                                      not even after the peer's FIN: a PBX that leaks CLOSE_WAIT)
  held                       -> {"n": N}  (connections hold has accepted so far)
  churn ADDR PORT N THREADS  -> {"made": N}   (N connections to our own listener)
  churn-start ADDR PORT THREADS -> {}        (connections to our own listener until stopped)
  churn-stop                 -> {"made": N}   (all N closed on both sides)
  resets ADDR PORT N         -> {"made": N}   (N connections, each reset by us)
"""
import json
import socket
import sys
import threading

socks = {}
LINGER_0 = b"\1\0\0\0\0\0\0\0"   # struct linger {1, 0}: close() sends RST
TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_USER_TIMEOUT = 4, 5, 6, 18


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def opts(s):
    return {
        "keepalive": s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        "time": s.getsockopt(socket.IPPROTO_TCP, TCP_KEEPIDLE),
        "intvl": s.getsockopt(socket.IPPROTO_TCP, TCP_KEEPINTVL),
        "probes": s.getsockopt(socket.IPPROTO_TCP, TCP_KEEPCNT),
        "user_timeout_ms": s.getsockopt(socket.IPPROTO_TCP, TCP_USER_TIMEOUT),
    }


def keep(s):
    socks[len(socks) + 1] = s
    return len(socks)


def listen(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(addr) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, int(port)))
    s.listen(4096)
    return s


def serve(lst):
    while True:
        c, _ = lst.accept()
        c.close()


holding = []


def hold(lst):
    while True:
        holding.append(lst.accept()[0])     # never read, never closed


class Churn:
    """Connections from THREADS threads to a listener of ours, each closed by
    both sides: PER from each thread, or until stop() (a churn that outlasts
    whatever it runs beside, however fast or busy this machine is)."""

    def __init__(self, addr, port, threads, per=None):
        self.lst = listen(addr, port)
        self.lst.settimeout(0.1)        # to see stop() between accepts
        self.addr, self.port = addr, int(port)
        self.stopping, self.clients_done = threading.Event(), threading.Event()
        self.made = [0] * int(threads)
        self.per = per
        self.server = threading.Thread(target=self.accept_all)
        self.server.start()
        self.workers = [threading.Thread(target=self.client, args=(i,)) for i in range(int(threads))]
        for w in self.workers:
            w.start()

    def accept_all(self):
        accepted = 0
        while not (self.clients_done.is_set() and accepted == sum(self.made)):
            try:
                c, _ = self.lst.accept()
            except socket.timeout:
                continue
            c.settimeout(10)
            c.recv(1)   # the client's FIN
            c.close()
            accepted += 1

    def client(self, i):
        while not self.stopping.is_set() and self.made[i] != self.per:
            c = socket.create_connection((self.addr, self.port), timeout=10)
            c.shutdown(socket.SHUT_WR)
            # The server's close before the next: no more connections in flight
            # than threads, however far the server falls behind (a connection
            # waiting in the backlog for accept() would hold its slot).
            c.recv(1)
            c.close()
            self.made[i] += 1

    def stop(self):
        self.stopping.set()
        return self.finish()

    def finish(self):
        for w in self.workers:
            w.join()
        self.clients_done.set()
        self.server.join()
        self.lst.close()
        return {"made": sum(self.made)}


churning = []


def handle(cmd, args):
    if cmd == "listen":
        return {"id": keep(listen(*args))}
    if cmd == "accept":
        socks[int(args[0])].settimeout(10)
        c, peer = socks[int(args[0])].accept()
        c.settimeout(None)
        return {"id": keep(c), "peer": list(peer[:2]), "opts": opts(c)}
    if cmd == "connect":
        src = (args[2], int(args[3]) if len(args) > 3 else 0) if len(args) > 2 else None
        c = socket.create_connection((args[0], int(args[1])), timeout=10, source_address=src)
        c.settimeout(None)
        return {"id": keep(c), "local": list(c.getsockname()[:2]), "opts": opts(c)}
    if cmd == "opts":
        return {"opts": opts(socks[int(args[0])])}
    if cmd == "send":
        socks[int(args[0])].send(b"x" * int(args[1]))
        return {}
    if cmd == "rst":
        s = socks.pop(int(args[0]))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
        s.close()
        return {}
    if cmd == "close":
        socks.pop(int(args[0])).close()
        return {}
    if cmd == "serve":
        threading.Thread(target=serve, args=(socks[int(args[0])],), daemon=True).start()
        return {}
    if cmd == "hold":
        threading.Thread(target=hold, args=(socks[int(args[0])],), daemon=True).start()
        return {}
    if cmd == "held":
        return {"n": len(holding)}
    if cmd == "churn":
        return Churn(args[0], args[1], args[3], per=int(args[2]) // int(args[3])).finish()
    if cmd == "churn-start":
        churning.append(Churn(*args))
        return {}
    if cmd == "churn-stop":
        return churning.pop().stop()
    if cmd == "resets":
        for _ in range(int(args[2])):
            c = socket.create_connection((args[0], int(args[1])), timeout=10)
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_0)
            c.close()
        return {"made": int(args[2])}
    raise ValueError("unknown command " + cmd)


def main():
    for line in sys.stdin:
        words = line.split()
        try:
            answer = handle(words[0], words[1:])
        except Exception as e:  # the test reads the failure
            answer = {"error": "%s: %s" % (type(e).__name__, e)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
