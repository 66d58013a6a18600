#!/usr/bin/env bash
# Mutation check of the host code: plants one-line bugs in host/ (training, the oracle, the CPU backends, formats, the
# CLI and reports) and scripts/, one at a time, rebuilds a CPU-only build incrementally, runs the tests written to catch
# that bug (each entry names them), and prints a table of which tests caught which bug. Every mutant must be
# caught by its own tests, not by whatever else happens to fail; exit 1 if one survives. A mutant costs the rebuild
# of one file, the library, the CLI and the named tests, and those tests: 5-120 s on 2 busy cores with ccache, all
# of them about 25 minutes. CI runs a fixed sample of three (scripts/test-all.sh: 56 s without ccache).
#
#   bash scripts/mutate-host.sh [BUILD_DIR]     (default: build-mutants-host, configured CPU-only if new; an
#                                                existing build is used as it is configured)
#   MUTANTS=REGEX bash scripts/mutate-host.sh    only the mutants whose line matches REGEX (grep -E)
#   bash scripts/mutate-host.sh --check         only that each mutant still changes one line (no build)
#
# The sources are restored after each mutant, and on any exit (scripts/mutate-lib.sh, shared with
# mutate-kernels.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-mutants-host}
export SIGMANET_DATA=${SIGMANET_DATA:-$(cd .. && pwd)/shared/data/mnist}

