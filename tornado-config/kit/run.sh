#!/usr/bin/env bash
# The device kit's entry point (assembled by tornado-config/device-kit.sh; this file is copied to
# DIR/run.sh). Needs no Java, Maven, network or TornadoVM install: it unpacks the kit's runtime into
# $TMPDIR and uses nothing outside the kit except the OpenCL driver, bash/coreutils, and Python
# (with torch) for the PyTorch timing.
#
#   bash DIR/run.sh            full run (budget 450 s): devices, formula check of the torch twin,
#                              gradcheck --pass tornado, torch timing, the device comparison at
#                              256x512x10, 256x512x1000, 1024x512x10000 and 256x64x10
#   bash DIR/run.sh --quick    devices, one gradcheck, one small shape (CI's check, ~1-2 min)
#   options: --out DIR (default $OUT, else $TMPDIR/lsoftmax-kit-out), --budget SECONDS (default 450)
#   environment: LSOFTMAX_NVIDIA_OPENCL=/path/libnvidia-opencl.so.1 (skip the search),
#                LSOFTMAX_KIT_PYTHON=python3 (interpreter with torch), LSOFTMAX_MATMUL=auto|panels|tiled
#                (default: tiled with an NVIDIA driver, else auto), LSOFTMAX_KIT_UNPACK=DIR
#
# Writes to $OUT: run.log (everything printed), summary.txt (one line per part), devices.txt,
# gradcheck-*.txt, twin-check.txt, torch-step.csv, comparison/SHAPE/ (per-shape CSV, PNG, log),
# device-comparison.csv and .png (all shapes, with the torch rows), tornado-vs-torch.csv.
# Every part runs under `timeout` within the budget, and the merged CSV and PNG are rewritten after
# each part, so whatever finished survives a cut. Exit 0 when every part that ran passed.
set -uo pipefail
kit=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
started=$(date +%s)
quick=0 out=${OUT:-} budget=450
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --budget) budget=${2:?--budget needs seconds}; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
out=${out:-${TMPDIR:-/tmp}/lsoftmax-kit-out}   # not inside the kit: kit/ is carried to the device
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee -a "$out/run.log") 2>&1
tee_pid=$!
exec 3>&1                 # run.sh's own lines: to the log even where a part's output goes to a file
: > "$out/summary.txt"
deadline=$((started + budget))
final_reserve=25          # kept for the last merge and chart
failures=0

say() { echo "run.sh: $*" >&3; }
elapsed() { echo $(( $(date +%s) - started )); }
note() { echo "$1" >> "$out/summary.txt"; say "$1"; }

# ---------------------------------------------------------------- what to run
# gradcheck --pass tornado on every loss the project has: one line per run, "name|arguments".
# Every random shape compiles the kernels once (seconds): few trials, the edge set included.
if [ "$quick" = 1 ]; then
  gradchecks=("lsoftmax|--losses lsoftmax --margins 1,4 --betas 0 --trials 1")
  shapes=(256x64x10)
  margins=4
  jmh=(--forks 1 --warmup 2 --iterations 2 --iteration-seconds 1)
  torch_reps=(--warmup 3 --reps 10)
else
  gradchecks=("lsoftmax|--losses lsoftmax --margins 1,4,8 --betas 0,1000 --trials 1"
              "sphereface|--losses sphereface --margins 4 --betas 0,1000 --trials 1"
              "cosface|--losses cosface --scales 64 --betas 0,1000 --trials 1"
              "arcface|--losses arcface --scales 64 --betas 0,1000 --trials 1"
              "combined|--losses combined --scales 64 --betas 0,1000 --trials 1")
  shapes=(256x512x10 256x512x1000 1024x512x10000 256x64x10)
  margins=1,4
  jmh=(--forks 1 --warmup 2 --iterations 3 --iteration-seconds 1)
  torch_reps=(--warmup 10 --reps 50)
fi

