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

// The first of the launchers' variables that is set and a number: Open MPI's mpirun, then PMI (MPICH, Slurm's
// srun --mpi=pmi2), then Slurm's own.
int from_environment(std::initializer_list<const char*> names, int otherwise) {
  for (const char* name : names)
    if (const char* text = std::getenv(name); text && *text) {
      char* end = nullptr;
      const long v = std::strtol(text, &end, 10);
      if (*end == '\0' && v >= 0 && v < (1L << 30)) return int(v);
    }
  return otherwise;
}

}  // namespace

std::pair<std::size_t, std::size_t> batch_share(std::size_t m, int rank, int size) {
  return {m * std::size_t(rank) / std::size_t(size), m * std::size_t(rank + 1) / std::size_t(size)};
}

int launched_processes() { return from_environment({"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}, 1); }

int launched_rank() { return from_environment({"OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}, 0); }

int default_threads() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  int cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
  if (cores < 1) cores = int(std::max(1u, std::thread::hardware_concurrency()));
  // The processes of this job on this machine: Open MPI's, PMI's, Slurm's count.
  const int here = from_environment({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}, 1);
  return std::max(1, cores / std::max(1, here));
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
  if (n <= 1) return nullptr;
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
