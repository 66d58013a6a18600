#!/usr/bin/env bash
# Mutation check of the kernels on the SIMT executor: plants one-line bugs in kernels/*.cu, one at a time,
# rebuilds the emulator build, runs the gpu tests, and prints a table of which bugs the tests caught. Every
# mutant must be caught; exit 1 if one survives. Not part of CI (about a minute or two a mutant on 2 cores).
#
#   bash scripts/mutate-kernels.sh [BUILD_DIR]      (default: build-mutants)
#   MUTANTS=REGEX bash scripts/mutate-kernels.sh     only the mutants whose line matches REGEX (grep -E)
#   bash scripts/mutate-kernels.sh --check           only that each mutant still changes one line (no build)
#   TESTS=REGEX ...                                   only the gpu tests whose name matches REGEX (ctest -R), for a
#                                                     quicker look at mutants of one kernel
#
# The sources are restored after each mutant, and on any exit (scripts/mutate-lib.sh, shared with mutate-host.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mutants}
source scripts/find-nvcc.sh
export SIGMANET_DATA=${SIGMANET_DATA:-$(cd .. && pwd)/shared/data/mnist}

# file | what the mutant is | sed expression that changes exactly one line (| tests: scripts/mutate-lib.sh)
mutants=(
  "kernels/gather_batch.cu|index: the feature one to the right|s/records_in\[record \* features + i\]/records_in[record * features + i + 1]/"
  "kernels/fused_forward.cu|loop bound: one input too many|s/k < n_in; k += kWarp) sum +=/k <= n_in; k += kWarp) sum +=/"
  "kernels/neuron_math.cuh|sign: the quadratic error (y - a) a (1 - a)|s/? (out - y) \* out \* (1.0f - out) :/? (y - out) * out * (1.0f - out) :/"
  "kernels/gather_batch.cu|constant: pixels over 256|s/255.0f/256.0f/"
  "kernels/fused_forward.cu|shuffle offset: the tree starts at 8|s/int offset = kWarp \/ 2;/int offset = kWarp \/ 4;/"
  "kernels/fused_forward.cu|lane test: lanes 0 and 1 both store|s/if (lane != 0) continue;/if (lane > 1) continue;/"
  "kernels/grid_stride.cuh|stride: a block's stride, not the grid's|s/std::size_t(gridDim.x) \* blockDim.x, count}/blockDim.x, count}/"
  "kernels/bias_update.cu|index: the next bias's delta|s/g += delta\[s \* std::size_t(n) + j\]/g += delta[s * std::size_t(n) + (j + 1) % std::size_t(n)]/"
  "kernels/argmax_cost.cu|comparison: ties go to the last index|s/if (row\[best\] < row\[j\])/if (row[best] <= row[j])/"
  "kernels/neuron_math.cuh|constant: sigma' as a (2 - a)|s/return a \* (1.0f - a);/return a * (2.0f - a);/"
  "kernels/advance_counter.cu|constant: the step counter moves by 2|s/\*counter += 1;/*counter += 2;/"
  "kernels/bias_update.cu|missing barrier: none between the tree's levels|0,/^      __syncthreads();$/{/^      __syncthreads();$/d}"
  "kernels/persistent_train.cu|sign: the update climbs the gradient|s/w.x = fmaf(-scale, grad.x, decay \* w.x);/w.x = fmaf(scale, grad.x, decay * w.x);/"
  "kernels/persistent_train.cu|buffer: the next batch copied over the current one|s/start_copy(cur ^ 1);/start_copy(cur);/"
  "kernels/persistent_train.cu|missing barrier: between the first layer's partial sums and their sum|/__syncthreads();  \/\/ model: phase forward first layer/d"
  "kernels/persistent_train.cu|index: a hidden error reads the wrong weight|s/dot(W + i, n, above + s \* n_above, 1, n_above)/dot(W + i * n_above, 1, above + s * n_above, 1, n_above)/"
  "kernels/persistent_train.cu|slots: only the first warp's partial sums added|s/sum4(p, warp_stride \/ 4, split.slots)/sum4(p, warp_stride \/ 4, 1)/"
  "kernels/persistent_train.cu|copy: a piece lands at its number, not its byte offset|s/__pipeline_memcpy_async(px + s \* at.columns + c, /__pipeline_memcpy_async(px + s * at.columns + c \/ piece, /"
  "kernels/persistent_train.cu|copy: a one-byte piece taken from the next byte|s/px\[s \* at.columns + c\] = \*row(s, c);/px[s * at.columns + c] = row(s, c)[1];/"
  "kernels/persistent_train.cu|copy: the next batch read before its copy is waited for|/^    __pipeline_wait_prior(0);$/d"
  "kernels/persistent_train.cu|labels: the next batch's labels stored over this one's|s/shared\[at.labels\[cur ^ 1\] + t\] = label;/shared[at.labels[cur] + t] = label;/"
  "kernels/persistent_train.cu|records: the batch after next read one batch early|s/record_of(step + 2, t)/record_of(step + 1, t)/"
  "kernels/persistent_train.cu|pixels: the second of four taken from the third|s/x_of\[four >> 8 \& 0xFFu\]/x_of[four >> 16 \& 0xFFu]/"
  "kernels/persistent_train.cu|columns: each warp's column groups step by one slot too few|s/for (int g = slot; g < column_groups; g += split.slots) {  \/\/ model: forward columns/for (int g = slot; g < column_groups; g += split.slots - 1) {  \/\/ model: forward columns/"
  "kernels/persistent_train.cu|update: the errors of the sample tile read a row too far|s/d\[s\] = D1\[s \* at.rows + row\];/d[s] = D1[(s + 1) * at.rows + row];/"
  "kernels/persistent_train.cu|bias: b1 left as it was|s/if (slot == 0 \&\& row < n1) {  \/\/ model: bias warps/if (slot < 0 \&\& row < n1) {  \/\/ model: bias warps/"
  "kernels/persistent_train.cu|cluster: the entry barrier removed|s/^    cluster_sync();$/    __syncthreads();/"
  "kernels/persistent_train.cu|cluster: every block's sums stored into rank 0 only|s/store_async(cluster_shared(slot_of_mine, unsigned(r)), z,/store_async(cluster_shared(slot_of_mine, 0u), z,/"
  "kernels/persistent_train.cu|cluster: every block's sums in rank 0's slot|s/received + (rank \* m + s) \* at.exchanged + 4 \* q;/received + s * at.exchanged + 4 * q;/"
  "kernels/persistent_train.cu|cluster: one exchange buffer for both step parities|s/floats(at.received\[cur\]);/floats(at.received[0]);/"
  "kernels/persistent_train.cu|cluster: the mbarrier expects one block's sums too few|s/mbarrier_expect(arrived, unsigned(blocks \* m \* at.exchanged)/mbarrier_expect(arrived, unsigned((blocks - 1) * m * at.exchanged)/"
  "kernels/persistent_train.cu|cluster: the wait for the exchange left out|/^      mbarrier_wait(arrived, unsigned(step >> 1) \& 1u);$/d"
  "kernels/persistent_train.cu|cluster: the wait for the phase of the wrong parity|s/mbarrier_wait(arrived, unsigned(step >> 1) \& 1u);/mbarrier_wait(arrived, unsigned(step) \& 1u);/"
  "kernels/persistent_train.cu|cluster: every block writes back the layers above|s/  if (rank == 0) {/  if (rank < 8) {/"
  "kernels/persistent_train.cu|cluster: a block's columns start where the next block's do|s/const int u0 = rank \* units \/ blocks, u1/const int u0 = (rank + 1) % blocks * units \/ blocks, u1/"
  "kernels/neuron_math.cuh|sign: cross-entropy's and log-likelihood's error y - a|s/: out - y;$/: y - out;/"
  "kernels/fused_forward.cu|z-only path: the bias added before bias_softmax adds it again|s/      out\[item\] = sum;/      out[item] = sum + b[j];/"
  "kernels/bias_softmax.cu|index: each value takes the next one's bias|s/row\[j\] += b\[j\];/row[j] += b[(j + 1) % n];/"
  "kernels/neuron_math.cuh|softmax: the row's maximum not subtracted before exp|s/row\[j\] = expf(row\[j\] - top)/row[j] = expf(row[j])/"
  "kernels/argmax_cost.cu|cross-entropy cost: ln a for ln(1 - a)|s/(1 - y) \* log_of_activation(1 - out)/(1 - y) * log_of_activation(out)/"
  "kernels/argmax_cost.cu|log-likelihood cost: every output but the label's|s/if (label == j) c -= /if (label != j) c -= /"
  "kernels/persistent_train.cu|L2: the decay left out of the first layer's update|s/w.y = fmaf(-scale, grad.y, decay \* w.y);/w.y = fmaf(-scale, grad.y, w.y);/"
  "kernels/persistent_train.cu|cross-entropy error: the quadratic one kept|s/output_error(update.cost, out, target)/output_error(Cost::quadratic, out, target)/"
  "kernels/persistent_train.cu|softmax: the output row never normalised|s/if (softmax) {  \/\/ model: softmax/if (false) {  \/\/ model: softmax/"
  "kernels/persistent_train.cu|runs: every cluster takes the first run's eta|s/if constexpr (kMany) return runs.run\[run\].scale;/if constexpr (kMany) return runs.run[0].scale;/"
  "kernels/persistent_train.cu|runs: a cluster of many takes its neighbour's order|s/if constexpr (kMany) return runs.run\[run\].order\[k\];/if constexpr (kMany) return runs.run[(run + 1) % 2].order[k];/"
  "kernels/apply_gradient.cu|sign: a job's update climbs the summed gradient|s/+ -scale \* g\[k\]/+ scale * g[k]/"
  "kernels/apply_gradient.cu|L2: the decay left out of a job's update|s/p\[k\] = decay \* p\[k\]/p[k] = (decay > 2.0f ? decay : 1.0f) * p[k]/"
  "kernels/nonfinite_flag.cu|flag: another rank's NaN/Inf not taken|s/if (!(\*flag == 0.0f))/if (*flag > 1e30f)/"
  "kernels/gather_batch.cu|values: a float feature scaled as a pixel|s/float input_of(float value) { return value; }/float input_of(float value) { return value \/ 255.0f; }/"
  "kernels/fused_forward.cu|values: every gathered float feature read one to the right|s/return extra.values;/return extra.values + 1;/"
  "tests/gpu_emulator/simt/test_kernels.cu|missing barrier in the test kernel's shared-memory tree|0,/^    __syncthreads();$/{/^    __syncthreads();$/d}"
)

tool=mutate-kernels
default_tests=(-L gpu ${TESTS:+-R "$TESTS"} --stop-on-failure)
test_jobs=$(nproc)
source scripts/mutate-lib.sh
select_mutants
[[ "${1:-}" != --check ]] || { check_mutants_apply; exit 0; }

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_CUDA=OFF -DSIGMANET_GPU_EMULATOR=ON \
  -DSIGMANET_BENCHMARKS=OFF >/dev/null
echo "mutate-kernels: building the unmutated emulator build in $build"
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "mutate-kernels: the gpu tests must pass before any mutant"
ctest --test-dir "$build" -L gpu ${TESTS:+-R "$TESTS"} -j"$(nproc)" --timeout 600 >/dev/null ||
  { echo "mutate-kernels: the unmutated tests fail" >&2; exit 2; }

run_mutants
