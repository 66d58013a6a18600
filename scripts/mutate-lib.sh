# Shared by scripts/mutate-kernels.sh and scripts/mutate-host.sh (sourced, not run): plants each mutant in turn,
# rebuilds, runs the tests, puts the file back, and prints the table of which tests caught which mutant.
#
# The caller sets, before run_mutants:
#   tool          its name, for messages
#   build         the build folder, already built unmutated
#   mutants       entries "file|what the mutant is|sed expression that changes exactly one line|tests", where tests
#                 is a ctest -R regex of the tests written to catch it (empty: every test of default_tests)
#   default_tests ctest arguments that pick the tests when an entry names none (e.g. -L gpu)
#   test_jobs     ctest -j
# and may define build_for_mutant (its arguments: the entry's ctest selection; default: build everything) and
# rebuild_unmutated (after the last mutant; default: build everything).
# MUTANTS=REGEX in the environment keeps only the entries that match REGEX (grep -E).
#
# A mutant's file goes back after the mutant, and on any exit (the EXIT trap), even when the script stops half-way.

mutation_backup=$(mktemp -d)
restore_mutated_files() {
  local p
  for p in "$mutation_backup"/*.path; do [[ -e "$p" ]] && cp "${p%.path}" "$(cat "$p")"; done
  rm -rf "$mutation_backup"
}
trap restore_mutated_files EXIT

# Keeps the entries of `mutants` that match $MUTANTS.
select_mutants() {
  [[ -n "${MUTANTS:-}" ]] || return 0
  mapfile -t mutants < <(printf '%s\n' "${mutants[@]}" | grep -E -- "$MUTANTS" || true)
  [[ ${#mutants[@]} -gt 0 ]] || { echo "$tool: no mutant matches $MUTANTS" >&2; exit 2; }
}

# The ctest arguments that select an entry's tests.
tests_of() { if [[ -n "$1" ]]; then printf '%s\n' -R "$1"; else printf '%s\n' "${default_tests[@]}"; fi; }

# Every target by default; a caller may build less.
declare -F build_for_mutant >/dev/null || build_for_mutant() { cmake --build "$build" -j"$(nproc)"; }
declare -F rebuild_unmutated >/dev/null || rebuild_unmutated() { cmake --build "$build" -j"$(nproc)"; }

# The names of the tests that failed in a ctest log, comma-separated, with the emulator's check that fired.
failed_tests() {
  local names check
  # (a parameterised test's name goes on with "  # GetParam() = ...")
  names=$(sed -n 's/^ *[0-9]*\/[0-9]* Test *#[0-9]*: \(.*[^ ]\) \.*\**\(Failed\|Subprocess aborted\|Timeout\|Exception\).*/\1/p' "$1" |
    sed 's/  # GetParam() = .*//' | paste -sd, - | sed 's/,/, /g')
  check=$(grep -o -m1 -E 'emulated GPU: [a-z]+check' "$1" | sed 's/emulated GPU: //' || true)
  [[ -n "$check" ]] && names="$names ($check)"
  echo "${names:-a failing test}"
}

# Each mutant's sed expression, tried on a copy: exit 2 naming those that no longer change exactly one line (the
# code moved under them). Quick, no build; scripts/test-all.sh runs it for both scripts.
check_mutants_apply() {
  local m file what expr tests changed bad=0
  for m in "${mutants[@]}"; do
    IFS='|' read -r file what expr tests <<<"$m"
    changed=$(sed "$expr" "$file" | diff "$file" - | grep -c '^[<>]' || true)
    if [[ $changed -lt 1 || $changed -gt 2 ]]; then
      echo "$tool: mutant \"$what\" changes $changed lines of $file, not one" >&2
      bad=$((bad + 1))
    fi
  done
  [[ $bad -eq 0 ]] || exit 2
  echo "$tool: each of ${#mutants[@]} mutants changes one line of its file"
}

run_mutants() {
  local rows=() survivors=0 i=0 m file what expr tests key changed result caught_by t0 selection
  for m in "${mutants[@]}"; do
    IFS='|' read -r file what expr tests <<<"$m"
    i=$((i + 1))
    key="$mutation_backup/$i"
    cp "$file" "$key"
    echo "$file" >"$key.path"
    sed -i "$expr" "$file"
    changed=$(diff "$key" "$file" | grep -c '^[<>]' || true)
    if [[ $changed -lt 1 || $changed -gt 2 ]]; then
      echo "$tool: mutant $i ($what) changed $changed lines of $file, not one" >&2
      cp "$key" "$file"
      exit 2
    fi
    echo "== mutant $i: $file: $what"
    result="SURVIVED" caught_by="-"
    t0=$(date +%s)
    mapfile -t selection < <(tests_of "$tests")
    if ! build_for_mutant "${selection[@]}" >"$mutation_backup/build.log" 2>&1; then
      result="caught" caught_by="the build"
    elif ! ctest --test-dir "$build" "${selection[@]}" -j"$test_jobs" --timeout 600 --no-tests=error \
        --output-on-failure >"$mutation_backup/ctest.log" 2>&1; then
      result="caught" caught_by=$(failed_tests "$mutation_backup/ctest.log")
    else
      survivors=$((survivors + 1))
    fi
    cp "$key" "$file"
    rm -f "$key.path"
    rows+=("| $i | \`$file\` | $what | $result | $caught_by | $(($(date +%s) - t0)) s |")
    echo "   $result by $caught_by"
  done
  echo "$tool: rebuilding the unmutated sources"
  rebuild_unmutated >/dev/null

  echo
  echo "| # | file | mutant | result | tests that failed | time |"
  echo "| --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  echo
  if [[ $survivors -gt 0 ]]; then
    echo "$tool: $survivors of ${#mutants[@]} mutants survived"
    return 1
  fi
  echo "$tool: all ${#mutants[@]} mutants caught"
}
