#!/usr/bin/env bash
# Builds the JMH uber jar (Maven profile `bench`) and runs it; arguments go to JMH, e.g.
#   benchmarks/run.sh LayerStepBenchmark -f 1 -wi 3 -i 5
#   benchmarks/run.sh GemmCeilingBenchmark -p shape=1024x512x10000 -prof gc
#   benchmarks/run.sh TornadoStepBenchmark -f 1 -wi 5 -i 10      (needs a TornadoVM SDK)
# Set SKIP_BUILD=1 to reuse an existing target/benchmarks.jar.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/common.sh
JAVA_HOME=$(find_java_home)
export JAVA_HOME
# With a TornadoVM SDK ($TORNADO_SDK or /opt/tornadovm) the tornado pass is built in and the JVM (and
# JMH's forks, which inherit its flags) gets the SDK's argfile, so TornadoStepBenchmark runs on the device.
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
java_cmd=("$JAVA_HOME/bin/java" "${tornado_flags[@]}" --add-modules jdk.incubator.vector -Djava.awt.headless=true)
if [ "${1:-}" = --compare ]; then
  shift
  exec "${java_cmd[@]}" -cp target/benchmarks.jar org.lsoftmax.bench.DeviceComparison "$@"
fi
exec "${java_cmd[@]}" -jar target/benchmarks.jar "$@"
