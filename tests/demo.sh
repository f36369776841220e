#!/usr/bin/env bash
# A demo for a person (make demo; root): Kamailio registers phones over TCP and
# TLS, sipka arms their connections, then the phones vanish behind a black
# hole and sipka finds each dead one: stats and events as they die.
# Everything it makes is removed at the end, on Ctrl-C too.
set -eu
cd "$(dirname "$0")/.."
PHONES=${PHONES:-5} TIME=${TIME:-2} INTVL=${INTVL:-1} PROBES=${PROBES:-3}
for tool in kamailio kamcmd sipp openssl nft; do
	command -v "$tool" >/dev/null || { echo "demo: needs $tool: run 'make test-deps'" >&2; exit 1; }
done

cg2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
dir=$(mktemp -d /tmp/sipka-demo-XXXXXX)
mnt=$(mktemp -d /tmp/sipka-demo-bpffs-XXXXXX)
cg=$cg2/sipka-demo-$$ pbx=sipka-demo-pbx-$$ phone=sipka-demo-phone-$$
sipka() { ./sipka --pin-dir "$mnt/sipka" "$@"; }
cleanup() {
	trap - EXIT INT TERM
	kill ${follow:-} ${feeder:-} 2>/dev/null || true
	sipka detach >/dev/null 2>&1 || true
	for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
	pkill -f "sipka-demo-$$" 2>/dev/null || true
	sleep 0.5
	for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	ip netns pids "$phone" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
	rmdir "$cg" 2>/dev/null || true
	ip netns del "$pbx" 2>/dev/null || true
	ip netns del "$phone" 2>/dev/null || true
	umount -l "$mnt" 2>/dev/null || true
	rmdir "$mnt" 2>/dev/null || true
	rm -rf "$dir"
	echo "demo: cleaned up"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

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
	sed -e "s|@DIR@|$dir|g" -e 's|@PBX@|198.18.0.1|g' -e 's|@TRUNK@|198.18.0.2|g' "tests/e2e/sip/$f" >"$dir/$f"
done
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=pbx -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null

say "Kamailio, the PBX, in cgroup $cg and network namespace $pbx (198.18.0.1)"
sh -c 'echo $$ > "$1/cgroup.procs"; exec nsenter --net=/run/netns/"$2" kamailio -f "$3/kamailio.cfg" -DD -E -Y "$3"' \
	sh "$cg" "$pbx" "$dir" >"$dir/kamailio.log" 2>&1 &
until kamcmd -s "unix:$dir/kamailio_ctl" core.version >/dev/null 2>&1; do sleep 0.2; done

say "sipka attach: keepalive $TIME s idle, $INTVL s interval, $PROBES probes: dead after $((TIME + INTVL * PROBES)) s"
sipka attach --cgroup "$cg"
for p in "5060 tcp" "5061 tls"; do
	set -- $p
	sipka config set "$1" --name "$2" --time "$TIME" --intvl "$INTVL" --probes "$PROBES" >/dev/null
done
sipka config show

say "$PHONES phones register over TCP (SIPp), one over TLS, from namespace $phone (198.18.0.2)"
nsenter --net=/run/netns/"$phone" sipp 198.18.0.1:5060 -sf tests/e2e/sip/register.xml -t tn -i 198.18.0.2 \
	-m "$PHONES" -r 50 -max_socket 1000 -nostdin -trace_err -error_file "$dir/sipp.err" >/dev/null 2>&1 &
disown
printf 'REGISTER sip:198.18.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 198.18.0.2:5061;branch=z9hG4bK-demo\r\nFrom: <sip:tlsphone@198.18.0.1>;tag=demo\r\nTo: <sip:tlsphone@198.18.0.1>\r\nCall-ID: sipka-demo-%s\r\nCSeq: 1 REGISTER\r\nContact: <sip:tlsphone@198.18.0.2;transport=tls>\r\nExpires: 3600\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' $$ >"$dir/register"
mkfifo "$dir/tls-in"
nsenter --net=/run/netns/"$phone" openssl s_client -connect 198.18.0.1:5061 -quiet -nocommands \
	<"$dir/tls-in" >/dev/null 2>&1 &
disown
(cat "$dir/register"; exec sleep 3600) >"$dir/tls-in" &	# the TLS phone stays connected
feeder=$!
disown
sleep 2
kamcmd -s "unix:$dir/kamailio_ctl" ul.dump | grep -o 'AoR: .*' | sed 's/^/  registered /'
sipka stats
echo "The PBX side, as the kernel sees it:"
ip netns exec "$pbx" ss -tnoH state established | sed 's/^/  /'

say "The NAT forgets them all: every packet to and from $phone is dropped"
printf 'table inet sipka_demo {\n chain in { type filter hook input priority 0; policy drop; }\n chain out { type filter hook output priority 0; policy drop; }\n}\n' |
	nsenter --net=/run/netns/"$phone" nft -f -
./sipka --pin-dir "$mnt/sipka" events --follow &
follow=$!
for i in $(seq $((TIME + INTVL * PROBES + 3))); do
	sleep 1
	printf '\n-- %s s after the black hole\n' "$i"
	sipka stats
done
kill "$follow" 2>/dev/null; wait "$follow" 2>/dev/null || true
follow=

say "Kamailio's own connection list now:"
list=$(kamcmd -s "unix:$dir/kamailio_ctl" core.tcp_list | grep -E 'src_(ip|port)' | paste - - || true)
echo "${list:-  (empty: every dead phone is gone)}"
