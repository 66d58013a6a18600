// The CUDA runtime calls sigmanet makes, on the CPU (see emulator.hpp for what this does and does not prove).
// Device memory is mapped pages in a registry of allocations, unreadable by the host except while device work
// runs, and never mapped again once freed; a stream is a queue of closures run when the host synchronises; a
// graph is the list of closures captured from a stream.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "emulator.hpp"

namespace {

struct Work {
  std::string what;
  std::function<void()> run;
};

}  // namespace

// The runtime's opaque handle types, given bodies here.
struct CUgraph_st {
  std::vector<Work> work;
};
struct CUgraphExec_st {
  std::vector<Work> work;
};
struct CUstream_st {
  std::deque<Work> queue;
  bool capturing = false;
  bool capture_invalidated = false;
  CUgraph_st captured;
};
// One cudaEventRecord: the queued work that completes it holds it too, so re-recording or destroying the
// event never touches a record still in a queue.
struct EventRecord {
  bool done = false;
  std::chrono::steady_clock::time_point when;
};
struct CUevent_st {
  unsigned flags = 0;
  std::shared_ptr<EventRecord> last;  // null until recorded
  CUstream_st* stream = nullptr;      // where `last` was queued
  std::size_t queries_pending = 0;
};

namespace sigmanet::gpu_emulator {
namespace {

constexpr std::size_t kDeviceBytes = std::size_t(8) << 30;  // what the emulated device claims to have
constexpr std::size_t kAlignment = 256;                      // cudaMalloc's guarantee

enum class Memory { device, pinned, freed };
struct Allocation {
  std::size_t bytes;
  Memory kind;
  char* map_base;  // the mapping that holds it: pages ending in one inaccessible guard page
  std::size_t map_bytes;
  DeviceAllocation view;  // what the SIMT executor checks kernels' accesses against (device memory only)
};

struct State {
  std::map<const char*, Allocation> allocations;  // by base address; freed ones stay, their pages unmapped
  std::size_t device_bytes_in_use = 0;
  CUstream_st legacy;  // the default stream (nullptr, cudaStreamLegacy, cudaStreamPerThread)
  std::vector<CUstream_st*> streams{&legacy};
  cudaError_t last_error = cudaSuccess;
  int device_work_depth = 0;  // > 0 while queued work runs: device memory is readable then
  int device = 0;             // the current device (cudaSetDevice); all of them share one memory here
};

State& state() {
  static State s;
  return s;
}

// SIGMANET_EMULATE_GPU=N, N from 1 to 8: that many devices (a job's ranks on one machine each take their own);
// 0: a driver but no device; unset or anything else: no driver either, as on a machine without NVIDIA's.
int device_count() {
  const char* flag = std::getenv("SIGMANET_EMULATE_GPU");
  return flag && flag[0] >= '1' && flag[0] <= '8' && flag[1] == '\0' ? flag[0] - '0' : 0;
}

bool device_present() { return device_count() > 0; }

bool driver_present() {
  const char* flag = std::getenv("SIGMANET_EMULATE_GPU");
  return device_present() || (flag && std::strcmp(flag, "0") == 0);
}

// What a call that needs a device returns without one, as the runtime does: without a driver it cannot tell
// more than that the driver (none) is older than itself.
cudaError_t no_device_error() { return driver_present() ? cudaErrorNoDevice : cudaErrorInsufficientDriver; }

CUstream_st* resolve(cudaStream_t s) {
  if (s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread) return &state().legacy;
  return s;
}

bool any_capture() {
  for (CUstream_st* s : state().streams)
    if (s->capturing) return true;
  return false;
}

}  // namespace

bool refused_during_capture() {
  if (!any_capture()) return false;
  for (CUstream_st* s : state().streams)
    if (s->capturing) s->capture_invalidated = true;
  set_last_error(cudaErrorStreamCaptureUnsupported);
  return true;
}

namespace {

// The allocation holding p, or nullptr.
const std::pair<const char* const, Allocation>* find_allocation(const void* p) {
  auto& allocations = state().allocations;
  const char* c = static_cast<const char*>(p);
  auto it = allocations.upper_bound(c);
  if (it == allocations.begin()) return nullptr;
  --it;
  if (c >= it->first + std::max<std::size_t>(it->second.bytes, 1)) return nullptr;
  return &*it;
}

bool is_device(const void* p) {
  const auto* a = find_allocation(p);
  return a && a->second.kind == Memory::device;
}

std::size_t page_size() {
  static const std::size_t page = std::size_t(sysconf(_SC_PAGESIZE));
  return page;
}

// Device memory is readable only by device work: a host access between synchronisations faults.
void set_device_pages(int protection) {
  for (auto& [base, a] : state().allocations)
    if (a.kind == Memory::device && mprotect(a.map_base, a.map_bytes - page_size(), protection) != 0)
      fail("mprotect failed");
}

// While one exists, device work may run: device memory is readable and writable.
class DeviceWorkScope {
 public:
  DeviceWorkScope() {
    if (state().device_work_depth++ == 0) set_device_pages(PROT_READ | PROT_WRITE);
  }
  ~DeviceWorkScope() {
    if (--state().device_work_depth == 0) set_device_pages(PROT_NONE);
  }
  DeviceWorkScope(const DeviceWorkScope&) = delete;
  DeviceWorkScope& operator=(const DeviceWorkScope&) = delete;
};

// Runs the first `count` items of the queue, or until `until` says stop.
void run_queue(CUstream_st* s, std::size_t count, const std::function<bool()>& until = {}) {
  if (count == 0 || s->queue.empty()) return;
  DeviceWorkScope scope;
  while (count-- > 0 && !s->queue.empty() && !(until && until())) {
    Work w = std::move(s->queue.front());
    s->queue.pop_front();
    w.run();
  }
}

// A host access to device memory lands here: say what it touched, then die as the access would on a GPU.
void on_segv(int, siginfo_t* info, void*) {
  const auto* a = find_allocation(info->si_addr);
  if (a) {
    const char* what = a->second.kind == Memory::freed ? "a freed device buffer" : "device memory";
    std::fprintf(stderr,
                 "emulated GPU: the host touched %s directly (byte %zu of a %zu-byte allocation): device memory "
                 "is reached through cudaMemcpy or kernels\n",
                 what, std::size_t(static_cast<const char*>(info->si_addr) - a->first), a->second.bytes);
    std::abort();
  }
  std::signal(SIGSEGV, SIG_DFL);  // not ours: fault again, the ordinary way
}

void install_segv_handler() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_sigaction = on_segv;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGSEGV, &action, nullptr) == 0;
  }();
  (void)installed;
}

