#!/usr/bin/env bash
# Downloads the four MNIST files into DIR (default ./data/mnist) and checks the SHA-256 of their
# decompressed bytes, which are the same whichever mirror or gzip produced the .gz files.
set -euo pipefail

dir=${1:-data/mnist}
mirrors=(
  "https://ossci-datasets.s3.amazonaws.com/mnist"
  "https://storage.googleapis.com/cvdf-datasets/mnist"
)
declare -A sha256=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)

command -v curl >/dev/null || { echo "get-mnist.sh: curl is needed (apt-get install curl)" >&2; exit 1; }
mkdir -p "$dir"
for name in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  target="$dir/$name.gz"
  if [ -f "$target" ] && [ "$(gzip -dc "$target" | sha256sum | cut -d' ' -f1)" = "${sha256[$name]}" ]; then
    echo "$target: present and verified"
    continue
  fi
  ok=0
  for mirror in "${mirrors[@]}"; do
    if curl -fsSL --retry 2 -o "$target.part" "$mirror/$name.gz"; then
      got=$(gzip -dc "$target.part" 2>/dev/null | sha256sum | cut -d' ' -f1 || true)
      if [ "$got" = "${sha256[$name]}" ]; then
        mv "$target.part" "$target"
        echo "$target: downloaded from $mirror and verified"
        ok=1
        break
      fi
      echo "get-mnist.sh: $mirror/$name.gz has SHA-256 $got (decompressed), expected ${sha256[$name]}; trying the next mirror" >&2
    fi
  done
  rm -f "$target.part"
  [ $ok = 1 ] || { echo "get-mnist.sh: could not fetch a verified $name.gz from any mirror" >&2; exit 1; }
done
