#!/usr/bin/env bash
# Generated-code shapes that once took quadratic time or memory: writes each file, then
# times `aiex chunk --json` on it (seconds, peak RSS, output bytes) and, for the calls
# shape, the graph (`aiex index` then `aiex symbols --offline callees`).
# Usage: bench/generated.sh [N]   (default 20000; AIEX=path/to/aiex to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/aiex-target}"
n="${1:-20000}"
aiex="${AIEX:-}"
if [[ -z "$aiex" ]]; then
    cargo build --release -q -p aiex --bin aiex
    aiex="$CARGO_TARGET_DIR/release/aiex"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

gen() { # NAME: writes $work/NAME from an awk program over 0..n-1
    local name="$1" prog="$2"
    seq 0 $((n - 1)) | awk -v n="$n" "$prog" > "$work/$name"
}
gen calls.ex 'NR==1{print "defmodule P do\n  def big do"} {print "    f" $1 "()"} END{print "  end\nend"}'
gen body_aliases.ex 'NR==1{print "defmodule P do\n  def big do"} {print "    alias A.B" $1 "\n    B" $1 ".f()"} END{print "  end\nend"}'
gen module_aliases.ex '{a[NR]=$1} END{print "defmodule P do"; for(i=1;i<=NR;i++) print "  alias A.B" a[i]; print "  def big do"; for(i=1;i<=NR;i++) print "    B" a[i] ".f()"; print "  end\nend"}'
gen aliases_and_defs.ex '{a[NR]=$1} END{print "defmodule P do"; for(i=1;i<=NR;i++) print "  alias A.B" a[i]; for(i=1;i<=NR;i++) print "  def f" a[i] ", do: B" a[i] ".x()"; print "end"}'
gen imports_and_defs.ex '{a[NR]=$1} END{print "defmodule P do"; for(i=1;i<=NR;i++) print "  import A" a[i]; for(i=1;i<=NR;i++) print "  def f" a[i] "(x), do: g" a[i] "(x)"; print "end"}'
gen uses_and_defs.ex '{a[NR]=$1} END{print "defmodule P do"; for(i=1;i<=NR;i++) print "  use A" a[i]; for(i=1;i<=NR;i++) print "  def f" a[i] "(x), do: g" a[i] "(x)"; print "end"}'
gen impl_types.ex '{a[NR]=$1} END{printf "defimpl P, for: ["; for(i=1;i<=NR;i++) printf "%sA%d", (i>1?", ":""), a[i]; print "] do"; for(i=1;i<=NR;i++) print "  def f" a[i] "(x), do: g" a[i] "(x)"; print "end"}'
gen body_imports.ex 'NR==1{print "defmodule P do\n  def big(x) do"} {print "    import A" $1 "\n    g" $1 "(x)"} END{print "  end\nend"}'

printf '%-22s %9s %8s %10s %12s\n' file bytes seconds "rss (KB)" "chunks JSON"
for f in calls.ex body_aliases.ex module_aliases.ex aliases_and_defs.ex imports_and_defs.ex body_imports.ex uses_and_defs.ex impl_types.ex; do
    /usr/bin/time -o "$work/time" -f '%e %M' "$aiex" chunk "$work/$f" --json > "$work/out.json"
    bytes=$(stat -c %s "$work/$f")
    json=$(stat -c %s "$work/out.json")
    read -r secs rss < "$work/time"
    printf '%-22s %9s %8s %10s %12s\n' "$f" "$bytes" "$secs" "$rss" "$json"
done

# The graph of a caller of n functions, each called by name and through an import.
mkdir -p "$work/repo/lib"
seq 0 $((n - 1)) | awk 'NR==1{print "defmodule Q do"} {print "  def g" $1 ", do: " $1} END{print "end"}' > "$work/repo/lib/q.ex"
seq 0 $((n - 1)) | awk 'NR==1{print "defmodule P do\n  import Q\n  def big do"} {print "    Q.g" $1 "()\n    g" $1 "()"} END{print "  end\nend"}' > "$work/repo/lib/p.ex"
"$aiex" --data-dir "$work/data" index "$work/repo" --json > /dev/null
/usr/bin/time -f "graph: callees of P.big/0 in %e s, peak RSS %M KB" \
    "$aiex" --data-dir "$work/data" symbols --offline callees P.big/0 > /dev/null
