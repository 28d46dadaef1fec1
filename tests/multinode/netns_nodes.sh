#!/bin/bash
# Two "nodes" on this machine for multi-node tests: two network namespaces joined by a veth pair,
# each with its own host name (a persistent UTS namespace) and its own node-local directory DIR/local
# (a persistent mount namespace binds DIR/local-NODE there, as /tmp is local on a real node; Slurm's
# PMIx plugin needs that). Everything else of the file system is shared, as a cluster's home is.
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
# DIR/nodes lists the nodes: "NAME ADDRESS NETNS NSDIR" (NSDIR/uts, NSDIR/mnt: the namespace files). The namespaces are named after DIR's
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
    local t i ns nsd
    t=$(tag)
    : >"$dir/nodes.partial"   # what exists so far, for stop after a failed start
    # Persistent mount namespaces are bind mounts of /proc/PID/ns/mnt, allowed only below a mount
    # that does not propagate: make DIR/ns one.
    mkdir -p "$dir/ns" "$dir/local"
    mount --bind "$dir/ns" "$dir/ns" 2>"$dir/err" || cannot "mount --bind: $(cat "$dir/err")"
    mount --make-private "$dir/ns"
    for i in 1 2; do
        ns=$t-n$i
        nsd=$dir/ns/node$i
        ip netns add "$ns" 2>"$dir/err" || cannot "ip netns add: $(cat "$dir/err")"
        echo "node$i $subnet.$i $ns $nsd" >>"$dir/nodes.partial"
        mkdir -p "$nsd" "$dir/local-node$i"
        : >"$nsd/uts"
        : >"$nsd/mnt"
        unshare --uts="$nsd/uts" --mount="$nsd/mnt" --propagation private \
            sh -c "hostname node$i && mount --bind '$dir/local-node$i' '$dir/local'" 2>"$dir/err" ||
            cannot "unshare --uts --mount: $(cat "$dir/err")"
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
    local name addr ns nsd
    read -r name addr ns nsd <<<"$(lookup "$1")"
    shift
    exec nsenter --net="/run/netns/$ns" --uts="$nsd/uts" --mount="$nsd/mnt" --wd="$PWD" -- "$@"
}

node_pids() { local name addr ns uts; read -r name addr ns uts <<<"$(lookup "$1")"; ip netns pids "$ns" 2>/dev/null || true; }

stop_nodes() {
    local f=$dir/nodes
    [ -e "$f" ] || f=$dir/nodes.partial
    [ -e "$f" ] || return 0
    local name addr ns nsd pids i
    while read -r name addr ns nsd; do
        # Everything in these namespaces was started in them by us (tests, daemons, ranks).
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [ -n "$pids" ]; then
            say "killing what still runs on $name: $(echo $pids)"
            # shellcheck disable=SC2086
            kill $pids 2>/dev/null || true
            i=0   # bounded: 20 polls of 0.1 s, then SIGKILL
            while [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
            pids=$(ip netns pids "$ns" 2>/dev/null || true)
            # shellcheck disable=SC2086
            [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
        for n in uts mnt; do [ ! -e "$nsd/$n" ] || { umount "$nsd/$n" 2>/dev/null || true; rm -f "$nsd/$n"; }; done
        rmdir "$nsd" 2>/dev/null || true
    done <"$f"
    if mountpoint -q "$dir/ns"; then umount "$dir/ns" || true; fi
    rmdir "$dir/ns" 2>/dev/null || true
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
