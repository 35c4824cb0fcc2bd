# espsec mfg plan/merge: a run split into shards for Slurm or Kubernetes; each task's script run here with its
# index (the real Slurm run is the long test tests/long/mfg_slurm.sh); the merged output equals one unsharded run.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
KEYS=$VECTORS/nvs/input/nvs_keys.bin
cd "$T"
printf 'app,namespace,\nserial,data,string\ncount,data,u32\n' > conf.csv
printf 'serial,count\n' > values.csv
for i in $(seq 1 37); do echo "SN$i,$i" >> values.csv; done
ok $E mfg generate conf.csv values.csv dev 0x3000 --inputkey "$KEYS" --fileid serial --outdir whole --manifest whole/manifest.csv

ok $E mfg plan conf.csv values.csv dev 0x3000 --shards 5 --base "$T/run" --slurm job.sbatch --k8s job.yaml \
    --image registry.example/espsec:1 --pvc factory --parallelism 2 --generate-options="--inputkey $KEYS --fileid serial"
contains "$T/out" "37 device rows in 5 shards"
contains job.sbatch "#SBATCH --array=0-4%2"
contains run/plan.csv "4,30,37,shard-0004"
# every Slurm array task, as sbatch would start it
for k in 0 1 2 3 4; do
    CHECKS=$((CHECKS + 1))
    SLURM_ARRAY_TASK_ID=$k sh job.sbatch >/dev/null 2>&1 || fail "slurm task $k"
done
CHECKS=$((CHECKS + 1))
SLURM_ARRAY_TASK_ID=5 sh job.sbatch 2>/dev/null && fail "task 5 of a 5-shard plan ran"
ok $E mfg merge --plan run/plan.csv -o run/manifest.csv
contains "$T/out" "5 shards add up: 37 devices, 74 files"
cut -d, -f2,3,5,6 whole/manifest.csv > a.txt
cut -d, -f2,3,5,6 run/manifest.csv > b.txt
same a.txt b.txt
for s in 0003 0004; do
    for f in $(cd "run/shard-$s/bin" && ls); do same "run/shard-$s/bin/$f" "whole/bin/$f"; done
done
bad "exists" $E mfg merge --plan run/plan.csv -o run/manifest.csv

# the Kubernetes Indexed Job: valid YAML whose container script, given JOB_COMPLETION_INDEX, runs the same shards
CHECKS=$((CHECKS + 1))
python3 - job.yaml > k8s.sh <<'PY' || fail "job.yaml is not the Indexed Job expected"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
s = d["spec"]
assert d["kind"] == "Job" and s["completionMode"] == "Indexed" and s["completions"] == 5 and s["parallelism"] == 2
c = s["template"]["spec"]["containers"][0]
assert c["image"] == "registry.example/espsec:1" and c["command"] == ["/bin/sh", "-c"]
assert s["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "factory"
print(c["args"][0])
PY
ok $E mfg plan conf.csv values.csv dev 0x3000 --shards 3 --base "$T/kube" --k8s job3.yaml --image i --pvc p \
    --generate-options="--inputkey $KEYS --fileid serial"
python3 -c "import yaml,sys; print(yaml.safe_load(open('job3.yaml'))['spec']['template']['spec']['containers'][0]['args'][0])" > k3.sh
for k in 0 1 2; do
    CHECKS=$((CHECKS + 1))
    JOB_COMPLETION_INDEX=$k sh k3.sh >/dev/null 2>&1 || fail "k8s pod $k"
done
ok $E mfg merge --plan kube/plan.csv -o kube/manifest.csv
cut -d, -f2,3,5,6 kube/manifest.csv > c.txt
same a.txt c.txt

# merge refuses what does not add up, naming the shard, row or file
cp -r run r2 && rm r2/manifest.csv && sed -i "s|$T/run|$T/r2|g" r2/plan.csv
rm r2/shard-0002/manifest.csv
bad "shard-0002 (rows 15-22): no manifest.*did not finish" $E mfg merge --plan r2/plan.csv -o r2/m.csv
absent r2/m.csv
cp run/shard-0002/manifest.csv r2/shard-0002/
printf 'x' >> r2/shard-0001/bin/dev-SN10.bin
bad "dev-SN10.bin: 12289 bytes, the manifest says 12288" $E mfg merge --plan r2/plan.csv -o r2/m.csv
cp run/shard-0001/bin/dev-SN10.bin r2/shard-0001/bin/
printf '\x00' | dd of=r2/shard-0001/bin/dev-SN10.bin bs=1 seek=100 conv=notrunc status=none
bad "SHA-256 differs" $E mfg merge --plan r2/plan.csv -o r2/m.csv
ok $E mfg merge --plan r2/plan.csv -o r2/m.csv --no-hash
cp run/shard-0001/bin/dev-SN10.bin r2/shard-0001/bin/
grep -v '^9,' run/shard-0001/manifest.csv > r2/shard-0001/manifest.csv
bad "row 9: in no shard's manifest (a gap)" $E mfg merge --plan r2/plan.csv -o r2/m3.csv
grep '^9,' run/shard-0001/manifest.csv | grep ',nvs,' > row9.txt
cp run/shard-0001/manifest.csv r2/shard-0001/manifest.csv
cat row9.txt >> r2/shard-0002/manifest.csv
bad "row 9 is outside the shard's rows 15-22" $E mfg merge --plan r2/plan.csv -o r2/m4.csv
cp run/shard-0002/manifest.csv r2/shard-0002/
grep -v '^20,SN20,csv' run/shard-0002/manifest.csv > r2/shard-0002/manifest.csv
bad "row 20 (device SN20).*incomplete" $E mfg merge --plan r2/plan.csv -o r2/m5.csv
bad "1..37" $E mfg plan conf.csv values.csv dev 0x3000 --shards 38 --base "$T/x" --slurm x.sbatch
bad "needs --image" $E mfg plan conf.csv values.csv dev 0x3000 --shards 2 --base "$T/x" --k8s x.yaml
bad "needs --shards N" $E mfg plan conf.csv values.csv dev 0x3000 --base "$T/x"
ok $E mfg plan --help
ok $E mfg merge --help
finish