# file | what the mutant is | sed expression that changes exactly one line | ctest -R regex of the tests written for it
# (the first three fields hold no '|': "||" in code is matched as "..")
mutants=(
  # training
  "host/training/random.cpp|shuffle: Sattolo's, an element never stays in place|s/std::swap(p\[i - 1\], p\[below(i)\]);/std::swap(p[i - 1], p[below(i - 1)]);/|^Rng\.PermutationIsUniform$"
  "host/training/random.cpp|shuffle: each swap with any place of the whole range|s/std::swap(p\[i - 1\], p\[below(i)\]);/std::swap(p[i - 1], p[below(n)]);/|^Rng\.PermutationIsUniform$"
  "host/training/trainer.cpp|order: every epoch replays epoch 1's|s/^    state_.rng = rng_.snapshot();$/    rng_.restore(state_.rng);/|^Trainer\.EachEpochTrainsInTheNextPermutationOfTheSeed$"
  "host/training/trainer.cpp|rules: an equal validation accuracy counts as better|s/if (validation_accuracy > state_.best_validation)/if (validation_accuracy >= state_.best_validation)/|^TrainerRules\.EarlyStoppingAfterNEpochsWithoutAStrictlyBetterValidationAccuracy$"
  "host/training/trainer.cpp|rules: the schedule stops one halving late|s/return state_.eta_halvings >= kMaxEtaHalvings ?/return state_.eta_halvings > kMaxEtaHalvings ?/|^TrainerRules\.TheScheduleHalvesEtaAndStopsAt1Over128$"
  "host/training/trainer.cpp|resume: the position forgets where the epoch was resumed|s/state_.position = start + trained;/state_.position = trained;/|^Precisions/ResumeTest\.MidEpochIsBitIdentical/|^Trainer\.StopsWhenAskedAndResumesWhereItStopped$"
  "host/training/trainer.cpp|stall: a network that errs is never called stuck|s/if (fit.correct < fit.total) {/if (fit.correct > fit.total) {/|^DivergenceAndMemory\.Eta1e6StallsInEpoch2WithTheLikelyCause$"
  "host/training/cost.cpp|L2: the decay at half the book's rate|s/return 1.0 - eta \* lambda \/ double(n);/return 1.0 - 0.5 * eta * lambda \/ double(n);/|^Costs\.L2ShrinksWeightsNotBiasesByTheBooksFactor$"
  # the oracle
  "host/oracle/reference_network.cpp|oracle: sigma' as a (2 - a)|s/return a \* (T(1) - a);/return a * (T(2) - a);/|^ReferenceNetwork\.(GradientsMatchCentralFiniteDifferences|TinyNetMatchesHandComputedValuesInDouble)$"
  "host/oracle/equivalence.cpp|compare: the reference's norm summed as abs(r), not squared|s/ref2 += r \* r;/ref2 += std::abs(r);/|^Compare\.MeasuresMaxAbsAndRelativeError$"
  # the CPU backends
  "host/cpu/fast_network.cpp|fast network: every sample's bias gradient is sample 0's|s/for (std::size_t j = first; j < last; ++j) gb\[j\] += d\[s \* n_out + j\];/for (std::size_t j = first; j < last; ++j) gb[j] += d[j];/|^FastCpuVsOracle\.EveryStageIn(Float|Double)$"
  "host/cpu/fast_network.cpp|sparse input: the transposed first layer's update 0.4% too large|s/step_transposed_layer(d, m, step->rate, step->decay);/step_transposed_layer(d, m, step->rate * T(1.004), step->decay);/|^SparseInput\.TrainingTracksTheOracleIn(Float|Double)$"
  "host/cpu/cpu_backend.cpp|evaluate: counts the misclassified as correct|s/if (best == data.labels\[first + s\]) ++e.correct;/if (best != data.labels[first + s]) ++e.correct;/|^Trainer\.EvaluateAgreesWithOutputs$"
  "host/cpu/cpu_backend.cpp|train: the last, partial batch dropped|0,/for (std::size_t batch_index = 0; done < order.size(); ++batch_index) {/s//for (std::size_t batch_index = 0; done + batch <= order.size(); ++batch_index) {/|^Trainer\.LastPartialBatchIsTrainedNotDropped$"
  "host/cpu/thread_pool.cpp|threads: each part starts one early, overlapping the last|s/if (const std::size_t first = bound(n, index, parts), last/if (const std::size_t first = bound(n, index, parts) - (index > 0), last/|^ThreadPool\.SplitCoversTheRangeOnceInContiguousParts$"
  # formats
  "host/formats/checkpoint.cpp|checkpoint: eta written with std::to_string (six digits)|s/m\[\"eta\"\] = exact_text(c.config.eta);/m[\"eta\"] = std::to_string(c.config.eta);/|^Checkpoint\.KeepsEverySettingAndTheGeneratorExactly$"
  "host/formats/checkpoint.cpp|checkpoint: lambda written with std::to_string (six digits)|s/m\[\"lambda\"\] = exact_text(c.config.lambda);/m[\"lambda\"] = std::to_string(c.config.lambda);/|^Checkpoint\.KeepsChapter3SettingsAndTheRulesState$"
  "host/formats/checkpoint.cpp|checkpoint: the position in the epoch not kept|s/m\[\"position\"\] = std::to_string(c.state.position);/m[\"position\"] = \"0\";/|^Checkpoint\.KeepsEverySettingAndTheGeneratorExactly$|^Precisions/ResumeTest\.MidEpochIsBitIdentical/"
  "host/formats/checkpoint.cpp|checkpoint: an order with a repeated record accepted|s/if (i >= s.order.size() .. seen\[i\]) throw/if (i >= s.order.size()) throw/|^Checkpoint\.RefusesInconsistentFiles$"
  "host/formats/safetensors.cpp|checksums: a damaged tensor's CRC32 not compared|s/if (actual != found->second)/if (actual != found->second \&\& false)/|^SafeTensorsChecksums\.AFlippedBitIsRefusedNamingTheFileAndTheTensor$"
  "host/formats/data_source.cpp|split: validation taken right after the training records|s/train.set.slice(\"validation\", train.set.size() - s.validation, s.validation)/train.set.slice(\"validation\", s.train, s.validation)/|^LoadMnist\.ValidationIsTheLastRecordsOfTheTrainingFile$"
  "host/formats/onnx_export.cpp|ONNX: Gemm with transB 0, the weight read as [in, out]|s/add_int_attribute(\*gemm, \"transB\", 1);/add_int_attribute(*gemm, \"transB\", 0);/|^OnnxExport\.ShallowSigmoidNetworkIsGemmSigmoidPerLayer$"
  "host/formats/onnx_export.cpp|ONNX: softmax over the records, not the classes|s/\"axis\", 1);/\"axis\", 0);/|^OnnxExport\.SoftmaxOutputLayerIsSoftmaxOverTheClasses$"
  "host/formats/atomic_file.cpp|atomic files: a dead writer's temporary file kept|s/errno != ESRCH) continue;/errno == ESRCH) continue;/|^Leftovers\.AKilledWritersTemporaryFileIsRemovedByTheNextWrite$"
  # the CLI
  "host/cli/flags.cpp|numbers: the range check dropped (--lambda 1e999 trains with 0)|s/if (ec == std::errc::result_out_of_range .. !std::isfinite(v)) refuse/if (!std::isfinite(v)) refuse/|^StrictFlags\.SignsRangesTrailingTextAndEmptyEntriesAreRefusedNamingTheFlag$"
  "host/cli/commands/train_command.cpp|resume: --batch not kept from the checkpoint|/keep_from_checkpoint(sub, \"--batch\", c.batch, s.batch, std::to_string(s.batch));/d|^ModelCli\.(AResumedRunKeepsTheCheckpointsBatch|ResumeRefusesChangedSettingsAndNonCheckpoints)$"
  "host/cli/commands/train_command.cpp|rules: early stopping and the eta schedule fed the test accuracy|s/report(trainer_.end_epoch(validation->accuracy()), epoch);/report(trainer_.end_epoch(test.accuracy()), epoch);/|^Chapter3Cli\.TheRulesWatchTheValidationAccuracy$"
  "host/cli/commands/train_command.cpp|--checkpoint-every: a checkpoint after every epoch|s/epoch % o_.checkpoint_every == 0/epoch % 1 == 0/|^ModelCli\.CheckpointEveryNWritesAfterEveryNthEpochAndTheLast$"
  "host/cli/commands/train_command.cpp|--metrics: a resumed run replaces the metrics|s/MetricsLog metrics(o.metrics, !o.resume.empty());/MetricsLog metrics(o.metrics, false);/|^(ModelCli\.AResumedRunAppendsToItsMetrics|TrainCli\.AResumedRunKeepsTheEarlierMetricsLines)$"
  "host/cli/commands/train_command.cpp|--threads: not passed to the backend|s/backend->set_threads(o.threads ? o.threads : default_threads());/backend->set_threads(default_threads());/|^TrainCli\.ThreadsSetsTheCpuBackendsThreads$"
  "host/cli/commands/train_command.cpp|--device auto: the CPU fallback said nothing|s/if (!notice.empty()) std::fprintf(stderr/if (notice.empty()) std::fprintf(stderr/|^TrainCli\.DeviceAutoWithoutAGpuSaysItUsesTheCpu$"
  "host/cli/commands/evaluate_command.cpp|evaluate: --set validation evaluates the test set|s/o.set == \"validation\" ? loaded.validation : loaded.test/o.set == \"validation\" ? loaded.test : loaded.test/|^ModelCli\.EvaluateOnTheValidationSet$"
  "host/cli/commands/evaluate_command.cpp|evaluate: a digit's accuracy over the whole set|s/double(confusion\[d\]\[d\]) \/ double(total)/double(confusion[d][d]) \/ double(e.total)/|^ModelCli\.EvaluateReportsAccuracyPerDigitConfusionAndDrawsMistakes$"
  "host/cli/commands/predict_command.cpp|predict: the class of the largest output but the last|s/argmax(out, shape_.classes)/argmax(out, shape_.classes - 1)/|^ModelCli\.PredictNamesTheDigitOfTheLargestOutput$"
  "host/cli/commands/verify_command.cpp|verify: --samples ignored|s/  if (o.samples) {/  if (o.samples \&\& false) {/|^VerifyCli\.SamplesChecksOnTheFirstRecordsOnly$"
  "host/cli/commands/bench_command.cpp|bench: --all not passed to the grid|s/grid.all = o.all;/grid.all = false;/|^BenchCli\.AllAddsTheLargeNetworkOnTheCpu$"
  # reports
  "host/reports/drawings.cpp|show-weights: a weight's colour from the wrong sign|s/return v >= 0 ? Colour{255, fade, fade}/return v <= 0 ? Colour{255, fade, fade}/|^ModelCli\.ShowWeightsDrawsEachWeightInTheColourOfItsSign$"
  "host/reports/benchmark.cpp|bench: an even count's median is the upper middle value|s/0.5 \* (values\[n \/ 2 - 1\] + values\[n \/ 2\])/values[n \/ 2]/|^Summarize\.EvenCountAveragesTheMiddleTwo$"
  "scripts/plot_metrics.py|plot_metrics: the cost panel draws the accuracies|s/x, y = series(rows, f\"{key}_cost\")/x, y = series(rows, f\"{key}_accuracy\")/|^ModelCli\.PlotMetricsDrawsTheCurves$"
)

