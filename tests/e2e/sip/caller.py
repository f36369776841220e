#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A caller: caller.py [--on-go] PBX_ADDR:PORT METHOD USER [WAIT_S] sends one INVITE or
OPTIONS to sip:USER@PBX_ADDR over UDP to PORT (from the PBX's own namespace), waits
up to WAIT_S (10) seconds for a final response, ACKs a negative one, and
prints {"responses": [[code, ms], ...], "final": code or null, "sent_at": s},
ms counted from the send, at s on CLOCK_MONOTONIC (Python's time.monotonic(),
the same clock in every process). Retransmits as a UDP client does (T1 = 500 ms).
--on-go: prints "ready" once the request is made, and sends it when a line
comes on stdin: a caller started ahead, so that no process start is timed."""
import json
import socket
import sys
import time
import uuid


def main(pbx_port, method, user, wait=10.0, on_go=False):
    pbx, pbx_port = pbx_port.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((pbx, 0))
    port = s.getsockname()[1]
    branch, tag, callid = "z9hG4bK" + uuid.uuid4().hex, uuid.uuid4().hex[:8], uuid.uuid4().hex
    uri = "sip:%s@%s" % (user, pbx)
    head = ["Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (pbx, port, branch),
            "From: <sip:caller@%s>;tag=%s" % (pbx, tag),
            "Call-ID: %s" % callid,
            "Max-Forwards: 70"]
    body = ""
    if method == "INVITE":
        body = ("v=0\r\no=caller 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n" % (pbx, pbx))
        head.append("Contact: <sip:caller@%s:%d>" % (pbx, port))
        head.append("Content-Type: application/sdp")
    request = "\r\n".join(["%s %s SIP/2.0" % (method, uri)] + head + [
        "To: <%s>" % uri, "CSeq: 1 %s" % method, "Content-Length: %d" % len(body), "", body])
    dest = (pbx, int(pbx_port))
    if on_go:
        print("ready", flush=True)
        sys.stdin.readline()
    start = time.monotonic()
    s.sendto(request.encode(), dest)
    responses, final, to, provisional = [], None, None, False
    interval, resend_at, end = 0.5, start + 0.5, start + wait
    while final is None and time.monotonic() < end:
        now = time.monotonic()
        # Retransmit until a provisional response, as RFC 3261 timers A/E do.
        if not provisional and now >= resend_at:
            s.sendto(request.encode(), dest)
            interval = min(interval * 2, 4)
            resend_at = now + interval
        s.settimeout(max(0.01, min(end, resend_at if not provisional else end) - now))
        try:
            data = s.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        if not data.startswith("SIP/2.0 "):
            continue
        code = int(data.split()[1])
        responses.append([code, round((time.monotonic() - start) * 1000, 1)])
        provisional = True
        if code >= 200:
            final = code
            for line in data.split("\r\n"):
                if line.lower().startswith("to:"):
                    to = line[3:].strip()
    if method == "INVITE" and final is not None and final >= 300:
        ack = "\r\n".join(["ACK %s SIP/2.0" % uri] + head[:4] + [
            "To: %s" % to, "CSeq: 1 ACK", "Content-Length: 0", "", ""])
        s.sendto(ack.encode(), dest)
    print(json.dumps({"responses": responses, "final": final, "sent_at": start}), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    go = args[:1] == ["--on-go"]
    args = args[go:]
    main(args[0], args[1], args[2], *map(float, args[3:4]), on_go=go)