void drain_all() {
  for (CUstream_st* s : state().streams) run_queue(s, s->queue.size());
}

void* map_bookkeeping(std::size_t bytes) {
  void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) fail("could not map " + std::to_string(bytes) + " bytes of bookkeeping");
  return m;
}

std::size_t memory_call_count = 0;  // allocations and frees, device and pinned (memory_calls())
std::size_t last_graph_node_count = 0;  // last_graph_nodes()

cudaError_t allocate(void** p, std::size_t bytes, Memory kind) {
  ++memory_call_count;
  if (!device_present()) return set_last_error(no_device_error());
  if (!p) return set_last_error(cudaErrorInvalidValue);
  if (refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  *p = nullptr;
  if (bytes == 0) return cudaSuccess;
  State& st = state();
  if (kind == Memory::device && bytes > kDeviceBytes - st.device_bytes_in_use)
    return set_last_error(cudaErrorMemoryAllocation);
  // The buffer ends within kAlignment bytes of a guard page, so running off its end faults even where no
  // range check looks.
  const std::size_t page = page_size(), rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  const std::size_t data_pages = (rounded + page - 1) / page * page;
  void* mapped = mmap(nullptr, data_pages + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                      -1, 0);
  if (mapped == MAP_FAILED) return set_last_error(cudaErrorMemoryAllocation);
  char* base = static_cast<char*>(mapped);
  char* memory = base + (data_pages - rounded);
  if (mprotect(base + data_pages, page, PROT_NONE) != 0) fail("mprotect failed");
  poison(memory, bytes);
  DeviceAllocation view{memory, bytes, false, nullptr, nullptr, 0};
  if (kind == Memory::device) {
    install_segv_handler();
    if (st.device_work_depth == 0 && mprotect(base, data_pages, PROT_NONE) != 0) fail("mprotect failed");
    st.device_bytes_in_use += bytes;
    // The executor's bookkeeping, a flag and a race cell per byte: mapped now, backed only where touched.
    view.written = static_cast<std::uint8_t*>(map_bookkeeping(bytes));
    view.race = static_cast<RaceCell*>(map_bookkeeping(bytes * sizeof(RaceCell)));
  }
  st.allocations[memory] = Allocation{bytes, kind, base, data_pages + page, view};
  *p = memory;
  return cudaSuccess;
}

cudaError_t release(void* p, Memory kind, const char* call) {
  if (!p) return cudaSuccess;
  ++memory_call_count;
  if (refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  State& st = state();
  auto it = st.allocations.find(static_cast<const char*>(p));
  if (it == st.allocations.end() || it->second.kind != kind)
    fail(std::string(call) + " of a pointer that is not the start of a live allocation of that kind");
  drain_all();  // cudaFree waits for the device
  Allocation& a = it->second;
  if (kind == Memory::device) {
    st.device_bytes_in_use -= a.bytes;
    munmap(a.view.written, a.bytes);
    munmap(a.view.race, a.bytes * sizeof(RaceCell));
    a.view.written = nullptr;
    a.view.race = nullptr;
  }
  a.view.freed = true;
  // Give the pages back but keep the addresses, so no later allocation can take them: work that outlives
  // its buffer then finds a freed buffer, not somebody else's.
  if (mmap(a.map_base, a.map_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) ==
      MAP_FAILED)
    fail("mmap failed");
  a.kind = Memory::freed;
  return cudaSuccess;
}

// A device-to-device copy carries the source's written flags (an unwritten byte copied stays unwritten).
void copy_written(void* dst, const void* src, std::size_t bytes) {
  const DeviceAllocation* from = find_device_allocation(src);
  const DeviceAllocation* to = find_device_allocation(dst);
  std::memmove(to->written + (static_cast<const char*>(dst) - to->base),
               from->written + (static_cast<const char*>(src) - from->base), bytes);
}

// Queues a copy after checking the kind of memory on each side; the ranges are checked when it runs.
cudaError_t copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return set_last_error(cudaErrorInvalidValue);
  if (kind == cudaMemcpyDefault)
    kind = is_device(src) ? (is_device(dst) ? cudaMemcpyDeviceToDevice : cudaMemcpyDeviceToHost)
                          : (is_device(dst) ? cudaMemcpyHostToDevice : cudaMemcpyHostToHost);
  const bool src_device = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  const bool dst_device = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  if (is_device(src) != src_device || is_device(dst) != dst_device)
    fail("cudaMemcpy of " + std::to_string(bytes) + " bytes: the pointers do not match the copy's direction");
  enqueue(stream, "cudaMemcpy", [=] {
    if (src_device) check_device_range(src, bytes, "cudaMemcpy source");
    if (dst_device) check_device_range(dst, bytes, "cudaMemcpy destination");
    if (src_device && dst_device) copy_written(dst, src, bytes);
    else if (dst_device) mark_written(dst, bytes);
    std::memmove(dst, src, bytes);
  });
  return cudaSuccess;
}

}  // namespace

