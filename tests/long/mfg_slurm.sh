# Long test: the Slurm job array of `espsec mfg plan` on a real single-node Slurm (Debian's slurmctld, slurmd,
# munge, started here on this machine and stopped after), merged, and compared byte for byte with one unsharded
# run with --inputkey. Needs root and the slurm packages (scripts/setup.sh installs them when ESPSEC_LONG=1).
. "$(dirname "$0")/../cli/lib.inc"
E=$ESPSEC
KEYS=$VECTORS/nvs/input/nvs_keys.bin
for p in slurmctld slurmd munged sbatch squeue; do
    command -v $p >/dev/null || { fail "$p missing: run ESPSEC_LONG=1 scripts/setup.sh"; finish; exit 1; }
done
S=$T/slurm
mkdir -p "$S/state" "$S/spool" "$S/munge"
H=$(hostname)
cat > "$S/slurm.conf" <<CONF
ClusterName=espsec-test
SlurmctldHost=$H
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge/munge.socket.2
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/linear
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
SlurmctldPort=26817
SlurmdPort=26818
NodeName=$H CPUs=$(nproc) State=UNKNOWN
PartitionName=espsec Nodes=ALL Default=YES MaxTime=60 State=UP
CONF
export SLURM_CONF=$S/slurm.conf
[ -f /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1
stop() {
    for f in slurmd slurmctld munge/munged; do
        [ -f "$S/$f.pid" ] && kill "$(cat "$S/$f.pid")" 2>/dev/null
    done
    sleep 1
    rm -rf "$T"
}
trap stop EXIT
munged --force --socket="$S/munge/munge.socket.2" --pid-file="$S/munge/munged.pid" \
    --log-file="$S/munge/munged.log" --seed-file="$S/munge/munged.seed" || fail "munged did not start"
slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start"
sleep 1
slurmd -f "$SLURM_CONF" || fail "slurmd did not start"
for i in $(seq 1 30); do sinfo -h -o %T 2>/dev/null | grep -q idle && break; sleep 1; done
CHECKS=$((CHECKS + 1))
sinfo -h -o %T | grep -q idle || fail "the node did not come up: $(tail -3 "$S/slurmd.log")"

cd "$T"
printf 'app,namespace,\nserial,data,string\ncount,data,u32\nblob,data,hex2bin\n' > conf.csv
printf 'serial,count,blob\n' > values.csv
for i in $(seq 1 2000); do printf 'SN%05d,%d,%064x\n' $i $i $i >> values.csv; done
ok $E mfg plan conf.csv values.csv dev 0x4000 --shards 8 --parallelism 2 --base "$T/run" --slurm job.sbatch \
    --generate-options="--inputkey $KEYS --fileid serial --jobs 1"
J=$(sbatch --parsable job.sbatch)
CHECKS=$((CHECKS + 1))
[ -n "$J" ] || fail "sbatch refused the script"
for i in $(seq 1 300); do [ "$(squeue -h -j "$J" 2>/dev/null | wc -l)" = 0 ] && break; sleep 1; done
[ "$(squeue -h -j "$J" 2>/dev/null | wc -l)" = 0 ] || fail "job $J still running after 300 s"
[ "$(ls run/slurm-"$J"_*.out | wc -l)" = 8 ] || fail "not 8 task logs"
ok $E mfg merge --plan run/plan.csv -o run/manifest.csv
contains "$T/out" "8 shards add up: 2000 devices, 4000 files"
ok $E mfg generate conf.csv values.csv dev 0x4000 --inputkey "$KEYS" --fileid serial --outdir whole --manifest whole/manifest.csv
cut -d, -f2,3,5,6 whole/manifest.csv > a.txt
cut -d, -f2,3,5,6 run/manifest.csv > b.txt
same a.txt b.txt
CHECKS=$((CHECKS + 1))
n=0
for d in run/shard-*; do
    for f in "$d"/bin/*.bin "$d"/csv/*.csv; do
        rel=${f#"$d"/}
        cmp -s "$f" "whole/$rel" || { fail "$f differs from the unsharded run"; break 2; }
        n=$((n + 1))
    done
done
[ $n = 4000 ] || fail "compared $n files, 4000 expected"
finish
