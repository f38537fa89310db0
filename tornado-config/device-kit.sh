#!/usr/bin/env bash
# Assembles a self-contained device kit into DIR: everything needed to run the project's TornadoVM
# checks and the device comparison on a machine that has no Java, no Maven, no network and no
# TornadoVM (e.g. the session's GPU machine, where `bash kit/run.sh` is the whole command):
#
#   DIR/run.sh             the kit's entry point (tornado-config/kit/run.sh): unpacks the payload into
#                          $TMPDIR, finds the OpenCL driver, runs devices, gradcheck and the comparison
#   DIR/torch_step.py      the same step in PyTorch (GPU timing for the ratio; formula check on CPU)
#   DIR/payload/jre.tar.xz      a jlinked JDK runtime (only the modules the project and TornadoVM need)
#   DIR/payload/tornado.tar.xz  the TornadoVM SDK's jars and native libraries for its backends, and an
#                               argfile template whose paths run.sh points into the unpacked kit
#   DIR/payload/app.tar.xz      the project (the benchmarks jar: project classes, dependencies, JMH)
#   DIR/payload/native.tar.xz   the OpenCL ICD loader (Debian's ocl-icd libOpenCL.so.1) and a font
#   DIR/SIZES.txt          what takes the space (also printed at the end)
#
# Usage: tornado-config/device-kit.sh [--no-build] [--sdk SDK_DIR] [--xz-level N] DIR
#   --no-build   reuse target/benchmarks.jar (default: mvn -Pbench,tornado -DskipTests package)
#   --sdk DIR    the TornadoVM SDK (default: $TORNADO_SDK, else /opt/tornadovm)
#   --xz-level   xz preset for the payload (default 6)
# DIR must be empty, absent, or a kit this script made (it is then replaced). Limit: 60 MiB.
# Nothing of TornadoVM or of the JDK is part of this repository: the kit copies them from this
# machine, and DIR is git-ignored when it is kit/.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
started=$(date +%s)
build=1 sdk_arg="" xz_level=6 dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --sdk) sdk_arg=${2:?--sdk needs a folder}; shift ;;
    --xz-level) xz_level=${2:?--xz-level needs a number}; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "device-kit: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$dir" ] || { echo "device-kit: one DIR only" >&2; exit 2; }; dir=$1 ;;
  esac
  shift
done
[ -n "$dir" ] || { echo "usage: tornado-config/device-kit.sh [--no-build] [--sdk SDK_DIR] [--xz-level N] DIR" >&2; exit 2; }
limit_bytes=$((60 * 1024 * 1024))
say() { echo "device-kit: [$(( $(date +%s) - started ))s] $*"; }
die() { echo "device-kit: error: $*" >&2; exit 1; }

