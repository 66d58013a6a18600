#include "sigmanet/collective.hpp"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

#include "sigmanet/error.hpp"

namespace sigmanet {

#ifdef SIGMANET_HAVE_MPI
// host/mpi/mpi_job.cpp
Collective* join_mpi_job();
void leave_mpi_job(bool clean);
#endif

namespace {

// The first of the variables that is set and a number, or `otherwise`.
int from_environment(std::initializer_list<const char*> names, int otherwise) {
  for (const char* name : names)
    if (const char* text = std::getenv(name); text && *text) {
      char* end = nullptr;
      const long v = std::strtol(text, &end, 10);
      if (*end == '\0' && v >= 0 && v < (1L << 30)) return int(v);
    }
  return otherwise;
}

// The job's size as the launcher's variables give it; 0 where they do not (PMIx gives only the rank).
int launcher_size() { return from_environment({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}, 0); }

// The job's processes on this machine: MPI's count, in a job.
int processes_here() {
#ifdef SIGMANET_HAVE_MPI
  if (launched_processes() > 1) return join_mpi_job()->local_size();
#endif
  return 1;
}

}  // namespace

std::pair<std::size_t, std::size_t> batch_share(std::size_t m, int rank, int size) {
  return {m * std::size_t(rank) / std::size_t(size), m * std::size_t(rank + 1) / std::size_t(size)};
}

bool started_by_launcher() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMI_SIZE", "PMI_RANK", "PMIX_RANK"})
    if (const char* text = std::getenv(name); text && *text) return true;
  return false;
}

int launched_rank() { return from_environment({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"}, 0); }

bool maybe_one_of_several() { return started_by_launcher() && launcher_size() != 1; }

int launched_processes() {
  if (!started_by_launcher()) return 1;
#ifdef SIGMANET_HAVE_MPI
  return join_mpi_job()->size();
#else
  return std::max(1, launcher_size());
#endif
}

int default_threads() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  int cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
  if (cores < 1) cores = int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, processes_here()));
}

bool have_mpi() {
#ifdef SIGMANET_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Collective* job() {
  const int n = launched_processes();
  if (n <= 1) return nullptr;  // alone (MPI, if it was asked, is left by leave_job)
#ifdef SIGMANET_HAVE_MPI
  return join_mpi_job();
#else
  throw InputError("started as one of " + std::to_string(n) +
                   " processes (mpirun or srun), but this sigmanet was built without MPI: each would train alone and "
                   "write the same files; install libopenmpi-dev and rebuild (scripts/install-deps.sh), or start one "
                   "process");
#endif
}

void leave_job([[maybe_unused]] bool clean) {
#ifdef SIGMANET_HAVE_MPI
  leave_mpi_job(clean);
#endif
}

}  // namespace sigmanet