# part NAME MAX_SECONDS COMMAND...: runs COMMAND (a program, or a function of this script whose
# commands run under `lim`) within MAX_SECONDS, capped by what is left of the budget.
part_end=0
lim() {  # COMMAND...: runs it under timeout until the current part's end (process group killed)
  local t=$(( part_end - $(date +%s) ))
  [ "$t" -gt 0 ] || return 124
  timeout -k 10 "$t" "$@"
}
part() {
  local name=$1 max=$2 left limit rc t0; shift 2
  left=$(( deadline - $(date +%s) - final_reserve ))
  limit=$(( max < left ? max : left ))
  if [ "$limit" -lt 10 ]; then
    note "SKIPPED $name: out of time (budget ${budget}s)"; failures=$((failures + 1)); return 1
  fi
  say "== $name (limit ${limit}s, at $(elapsed)s)"
  t0=$(date +%s)
  part_end=$(( t0 + limit ))
  if declare -F "$1" >/dev/null; then "$@"; else lim "$@"; fi
  rc=$?
  if [ "$rc" = 0 ]; then
    note "ok $name ($(( $(date +%s) - t0 ))s)"
  elif [ "$rc" = 124 ] || [ "$rc" = 137 ] || [ "$(date +%s)" -ge "$part_end" ]; then
    note "TIMED OUT $name after ${limit}s"; failures=$((failures + 1))
  else
    note "FAILED $name (exit $rc, $(( $(date +%s) - t0 ))s)"; failures=$((failures + 1))
  fi
  return "$rc"
}

say "kit $kit ($(sed -n 's/^kit_id=//p' "$kit/KIT_INFO" 2>/dev/null)), out $out, budget ${budget}s, $([ "$quick" = 1 ] && echo quick || echo full) run"
say "host $(uname -srm), $(nproc 2>/dev/null || echo '?') CPUs"
unset JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS CLASSPATH

