#!/usr/bin/env bash
# cbct bench --slurm on a real one-node SLURM cluster on localhost: this
# script starts munged, slurmctld and slurmd (Debian's slurm-wlm and munge,
# as root; config and state in the test's folder, ports 16817/16818), runs
# a tiny 2-point grid through sbatch (each job runs `cbct bench --only ID
# --launcher srun` on the node), checks the records, and stops the daemons
# it started. Skipped, saying why, without slurm-wlm or when not root.
source "$(dirname "$0")/lib_cli.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1 # the grid names models/... relative to the repository

skip() { echo "SKIP: $*"; summary; exit; }
for p in slurmctld slurmd sbatch squeue munged; do
    command -v "$p" >/dev/null || skip "$p not installed (Debian packages slurm-wlm and munge)"
done
[ "$(id -u)" -eq 0 ] || skip "the test cluster is started as root (slurmd runs jobs as any user)"

S=$T/cluster
mkdir -p "$S/state" "$S/spool"
HOST=$(hostname -s)
# The jobs ask for at most 512 MiB + 1 GiB (cbct bench's margin).
cat >"$S/slurm.conf" <<CONF
ClusterName=cbcttest
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
MpiDefault=none
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldPort=16817
SlurmdPort=16818
NodeName=$HOST CPUs=$(nproc) RealMemory=4096 State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$S/slurm.conf

# Daemons: stopped on exit, each by the pid it wrote (munged only if this
# script started it).
started_munge=0
stop() {
    local f
    for f in "$S/slurmd.pid" "$S/slurmctld.pid"; do
        [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    if [ $started_munge -eq 1 ] && [ -s /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null
    fi
}
trap stop EXIT
if ! munge -n >/dev/null 2>&1; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- munged || skip "munged does not start"
    started_munge=1
fi
slurmctld -f "$S/slurm.conf" || skip "slurmctld does not start: $(tail -3 "$S/slurmctld.log")"
slurmd -f "$S/slurm.conf" || skip "slurmd does not start: $(tail -3 "$S/slurmd.log")"
for i in $(seq 1 100); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 0.2
done
check "cluster up" sinfo -h -o %T

cat >"$T/grid.yml" <<'YML'
dataset:
  - tomography_3d: {num_projections: 8, phantom: walnut, shape: [16, 16, 16]}
solver:
  - PnP:
      model: models/drunet3d_small.safetensors
      init_method: ["fdk"]
      max_iterations: 2
      mode: normalized
      patch_size: [8, 8, 8]
      overlap: [2, 2, 2]
      slurm_ntasks_per_node, max_batch_size: [[1, 4], [1, 2]]
YML
# Waits for both records (the bench polls the queue), 5 minutes at most.
timeout 300 "$TOOL" bench "$T/grid.yml" -o "$T/res" --slurm --slurm-time 00:05:00 --mem 512M \
    >"$T/out" 2>"$T/err"
check "bench --slurm exit 0" test $? -eq 0 || cat "$T/err" "$S/slurmctld.log"
check "two jobs submitted" test "$(grep -c '^submitted max_batch_size-. as job' "$T/out")" -eq 2
check "both recorded" test "$(grep -c ': recorded$' "$T/out")" -eq 2
for id in max_batch_size-4 max_batch_size-2; do
    rec=$T/res/$id/record.json
    got=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); b=j['bench']; print(b['status'], b['launcher'], b['command'].split()[0], len(j['iterations']))" "$rec" 2>&1)
    if [ "$got" = "ok srun srun 2" ]; then pass; else fail "$id: record: $got"; fi
    check "$id: job output" test -n "$(ls "$T/res/slurm/$id"-*.out 2>/dev/null)"
done
check "index lists both" python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if len(j['runs']) == 2 and not j['missing'] else 1)" "$T/res/index.json"
# Run again: nothing left to submit.
timeout 60 "$TOOL" bench "$T/grid.yml" -o "$T/res" --slurm --mem 512M >"$T/out" 2>"$T/err"
check "rerun submits nothing" test "$(grep -c '^submitted' "$T/out")" -eq 0

summary