void enqueue(cudaStream_t stream, std::string what, std::function<void()> work) {
  CUstream_st* s = resolve(stream);
  if (s->capturing) {
    if (!s->capture_invalidated) s->captured.work.push_back({std::move(what), std::move(work)});
    return;
  }
  s->queue.push_back({std::move(what), std::move(work)});
}

void drain(cudaStream_t stream) {
  CUstream_st* s = resolve(stream);
  run_queue(s, s->queue.size());
}

void check_device_range(const void* p, std::size_t bytes, const std::string& who) {
  if (bytes == 0) return;
  const auto* a = find_allocation(p);
  if (a && a->second.kind == Memory::freed)
    fail(who + ": " + std::to_string(bytes) + " bytes at " + std::to_string(reinterpret_cast<std::uintptr_t>(p)) +
         " are in a freed device buffer");
  if (!a || a->second.kind != Memory::device)
    fail(who + ": " + std::to_string(bytes) + " bytes at " + std::to_string(reinterpret_cast<std::uintptr_t>(p)) +
         " are not in device memory (a host pointer?)");
  const std::size_t offset = std::size_t(static_cast<const char*>(p) - a->first);
  if (bytes > a->second.bytes - offset)
    fail(who + ": " + std::to_string(bytes) + " bytes at offset " + std::to_string(offset) + " of a " +
         std::to_string(a->second.bytes) + "-byte device allocation run " +
         std::to_string(bytes - (a->second.bytes - offset)) + " bytes past its end");
}

void fail(const std::string& message) {
  std::fprintf(stderr, "emulated GPU: %s\n", message.c_str());
  std::fflush(stderr);
  std::abort();
}

// Undefined contents, made visible: NaN as a float or a double, 4290829997 as an unsigned (not 0, not all
// ones, which code might mistake for a cleared counter or flag), 173 as a byte (not a digit label).
void poison(char* p, std::size_t bytes) {
  constexpr std::uint32_t kPattern = 0xFFC0DEADu;
  for (std::size_t i = 0; i < bytes; ++i) p[i] = char(kPattern >> (8 * (i % 4)));
}

