#!/usr/bin/env bash
# Whole-process figures of issue #17 and the README's growth table: wall
# time, user and system time, peak memory (max RSS) and page faults from
# `/usr/bin/time`, and the stage times the render prints (`time:` line),
# each render interleaved with the I/O floor (`examples/io_floor`: decode
# the photo, encode the same five files side by side) on the same photo.
#
#   cargo build --release --bin smp-render --example io_floor --example perf_inputs
#   benches/perf_table.sh main [RUNS]     # the 12 MP case, RUNS (9) interleaved pairs
#   benches/perf_table.sh stress [RUNS]   # ~900,000 dots, defaults off
#   benches/perf_table.sh photos [RUNS]   # growth: 1, 3, 12, 24, 48 MP, same head and dots
#   benches/perf_table.sh dots [RUNS]     # growth: 10k, 100k, 1M dots on the 12 MP photo
#   benches/perf_table.sh batch [RUNS]    # 20 x 12 MP on 2 threads against one job: peak memory
#
# Environment: BIN (default target/release/smp-render), FLOOR (default
# target/release/examples/io_floor), DIR (inputs and outputs, default
# /tmp/smp-perf). Prints one line per run and a median line per case:
# `case kind wall_s user_s sys_s maxrss_MB minflt majflt | decode region dots composite write (ms)`.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$here/target/release/smp-render}
FLOOR=${FLOOR:-$here/target/release/examples/io_floor}
INPUTS=${INPUTS:-$here/target/release/examples/perf_inputs}
DIR=${DIR:-/tmp/smp-perf}
what=${1:-main}
runs=${2:-9}
mkdir -p "$DIR"

# `inputs MP...`: makes the photos once; prints `MP path px_per_mm polygon`.
inputs() {
  local line mp
  for mp in "$@"; do
    if [ ! -s "$DIR/in-$mp.txt" ]; then "$INPUTS" "$DIR" "$mp" > "$DIR/in-$mp.txt"; fi
    cat "$DIR/in-$mp.txt"
  done
}

# `measure CASE KIND CMD...`: one run under /usr/bin/time; prints its line.
measure() {
  local case=$1 kind=$2; shift 2
  rm -rf "$DIR/out-$kind"
  local t; t=$(mktemp)
  local stages
  # The stage times are on stderr (stdout lists the files written).
  stages=$(/usr/bin/time -o "$t" -f '%e %U %S %M %R %F' "$@" 2>&1 >/dev/null | sed -n 's/^time: //p' \
    | sed 's/[a-z]* \([0-9]*\) ms,\{0,1\}/\1/g')
  read -r e u s m r f < "$t"; rm -f "$t"
  printf '%s %s %s %s %s %.0f %s %s | %s\n' "$case" "$kind" "$e" "$u" "$s" "$(echo "$m/1024" | bc -l)" "$r" "$f" "${stages:--}"
}

# `median FIELD`: the median of a column of numbers on stdin.
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

# `summary FILE`: median of each column, per case and kind.
summary() {
  grep -v "^#" "$1" | awk '{print $1, $2}' | sort -u | while read -r c k; do
    local line="$c $k median of $(grep -c "^$c $k " "$1"):"
    for col in 3 4 5 6 7 8; do
      line="$line $(grep "^$c $k " "$1" | awk -v c=$col '{print $c}' | median)"
    done
    if [ "$k" = render ]; then
      line="$line |"
      for col in 10 11 12 13 14; do
        line="$line $(grep "^$c $k " "$1" | awk -v c=$col '{print $c}' | median)"
      done
    fi
    echo "$line"
  done
}

# `pair CASE PHOTO ARGS...`: RUNS interleaved render / floor pairs.
pair() {
  local case=$1 photo=$2; shift 2
  local i
  for i in $(seq 1 "$runs"); do
    measure "$case" render "$BIN" render "$photo" "$@" --out "$DIR/out-render" | tee -a "$log"
    measure "$case" floor "$FLOOR" "$photo" "$DIR/out-floor" | tee -a "$log"
  done
}

log="$DIR/$what-$(date +%H%M%S).log"
: > "$log"
echo "# $what, $runs runs, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg), $BIN" | tee -a "$log"
case $what in
  main)
    read -r _ photo ppm poly < <(inputs 12)
    pair 12mp "$photo" --polygon "$poly" --px-per-mm "$ppm"
    ;;
  stress)
    # 2000 x 2000 px at 2 px/mm (100 x 100 cm), 90 dots/cm², nothing of the
    # defaults that look at the photo: about 900,000 dots.
    read -r _ photo _ _ < <(inputs 12)
    pair stress "$photo" --polygon "1000,500 3000,500 3000,2500 1000,2500" --px-per-mm 2 \
      --density 90 --clip-to-head false --keep-hair false --head-shape false
    ;;
  photos)
    while read -r mp photo ppm poly; do
      pair "${mp}mp" "$photo" --polygon "$poly" --px-per-mm "$ppm"
    done < <(inputs 1 3 12 24 48)
    ;;
  dots)
    # The 12 MP case at other scales: the same polygon holds about 10,000,
    # 100,000 and 1,000,000 dots (after clipping to the head).
    read -r _ photo _ poly < <(inputs 12)
    for d in "10k 16.5" "100k 4.15" "1M 1.32"; do
      set -- $d
      pair "dots-$1" "$photo" --polygon "$poly" --px-per-mm "$2"
    done
    ;;
  batch)
    read -r _ photo ppm poly < <(inputs 12)
    jobs="$DIR/jobs.toml"
    : > "$jobs"
    toml_poly="[$(echo "$poly" | sed 's/\([0-9.]*\),\([0-9.]*\)/[\1, \2]/g; s/\] \[/], [/g')]"
    for i in $(seq 1 20); do
      printf '[[job]]\nname = "j%s"\nphoto = "%s"\npolygon = %s\npx_per_mm = %s\nseed = %s\n' \
        "$i" "$photo" "$toml_poly" "$ppm" "$i" >> "$jobs"
    done
    for i in $(seq 1 "$runs"); do
      measure batch20 batch "$BIN" --threads 2 batch "$jobs" --out "$DIR/out-batch" --force | tee -a "$log"
      measure batch20 single "$BIN" --threads 2 render "$photo" --polygon "$poly" --px-per-mm "$ppm" --out "$DIR/out-render" | tee -a "$log"
    done
    ;;
  *) echo "unknown case $what (main, stress, photos, dots, batch)" >&2; exit 2 ;;
esac
echo "# medians: case kind wall_s user_s sys_s maxrss_MB minflt majflt | decode region dots composite write (ms)"
summary "$log"
echo "# log: $log"
