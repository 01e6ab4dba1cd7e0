#!/usr/bin/env bash
# The layers of sim/, lowest first: a file may include headers of its own layer and of the layers
# before it, never of a layer after it. Fails (exit 1) naming each upward include, and on a source
# file under sim/ outside a layer folder (main.cpp excepted). Usage: tests/check_layers.sh [SIM_DIR]
set -euo pipefail
sim=${1:-"$(cd "$(dirname "$0")/.." && pwd)/sim"}
layers=(base config model engines exact rare timeline run output sweep calibrate cli)
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done
bad=0
while IFS= read -r f; do
  rel=${f#"$sim"/}
  case "$rel" in
    main.cpp) continue ;;
    */*) ;;
    *) echo "$rel: outside a layer folder (sim/LAYER/)"; bad=1; continue ;;
  esac
  layer=${rel%%/*}
  if [ -z "${rank[$layer]+x}" ]; then echo "$rel: '$layer' is not a layer (${layers[*]})"; bad=1; continue; fi
  while IFS=: read -r line inc; do
    target=${inc%%/*}
    if [ "$inc" = "$target" ]; then
      echo "$rel:$line: #include \"$inc\" names no layer (write \"LAYER/$inc\")"; bad=1
    elif [ -z "${rank[$target]+x}" ]; then
      echo "$rel:$line: #include \"$inc\": '$target' is not a layer"; bad=1
    elif [ "${rank[$target]}" -gt "${rank[$layer]}" ]; then
      echo "$rel:$line: $layer/ includes \"$inc\" from the layer above it ($target/)"; bad=1
    fi
  done < <(grep -n '^#include "' "$f" | sed -E 's/^([0-9]+):#include "([^"]+)".*/\1:\2/')
done < <(find "$sim" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.in' \) | sort)
if [ "$bad" -ne 0 ]; then echo "layer check failed: order is ${layers[*]}"; exit 1; fi
echo "layers: $(find "$sim" -type f \( -name '*.cpp' -o -name '*.hpp' \) | wc -l) files, no upward include (${layers[*]})"