DeviceAllocation* find_device_allocation(const void* p) {
  auto& allocations = state().allocations;
  const char* c = static_cast<const char*>(p);
  auto it = allocations.upper_bound(c);
  // The padding before an allocation belongs to its mapping: an access there ran off its start.
  if (it != allocations.end() && it->second.kind != Memory::pinned && c >= it->second.map_base) return &it->second.view;
  if (it == allocations.begin()) return nullptr;
  --it;
  Allocation& a = it->second;
  if (a.kind == Memory::pinned || c >= a.map_base + a.map_bytes) return nullptr;
  return &a.view;
}

std::size_t memory_calls() { return memory_call_count; }
std::size_t last_graph_nodes() { return last_graph_node_count; }

void mark_written(const void* p, std::size_t bytes) {
  if (bytes == 0) return;
  const DeviceAllocation* a = find_device_allocation(p);
  if (!a || a->freed) return;  // the range checks report it
  std::memset(a->written + (static_cast<const char*>(p) - a->base), 1, bytes);
}

std::string address_text(const void* p) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", p);
  return text;
}

cudaError_t set_last_error(cudaError_t status) {
  if (status != cudaSuccess) state().last_error = status;
  return status;
}

}  // namespace sigmanet::gpu_emulator

namespace emu = sigmanet::gpu_emulator;

// ---- devices, versions, errors ----

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return emu::set_last_error(cudaErrorInvalidValue);
  *count = 0;
  if (!emu::device_present()) return emu::set_last_error(emu::no_device_error());
  *count = emu::device_count();
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!emu::device_present()) return emu::set_last_error(emu::no_device_error());
  *device = emu::state().device;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (!emu::device_present()) return emu::set_last_error(emu::no_device_error());
  if (device < 0 || device >= emu::device_count()) return emu::set_last_error(cudaErrorInvalidDevice);
  emu::state().device = device;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
  if (!emu::device_present()) return emu::set_last_error(emu::no_device_error());
  if (!p || device < 0 || device >= emu::device_count()) return emu::set_last_error(cudaErrorInvalidDevice);
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "CPU emulation of a CUDA GPU");
  p->totalGlobalMem = emu::kDeviceBytes;
  p->major = 9;
  p->minor = 0;
  p->warpSize = 32;
  p->maxThreadsPerBlock = 1024;
  p->multiProcessorCount = 1;
  p->sharedMemPerBlock = 48 * 1024;
  p->sharedMemPerBlockOptin = 227 * 1024;  // an H200's, as the SIMT executor allows
  return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* v) {
  *v = emu::driver_present() ? CUDART_VERSION : 0;  // 0: no driver installed, as the runtime says
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  const cudaError_t e = emu::state().last_error;
  emu::state().last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return emu::state().last_error; }

const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorIllegalState: return "cudaErrorIllegalState";
    case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
    case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
    case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidClusterSize: return "cudaErrorInvalidClusterSize";
    default: return "cudaErrorUnknown";
  }
}

// The runtime's own wording for each.
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorIllegalState: return "the operation cannot be performed in the present state";
    case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
    case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidClusterSize: return "invalid cluster size";
    default: return "unknown error";
  }
}

// ---- memory ----

cudaError_t cudaMalloc(void** p, size_t bytes) { return emu::allocate(p, bytes, emu::Memory::device); }
cudaError_t cudaMallocHost(void** p, size_t bytes) { return emu::allocate(p, bytes, emu::Memory::pinned); }
cudaError_t cudaFree(void* p) { return emu::release(p, emu::Memory::device, "cudaFree"); }
cudaError_t cudaFreeHost(void* p) { return emu::release(p, emu::Memory::pinned, "cudaFreeHost"); }

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  return emu::copy(dst, src, bytes, kind, stream);
}

// On the legacy default stream, which the non-blocking streams sigmanet creates do not wait for.
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (emu::refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  const cudaError_t status = emu::copy(dst, src, bytes, kind, nullptr);
  emu::drain(nullptr);
  return status;
}

cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t stream) {
  if (bytes == 0) return cudaSuccess;
  if (!emu::is_device(p)) emu::fail("cudaMemsetAsync of " + std::to_string(bytes) + " bytes: not device memory");
  emu::enqueue(stream, "cudaMemsetAsync", [=] {
    emu::check_device_range(p, bytes, "cudaMemsetAsync");
    emu::mark_written(p, bytes);
    std::memset(p, value, bytes);
  });
  return cudaSuccess;
}