source "$root/ci/common.sh"
if [ -n "$sdk_arg" ]; then TORNADO_SDK=$sdk_arg; fi
sdk=$(find_tornado_sdk)
[ -n "$sdk" ] || die "no TornadoVM SDK (pass --sdk DIR, set TORNADO_SDK, or install it at /opt/tornadovm)"
sdk=$(cd "$sdk" && pwd)
sdk_version=$(sed -n 's/^version=//p' "$sdk/etc/tornado.release" 2>/dev/null || true)
# The SDK is built for one JDK (5.2.0-jdk25: 25); the kit's runtime must be that JDK.
want_major=${sdk_version##*jdk}
[[ "$want_major" =~ ^[0-9]+$ ]] || want_major=25
jdk=""
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/*; do
  [ -n "$candidate" ] && [ -x "$candidate/bin/jlink" ] || continue
  if [ "$(java_major "$candidate")" = "$want_major" ]; then jdk=$candidate; break; fi
done
[ -n "$jdk" ] || die "no JDK $want_major with jlink found (JAVA_HOME, /usr/lib/jvm, /opt/java); the SDK $sdk_version needs it"
opencl_loader=""
for candidate in /usr/lib/x86_64-linux-gnu/libOpenCL.so.1 /usr/lib64/libOpenCL.so.1 /usr/lib/libOpenCL.so.1; do
  if [ -e "$candidate" ]; then opencl_loader=$(readlink -f "$candidate"); break; fi
done
[ -n "$opencl_loader" ] || die "no OpenCL ICD loader libOpenCL.so.1 on this machine (apt-get install ocl-icd-libopencl1)"
command -v xz >/dev/null || die "xz is needed (apt-get install xz-utils)"
command -v python3 >/dev/null || die "python3 is needed (to repack jars uncompressed before xz)"
say "JDK $jdk, TornadoVM SDK $sdk ($sdk_version), OpenCL loader $opencl_loader"

# The kit folder: refuse to clear anything that is not ours.
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/.device-kit" ]; then
  die "$dir is not empty and not a device kit; give an empty or new folder"
fi
find "$dir" -mindepth 1 -maxdepth 1 -exec rm -rf {} +

# 1. The project: target/benchmarks.jar (the project's classes, its runtime dependencies and JMH, shaded).
if [ "$build" = 1 ] || [ ! -f "$root/target/benchmarks.jar" ]; then
  say "building: mvn -Pbench,tornado -Dtornado.sdk=$sdk -DskipTests package"
  register_tornado_api "$sdk" >/dev/null
  log=$(mktemp)
  if ! (cd "$root" && JAVA_HOME=$jdk mvn -q -B -ntp -Pbench,tornado "-Dtornado.sdk=$sdk" -DskipTests package) >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; die "the build failed (log above)"
  fi
  rm -f "$log"
fi
unzip -l "$root/target/benchmarks.jar" 'org/lsoftmax/head/tornado/DevicePlan*.class' >/dev/null 2>&1 ||
  die "target/benchmarks.jar has no TornadoVM pass (build it with -Pbench,tornado)"

stage=$(mktemp -d "${TMPDIR:-/tmp}/device-kit.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{jre,tornado,app,native}

# Rewrites a jar with every entry stored (no deflate), so that xz compresses the class files
# themselves (a deflated jar does not shrink under xz); optionally drops entries by prefix and
# JMH BenchmarkList lines naming a dropped benchmark.
repack() {
  python3 - "$@" <<'PY'
import sys, zipfile
src, dst, drops = sys.argv[1], sys.argv[2], sys.argv[3:]
prefixes = [d for d in drops if not d.startswith("benchmark:")]
benchmarks = [d[len("benchmark:"):] for d in drops if d.startswith("benchmark:")]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
    infos = zin.infolist()
    infos.sort(key=lambda i: 0 if i.filename in ("META-INF/", "META-INF/MANIFEST.MF") else 1)
    for info in infos:
        if any(info.filename.startswith(p) for p in prefixes):
            continue
        data = zin.read(info)
        if info.filename == "META-INF/BenchmarkList" and benchmarks:
            lines = data.decode("utf-8").splitlines(keepends=True)
            data = "".join(l for l in lines if not any(b in l for b in benchmarks)).encode("utf-8")
        out = zipfile.ZipInfo(info.filename, info.date_time)
        out.external_attr = info.external_attr
        out.compress_type = zipfile.ZIP_STORED
        zout.writestr(out, data)
PY
}

# 2. The TornadoVM SDK: the jars its argfile puts on the module path and upgrade module path, less
# what the project never loads (TornadoVM's tests, examples, benchmarks, CUDA library bindings,
# Truffle, logging and the matrix/test libraries they pull in), and its native libraries.
say "copying the TornadoVM SDK's runtime (jars repacked uncompressed for xz)"
keep_module_jars=(tornado-api tornado-runtime tornado-annotation tornado-drivers-common asm commons-math3 snmp4j nativeimage)
backends=$(sed -n 's/^tornado.backends=//p' "$sdk/etc/tornado.backend" 2>/dev/null | tr ',' ' ')
[ -n "$backends" ] || backends=opencl-backend
for backend in $backends; do keep_module_jars+=("tornado-drivers-${backend%-backend}"); done
keep_upgrade_jars=(compiler collections word truffle-compiler polyglot graal-sdk)
mkdir -p "$stage/tornado/share/java/tornado" "$stage/tornado/share/java/graalJars" "$stage/tornado/lib" "$stage/tornado/etc"
copy_jars() {  # FROM_DIR TO_DIR NAME_PREFIX...
  local from=$1 to=$2 name jar base found; shift 2
  for name in "$@"; do
    found=0
    for jar in "$from"/"$name"-[0-9]*.jar "$from"/"$name"-jni-*.jar; do
      [ -f "$jar" ] || continue
      base=$(basename "$jar")
      # "tornado-drivers-opencl" must not match "tornado-drivers-opencl-jni..." twice
      [ -f "$to/$base" ] && continue
      repack "$jar" "$to/$base"; found=1
    done
    [ "$found" = 1 ] || die "the SDK has no $name jar under $from"
  done
}
copy_jars "$sdk/share/java/tornado" "$stage/tornado/share/java/tornado" "${keep_module_jars[@]}"
copy_jars "$sdk/share/java/graalJars" "$stage/tornado/share/java/graalJars" "${keep_upgrade_jars[@]}"
cp "$sdk"/lib/*.so "$stage/tornado/lib/"
cp "$sdk/etc/tornado.release" "$sdk/etc/tornado.backend" "$stage/tornado/etc/" 2>/dev/null || true
cp "$sdk"/LICENSE* "$stage/tornado/" 2>/dev/null || true
# The argfile, with the SDK's location as @TORNADO@ (run.sh substitutes the unpacked kit's) and
# without the current directory on the module path.
sed -e "s#$sdk#@TORNADO@#g" -e 's#^--module-path \.:#--module-path #' "$sdk/tornado-argfile" > "$stage/tornado/tornado-argfile.in"
grep -q '@TORNADO@' "$stage/tornado/tornado-argfile.in" || die "the SDK's argfile does not name $sdk"

# 3. The project: the benchmarks jar without OpenBLAS (org.bytedeco: 20 MB of natives for the CPU
# ceiling; on the GPU machine the ceiling is cuBLAS through torch). DeviceComparison skips the
# OpenBLAS ceiling when its class is absent; the project's own Sgemm ceiling stays.
say "slimming target/benchmarks.jar (without org/bytedeco and the OpenBLAS ceiling)"
repack "$root/target/benchmarks.jar" "$stage/app/lsoftmax-bench.jar" org/bytedeco/ META-INF/maven/org.bytedeco/ \
  META-INF/native-image/org.bytedeco/ org/lsoftmax/bench/OpenBlas org/lsoftmax/bench/jmh_generated/OpenBlas \
  benchmark:OpenBlasCeilingBenchmark

# 4. The Java runtime: jlink with the modules the project (jdeps) and the kept SDK jars require,
# the JDK modules the argfile exports from, and jdk.incubator.vector; uncompressed (xz does better).
jdk_modules=$("$jdk/bin/java" --list-modules | sed 's/@.*//')
is_jdk_module() { grep -qx "$1" <<<"$jdk_modules"; }
modules="jdk.incubator.vector,jdk.internal.vm.ci"
add_module() { case ",$modules," in *",$1,"*) ;; *) modules="$modules,$1" ;; esac; }
for m in $("$jdk/bin/jdeps" --multi-release "$want_major" --ignore-missing-deps --print-module-deps "$stage/app/lsoftmax-bench.jar" | tr ',' ' '); do
  add_module "$m"
