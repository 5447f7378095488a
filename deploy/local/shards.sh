#!/bin/sh
# The sweep across machines, on this one: N explore shards of one seed
# range as parallel processes, each writing its -json report, then
# promotesim merge. It is the Kubernetes Job (deploy/k8s) and the CI matrix
# (deploy/github-actions) in miniature, so the pipeline can be checked
# without either.
#
# usage: deploy/local/shards.sh N OUTDIR EXPLORE-FLAGS...
#   (make shards N=4 runs it; PROMOTESIM names the binary, default bin/promotesim)
# Exit status: merge's (0 clean, 1 a failing seed, 2 bad reports), or the
# status of a shard that broke (above 1).
set -u
if [ $# -lt 2 ]; then
	echo "usage: $0 N OUTDIR EXPLORE-FLAGS..." >&2
	exit 2
fi
N=$1
OUT=$2
shift 2
PROMOTESIM=${PROMOTESIM:-bin/promotesim}
mkdir -p "$OUT"
rm -f "$OUT"/shard-*.json
pids=""
i=0
while [ "$i" -lt "$N" ]; do
	"$PROMOTESIM" explore "$@" -shard "$i/$N" -json -out "$OUT/counterexamples" >"$OUT/shard-$i.json" &
	pids="$pids $!"
	i=$((i + 1))
done
broke=0
for p in $pids; do
	wait "$p"
	rc=$?
	# 1 is a failing seed, reported in the shard's file.
	if [ "$rc" -gt 1 ]; then broke=$rc; fi
done
if [ "$broke" -ne 0 ]; then
	echo "$0: a shard exited $broke; its report in $OUT is incomplete" >&2
	exit "$broke"
fi
"$PROMOTESIM" merge -json "$OUT"/shard-*.json >"$OUT/merged.json"
"$PROMOTESIM" merge "$OUT"/shard-*.json
