#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A demo for a person (make demo; root): phones register to Kamailio over TCP
# (SIPp), TLS (baresip), WebSocket and secure WebSocket (tests/e2e/sip/wsphone.py),
# sipka arms their connections, then the phones vanish behind a black hole:
# sipka finds each dead one, Kamailio drops their contacts, and a call to one
# fails at once instead of ringing into nothing. Then Kamailio on its
# defaults (handle_lost_tcp=0): the registrar keeps the phantom of a dead
# phone, and examples/actions/kamailio, run by 'sipka events --exec', removes
# it.
#
#   tests/demo.sh             with sipka
#   tests/demo.sh --control   the same without sipka: the dead phones stay
#                             registered and the call waits 30 s for a 408
#                             (make demo CONTROL=1)
#
# Kamailio runs with tests/e2e/sip/kamailio.cfg, handle_lost_tcp on (-A
# LOST_TCP) and its default fr_timer of 30 s. Everything the demo makes is
# removed at the end, on Ctrl-C too.
set -eu
cd "$(dirname "$0")/.."
PHONES=${PHONES:-3} TIME=${TIME:-2} INTVL=${INTVL:-1} PROBES=${PROBES:-3}
control=${CONTROL:+1}
case "${1:-}" in
--control) control=1 ;;
"") ;;
*) echo "usage: $0 [--control]" >&2; exit 2 ;;
esac
for tool in kamailio kamcmd sipp baresip openssl nft; do
	command -v "$tool" >/dev/null || { echo "demo: needs $tool: run 'make test-deps'" >&2; exit 1; }
done
/usr/bin/python3 -c 'import websockets' 2>/dev/null ||
	{ echo "demo: needs python3-websockets: run 'make test-deps'" >&2; exit 1; }

