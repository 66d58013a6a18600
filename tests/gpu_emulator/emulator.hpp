#pragma once
// A CPU emulation of the parts of the CUDA runtime, cuBLAS and kernels/kernels.hpp that sigmanet uses, so
// that the CUDA backend's host code (host/cuda_*.cpp) runs and is tested on machines without a GPU.
//
// Configure with -DSIGMANET_CUDA=OFF -DSIGMANET_GPU_EMULATOR=ON: the host code is compiled against the
// toolkit's real headers and linked against this instead of cudart and cuBLAS. The device exists only while
// SIGMANET_EMULATE_GPU=1 is in the environment (=N, up to 8: that many, cudaSetDevice choosing; they share one
// memory); without it the emulator reports no driver, so the build behaves as on a machine without a GPU or
// NVIDIA's driver (=0: a driver but no device).
// Device name: "CPU emulation of a CUDA GPU". Where the build has MPI and nccl.h, NCCL is emulated too, on MPI,
// for jobs under mpirun (nccl.cpp).
//
// What it proves: the host code's calls are legal and in order.
// - Every device access by emulated work is checked against the allocation it falls in: a host pointer, a
//   freed buffer (freed addresses are never reused) or one byte past the end stops the process with a message.
// - The host cannot touch device memory: it is mapped inaccessible except while device work runs.
// - Work is queued per stream and runs only when the host synchronises, so a missing synchronisation shows
//   as stale data (copies to pageable memory too, which is stricter than CUDA).
// - New memory is poisoned (NaN as float or double; neither 0 nor all ones as an integer).
// - An event is first "not ready"; capture refuses synchronisation, allocation and event queries.
// - SGEMM checks its arguments as cuBLAS documents them, uses the workspace set on the handle (which must
//   be set when it is captured, sigmanet's rule) and rounds to TF32 when that math mode is set.
// - The real kernels of kernels/*.cu run on the SIMT executor (simt/executor.hpp), with memcheck, initcheck,
//   racecheck and synccheck.
// What it cannot prove: the kernels' speed, GPU rounding (nvcc contracts a * b + c into FMAs, the host
// compiler here does not), races that need the device to run early (it always runs device work as late as
// possible) or memory ordering between blocks. Only a GPU run (bench/gpu_check.sh) shows those.
//
// One host thread at a time.
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace sigmanet::gpu_emulator {

// Queues work on a stream (nullptr: the legacy default stream), or adds it to the graph being captured.
void enqueue(cudaStream_t stream, std::string what, std::function<void()> work);

// Runs everything queued on the stream.
void drain(cudaStream_t stream);

// Stops the process with "emulated GPU: <who>: ..." unless [p, p + bytes) lies inside one live device
// allocation. Called when the work runs, so it also catches buffers freed after the work was queued.
void check_device_range(const void* p, std::size_t bytes, const std::string& who);

// Prints "emulated GPU: <message>" and aborts: what a real GPU would report as an illegal address or a
// corrupted context, made impossible to miss.
[[noreturn]] void fail(const std::string& message);

// True, after invalidating every capture in progress and recording the error, when a stream is being
// captured: CUDA refuses calls that synchronise or allocate then (global and thread-local capture modes).
bool refused_during_capture();

// Records an error for cudaGetLastError, as a failed runtime call does.
cudaError_t set_last_error(cudaError_t status);

// ---- what the SIMT executor (simt/) needs to check kernels' accesses ----

// The last kernel write of one device byte (simt/memory_check.cpp).
struct RaceCell {
  std::uint32_t launch, writer, block_epoch, warp_epoch;
};

struct DeviceAllocation {
  const char* base;
  std::size_t bytes;
  bool freed;
  std::uint8_t* written;  // a flag per byte: set by copies, memsets, cuBLAS and kernels (initcheck)
  RaceCell* race;         // a cell per byte (racecheck)
  std::uint32_t kernel_write_launch;  // the last launch that wrote any of it (racecheck skips the others)
};

// The device allocation, live or freed, whose mapping holds p (its bytes, the padding before them or the
// slack and guard page after), else null.
DeviceAllocation* find_device_allocation(const void* p);

// Marks device bytes as written, for initcheck (cuBLAS's output; the runtime's copies and memsets do it).
void mark_written(const void* p, std::size_t bytes);

// How many allocations and frees of device and pinned memory the process has made so far: the tests that
// promise "no allocation" count them.
std::size_t memory_calls();

// The nodes of the graph instantiated last (each kernel launch, SGEMM, copy or memset captured is one).
std::size_t last_graph_nodes();

// Fills bytes with the poison new memory gets (NaN as float or double).
void poison(char* p, std::size_t bytes);

// An address as text, for messages.
std::string address_text(const void* p);

}  // namespace sigmanet::gpu_emulator
