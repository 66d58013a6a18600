// The MPI side of collective.hpp: one job per process, joined on first use.
#include <mpi.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sigmanet/collective.hpp"
#include "sigmanet/error.hpp"

namespace sigmanet {
namespace {

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw Error(std::string(call) + " failed: " + std::string(text, std::size_t(length)));
}

// Sums in rank order by gathering every rank's values on every rank and adding them up in the same order
// everywhere. MPI_Allreduce would move less data, but the standard does not fix the order in which it adds,
// and Open MPI picks its algorithm by message size and process count: the same run could round differently.
// Gathering costs N times the memory of one gradient, which is what data-parallel training on a few ranks of
// one machine can afford (784-1024-1024-10 in float: 7.5 MB a rank).
class MpiCollective final : public Collective {
 public:
  MpiCollective() {
    check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
    // The ranks that share this one's memory are the ones on its machine.
    MPI_Comm here = MPI_COMM_NULL;
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &here),
          "MPI_Comm_split_type");
    check(MPI_Comm_rank(here, &local_rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(here, &local_size_), "MPI_Comm_size");
    MPI_Comm_free(&here);
    char name[MPI_MAX_PROCESSOR_NAME];
    int length = 0;
    check(MPI_Get_processor_name(name, &length), "MPI_Get_processor_name");
    host_.assign(name, std::size_t(length));
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }
  std::string host() const override { return host_; }

  void sum_in_rank_order(std::span<float> values) override { sum(values, MPI_FLOAT, gathered_f_); }
  void sum_in_rank_order(std::span<double> values) override { sum(values, MPI_DOUBLE, gathered_d_); }

  double seconds_summing() const override { return seconds_summing_; }

  bool any(bool mine) override {
    int flag = mine ? 1 : 0, result = 0;
    check(MPI_Allreduce(&flag, &result, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD), "MPI_Allreduce");
    return result != 0;
  }

  void broadcast(std::span<std::byte> bytes, int root) override {
    if (bytes.size() > std::size_t(INT32_MAX)) throw Error("broadcast: more bytes than MPI counts in an int");
    check(MPI_Bcast(bytes.data(), int(bytes.size()), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
  }

  std::vector<std::string> gather(const std::string& mine) override {
    if (mine.size() > std::size_t(INT32_MAX)) throw Error("gather: more bytes than MPI counts in an int");
    const int length = int(mine.size());
    const auto ranks = static_cast<std::size_t>(size_);
    std::vector<int> lengths(ranks), offsets(ranks);
    check(MPI_Allgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) {
      if (total + std::size_t(lengths[r]) > std::size_t(INT32_MAX))
        throw Error("gather: more bytes than MPI counts in an int");
      offsets[r] = int(total);
      total += std::size_t(lengths[r]);
    }
    std::string all(total, '\0');
    check(MPI_Allgatherv(mine.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                         MPI_COMM_WORLD),
          "MPI_Allgatherv");
    std::vector<std::string> texts;
    for (int r = 0; r < size_; ++r) texts.push_back(all.substr(std::size_t(offsets[r]), std::size_t(lengths[r])));
    return texts;
  }

  // Zero-byte messages to rank 0 under a tag of their own, which rank 0 polls for (a collective call would wait
  // for a dead rank forever).
  std::vector<bool> arrivals_at_rank_0(const std::function<bool()>& give_up) override {
    constexpr int kArrivalTag = 7301;
    if (rank_ != 0) {
      check(MPI_Send(nullptr, 0, MPI_BYTE, 0, kArrivalTag, MPI_COMM_WORLD), "MPI_Send");
      return {};
    }
    const auto ranks = static_cast<std::size_t>(size_);
    std::vector<MPI_Request> requests(ranks, MPI_REQUEST_NULL);
    std::vector<bool> arrived(ranks, false);
    arrived[0] = true;
    for (int r = 1; r < size_; ++r)
      check(MPI_Irecv(nullptr, 0, MPI_BYTE, r, kArrivalTag, MPI_COMM_WORLD, &requests[std::size_t(r)]), "MPI_Irecv");
    for (std::size_t missing = ranks - 1; missing > 0;) {
      for (std::size_t r = 1; r < ranks; ++r) {
        if (arrived[r]) continue;
        int done = 0;
        check(MPI_Test(&requests[r], &done, MPI_STATUS_IGNORE), "MPI_Test");
        if (done) arrived[r] = true, --missing;
      }
      if (missing == 0 || give_up()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    for (std::size_t r = 1; r < ranks; ++r)
      if (!arrived[r]) {
        MPI_Cancel(&requests[r]);
        MPI_Request_free(&requests[r]);
      }
    return arrived;
  }

 private:
  template <class T>
  void sum(std::span<T> values, MPI_Datatype type, std::vector<T>& gathered) {
    const std::size_t n = values.size();
    if (n > std::size_t(INT32_MAX)) throw Error("sum_in_rank_order: more values than MPI counts in an int");
    const double start = MPI_Wtime();
    gathered.resize(n * std::size_t(size_));
    check(MPI_Allgather(values.data(), int(n), type, gathered.data(), int(n), type, MPI_COMM_WORLD), "MPI_Allgather");
    for (std::size_t i = 0; i < n; ++i) {
      T s = gathered[i];
      for (int r = 1; r < size_; ++r) s += gathered[std::size_t(r) * n + i];
      values[i] = s;
    }
    seconds_summing_ += MPI_Wtime() - start;
  }

  int rank_ = 0, size_ = 1, local_rank_ = 0, local_size_ = 1;
  std::string host_;
  double seconds_summing_ = 0;
  std::vector<float> gathered_f_;
  std::vector<double> gathered_d_;
};

std::unique_ptr<MpiCollective> the_job;

}  // namespace

Collective* join_mpi_job() {
  if (!the_job) {
    int initialised = 0;
    MPI_Initialized(&initialised);
    if (!initialised) check(MPI_Init(nullptr, nullptr), "MPI_Init");
    // Errors come back as statuses (check() turns them into exceptions with MPI's words), not as aborts.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    the_job = std::make_unique<MpiCollective>();
  }
  return the_job.get();
}

void leave_mpi_job(bool clean) {
  if (!the_job) return;
  the_job.reset();
  // MPI_Finalize waits for the other ranks; a rank leaving alone on an error must not, or they would all wait.
  if (clean) MPI_Finalize();
}

}  // namespace sigmanet