done
for jar in "$stage"/tornado/share/java/*/*.jar; do
  for m in $("$jdk/bin/jar" --describe-module --file "$jar" --release "$want_major" 2>/dev/null | awk '$1 == "requires" {print $2}'); do
    if [ "$m" != jdk.graal.compiler ] && is_jdk_module "$m"; then add_module "$m"; fi
  done
done
for m in $(grep -oE -- '--add-(exports|opens|reads)[= ]([a-zA-Z0-9.]+)' "$stage/tornado/tornado-argfile.in" | sed -E 's/.*[= ]//' | sort -u); do
  if [ "$m" != jdk.graal.compiler ] && is_jdk_module "$m"; then add_module "$m"; fi
done
# jdk.graal.compiler comes from the SDK (--upgrade-module-path), not from the JDK.
say "jlink: $modules"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress zip-0 \
  --strip-native-debug-symbols exclude-debuginfo-files --output "$stage/jre/jre" 2>&1 | grep -v 'incubator modules' || true
[ -x "$stage/jre/jre/bin/java" ] || die "jlink failed"
# A font for the PNG chart: machines without fontconfig or fonts (containers) have none, and Java's
# charts then fail with "no physical fonts". run.sh points -Dsun.awt.fontconfig at these.
font_dir=/usr/share/fonts/truetype/dejavu
if [ -f "$font_dir/DejaVuSans.ttf" ] && [ -f "$font_dir/DejaVuSans-Bold.ttf" ]; then
  mkdir -p "$stage/jre/jre/lib/fonts"
  cp "$font_dir/DejaVuSans.ttf" "$font_dir/DejaVuSans-Bold.ttf" "$stage/jre/jre/lib/fonts/"
  cp /usr/share/doc/fonts-dejavu-core/copyright "$stage/jre/jre/lib/fonts/COPYRIGHT.dejavu" 2>/dev/null || true
else
  say "warning: no DejaVu fonts here (apt-get install fonts-dejavu-core): the PNG needs fonts on the target"
fi
mv "$stage/jre/jre"/* "$stage/jre/" && rmdir "$stage/jre/jre"

# 5. The OpenCL ICD loader (run.sh points it at the NVIDIA driver with OCL_ICD_VENDORS).
cp "$opencl_loader" "$stage/native/libOpenCL.so.1"
cp /usr/share/doc/ocl-icd-libopencl1/copyright "$stage/native/COPYRIGHT.ocl-icd" 2>/dev/null || true

# Smoke test of the staged runtime before compressing: the module graph resolves and TornadoVM starts.
sed -e "s#@TORNADO@#$stage/tornado#g" "$stage/tornado/tornado-argfile.in" > "$stage/argfile.test"
if ! (cd "$stage" && LD_LIBRARY_PATH="$stage/native:$stage/tornado/lib" "$stage/jre/bin/java" @"$stage/argfile.test" \
      --add-modules jdk.incubator.vector -cp "$stage/app/lsoftmax-bench.jar" org.lsoftmax.cli.Main devices) > "$stage/smoke.txt" 2>&1; then
  cat "$stage/smoke.txt" >&2; die "the staged kit does not start (output above)"
fi
grep -v -E 'WARNING: Using incubator|^\[TornadoVM\]' "$stage/smoke.txt" | sed 's/^/device-kit: smoke: devices: /'
rm -f "$stage/argfile.test" "$stage/smoke.txt"

# 6. Compress each part, copy the scripts, and say what takes the space.
say "compressing (xz -$xz_level)"
for part in jre tornado app native; do
  tar -C "$stage/$part" -cf - . | xz -T0 "-$xz_level" > "$dir/payload.$part.tar.xz.tmp"
done
mkdir -p "$dir/payload"
for part in jre tornado app native; do mv "$dir/payload.$part.tar.xz.tmp" "$dir/payload/$part.tar.xz"; done
cp "$root/tornado-config/kit/run.sh" "$dir/run.sh"
cp "$root/tornado-config/kit/torch_step.py" "$dir/torch_step.py"
chmod +x "$dir/run.sh" "$dir/torch_step.py"
kit_id="$(date -u +%Y%m%dT%H%M%SZ)-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo nogit)-$$"
{
  echo "kit_id=$kit_id"
  echo "project_commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
  echo "tornadovm=$sdk_version backends=$backends"
  echo "jdk=$("$jdk/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p')"
  echo "jlink_modules=$modules"
} > "$dir/KIT_INFO"
echo "device kit made by tornado-config/device-kit.sh; run.sh is its entry point" > "$dir/.device-kit"

human() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes_of() { du -sb "$@" | awk '{s += $1} END {print s + 0}'; }
{
  printf '%-44s %12s %12s\n' "part (unpacked into \$TMPDIR by run.sh)" unpacked "in the kit"
  row() { printf "%-44s %12s %12s\n" "$1" "${2:+$(human "$2")}" "${3:+$(human "$3")}"; }
  row "jre: jlinked runtime, total" "$(bytes_of "$stage/jre")" "$(bytes_of "$dir/payload/jre.tar.xz")"
  row "  jre/lib/modules (class files)" "$(bytes_of "$stage/jre/lib/modules")" ""
  row "  jre/lib/server/libjvm.so" "$(bytes_of "$stage/jre/lib/server/libjvm.so")" ""
  row "  jre: other native libraries, fonts, conf" "$(( $(bytes_of "$stage/jre") - $(bytes_of "$stage/jre/lib/modules" "$stage/jre/lib/server/libjvm.so") ))" ""
  row "tornado: TornadoVM SDK subset, total" "$(bytes_of "$stage/tornado")" "$(bytes_of "$dir/payload/tornado.tar.xz")"
  for jar in "$stage"/tornado/share/java/graalJars/compiler-*.jar; do row "  graalJars/$(basename "$jar") (Graal)" "$(bytes_of "$jar")" ""; done
  row "  other jars and native libraries" "$(( $(bytes_of "$stage/tornado") - $(bytes_of "$stage"/tornado/share/java/graalJars/compiler-*.jar) ))" ""
  row "app: lsoftmax-bench.jar (project + deps + JMH)" "$(bytes_of "$stage/app")" "$(bytes_of "$dir/payload/app.tar.xz")"
  row "native: libOpenCL.so.1 (ocl-icd)" "$(bytes_of "$stage/native")" "$(bytes_of "$dir/payload/native.tar.xz")"
  row "run.sh, torch_step.py, KIT_INFO" "" "$(bytes_of "$dir/run.sh" "$dir/torch_step.py" "$dir/KIT_INFO")"
  row "total" "$(bytes_of "$stage"/{jre,tornado,app,native})" "$(bytes_of "$dir")"
  echo "(left out: OpenBLAS natives of the bench jar, 20 MB deflated; TornadoVM's tests, examples,"
  echo " benchmarks, CUDA-library bindings, Truffle, log4j, Lucene, JUnit; JDK modules nothing requires)"
} > "$dir/SIZES.txt"
sed 's/^/device-kit: /' "$dir/SIZES.txt"
total=$(bytes_of "$dir")
[ "$total" -le "$limit_bytes" ] || die "the kit is $(human "$total"), over the 60 MiB limit"
say "kit ready in $dir ($(human "$total"), assembled in $(( $(date +%s) - started )) s); run: bash $dir/run.sh [--quick]"
