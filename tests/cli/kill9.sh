# A writer killed with kill -9 in the middle of a write: the existing output is untouched, its
# temporary (.NAME.XXXXXX) stays behind, and the next write to NAME removes it and writes the
# right output. Not simulated: a real espsec process (secure encrypt-flash-data streaming a large
# input to its output) is stopped (SIGSTOP) as soon as its temporary exists, checked to be still
# mid-write (the temporary there, the old output unchanged), then killed with SIGKILL. A stopped
# process cannot reach its rename, so what the kill leaves is fixed, not a race; when the writer
# finished before the stop landed, the round is repeated with an input twice as large.
. "$(dirname "$0")/lib.inc"
E=$ESPSEC
cd "$T"
head -c 32 /dev/urandom >key.bin
echo "the previous output, which must survive" >out.bin
cp out.bin old.bin

# the temporary of out.bin, if one exists (bash globbing: no fork, so the poll is fast)
temp_of_out() {
    local f
    for f in .out.bin.??????; do
        [ -e "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

killed=""
size_mib=64
for round in 1 2 3 4 5; do
    rm -f big.bin
    truncate -s ${size_mib}M big.bin
    "$E" secure encrypt-flash-data --keyfile key.bin --address 0x0 -o out.bin big.bin >/dev/null 2>&1 &
    pid=$!
    tmp=""
    # poll until the temporary appears or the writer is gone
    while kill -0 "$pid" 2>/dev/null; do
        if tmp=$(temp_of_out); then
            kill -STOP "$pid" 2>/dev/null
            break
        fi
    done
    # stopped with its temporary still there and the old output intact: mid-write for certain
    if [ -n "$tmp" ] && [ -e "$tmp" ] && cmp -s out.bin old.bin && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        wait "$pid" 2>/dev/null
        status=$?
        CHECKS=$((CHECKS + 1))
        [ "$status" -eq 137 ] || fail "round $round: the writer was not killed by SIGKILL (status $status)"
        killed=$tmp
        break
    fi
    wait "$pid" 2>/dev/null
    # the writer finished first: put the old output back and try with a larger input
    cp old.bin out.bin
    rm -f .out.bin.??????
    size_mib=$((size_mib * 2))
done

CHECKS=$((CHECKS + 1))
if [ -z "$killed" ]; then
    fail "no round stopped the writer mid-write (inputs up to ${size_mib} MiB)"
else
    echo "killed mid-write with a ${size_mib} MiB input, in round $round; left $killed ($(stat -c %s "$killed") bytes)"
    # the kill left the temporary behind and never touched the existing output
    CHECKS=$((CHECKS + 1))
    [ -e "$killed" ] || fail "kill -9 left no temporary (expected $killed)"
    same out.bin old.bin
    # the same write again: succeeds, removes the dead writer's temporary, writes the right output
    ok "$E" secure encrypt-flash-data --keyfile key.bin --address 0x0 -o out.bin big.bin
    CHECKS=$((CHECKS + 1))
    [ ! -e "$killed" ] || fail "the next write to out.bin left the dead writer's $killed"
    absent_tmp=$(temp_of_out) && fail "a temporary of out.bin remains: $absent_tmp"
    ok "$E" secure encrypt-flash-data --keyfile key.bin --address 0x0 -o ref.bin big.bin
    same out.bin ref.bin
    CHECKS=$((CHECKS + 1))
    [ "$(stat -c %s out.bin)" -eq $((size_mib * 1024 * 1024)) ] || fail "out.bin has the wrong size"
fi
rm -f big.bin out.bin ref.bin
finish