// ---- streams and synchronisation ----

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) {
  if (!emu::device_present()) return emu::set_last_error(emu::no_device_error());
  *s = new CUstream_st;
  emu::state().streams.push_back(*s);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) {
  if (!s || s == &emu::state().legacy) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  emu::drain(s);  // work queued before the destroy still completes
  auto& streams = emu::state().streams;
  std::erase(streams, s);
  delete s;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
  if (emu::refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  emu::drain(s);
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize() {
  if (emu::refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  emu::drain_all();
  return cudaSuccess;
}

// ---- events ----

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int flags) {
  if (!emu::device_present()) return emu::set_last_error(emu::no_device_error());
  *e = new CUevent_st;
  (*e)->flags = flags;
  return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) { return cudaEventCreateWithFlags(e, cudaEventDefault); }

cudaError_t cudaEventDestroy(cudaEvent_t e) {
  if (!e) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  delete e;  // records still queued hold their own state
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t stream) {
  if (!e) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  CUstream_st* s = emu::resolve(stream);
  if (s->capturing) return emu::set_last_error(cudaErrorStreamCaptureUnsupported);  // sigmanet never does this
  auto record = std::make_shared<EventRecord>();
  e->last = record;
  e->stream = s;
  e->queries_pending = 0;
  emu::enqueue(stream, "cudaEventRecord", [record] {
    record->done = true;
    record->when = std::chrono::steady_clock::now();
  });
  return cudaSuccess;
}

// Runs the stream the event was last recorded on up to and including that record.
static void run_until(cudaEvent_t e) {
  if (!e->last || e->last->done) return;
  const std::shared_ptr<EventRecord> record = e->last;
  emu::run_queue(e->stream, e->stream->queue.size(), [&] { return record->done; });
}

cudaError_t cudaEventSynchronize(cudaEvent_t e) {
  if (!e) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  if (emu::refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  run_until(e);
  return cudaSuccess;
}

// The first query of a pending event says "not ready" (the GPU is behind); the next one finds the GPU has
// caught up. Both answers occur on real hardware, so callers must handle both.
cudaError_t cudaEventQuery(cudaEvent_t e) {
  if (!e) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  if (emu::refused_during_capture()) return cudaErrorStreamCaptureUnsupported;
  if (!e->last || e->last->done) return cudaSuccess;
  if (e->queries_pending++ == 0) return emu::set_last_error(cudaErrorNotReady);
  run_until(e);
  return cudaSuccess;
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (!ms || !start || !end || !start->last || !end->last) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  if ((start->flags | end->flags) & cudaEventDisableTiming) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  if (!start->last->done || !end->last->done) return emu::set_last_error(cudaErrorNotReady);
  *ms = std::chrono::duration<float, std::milli>(end->last->when - start->last->when).count();
  return cudaSuccess;
}

// ---- graphs ----

cudaError_t cudaStreamBeginCapture(cudaStream_t stream, cudaStreamCaptureMode) {
  CUstream_st* s = emu::resolve(stream);
  if (s == &emu::state().legacy) return emu::set_last_error(cudaErrorStreamCaptureUnsupported);
  if (s->capturing) return emu::set_last_error(cudaErrorIllegalState);
  s->capturing = true;
  s->capture_invalidated = false;
  s->captured.work.clear();
  return cudaSuccess;
}

cudaError_t cudaStreamIsCapturing(cudaStream_t stream, cudaStreamCaptureStatus* status) {
  if (!status) return emu::set_last_error(cudaErrorInvalidValue);
  const CUstream_st* s = emu::resolve(stream);
  *status = !s->capturing              ? cudaStreamCaptureStatusNone
            : s->capture_invalidated ? cudaStreamCaptureStatusInvalidated
                                     : cudaStreamCaptureStatusActive;
  return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t stream, cudaGraph_t* graph) {
  CUstream_st* s = emu::resolve(stream);
  if (!s->capturing || !graph) return emu::set_last_error(cudaErrorIllegalState);
  s->capturing = false;
  *graph = nullptr;
  if (s->capture_invalidated) return emu::set_last_error(cudaErrorStreamCaptureInvalidated);
  *graph = new CUgraph_st{std::move(s->captured.work)};
  s->captured.work.clear();
  return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
  if (!exec || !graph) return emu::set_last_error(cudaErrorInvalidValue);
  emu::last_graph_node_count = graph->work.size();
  *exec = new CUgraphExec_st{graph->work};  // a snapshot: later changes to the graph do not reach it
  return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (!exec) return emu::set_last_error(cudaErrorInvalidResourceHandle);
  if (emu::resolve(stream)->capturing) return emu::set_last_error(cudaErrorStreamCaptureUnsupported);
  for (const Work& w : exec->work) emu::enqueue(stream, w.what, w.run);
  return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  delete graph;
  return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  delete exec;
  return cudaSuccess;
}
