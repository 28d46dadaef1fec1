#!/bin/bash
# A private single-node Slurm cluster on this machine, for testing the jobs/ scripts.
#
#   tests/slurm/slurm_cluster.sh start  DIR [NODES]  install Debian's munge + Slurm if missing, write a
#                                             config into DIR, start munged, slurmctld, slurmd, wait for idle
#   tests/slurm/slurm_cluster.sh status DIR   show the daemons and the nodes
#   tests/slurm/slurm_cluster.sh stop   DIR   cancel its jobs, stop exactly the daemons it started (PID files)
#
# Then use it with:  export SLURM_CONF=DIR/slurm.conf   (sbatch, squeue, scontrol read it)
# NODES: a directory of tests/multinode/netns_nodes.sh (two namespaces node1, node2): a 2-node
# cluster, slurmctld and one slurmd on node1, one slurmd on node2, each node at its namespace's
# address. Its clients must then run on a node too:
#   tests/multinode/netns_nodes.sh exec NODES node1 sbatch ...
# Everything (config, munge key and socket, state, spool, logs, PID files) lives in DIR, the ports are
# free ones above 16800, so a system-wide Slurm or munge on the machine is never touched.
# Exit status of start: 0 up; 77 cannot run here (not root, install failed, daemons did not come up).
set -eu

usage() { echo "usage: $0 start DIR [NODES] | stop|status DIR" >&2; exit 2; }
[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = start ]; } || usage
cmd=$1
dir=$2
here=$(cd "$(dirname "$0")" && pwd)
netns=$here/../multinode/netns_nodes.sh
# The node namespaces' directory: given to start, remembered in DIR for stop and status.
nodes=${3:-}
if [ -z "$nodes" ] && [ -s "$dir/nodes_dir" ]; then nodes=$(cat "$dir/nodes_dir"); fi
# Runs a command on node NAME: in its namespaces for a multi-node cluster, else right here.
on_node() { local node=$1; shift; if [ -n "$nodes" ]; then "$netns" exec "$nodes" "$node" "$@"; else "$@"; fi; }
ctl_node() { if [ -n "$nodes" ]; then echo node1; else hostname -s; fi; }
# "NAME ADDRESS" of every node
node_list() { if [ -n "$nodes" ]; then awk '{print $1, $2}' "$nodes/nodes"; else echo "$(hostname -s) 127.0.0.1"; fi; }
say() { echo "slurm_cluster: $*"; }
# Skip status for the test suite: this machine cannot host the cluster, which is not a test failure.
cannot() { say "cannot run here: $*" >&2; exit 77; }

pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_packages() {
    missing=""
    for p in munge slurmctld slurmd slurm-client; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    [ "$(id -u)" = 0 ] || cannot "Slurm packages missing:$missing, and installing them needs root"
    say "installing Debian packages:$missing (apt-get update; apt-get install)"
    # Debian's postinst scripts may try to start the system services; in containers policy-rc.d
    # usually denies that, and we never use those services anyway (our own config, ports, socket).
    apt-get update -q >"$dir/apt.log" 2>&1 || { tail -5 "$dir/apt.log" >&2; cannot "apt-get update failed"; }
    # shellcheck disable=SC2086  # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
        >>"$dir/apt.log" 2>&1 || { tail -5 "$dir/apt.log" >&2; cannot "apt-get install failed"; }
    say "installed:$missing"
}

# First port P >= $1 such that P and P+1 have no listener on localhost.
free_port_pair() {
    p=$1
    while [ "$p" -lt $(($1 + 200)) ]; do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
           ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
            echo "$p"; return 0
        fi
        p=$((p + 2))
    done
    return 1
}

write_config() {
    ctl=$(ctl_node)
    ctl_addr=$(node_list | awk -v n="$ctl" '$1 == n {print $2}')
    names=$(node_list | awk '{print $1}' | paste -sd,)
    cpus=$(nproc)
    # Node-local scratch (Slurm's PMIx plugin makes per-step directories there, named alike on all
    # nodes): the namespace nodes' DIR/local; one node has /tmp to itself anyway.
    tmpfs=/tmp
    if [ -n "$nodes" ]; then tmpfs=$(realpath "$nodes")/local; fi
    port=$(free_port_pair 16817) || cannot "no free port pair in 16817-17017"
    mkdir -p "$dir/state" "$dir/spool" "$dir/log" "$dir/run" "$dir/munge"
    chmod 700 "$dir/munge"
    : >"$dir/plugstack.conf"   # an empty one, so /etc/slurm/plugstack.conf.d is not read
    # Minimal and permissive: root runs everything, no cgroups (containers rarely allow them),
    # no accounting daemon; KillWait short so cancelled test jobs go away quickly.
    cat >"$dir/slurm.conf" <<EOF
# Written by tests/slurm/slurm_cluster.sh: a private test cluster.
ClusterName=ppotest
SlurmctldHost=$ctl($ctl_addr)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire: a requeued job waits this long before it may start again (default 120 s)
AuthInfo=socket=$dir/munge/munge.socket,cred_expire=5
StateSaveLocation=$dir/state
# %n: the node's name, so the slurmds of a multi-node cluster on one file system keep apart
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
PlugStackConfig=$dir/plugstack.conf
TmpFS=$tmpfs
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=pmix
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Look at pending jobs every second, so a requeued job starts as soon as it may.
SchedulerParameters=bf_interval=1,sched_interval=1
MailProg=/bin/true
ReturnToService=2
JobRequeue=1
KillWait=5
MinJobAge=600
InactiveLimit=0
SlurmctldTimeout=30
SlurmdTimeout=30
$(node_list | while read -r n a; do echo "NodeName=$n NodeAddr=$a CPUs=$cpus State=UNKNOWN"; done)
PartitionName=debug Nodes=$names Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
    say "config: $dir/slurm.conf (nodes $names, $cpus CPUs each, ports $port/$((port + 1)))"
}

