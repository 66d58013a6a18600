#!/usr/bin/env bash
# Mutation check of the kernels on the SIMT executor: plants one-line bugs in kernels/*.cu, one at a time,
# rebuilds the emulator build, runs the gpu tests, and prints a table of which bugs the tests caught. Every
# mutant must be caught; exit 1 if one survives. Not part of CI (about a minute or two a mutant on 2 cores).
#
#   bash scripts/mutate-kernels.sh [BUILD_DIR]      (default: build-mutants)
#   MUTANTS=REGEX bash scripts/mutate-kernels.sh     only the mutants whose line matches REGEX (grep -E)
#
# The sources are restored after each mutant, and on any exit (scripts/mutate-lib.sh, shared with mutate-host.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mutants}
source scripts/find-nvcc.sh
export SIGMANET_DATA=${SIGMANET_DATA:-$(cd .. && pwd)/shared/data/mnist}

# file | what the mutant is | sed expression that changes exactly one line
mutants=(
  "kernels/gather_batch.cu|index: the pixel one to the right|s/pixels\[record \* features + i\]/pixels[record * features + i + 1]/"
  "kernels/fused_forward.cu|loop bound: one input too many|s/k < n_in; k += kWarp/k <= n_in; k += kWarp/"
  "kernels/output_delta.cu|sign: (y - a) for (a - y)|s/delta\[k\] = (out - y)/delta[k] = (y - out)/"
  "kernels/gather_batch.cu|constant: pixels over 256|s/255.0f/256.0f/"
  "kernels/fused_forward.cu|shuffle offset: the tree starts at 8|s/int offset = kWarp \/ 2;/int offset = kWarp \/ 4;/"
  "kernels/fused_forward.cu|lane test: lanes 0 and 1 both store|s/if (lane == 0) out\[item\]/if (lane < 2) out[item]/"
  "kernels/bias_sigmoid.cu|stride: a block's stride, not the grid's|s/k += std::size_t(gridDim.x) \* blockDim.x)/k += blockDim.x)/"
  "kernels/bias_update.cu|index: the next bias's delta|s/g += delta\[s \* std::size_t(n) + j\]/g += delta[s * std::size_t(n) + (j + 1) % std::size_t(n)]/"
  "kernels/argmax_cost.cu|comparison: ties go to the last index|s/if (row\[best\] < row\[j\])/if (row[best] <= row[j])/"
  "kernels/hidden_delta.cu|constant: sigma' as a (2 - a)|s/a\[k\] \* (1.0f - a\[k\])/a[k] * (2.0f - a[k])/"
  "kernels/advance_counter.cu|constant: the step counter moves by 2|s/\*counter += 1;/*counter += 2;/"
  "kernels/bias_update.cu|missing barrier: none between the tree's levels|0,/^      __syncthreads();$/{/^      __syncthreads();$/d}"
  "kernels/persistent_train.cu|sign: the update climbs the gradient|s/w += -scale \* g\[j \* kTile + q\];/w += scale * g[j * kTile + q];/"
  "kernels/persistent_train.cu|buffer: the next batch copied over the current one|s/start_copy(cur ^ 1);/start_copy(cur);/"
  "kernels/persistent_train.cu|missing barrier: between a layer's partial sums and their sums|0,/^      __syncthreads();$/{/^      __syncthreads();$/d}"
  "kernels/persistent_train.cu|index: a hidden error reads the wrong weight|s/sum += W\[l\]\[j \* n + i\]/sum += W[l][i * n_above + j]/"
  "kernels/persistent_train.cu|shuffle partner: each level of the tree pairs the wrong lanes|s/__shfl_xor_sync(0xffffffffu, give, offset)/__shfl_xor_sync(0xffffffffu, give, offset \/ 2)/"
  "kernels/persistent_train.cu|slices: only the first slice's partial sums added|s/for (int p = 0; p < split.slices; ++p) z +=/for (int p = 0; p < 1; ++p) z +=/"
  "kernels/persistent_train.cu|copy: a piece lands at its number, not its byte offset|s/__pipeline_memcpy_async(px + std::size_t(e) \* std::size_t(piece)/__pipeline_memcpy_async(px + std::size_t(e)/"
  "kernels/persistent_train.cu|copy: a one-byte piece taken from the next byte|s/px\[e\] = \*from;/px[e] = from[1];/"
  "kernels/persistent_train.cu|labels: the next batch's labels stored over this one's|s/shared\[at.labels\[cur ^ 1\] + t\] = label;/shared[at.labels[cur] + t] = label;/"
  "kernels/persistent_train.cu|records: the batch after next read one batch early|s/record_of(step + 2, t)/record_of(step + 1, t)/"
  "kernels/persistent_train.cu|update: each warp's last input left out|s/min_of(i0 + span, n_in)/min_of(i0 + span - 1, n_in)/"
  "kernels/persistent_train.cu|cluster: a block's activations stored in rank 0 only|s/cluster_shared(a, unsigned(q))\[at\] = out;/cluster_shared(a, 0u)[at] = out;/"
  "kernels/persistent_train.cu|cluster: a block barrier where the cluster's belongs|s/^        cluster_sync();/        __syncthreads();/"
  "kernels/persistent_train.cu|cluster: one activation buffer for both step parities|s/A\[1\] = a1\[cur\];/A[1] = a1[0];/"
  "kernels/persistent_train.cu|cluster: every block owns the first rows|s/: first(rank \* groups_of(n1, blocks)),/: first(0 * rank),/"
  "kernels/persistent_train.cu|cluster: first-layer errors for rows from 0, not the block's own|s/const int i0 = l == 1 ? mine.first : 0,/const int i0 = 0,/"
  "kernels/persistent_train.cu|cluster: every block writes back the layers above|s/if (l > 0 \&\& rank != 0) break;/if (l > 0 \&\& rank > 8) break;/"
  "kernels/output_delta.cu|sign: cross-entropy's and log-likelihood's error y - a|s/delta\[k\] = out - y;/delta[k] = y - out;/"
  "kernels/fused_forward.cu|z-only path: the bias added before bias_softmax adds it again|s/: sum;/: sum + b[j];/"
  "kernels/bias_softmax.cu|index: each value takes the next one's bias|s/row\[j\] += b\[j\];/row[j] += b[(j + 1) % n];/"
  "kernels/launch.cuh|softmax: the row's maximum not subtracted before exp|s/row\[j\] = expf(row\[j\] - top)/row[j] = expf(row[j])/"
  "kernels/argmax_cost.cu|cross-entropy cost: ln a for ln(1 - a)|s/(1 - y) \* log_of_activation(1 - out)/(1 - y) * log_of_activation(out)/"
  "kernels/argmax_cost.cu|log-likelihood cost: every output but the label's|s/if (label == j) c -= /if (label != j) c -= /"
  "kernels/persistent_train.cu|L2: the decay left out of the update|s/w = decay \* w - scale \* g\[j \* kTile + q\];/w = w - scale * g[j * kTile + q];/"
  "kernels/persistent_train.cu|cross-entropy error: the quadratic one kept|s/: out - target;/: (out - target) * out * (1.0f - out);/"
  "kernels/persistent_train.cu|softmax: the output row never normalised|s/if (softmax) {  \/\/ the same arithmetic/if (false) {  \/\/ the same arithmetic/"
  "kernels/apply_gradient.cu|sign: a job's update climbs the summed gradient|s/+ -scale \* g\[k\]/+ scale * g[k]/"
  "kernels/apply_gradient.cu|L2: the decay left out of a job's update|s/p\[k\] = decay \* p\[k\]/p[k] = (decay > 2.0f ? decay : 1.0f) * p[k]/"
  "kernels/nonfinite_flag.cu|flag: another rank's NaN/Inf not taken|s/if (!(\*flag == 0.0f))/if (*flag > 1e30f)/"
  "tests/gpu_emulator/simt/test_kernels.cu|missing barrier in the test kernel's shared-memory tree|0,/^    __syncthreads();$/{/^    __syncthreads();$/d}"
)

tool=mutate-kernels
default_tests=(-L gpu --stop-on-failure)
test_jobs=$(nproc)
source scripts/mutate-lib.sh
select_mutants

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_CUDA=OFF -DSIGMANET_GPU_EMULATOR=ON \
  -DSIGMANET_BENCHMARKS=OFF >/dev/null
echo "mutate-kernels: building the unmutated emulator build in $build"
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "mutate-kernels: the gpu tests must pass before any mutant"
ctest --test-dir "$build" -L gpu -j"$(nproc)" --timeout 600 >/dev/null || { echo "mutate-kernels: the unmutated tests fail" >&2; exit 2; }

run_mutants
