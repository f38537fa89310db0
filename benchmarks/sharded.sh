#!/usr/bin/env bash
# The class-sharded head's step time and memory per shard (benchmarks/RESULTS.md, "Class-sharded head"):
# C = 10^4, 10^5, 10^6 at D = 128 and 512, N = 256, K = 1, 2, r = 1, 0.1, on the jvm and tornado passes,
# each configuration in a fresh JVM (org.lsoftmax.bench.ShardedStep) so one that does not fit is refused
# alone and the others' heaps do not add up. Tornado shards go to PoCL devices 0:0 and 0:1
# (POCL_DEVICES="pthread pthread"). Output: one CSV row per configuration on stdout and in
# benchmarks/results/sharded-step.csv.
#   benchmarks/sharded.sh                          # everything (~30 min on 2 cores)
#   benchmarks/sharded.sh --passes jvm --classes 10000,100000 --dims 128 --warmup 2 --steps 5
# Options: --passes, --classes, --dims, --shards, --rates (comma lists), --batch N, --warmup W (steps, at least),
# --warmup-seconds T (and at least T seconds of them, default 15: the JIT needs them), --steps S (measured),
# --heap SIZE (the JVMs' -Xmx, default 12g), --device-limit BYTES (tornado: refuse heads whose device
# buffers exceed it, default 6 GiB: PoCL's "device" memory is this machine's RAM), --csv FILE (default
# benchmarks/results/sharded-step.csv). SKIP_BUILD=1 reuses target/benchmarks.jar.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/common.sh
JAVA_HOME=$(find_java_home)
export JAVA_HOME
passes=jvm,tornado; classes=10000,100000,1000000; dims=128,512; shards=1,2; rates=1,0.1
csv=benchmarks/results/sharded-step.csv; batch=256; warmup=3; steps=7; warmup_seconds=15; heap=12g; device_limit=$((6 * 1024 * 1024 * 1024))
while [ $# -gt 0 ]; do
  case "$1" in
    --passes) passes=$2; shift 2 ;;
    --classes) classes=$2; shift 2 ;;
    --dims) dims=$2; shift 2 ;;
    --shards) shards=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --warmup-seconds) warmup_seconds=$2; shift 2 ;;
    --heap) heap=$2; shift 2 ;;
    --device-limit) device_limit=$2; shift 2 ;;
    --csv) csv=$2; shift 2 ;;
    -h|--help) sed -n 2,14p "$0"; exit 0 ;;
    *) echo "benchmarks/sharded.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
profiles=-Pbench
tornado_flags=()
sdk=$(find_tornado_sdk)
if [ -n "$sdk" ]; then
  register_tornado_api "$sdk" >/dev/null
  profiles="-Pbench,tornado -Dtornado.sdk=$sdk"
  write_tornado_argfile "$sdk" target/tornado-argfile
  tornado_flags=(@target/tornado-argfile)
fi
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f target/benchmarks.jar ]; then
  mvn -q -B -ntp $profiles -DskipTests package
fi
export POCL_DEVICES="pthread pthread"
mkdir -p "$(dirname "$csv")"
echo "# benchmarks/sharded.sh $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)" | tee "$csv"
echo "pass,N,D,C,K,r,computed_classes,gflop_floor,head_ms_median,update_ms_median,step_ms_median,step_ms_min,gflops,parameter_mib_per_shard,heap_mib_per_shard,device_mib_per_shard,live_heap_mib,warmup_steps,where" | tee -a "$csv"
for pass in ${passes//,/ }; do
  for d in ${dims//,/ }; do
    for c in ${classes//,/ }; do
      for k in ${shards//,/ }; do
        for r in ${rates//,/ }; do
          flags=("-Xmx$heap" -Dorg.slf4j.simpleLogger.defaultLogLevel=warn)
          if [ "$pass" = tornado ]; then
            flags+=("${tornado_flags[@]}" "-Dlsoftmax.tornado.deviceMemoryLimit=$device_limit")
          fi
          row=$("$JAVA_HOME/bin/java" "${flags[@]}" --add-modules jdk.incubator.vector -Djava.awt.headless=true -cp target/benchmarks.jar \
            org.lsoftmax.bench.ShardedStep "$pass" "$batch" "$d" "$c" "$k" "$r" "$warmup" "$steps" 0 "$warmup_seconds" 2>/tmp/sharded-step.err | tail -1) \
            || row="$pass,$batch,$d,$c,$k,$r,,,,,,,,,,,,,\"failed: $(grep -m1 -E 'Exception|Error' /tmp/sharded-step.err | tr -d '"')\""
          echo "$row" | tee -a "$csv"
        done
      done
    done
  done
done
