#!/usr/bin/env bash
# End-to-end check of the device kit on a machine without a GPU (CI runs it when a TornadoVM SDK is
# present; ci/test.sh): assembles the kit (tornado-config/device-kit.sh) into a temporary folder,
# copies it to an empty one, and runs `run.sh --quick` there as the GPU machine would, with nothing
# of this machine's Java world:
#   - a cleaned environment: env -i PATH=/usr/bin:/bin HOME=<empty> (no JAVA_HOME, no TORNADO_SDK);
#   - in a private mount namespace (unshare -m, when it works) where the SDK, /usr/lib/jvm (every JDK,
#     and /usr/bin/java with them), Maven, ~/.m2 and this checkout are empty folders; other processes
#     still see them, nothing is renamed;
#   - under strace (when installed): no process of the kit may open, stat or exec a path there
#     (the file-system search for the NVIDIA driver, `find`, is exempt: it only lists folders).
# Then asserts: run.sh exited 0; devices listed an OpenCL device; gradcheck --pass tornado passed on
# it; the comparison CSV has jvm and tornado rows; the PNG is a PNG; the GPU parts were skipped with a
# line saying so; the torch twin matched the reference (when /usr/bin/python3 has torch).
# Usage: tornado-config/check-device-kit.sh [--no-build] [--keep]   (--keep: leave the temp folder)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
build_flag=() keep=0
for arg in "$@"; do
  case "$arg" in
    --no-build) build_flag=(--no-build) ;;
    --keep) keep=1 ;;
    *) echo "usage: tornado-config/check-device-kit.sh [--no-build] [--keep]" >&2; exit 2 ;;
  esac
