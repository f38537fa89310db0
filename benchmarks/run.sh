#!/usr/bin/env bash
# Builds the JMH uber jar (Maven profile `bench`) and runs it; arguments go to JMH, e.g.
#   benchmarks/run.sh LayerStepBenchmark -f 1 -wi 3 -i 5
#   benchmarks/run.sh GemmCeilingBenchmark -p shape=1024x512x10000 -prof gc
# Set SKIP_BUILD=1 to reuse an existing target/benchmarks.jar.
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/find-java.sh
JAVA_HOME=$(find_java_home)
export JAVA_HOME
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f target/benchmarks.jar ]; then
  mvn -q -B -ntp -Pbench -DskipTests package
fi
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -jar target/benchmarks.jar "$@"