# ---------------------------------------------------------------- unpack
kit_id=$(sed -n 's/^kit_id=//p' "$kit/KIT_INFO" 2>/dev/null || echo unknown)
unpack_into() {  # DIR: unpacks the payload there (once per kit id)
  local target=$1 archive name
  if [ -f "$target/.complete" ] && [ "$(cat "$target/.complete")" = "$kit_id" ]; then
    say "runtime already unpacked in $target"; return 0
  fi
  rm -rf "$target" "$target.partial"
  mkdir -p "$target.partial" || return 1
  for archive in "$kit"/payload/*.tar.xz; do
    name=$(basename "$archive" .tar.xz)
    mkdir -p "$target.partial/$name"
    if xz --version >/dev/null 2>&1; then
      lim bash -c 'xz -dc "$1" | tar -C "$2" -xf -' unpack "$archive" "$target.partial/$name" || { rm -rf "$target.partial"; return 1; }
    else
      # no xz binary: Python's lzma module
      lim "${python:-python3}" -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' \
        "$archive" "$target.partial/$name" || { rm -rf "$target.partial"; return 1; }
    fi
  done
  echo "$kit_id" > "$target.partial/.complete"
  mv "$target.partial" "$target"
}
# Python: the first of these that imports torch (else the first there is, for unpacking without xz).
python=${LSOFTMAX_KIT_PYTHON:-} torch_probe=""
for candidate in ${python:-python3 python /usr/bin/python3 /usr/local/bin/python3}; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  [ -n "$python" ] || python=$(command -v "$candidate")
  if torch_probe=$("$candidate" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>/dev/null); then
    python=$(command -v "$candidate"); break
  fi
  torch_probe=""
done
do_unpack() {
  local base
  # last resort inside the kit: not on a machine that carries kit/ elsewhere (144 MiB unpacked)
  for base in "${LSOFTMAX_KIT_UNPACK:-${TMPDIR:-/tmp}/lsoftmax-kit}" "${HOME:-/nonexistent}/.cache/lsoftmax-kit" "$kit/.unpacked"; do
    if unpack_into "$base" && lim "$base/jre/bin/java" -version >/dev/null 2>&1; then
      echo "$base" > "$out/.unpacked-at"; return 0
    fi
    say "could not unpack into or run from $base (no space, or mounted noexec?); trying the next place"
  done
  return 1
}
if ! part "unpack the runtime" 120 do_unpack; then
  say "cannot continue without the runtime"; exit 1
fi
u=$(cat "$out/.unpacked-at"); rm -f "$out/.unpacked-at"
say "runtime in $u ($(du -sm "$u" | cut -f1) MiB unpacked)"
sed -e "s#@TORNADO@#$u/tornado#g" "$u/tornado/tornado-argfile.in" > "$u/tornado-argfile"
fontconfig=()
if [ -f "$u/jre/lib/fonts/DejaVuSans.ttf" ]; then
  cat > "$u/fontconfig.properties" <<EOF
version=1
sequence.allfonts=default
$(for family in dialog sansserif serif monospaced dialoginput; do
    printf '%s.plain=DejaVu Sans\n%s.bold=DejaVu Sans Bold\n%s.italic=DejaVu Sans\n%s.bolditalic=DejaVu Sans Bold\n' \
      "$family" "$family" "$family" "$family"
  done)
filename.DejaVu_Sans=$u/jre/lib/fonts/DejaVuSans.ttf
filename.DejaVu_Sans_Bold=$u/jre/lib/fonts/DejaVuSans-Bold.ttf
EOF
  fontconfig=("-Dsun.awt.fontconfig=$u/fontconfig.properties")
fi
export JAVA_HOME=$u/jre TORNADO_SDK=$u/tornado TORNADOVM_HOME=$u/tornado
export LD_LIBRARY_PATH="$u/native:$u/tornado/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
say "C library: $(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown) (the kit's libOpenCL.so.1 needs glibc >= 2.34)"
# The carried ICD loader is Debian's; on an older C library use the machine's own loader (CUDA ships one).
if command -v ldd >/dev/null && ldd "$u/native/libOpenCL.so.1" 2>&1 | grep -q 'not found'; then
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    if [ -e "$d/libOpenCL.so.1" ]; then
      say "the kit's libOpenCL.so.1 cannot load here ($(ldd "$u/native/libOpenCL.so.1" 2>&1 | grep 'not found' | head -1 | xargs)); using $d/libOpenCL.so.1"
      export LD_LIBRARY_PATH="$d:$LD_LIBRARY_PATH"   # found before the kit's copy
      break
    fi
  done
fi

# ---------------------------------------------------------------- the OpenCL driver
# The NVIDIA OpenCL driver (libnvidia-opencl.so.1): in the usual places, then the loader's cache,
# an existing ICD file, and last a bounded search of the file system.
find_nvidia_opencl() {
  local d f
  if [ -n "${LSOFTMAX_NVIDIA_OPENCL:-}" ] && [ -f "$LSOFTMAX_NVIDIA_OPENCL" ]; then echo "$LSOFTMAX_NVIDIA_OPENCL"; return; fi
  local IFS_old=$IFS; IFS=:
  local ldpath=(${LD_LIBRARY_PATH:-}); IFS=$IFS_old
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib \
           /lib/x86_64-linux-gnu /lib64 /usr/local/cuda/compat /usr/lib/wsl/lib "${ldpath[@]}"; do
    for f in "$d"/libnvidia-opencl.so.1 "$d"/libnvidia-opencl.so.[0-9]*; do
      [ -f "$f" ] && { echo "$f"; return; }
    done
  done
  f=$( (ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null) | awk '/libnvidia-opencl\.so/ {print $NF; exit}')
  [ -n "$f" ] && [ -f "$f" ] && { echo "$f"; return; }
  for f in /etc/OpenCL/vendors/*nvidia*.icd; do
    [ -f "$f" ] || continue
    d=$(head -1 "$f")
    case "$d" in /*) [ -f "$d" ] && { echo "$d"; return; } ;; esac
  done
  timeout 30 find / -maxdepth 7 \( -path /proc -o -path /sys -o -path /dev -o -path "$u" -o -path "$kit" \) -prune -o \
    -name 'libnvidia-opencl.so*' -print 2>/dev/null | head -1
}
nvidia_opencl=$(find_nvidia_opencl)
gpu=0
if [ -n "$nvidia_opencl" ]; then
  gpu=1
  mkdir -p "$u/icd"
  echo "$nvidia_opencl" > "$u/icd/nvidia.icd"
  export OCL_ICD_VENDORS=$u/icd
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$(dirname "$nvidia_opencl")"
  say "NVIDIA OpenCL driver: $nvidia_opencl (ICD file $u/icd/nvidia.icd, OCL_ICD_VENDORS=$u/icd)"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/run.sh: GPU: /'
else
  note "SKIPPED the GPU-specific parts (NVIDIA ICD file, torch on CUDA): no NVIDIA OpenCL driver (libnvidia-opencl.so.1) found; OpenCL devices come from this machine's ICD files (/etc/OpenCL/vendors)"
fi
matmul=${LSOFTMAX_MATMUL:-$([ "$gpu" = 1 ] && echo tiled || echo auto)}
say "matrix-product kernels: -Dlsoftmax.tornado.matmul=$matmul"
app=$u/app/lsoftmax-bench.jar
# A private java.io.tmpdir: JMH's lock file lives there, and another JMH run on the same machine would
# otherwise stop the comparison ("Unable to acquire the JMH lock").
jtmp=$(mktemp -d "${TMPDIR:-/tmp}/lsoftmax-kit-run.XXXXXX") && trap 'rm -rf "$jtmp"' EXIT
java_tornado=("$u/jre/bin/java" "@$u/tornado-argfile" --add-modules jdk.incubator.vector -Djava.awt.headless=true "-Djava.io.tmpdir=$jtmp"
  "${fontconfig[@]}" "-Dlsoftmax.tornado.matmul=$matmul" -cp "$app")
java_plain=("$u/jre/bin/java" --add-modules jdk.incubator.vector -Djava.awt.headless=true "-Djava.io.tmpdir=$jtmp" "${fontconfig[@]}" -cp "$app")
cd "$u" || exit 1

# ---------------------------------------------------------------- devices
part "devices" 60 "${java_tornado[@]}" org.lsoftmax.cli.Main devices > "$out/devices.txt" 2>&1
grep -v 'WARNING: Using incubator' "$out/devices.txt"
mapfile -t all_devices < <(awk '$1 ~ /^[0-9]+:[0-9]+$/ {print $1}' "$out/devices.txt")
mapfile -t gpu_devices < <(awk '$1 ~ /^[0-9]+:[0-9]+$/ && $3 == "GPU" {print $1}' "$out/devices.txt")
if [ "$gpu" = 1 ] && [ ${#gpu_devices[@]} -gt 0 ]; then devices=("${gpu_devices[@]}"); else devices=("${all_devices[@]}"); fi
if [ ${#devices[@]} -eq 0 ]; then
  note "FAILED no TornadoVM device listed (see devices.txt): the tornado rows and gradcheck are skipped"
  failures=$((failures + 1))
else
  say "TornadoVM devices used: ${devices[*]}"
fi

# ---------------------------------------------------------------- torch: which device
torch_device="" have_numpy=0
if [ -n "$torch_probe" ]; then
  "$python" -c 'import numpy' >/dev/null 2>&1 && have_numpy=1
  say "python $python: $torch_probe"
  if [ "$gpu" = 1 ] && [ "${torch_probe##* }" = True ]; then
    torch_device=cuda
  elif [ "$gpu" = 1 ]; then
    note "SKIPPED torch on CUDA: torch.cuda.is_available() is False; timing torch on the CPU at 256x64x10 only"
    torch_device=cpu
  else
    say "torch on CUDA skipped (no NVIDIA driver); a CPU smoke test of torch_step.py at 256x64x10 instead"
    torch_device=cpu
  fi
else
  note "SKIPPED torch (twin check and timing): no python with torch (tried ${LSOFTMAX_KIT_PYTHON:-python3, python, /usr/bin/python3, /usr/local/bin/python3})"
fi

# ---------------------------------------------------------------- the torch twin's formulas
twin_check() {
  local dir=$u/twin case margin beta cases=()
  rm -rf "$dir"; mkdir -p "$dir"
  lim "$python" "$kit/torch_step.py" make-inputs "$dir" --shape 24x6x5 --seed 7 || return 1
  for case in 4:0 3:1.5 1:0; do
    margin=${case%%:*} beta=${case#*:}
    lim "${java_plain[@]}" org.lsoftmax.cli.Main eval --x "$dir/X.npy" --w "$dir/W.npy" --y "$dir/y.npy" \
      --margin "$margin" --beta "$beta" --pass reference --out "$dir/m$margin" >/dev/null || return 1
    cases+=("$dir/m$margin:$margin:$beta")
  done
  lim "$python" "$kit/torch_step.py" verify "$dir" "${cases[@]}"
}
if [ -n "$torch_device" ] && [ "$have_numpy" = 0 ]; then
  note "SKIPPED the twin check: $python has torch but not numpy (to read the .npy files of eval)"
elif [ -n "$torch_device" ]; then
  part "twin check (torch_step.py vs the reference pass, float64)" 60 twin_check > "$out/twin-check.txt" 2>&1
  cat "$out/twin-check.txt"
fi

# ---------------------------------------------------------------- gradcheck --pass tornado
gradcheck_run() {  # NAME ARGS...: fails also when the tornado pass fell back to the jvm pass
  local name=$1 file=$out/gradcheck-$1.txt; shift
  lim "${java_tornado[@]}" -Dtornado.recover.bailout=False org.lsoftmax.cli.Main gradcheck --pass tornado \
    --device "${devices[0]}" "$@" > "$file" 2>&1
  local rc=$?
  grep -v 'WARNING: Using incubator' "$file"
  if grep -q 'pass instead' "$file"; then echo "run.sh: the tornado pass fell back to the JVM (see above)"; return 3; fi
  return $rc
}
if [ ${#devices[@]} -gt 0 ]; then
  for entry in "${gradchecks[@]}"; do
    # shellcheck disable=SC2086
    part "gradcheck ${entry%%|*} --pass tornado --device ${devices[0]} ${entry#*|}" $([ "$quick" = 1 ] && echo 90 || echo 150) \
      gradcheck_run "${entry%%|*}" ${entry#*|}
  done
fi

# ---------------------------------------------------------------- merge and chart
# Joins the per-shape CSVs of DeviceComparison and the torch rows into $out/device-comparison.csv
# (same columns; torch rows as pass torch@DEVICE and torch@DEVICE+copies). The ceiling of a shape is
# the fastest three-product benchmark of the run, now including cuBLAS's; the torch ratio table
# goes to $out/tornado-vs-torch.csv.
merge_results() {
  local csvs=() file torch=$out/torch-step.csv
  for file in "$out"/comparison/*/device-comparison.csv; do [ -f "$file" ] && csvs+=("$file"); done
  [ ${#csvs[@]} -gt 0 ] || [ -f "$torch" ] || return 0
  awk -F, -v torch="$torch" -v ratio="$out/tornado-vs-torch.csv" '
    function isnum(v) { return v ~ /^[-+]?[0-9]*[.]?[0-9]+([eE][-+]?[0-9]+)?$/ }
    function num(v) { return isnum(v) ? v : "NaN" }
    FNR == 1 || !isnum($4) { next }                       # headers
    { n++; shape[n] = $1; margin[n] = $2; pass[n] = $3; ms[n] = $4; err[n] = num($5); first[n] = $10
      if (isnum($7) && $7 + 0 > ceil[$1]) ceil[$1] = $7 + 0
      if ($3 == "jvm") jvm[$1 "/" $2] = $4 }
    END {
      while (torch != "" && (getline line < torch) > 0) {
        # shape,margin,device,dtype,step_ms,step_iqr_ms,copies_ms,copies_iqr_ms,gemm3_ms,first_step_ms,...
        split(line, f, ","); if (!isnum(f[5])) continue
        split(f[1], s, "x"); flops = 6 * s[1] * s[2] * s[3]
        if (isnum(f[9]) && f[9] > 0 && flops / (f[9] * 1e6) > ceil[f[1]]) ceil[f[1]] = flops / (f[9] * 1e6)
        n++; shape[n] = f[1]; margin[n] = f[2]; pass[n] = "torch@" f[3]; ms[n] = f[5]; err[n] = num(f[6]); first[n] = f[10]
        tms[f[1] "/" f[2]] = f[5]
        if (isnum(f[7])) { n++; shape[n] = f[1]; margin[n] = f[2]; pass[n] = "torch@" f[3] "+copies"; ms[n] = f[7]; err[n] = num(f[8]); first[n] = "" }
      }
      print "shape,margin,pass,median_ms,error_ms,gflops,ceiling_gflops,percent_of_ceiling,ratio_to_jvm,first_step_ms"
      print "shape,margin,tornado_pass,tornado_ms,torch_ms,tornado_over_torch" > ratio
      for (i = 1; i <= n; i++) {
        split(shape[i], s, "x"); flops = 6 * s[1] * s[2] * s[3]
        g = flops / (ms[i] * 1e6); c = ceil[shape[i]] + 0
        j = jvm[shape[i] "/" margin[i]]
        printf "%s,%s,%s,%.4f,%s,%.2f,%s,%s,%s,%s\n", shape[i], margin[i], pass[i], ms[i], err[i], g,
          (c > 0 ? sprintf("%.2f", c) : "NaN"), (c > 0 ? sprintf("%.1f", 100 * g / c) : "NaN"),
          (j != "" ? sprintf("%.3f", j / ms[i]) : "NaN"), (isnum(first[i]) ? first[i] : "")
        t = tms[shape[i] "/" margin[i]]
        if (pass[i] ~ /^tornado/ && t != "")
          printf "%s,%s,%s,%.4f,%.4f,%.2f\n", shape[i], margin[i], pass[i], ms[i], t, ms[i] / t > ratio
      }
    }' "${csvs[@]}" /dev/null > "$out/device-comparison.csv.tmp" && mv "$out/device-comparison.csv.tmp" "$out/device-comparison.csv"
  timeout 20 "${java_plain[@]}" org.lsoftmax.bench.DeviceComparison --replot "$out/device-comparison.csv" --out "$out" \
    > "$out/replot.txt" 2>&1 || { say "the chart failed:"; grep -v '^\s*at ' "$out/replot.txt" | head -5 >&3; return 1; }
}

# ---------------------------------------------------------------- torch timing
if [ -n "$torch_device" ]; then
  if [ "$torch_device" = cuda ]; then torch_shapes=$(IFS=,; echo "${shapes[*]}"); torch_margins=$margins
  else torch_shapes=256x64x10; torch_margins=4; fi
  part "torch_step.py on $torch_device ($torch_shapes, m $torch_margins)" 90 \
    "$python" "$kit/torch_step.py" time --device "$torch_device" --shapes "$torch_shapes" --margins "$torch_margins" \
    "${torch_reps[@]}" --out "$out/torch-step.csv"
  merge_results
fi

# ---------------------------------------------------------------- the device comparison
passes=jvm
for device in "${devices[@]}"; do passes="$passes,tornado@$device"; done
comparison_shape() {  # SHAPE
  mkdir -p "$out/comparison/$1"
  lim "${java_tornado[@]}" org.lsoftmax.bench.DeviceComparison --shapes "$1" --margins "$margins" --passes "$passes" \
    "${jmh[@]}" --out "$out/comparison/$1" > "$out/comparison/$1/log.txt" 2>&1
  local rc=$?
  sed -n '/^device-comparison: .*first step/p; /^shape NxDxC/,/^(ceiling/p' "$out/comparison/$1/log.txt"
  [ "$rc" = 0 ] || tail -5 "$out/comparison/$1/log.txt"
  return $rc
}
for shape in "${shapes[@]}"; do
  part "device comparison $shape (m $margins, $passes)" 150 comparison_shape "$shape"
  merge_results
done

# ---------------------------------------------------------------- summary
merge_results
if [ -f "$out/tornado-vs-torch.csv" ] && [ "$(wc -l < "$out/tornado-vs-torch.csv")" -gt 1 ]; then
  say "tornado vs torch ($torch_device), ms per step:"
  column -t -s, "$out/tornado-vs-torch.csv" 2>/dev/null || cat "$out/tornado-vs-torch.csv"
fi
say "summary ($(elapsed)s):"
sed 's/^/  /' "$out/summary.txt"
say "files in $out: $(cd "$out" && ls | tr '\n' ' ')"
if [ "$failures" = 0 ]; then say "all parts passed"; status=0
else say "$failures part(s) failed or were skipped for time"; status=1; fi
exec >&- 2>&- 3>&-
wait "$tee_pid" 2>/dev/null
exit "$status"