done
say() { echo "check-device-kit: $*"; }
source "$root/ci/common.sh"
sdk=$(find_tornado_sdk)
if [ -z "$sdk" ]; then say "skipped: no TornadoVM SDK (TORNADO_SDK unset, /opt/tornadovm absent)"; exit 0; fi
started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/check-device-kit.XXXXXX")
cleanup() { if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
fail() { echo "check-device-kit: FAILED: $*" >&2; [ -f "$work/run.txt" ] && tail -40 "$work/run.txt" >&2; exit 1; }

# 1. Assemble, then copy into an empty folder (what the device tool does with carry ["kit"]).
# xz -3 instead of the default -6: 30 s less on two cores, and a kit under the 60 MiB limit at -3 is
# under it at -6 too (about 3 MiB smaller).
"$root/tornado-config/device-kit.sh" "${build_flag[@]}" --xz-level "${LSOFTMAX_KIT_XZ_LEVEL:-3}" "$work/assembled"
assembled=$(date +%s)
mkdir -p "$work/elsewhere" "$work/home" "$work/tmp" "$work/out" "$work/empty"
cp -a "$work/assembled" "$work/elsewhere/kit"
rm -rf "$work/assembled"

# 2. Run it with nothing of this machine's Java, SDK or Maven reachable.
hidden=()
for path in "$(cd "$sdk" && pwd -P)" /opt/tornadovm /usr/lib/jvm /usr/share/maven "$HOME/.m2" "$root"; do
  [ -d "$path" ] || continue
  case " ${hidden[*]:-} " in *" $path "*) continue ;; esac
  case "$work/" in "$path"/*) continue ;; esac   # never hide the folder the kit runs from
  hidden+=("$path")
done
inner=(env -i PATH=/usr/bin:/bin "HOME=$work/home" "TMPDIR=$work/tmp" "OUT=$work/out")
if command -v strace >/dev/null; then
  inner+=(strace -f -qq -s 4096 -e trace=file,execve -o "$work/strace.txt")
  # with seccomp-bpf only the traced calls stop the process (the JVM's other calls run at full speed)
  if strace --seccomp-bpf -f -o /dev/null true 2>/dev/null; then inner+=(--seccomp-bpf); fi
else
  say "strace is not installed (apt-get install strace): not tracing the kit's file accesses"
fi
inner+=(bash "$work/elsewhere/kit/run.sh" --quick)
cd "$work/elsewhere"   # the kit's processes start here, not in this checkout
isolation="env -i"
if unshare -m true 2>/dev/null; then
  isolation="env -i, unshare -m with ${hidden[*]} hidden"
  set +e
  unshare -m bash -c 'empty=$1; shift; while [ "$1" != -- ]; do mount --bind "$empty" "$1" || exit 97; shift; done; shift; exec "$@"' \
    hide "$work/empty" "${hidden[@]}" -- "${inner[@]}" > "$work/run.txt" 2>&1
  rc=$?
  set -e
  [ "$rc" != 97 ] || fail "could not hide ${hidden[*]} in a mount namespace"
else
  say "unshare -m is not permitted here: the SDK and JDKs stay visible (strace still checks they are not used)"
  set +e
  "${inner[@]}" > "$work/run.txt" 2>&1
  rc=$?
  set -e
fi
ran=$(date +%s)
sed 's/^/  | /' "$work/run.txt"
[ "$rc" = 0 ] || fail "run.sh --quick exited $rc"

# 3. What it must have left in $OUT.
out=$work/out
for file in run.log summary.txt devices.txt gradcheck-lsoftmax.txt device-comparison.csv device-comparison.png \
            comparison/256x64x10/device-comparison.csv; do
  [ -s "$out/$file" ] || fail "\$OUT/$file is missing or empty"
done
grep -qE '^[0-9]+:[0-9]+ +OPENCL' "$out/devices.txt" || fail "devices listed no OpenCL device"
grep -q 'gradcheck: all losses passed' "$out/gradcheck-lsoftmax.txt" || fail "gradcheck --pass tornado did not pass"
grep -q 'pass instead' "$out/gradcheck-lsoftmax.txt" && fail "the tornado pass fell back to the JVM in gradcheck"
grep -qE '^256x64x10,4,jvm,' "$out/device-comparison.csv" || fail "no jvm row in device-comparison.csv"
grep -qE '^256x64x10,4,tornado@[0-9]+:[0-9]+,' "$out/device-comparison.csv" || fail "no tornado row in device-comparison.csv"
[ "$(head -c 8 "$out/device-comparison.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "device-comparison.png is not a PNG"
if [ ! -e /usr/local/nvidia ]; then
  grep -q 'SKIPPED the GPU-specific parts' "$out/summary.txt" || fail "run.sh did not say it skipped the GPU parts"
fi
if /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1; then
  [ "$(grep -c 'verify .*: ok' "$out/twin-check.txt" 2>/dev/null)" -ge 3 ] || fail "the torch twin check did not pass"
  grep -qE '^256x64x10,4,torch@cpu,' "$out/device-comparison.csv" || fail "no torch row in device-comparison.csv"
else
  grep -q 'SKIPPED torch' "$out/summary.txt" || fail "run.sh did not say it skipped torch"
fi

# 4. Nothing of the kit's processes touched the hidden paths (the driver search's `find` aside).
if [ -f "$work/strace.txt" ]; then
  pattern=$(printf '%s\n' "${hidden[@]}" | sed 's/[.[\*^$]/\\&/g' | paste -sd'|')
  find_pids=$(awk '/execve\("[^"]*\/find"/ {print $1}' "$work/strace.txt" | sort -u | paste -sd'|')
  offending=$(grep -E "\"($pattern)(/|\")" "$work/strace.txt" | { if [ -n "$find_pids" ]; then grep -vE "^($find_pids) "; else cat; fi; } || true)
  if [ -n "$offending" ]; then
    echo "$offending" | head -20 >&2
    fail "the kit's processes accessed ${hidden[*]} (strace lines above)"
  fi
  say "strace: $(wc -l < "$work/strace.txt") file accesses and execs, none under ${hidden[*]}"
fi
say "passed: assembled in $((assembled - started)) s, run.sh --quick in $((ran - assembled)) s ($isolation); $(grep -c '^ok ' "$out/summary.txt") parts ok"