cg2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
dir=$(mktemp -d /tmp/sipka-demo-XXXXXX)
# The action must sit where only root can write, up to /: not under /tmp.
actions=$(mktemp -d /run/sipka-demo-actions-XXXXXX)
mnt=$(mktemp -d /tmp/sipka-demo-bpffs-XXXXXX)
cg=$cg2/sipka-demo-$$ pbx=sipka-demo-pbx-$$ phone=sipka-demo-phone-$$
sipka() { ./sipka --pin-dir "$mnt/sipka" "$@"; }
kam() { kamcmd -s "unix:$dir/kamailio_ctl" "$@"; }
cleanup() {
	trap - EXIT INT TERM
	disown -a	# their ends are expected: no "Terminated" notices
	[ -z "${follow:-}" ] || kill "$follow" 2>/dev/null || true
	[ -n "$control" ] || sipka detach >/dev/null 2>&1 || true
	# Kamailio is in the cgroup, the phones in their namespace, the caller in the PBX's.
	for pid in $(cat "$cg/cgroup.procs" 2>/dev/null) $(ip netns pids "$phone" 2>/dev/null) \
		$(ip netns pids "$pbx" 2>/dev/null); do
		kill "$pid" 2>/dev/null || true
	done
	sleep 0.5
	for pid in $(cat "$cg/cgroup.procs" 2>/dev/null) $(ip netns pids "$phone" 2>/dev/null) \
		$(ip netns pids "$pbx" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null || true
	done
	rmdir "$cg" 2>/dev/null || true
	ip netns del "$pbx" 2>/dev/null || true
	ip netns del "$phone" 2>/dev/null || true
	umount -l "$mnt" 2>/dev/null || true
	rmdir "$mnt" 2>/dev/null || true
	rm -rf "$dir" "$actions"
	echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
in_phone() { nsenter --net=/run/netns/"$phone" "$@"; }
registered() { kam ul.dump | grep -o 'AoR: .*' | sed 's/^AoR: /  /' | sort | tr '\n' ' '; echo; }
call() {	# INVITE $1 from a caller on the PBX, as a phone would dial it
	printf 'INVITE sip:%s  ' "$1"
	nsenter --net=/run/netns/"$pbx" /usr/bin/python3 tests/e2e/sip/caller.py 127.0.0.1 INVITE "$1" 40 |
		/usr/bin/python3 -c 'import json, sys
a = json.load(sys.stdin)
print("  ".join("%d after %g ms" % (c, ms) for c, ms in a["responses"]) or "no answer")'
}

mount -t bpf bpf "$mnt"
mkdir "$cg"
ip netns add "$pbx"
ip netns add "$phone"
ip -n "$pbx" link add pbx0 type veth peer name phone0 netns "$phone"
ip -n "$pbx" addr add 198.18.0.1/24 dev pbx0
ip -n "$phone" addr add 198.18.0.2/24 dev phone0
ip -n "$pbx" link set lo up; ip -n "$pbx" link set pbx0 up
ip -n "$phone" link set lo up; ip -n "$phone" link set phone0 up
for f in kamailio.cfg tls.cfg; do
	# fr_timer back to Kamailio's default (the tests shorten it to 2 s)
	sed -e "s|@DIR@|$dir|g" -e 's|@PBX@|198.18.0.1|g' -e 's|@TRUNK@|198.18.0.2|g' \
		-e 's|"fr_timer", 2000|"fr_timer", 30000|' "tests/e2e/sip/$f" >"$dir/$f"
done
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pbx -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null

say "Kamailio, the PBX, in cgroup $cg and network namespace $pbx (198.18.0.1)"
echo "TCP 5060, TLS 5061, WS 8080, WSS 8443; contacts of closed connections are dropped (handle_lost_tcp)"
start_kamailio() {	# in the cgroup and the PBX's namespace; "$@": -A LOST_TCP, or nothing
	sh -c 'echo $$ > "$1/cgroup.procs"; d=$2; shift 2; exec nsenter --net=/run/netns/"$0" kamailio -f "$d/kamailio.cfg" -DD -E -Y "$d" "$@"' \
		"$pbx" "$cg" "$dir" "$@" >>"$dir/kamailio.log" 2>&1 &
	until kam core.version >/dev/null 2>&1; do sleep 0.2; done
}
start_kamailio -A LOST_TCP

if [ -n "$control" ]; then
	say "CONTROL RUN: no sipka; Kamailio's tcp_keepalive=yes with the kernel's timings (7200 s idle)"
else
	say "sipka attach: keepalive $TIME s idle, $INTVL s interval, $PROBES probes: dead after $((TIME + INTVL * PROBES)) s"
	sipka attach --cgroup "$cg"
	for rule in "5060 tcp" "5061 tls" "8080 ws" "8443 wss"; do
		read -r port name <<<"$rule"
		sipka config set "$port" --name "$name" --time "$TIME" --intvl "$INTVL" --probes "$PROBES" >/dev/null
	done
	sipka config show
fi

say "Phones register from namespace $phone (198.18.0.2): $PHONES over TCP (SIPp), baresip over TLS, two browser-like phones over WS and WSS"
in_phone sipp 198.18.0.1:5060 -sf tests/e2e/sip/register.xml -t tn -i 198.18.0.2 -s phone \
	-m "$PHONES" -r 50 -max_socket 1000 -nostdin >/dev/null 2>&1 &
mkdir "$dir/baresip"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=phone -keyout "$dir/baresip/cert.pem" \
	-out "$dir/baresip/crt.pem" 2>/dev/null
cat "$dir/baresip/crt.pem" >>"$dir/baresip/cert.pem"
cat >"$dir/baresip/config" <<EOF
sip_listen 198.18.0.2:5070
sip_certificate $dir/baresip/cert.pem
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
audio_player aufile,/dev/null
audio_source aufile,/dev/null
audio_alert aufile,/dev/null
module_app account.so
EOF
echo '<sip:tlsphone@198.18.0.1;transport=tls>;regint=3600' >"$dir/baresip/accounts"
in_phone baresip -f "$dir/baresip" </dev/null >"$dir/baresip.log" 2>&1 &
in_phone /usr/bin/python3 tests/e2e/sip/wsphone.py ws://198.18.0.1:8080/ wsphone 1 >/dev/null &
in_phone /usr/bin/python3 tests/e2e/sip/wsphone.py wss://198.18.0.1:8443/ wssphone 1 >/dev/null &
sleep 3
echo "Registered:"; registered
say "A call to wsphone1 while it is there: the phone itself answers (busy)"
call wsphone1
sleep 1		# the phones' last ACKs come in: idle phones, nothing in flight
[ -n "$control" ] || sipka stats
echo "The PBX side, as the kernel sees it (note each keepalive timer):"
ip netns exec "$pbx" ss -tnoH state established | sed 's/^/  /'

say "The NAT forgets them all: every packet to and from $phone is dropped"
black_hole() {
	printf 'table inet sipka_demo {\n chain in { type filter hook input priority 0; policy drop; }\n chain out { type filter hook output priority 0; policy drop; }\n}\n' |
		in_phone nft -f -
}
black_hole
if [ -n "$control" ]; then
	for i in $(seq $((TIME + INTVL * PROBES + 2))); do
		sleep 1
		printf -- '-- %s s after the black hole: still registered:' "$i"; registered
	done
	echo "The PBX side now: the dead phones are still ESTABLISHED, their keepalive about 2 hours away"
	ip netns exec "$pbx" ss -tnoH state established | sed 's/^/  /'
else
	./sipka --pin-dir "$mnt/sipka" events --follow &
	follow=$!
	for i in $(seq $((TIME + INTVL * PROBES + 2))); do
		sleep 1
		printf '\n-- %s s after the black hole\n' "$i"
		sipka stats
		printf 'registered:'; registered
	done
	kill "$follow" 2>/dev/null; wait "$follow" 2>/dev/null || true
	follow=
fi

if [ -n "$control" ]; then
	say "A call to wsphone1 now: Kamailio relays it into the dead connection and waits (fr_timer, 30 s)"
else
	say "A call to wsphone1 now: its contact is gone, the call fails at once"
fi
call wsphone1
[ -n "$control" ] && echo "(run without --control to see sipka find them and the call fail at once)" ||
	echo "(run with --control to see the same without sipka)"
[ -z "$control" ] || exit 0

say "Second story: Kamailio on its defaults (usrloc handle_lost_tcp=0): the registrar keeps the phantom"
for pid in $(cat "$cg/cgroup.procs"); do kill "$pid" 2>/dev/null || true; done
for _ in $(seq 50); do [ -z "$(cat "$cg/cgroup.procs")" ] && break; sleep 0.2; done
in_phone nft delete table inet sipka_demo
start_kamailio
ws_phone() {	# a WebSocket phone $1 registers; waits until it is
	in_phone /usr/bin/python3 tests/e2e/sip/wsphone.py ws://198.18.0.1:8080/ "$1" 1 >/dev/null &
	for _ in $(seq 50); do registered | grep -q " ${1}1 " && break; sleep 0.2; done
	printf 'registered:'; registered
}
vanish() {	# the phone vanishes while 'sipka events --follow "$@"' reads, for the bound and 2 s
	black_hole
	./sipka --pin-dir "$mnt/sipka" events --follow "$@" &
	follow=$!
	sleep $((TIME + INTVL * PROBES + 2))
	kill "$follow" 2>/dev/null; wait "$follow" 2>/dev/null || true
	follow=
	in_phone nft delete table inet sipka_demo
}
ws_phone phantom
echo "The phone vanishes; sipka finds it dead and Kamailio closes the connection:"
vanish
printf 'registered (the phantom stays until it expires):'; registered
say "A call to phantom1: relayed to a contact whose connection is gone"
call phantom1

say "The same with 'sipka events --follow --exec examples/actions/kamailio'"
install -m 0755 examples/actions/kamailio "$actions/kamailio"
echo "ctl = unix:$dir/kamailio_ctl" >"$actions/kamailio.conf"
ws_phone gone
vanish --exec "$actions/kamailio"
printf 'registered (the action removed gone1; phantom1 stays):'; registered
say "A call to gone1: no such contact"
call gone1
