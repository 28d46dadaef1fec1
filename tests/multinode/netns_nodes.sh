#!/bin/bash
# Two "nodes" on this machine for multi-node tests: two network namespaces joined by a veth pair,
# each with its own host name (UTS namespace) and its own node-local directory DIR/local (a mount
# namespace binds DIR/local-NODE there, as /tmp is local on a real node; Slurm's PMIx plugin needs
# that). Everything else of the file system is shared, as a cluster's home is. A holder process per
# node (sleep) keeps its UTS and mount namespaces; entering a node is nsenter -t HOLDER, which works
# from inside another node too (/proc is shared, bind-mounted namespace files would not be).
#
#   tests/multinode/netns_nodes.sh start DIR [SUBNET]   make node1 (SUBNET.1) and node2 (SUBNET.2)
#                                                       (SUBNET default 10.213.0; a private /24)
#   tests/multinode/netns_nodes.sh exec  DIR NODE CMD... run CMD on NODE (node1, node2 or its address)
#   tests/multinode/netns_nodes.sh agent DIR NODE CMD... the same, CMD as one shell string: Open MPI's
#                                                       launch agent instead of ssh, e.g.
#       mpirun --mca plm_rsh_agent "tests/multinode/netns_nodes.sh agent DIR" --host SUBNET.1:2,SUBNET.2:2
#   tests/multinode/netns_nodes.sh pids  DIR NODE       process ids running on NODE
#   tests/multinode/netns_nodes.sh stop  DIR            kill what runs on the nodes, remove them
#
# DIR/nodes lists the nodes: "NAME ADDRESS NETNS HOLDER-PID". The namespaces are named after DIR's
# random suffix, so tests running at the same time never share one; the addresses exist only inside
# them (the veth pair has no end in the machine's own namespace), so nothing outside is touched.
# Exit status of start: 0 up; 77 namespaces cannot be made here (not root, no ip/nsenter/unshare,
# or the kernel/container refuses).
set -eu

