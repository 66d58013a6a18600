#pragma once
// A job of several processes (mpirun -np N sigmanet train ...) speaks with one voice: rank 0's. The other ranks'
// stdout and stderr go to /dev/null from the start, so a bad flag gives one message, not N; an error only one
// rank can see (a fault, not bad input) still reaches the terminal, prefixed with the rank.
#include <string>

namespace sigmanet::cli {

// Silences this process when a launcher started it as a rank other than 0. Call first thing in main().
void speak_only_on_rank_0();

// Writes "sigmanet: [rank N: ]error: <message>" to the terminal's stderr, even on a silenced rank.
void report_fault(const std::string& message);

// Refuses, before any work, a command that runs in one process only when a launcher started several.
void require_single_process(const std::string& command);

}  // namespace sigmanet::cli
