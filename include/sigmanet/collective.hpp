#pragma once
// Data-parallel training across processes (MPI ranks started by mpirun or srun): every rank trains a fixed
// contiguous share of every mini-batch, the shares' gradient sums are added up across the ranks, and every rank
// takes the same step with the batch's m. A process started on its own has no Collective and trains alone.
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sigmanet {

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // This rank's place among the job's processes on its own machine, and how many there are: a GPU job gives
  // each its own GPU by it.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;
  // The machine's name, for messages.
  virtual std::string host() const = 0;

  // In place, on every rank: values becomes the sum over the ranks of each rank's values, added in rank order
  // (rank 0's + rank 1's + ...), so every rank gets the same bits, and the same run gets them again. Every rank
  // calls it with the same count.
  virtual void sum_in_rank_order(std::span<float> values) = 0;
  virtual void sum_in_rank_order(std::span<double> values) = 0;
  // Whether any rank passes true.
  virtual bool any(bool mine) = 0;
  // Root's bytes, on every rank (NCCL's communicator id, from rank 0). Every rank passes as many.
  virtual void broadcast(std::span<std::byte> bytes, int root) = 0;
  // Every rank's text, in rank order, on every rank; the texts may differ in length (what the ranks must agree
  // on before they work together, cli/job_agreement.hpp).
  virtual std::vector<std::string> gather(const std::string& mine) = 0;
  // For ranks that work apart and may be stopped, or killed, apart (a sweep's runs): every rank calls it once its
  // work is over. Rank 0 waits until every rank has, or until give_up() says to wait no longer, and returns for
  // each rank whether it came (rank 0 itself always); the other ranks return an empty list at once. A rank that
  // died is then named instead of waited for.
  virtual std::vector<bool> arrivals_at_rank_0(const std::function<bool()>& give_up) = 0;
  // Wall-clock seconds this rank has spent in sum_in_rank_order so far: the communication's share of a step.
  virtual double seconds_summing() const = 0;
};

// The samples [first, last) of a batch of m that rank r of n trains: m*r/n to m*(r+1)/n, so shares differ by at
// most one sample and a rank may have none (m < n).
std::pair<std::size_t, std::size_t> batch_share(std::size_t m, int rank, int size);

// Whether a launcher started this process as one of a job's processes, by the variables MPI's own process
// managers give each process they start: OMPI_COMM_WORLD_SIZE and _RANK (Open MPI's mpirun), PMI_SIZE and PMI_RANK
// (PMI: MPICH's mpiexec, srun --mpi=pmi2), PMIX_RANK (PMIx: srun --mpi=pmix, prterun). Slurm's own variables do
// not count: sbatch -n 4 exports SLURM_NTASKS=4 to every command of a job script, each of them one process.
bool started_by_launcher();
// This process's place among them as those variables say (0 when started on its own); known before MPI starts,
// so that the ranks past 0 can be silenced from the first line (cli/one_voice.hpp).
int launched_rank();
// Whether the launcher's variables leave open that this process is one of several: started by a launcher that
// did not say the job has one process.
bool maybe_one_of_several();
// The processes this one was started with, as MPI says: 1 when no launcher started it; otherwise the size of
// MPI_COMM_WORLD, which starts MPI (MPI_Init) to ask it. A build without MPI cannot ask and takes the launcher's
// count (OMPI_COMM_WORLD_SIZE or PMI_SIZE).
int launched_processes();

// The MPI job this process belongs to, joined on first call (MPI_Init) and left by leave_job(); null when it
// runs alone (started on its own, or as the only process of a job). Throws InputError when a launcher started
// several processes but this build has no MPI (they would train separately, each writing the same files).
Collective* job();
// Leaves the job (MPI_Finalize) if one was joined. `clean` says every rank is leaving the same way; otherwise
// (an error seen by this rank alone) it exits without finalising, so the launcher ends the other ranks instead
// of leaving them waiting.
void leave_job(bool clean);

// CPU threads a process should use by default: the cores it may run on (its affinity mask), shared evenly among
// the job's processes on this machine as MPI counts them (Collective::local_size), at least 1. Ranks times threads
// never oversubscribe the cores; a process on its own has them all.
int default_threads();

// Whether this build can join MPI jobs.
bool have_mpi();

}  // namespace sigmanet