tool=mutate-host
default_tests=(-L cpu)
test_jobs=$(nproc)
source scripts/mutate-lib.sh
select_mutants
[[ "${1:-}" != --check ]] || { check_mutants_apply; exit 0; }

# The CLI (the CLI tests run it) and the test programs that hold the selected tests, found through ctest.
built_targets=()
build_for_mutant() {
  local targets
  mapfile -t targets < <(ctest --test-dir "$build" "$@" --show-only=json-v1 |
    python3 -c 'import json, os, sys; print("\n".join(sorted({os.path.basename(t["command"][0]) for t in json.load(sys.stdin)["tests"]})))')
  built_targets+=("${targets[@]}")
  cmake --build "$build" -j"$(nproc)" --target sigmanet_cli "${targets[@]}"
}
rebuild_unmutated() {
  mapfile -t built_targets < <(printf '%s\n' "${built_targets[@]}" | sort -u)
  cmake --build "$build" -j"$(nproc)" --target sigmanet_cli "${built_targets[@]}"
}

if [[ ! -f "$build/CMakeCache.txt" ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSIGMANET_CUDA=OFF -DSIGMANET_BENCHMARKS=OFF >/dev/null
  echo "mutate-host: building the unmutated CPU-only build in $build"
  cmake --build "$build" -j"$(nproc)" >/dev/null
fi
# Every selected mutant's tests, unmutated, must pass first: a test that fails anyway catches nothing.
regex=$(printf '%s\n' "${mutants[@]}" | cut -d'|' -f4- | paste -sd'|' -)
echo "mutate-host: the named tests must pass before any mutant"
build_for_mutant -R "$regex" >/dev/null
ctest --test-dir "$build" -R "$regex" -j"$test_jobs" --timeout 600 --no-tests=error >"$mutation_backup/first.log" 2>&1 ||
  { tail -30 "$mutation_backup/first.log" >&2; echo "mutate-host: the unmutated tests fail" >&2; exit 2; }

run_mutants