usage() { echo "usage: $0 start DIR [SUBNET] | exec|agent DIR NODE CMD... | pids DIR NODE | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
say() { echo "netns_nodes: $*"; }
cannot() { say "cannot make namespaces here: $*" >&2; stop_nodes >/dev/null 2>&1 || true; exit 77; }

# A name for this DIR's namespaces: "ppo" + 8 hex digits of its path's hash.
tag() { echo "ppo$(realpath -m "$dir" | md5sum | cut -c1-8)"; }

# NODE (name or address) -> "NAME ADDRESS NETNS UTSFILE"
lookup() {
    [ -s "$dir/nodes" ] || { echo "netns_nodes: no nodes in $dir (start them first)" >&2; exit 2; }
    local line
    line=$(awk -v n="$1" '$1 == n || $2 == n' "$dir/nodes")
    [ -n "$line" ] || { echo "netns_nodes: no node '$1' in $dir/nodes" >&2; exit 2; }
    echo "$line"
}

start_nodes() {
    local subnet=${1:-10.213.0}
    [ "$(id -u)" = 0 ] || cannot "needs root (ip netns, unshare)"
    for t in ip nsenter unshare; do command -v "$t" >/dev/null || cannot "no '$t' (iproute2, util-linux)"; done
    mkdir -p "$dir"
    [ ! -e "$dir/nodes" ] || { say "nodes already started in $dir" >&2; exit 1; }
    local t i ns holder n
    t=$(tag)
    : >"$dir/nodes.partial"   # what exists so far, for stop after a failed start
    mkdir -p "$dir/local"
    for i in 1 2; do
        ns=$t-n$i
        ip netns add "$ns" 2>"$dir/err" || cannot "ip netns add: $(cat "$dir/err")"
        mkdir -p "$dir/local-node$i"
        # The holder (nsenter, not ip netns exec: that remounts /sys without cgroups, which slurmd
        # needs): in the node's network namespace, with new UTS and mount namespaces set up
        # (host name, node-local directory), then asleep until stop kills it. Detached (setsid, no
        # open pipes), so no caller waits for it.
        setsid nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation private sh -c \
            "hostname node$i && mount --bind '$dir/local-node$i' '$dir/local' && touch '$dir/ready-node$i' && exec sleep infinity" \
            </dev/null >/dev/null 2>"$dir/err-node$i" &
        holder=$!
        echo "node$i $subnet.$i $ns $holder" >>"$dir/nodes.partial"
        n=0   # bounded: 50 polls of 0.1 s for the holder to be set up
        until [ -e "$dir/ready-node$i" ]; do
            n=$((n + 1))
            { [ $n -lt 50 ] && kill -0 "$holder" 2>/dev/null; } || cannot "unshare --uts --mount: $(cat "$dir/err-node$i")"
            sleep 0.1
        done
        rm -f "$dir/ready-node$i" "$dir/err-node$i"
        ip -n "$ns" link set lo up
    done
    # One veth pair with an end in each namespace; neither end is ever in the machine's namespace.
    ip link add "${t}a" netns "$t-n1" type veth peer name "${t}b" netns "$t-n2" 2>"$dir/err" ||
        cannot "ip link add veth: $(cat "$dir/err")"
    ip -n "$t-n1" addr add "$subnet.1/24" dev "${t}a"
    ip -n "$t-n2" addr add "$subnet.2/24" dev "${t}b"
    ip -n "$t-n1" link set "${t}a" up
    ip -n "$t-n2" link set "${t}b" up
    mv "$dir/nodes.partial" "$dir/nodes"
    rm -f "$dir/err"
    # Bounded: 40 polls of 0.1 s until both ends report the link up (there may be no ping here).
    i=0
    until ip -n "$t-n1" -br link show "${t}a" | grep -qw UP && ip -n "$t-n2" -br link show "${t}b" | grep -qw UP; do
        i=$((i + 1))
        [ $i -lt 40 ] || cannot "the veth pair between node1 and node2 does not come up"
        sleep 0.1
    done
    say "up: node1 $subnet.1 (netns $t-n1), node2 $subnet.2 (netns $t-n2)"
}

enter() {   # NODE CMD...: run CMD in NODE's network, UTS and mount namespaces, in the same directory
    local holder
    read -r _ _ _ holder <<<"$(lookup "$1")"
    shift
    exec nsenter -t "$holder" --net --uts --mount --wd="$PWD" -- "$@"
}

node_pids() { local ns; read -r _ _ ns _ <<<"$(lookup "$1")"; ip netns pids "$ns" 2>/dev/null || true; }

stop_nodes() {
    local f=$dir/nodes
    [ -e "$f" ] || f=$dir/nodes.partial
    [ -e "$f" ] || return 0
    local name ns holder pids others i
    while read -r name _ ns holder; do
        # Everything in these namespaces was started in them by us (tests, daemons, ranks).
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            others=$(echo $pids | tr ' ' '\n' | grep -vx "$holder" | xargs || true)
            [ -z "$others" ] || say "killing what still runs on $name: $others"
            # shellcheck disable=SC2086
            kill $pids 2>/dev/null || true
            i=0   # bounded: 20 polls of 0.1 s, then SIGKILL
            while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
    done <"$f"
    rm -f "$dir/nodes" "$dir/nodes.partial"
    say "stopped"
}

case $cmd in
    start) start_nodes "$@" ;;
    exec) [ $# -ge 2 ] || usage; enter "$@" ;;
    # Open MPI calls the agent as "AGENT HOST COMMAND..." where COMMAND is shell code (as for ssh).
    agent) [ $# -ge 2 ] || usage; node=$1; shift; enter "$node" /bin/sh -c "$*" ;;
    pids) [ $# -eq 1 ] || usage; node_pids "$1" ;;
    stop) stop_nodes ;;
    *) usage ;;
esac