start() {
    [ "$(id -u)" = 0 ] || cannot "needs root (Slurm daemons, SlurmUser=root, apt-get)"
    mkdir -p "$dir"
    for f in "$dir"/run/*.pid; do
        pid_alive "$f" && { say "$(basename "$f" .pid) already running (pid $(cat "$f")) in $dir" >&2; exit 1; }
    done
    if [ -n "$nodes" ]; then
        [ -s "$nodes/nodes" ] || { say "no nodes in $nodes (tests/multinode/netns_nodes.sh start it first)" >&2; exit 2; }
        realpath "$nodes" >"$dir/nodes_dir"
    fi
    install_packages
    write_config
    export SLURM_CONF="$dir/slurm.conf"

    # munged: its own key, socket, PID and seed files. --force because DIR may sit below /tmp,
    # whose sticky world-writable mode munged otherwise objects to.
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --force --keyfile="$dir/munge/munge.key" >/dev/null
    else
        dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
    fi
    chmod 400 "$dir/munge/munge.key"
    say "starting munged"
    munged --force --socket="$dir/munge/munge.socket" --key-file="$dir/munge/munge.key" \
        --pid-file="$dir/run/munged.pid" --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" || cannot "munged did not start ($dir/log/munged.log)"

    say "starting slurmctld on $(ctl_node)"
    on_node "$(ctl_node)" slurmctld -c -f "$SLURM_CONF" || { stop; cannot "slurmctld did not start ($dir/log/slurmctld.log)"; }
    want=0
    while read -r n _; do
        say "starting slurmd on $n"
        on_node "$n" slurmd -f "$SLURM_CONF" -N "$n" || { stop; cannot "slurmd did not start ($dir/log/slurmd-$n.log)"; }
        want=$((want + 1))
    done <<<"$(node_list)"

    # Bounded wait: 120 polls of 0.5 s for every node to be idle (it takes ~5 s here).
    i=0
    while [ $i -lt 120 ]; do
        states=$(on_node "$(ctl_node)" sinfo -h -N -o %T 2>/dev/null | sort | uniq -c | xargs) || states=""
        if [ "$states" = "$want idle" ]; then
            say "up: $want node(s) idle after $i polls; export SLURM_CONF=$SLURM_CONF"
            return 0
        fi
        sleep 0.5
        i=$((i + 1))
    done
    say "nodes not idle after $i polls (last states '${states}'); last log lines:" >&2
    tail -n 5 "$dir/log/slurmctld.log" "$dir"/log/slurmd-*.log >&2 || true
    stop
    cannot "daemons did not come up"
}

stop_pidfile() {
    name=$1
    f="$dir/run/$name.pid"
    pid_alive "$f" || { rm -f "$f"; return 0; }
    pid=$(cat "$f")
    say "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    i=0   # bounded: 40 polls of 0.25 s, then SIGKILL
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then say "$name ignored SIGTERM, killing"; kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$f"
}

stop() {
    export SLURM_CONF="$dir/slurm.conf"
    if pid_alive "$dir/run/slurmctld.pid"; then
        # Jobs first, so no slurmstepd or trainer outlives its slurmd.
        on_node "$(ctl_node)" scancel --quiet --user=root 2>/dev/null || true
        i=0
        while [ -n "$(on_node "$(ctl_node)" squeue -h -o %i 2>/dev/null)" ] && [ $i -lt 40 ]; do sleep 0.5; i=$((i + 1)); done
    fi
    for f in "$dir"/run/slurmd-*.pid; do [ -e "$f" ] && stop_pidfile "$(basename "$f" .pid)"; done
    stop_pidfile slurmctld
    stop_pidfile munged
}

status() {
    export SLURM_CONF="$dir/slurm.conf"
    up=0
    daemons="munged slurmctld $(node_list | awk '{printf "slurmd-%s ", $1}')"
    for d in $daemons; do
        if pid_alive "$dir/run/$d.pid"; then echo "$d: running (pid $(cat "$dir/run/$d.pid"))"; up=$((up + 1))
        else echo "$d: stopped"; fi
    done
    [ $up -eq "$(echo $daemons | wc -w)" ] || return 1
    on_node "$(ctl_node)" sinfo -N -o '%N %T %c' && on_node "$(ctl_node)" squeue
}

case $cmd in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) usage ;;
esac
