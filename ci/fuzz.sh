#!/usr/bin/env bash
# Bounded coverage-guided fuzzing (Jazzer) of every parser of outside input, one target per JVM
# (Jazzer fuzzes one @FuzzTest per run). Each target starts from its committed seed corpus
# (src/test/resources/org/lsoftmax/fuzz/<Target>Inputs/) and runs for the maxDuration in its
# annotation; a crash other than the project's InvalidInputException fails the run and leaves the
# crashing input beside the seeds. Usage: ci/fuzz.sh [TargetFuzzTest ...] (default: all).
set -euo pipefail
cd "$(dirname "$0")/.."
source ci/common.sh
JAVA_HOME=$(find_java_home)
export JAVA_HOME
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for file in src/test/java/org/lsoftmax/fuzz/*FuzzTest.java; do
    targets+=("$(basename "$file" .java)")
  done
fi
mkdir -p target/fuzz
for target in "${targets[@]}"; do
  echo "ci/fuzz.sh: fuzzing $target"
  if ! JAZZER_FUZZ=1 mvn -B -ntp -o surefire:test -Dtest="$target" -Dsurefire.failIfNoSpecifiedTests=false \
      > "target/fuzz/$target.log" 2>&1; then
    grep -E "FuzzTestFinding|Caused by|Tests run:" "target/fuzz/$target.log" | head -20
    echo "ci/fuzz.sh: $target FAILED (log: target/fuzz/$target.log)"
    exit 1
  fi
  grep -E "DONE" "target/fuzz/$target.log" | sed "s/^/ci\/fuzz.sh: $target: /" || true
done
echo "ci/fuzz.sh: ${#targets[@]} targets fuzzed, no findings"
