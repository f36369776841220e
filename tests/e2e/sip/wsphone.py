#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""WebSocket SIP phones (RFC 7118), as a browser's WebRTC phone talks to its
PBX: wsphone.py URL USER COUNT registers USER1..USERCOUNT, each over its own
WebSocket connection to URL (ws:// or wss://; the PBX's certificate is not
checked), prints one JSON line per registered phone ({"user", "local": [addr,
port]}), then stays connected and silent until killed, answering OPTIONS with
200 and INVITE with 486. No WebSocket pings of its own: an idle phone.

Needs python3-websockets (Debian's, on /usr/bin/python3)."""
import asyncio
import json
import ssl
import sys
import uuid

import websockets


def header(msg, name):
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def reply(msg, code, reason):
    """A response to the request MSG: its Via, From, Call-ID and CSeq, a To tag."""
    lines = ["SIP/2.0 %d %s" % (code, reason)]
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        key = line.partition(":")[0].strip().lower()
        if key in ("via", "from", "call-id", "cseq"):
            lines.append(line)
        elif key == "to":
            lines.append(line if ";tag=" in line else line + ";tag=" + uuid.uuid4().hex[:8])
    return "\r\n".join(lines + ["Content-Length: 0", "", ""])


async def phone(url, user, pbx, transport, ctx):
    ws = await websockets.connect(url, subprotocols=["sip"], ssl=ctx, ping_interval=None,
                                  open_timeout=10)
    host = uuid.uuid4().hex[:12] + ".invalid"
    await ws.send("\r\n".join([
        "REGISTER sip:%s SIP/2.0" % pbx,
        "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport" % (transport, host, uuid.uuid4().hex),
        "From: <sip:%s@%s>;tag=%s" % (user, pbx, uuid.uuid4().hex[:8]),
        "To: <sip:%s@%s>" % (user, pbx),
        "Call-ID: %s" % uuid.uuid4().hex,
        "CSeq: 1 REGISTER",
        "Contact: <sip:%s@%s;transport=ws>;expires=3600" % (user, host),
        "Expires: 3600",
        "Max-Forwards: 70",
        "Content-Length: 0", "", ""]))
    while True:
        msg = await asyncio.wait_for(ws.recv(), 10)
        if msg.startswith("SIP/2.0 ") and "REGISTER" in (header(msg, "CSeq") or ""):
            code = int(msg.split()[1])
            if code >= 200:
                break
    if code != 200:
        raise SystemExit("%s: REGISTER got %d" % (user, code))
    print(json.dumps({"user": user, "local": list(ws.local_address[:2])}), flush=True)
    async for msg in ws:
        if msg.startswith("OPTIONS "):
            await ws.send(reply(msg, 200, "OK"))
        elif msg.startswith("INVITE "):
            await ws.send(reply(msg, 486, "Busy Here"))


async def main(url, user, count):
    secure = url.startswith("wss:")
    ctx = None
    if secure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    pbx = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[0]
    await asyncio.gather(*(phone(url, "%s%d" % (user, i), pbx, "WSS" if secure else "WS", ctx)
                           for i in range(1, count + 1)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
