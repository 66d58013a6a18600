#pragma once
// std::vector storage that starts on a 64-byte cache line. The fast CPU network's 32-byte vector loads
// straddle two lines whenever a buffer starts 16 or 48 bytes into one, which std::allocator (16-byte
// alignment) allows; a training step then ran about 25% slower, in whichever processes the heap happened
// to put W there (bench/RESULTS.md). Aligning only the start keeps the layout, and so every result,
// unchanged: rows of W stay aligned when a row is a whole number of lines (784 floats is 49).
#include <cstddef>
#include <limits>
#include <new>
#include <vector>

namespace sigmanet {

inline constexpr std::size_t kCacheLineBytes = 64;

template <class T, std::size_t Alignment = kCacheLineBytes>
class AlignedAllocator {
 public:
  static_assert((Alignment & (Alignment - 1)) == 0 && Alignment >= alignof(T),
                "AlignedAllocator: the alignment must be a power of two and at least T's own");
  using value_type = T;
  // Spelled out: allocator_traits cannot rebind a template with a non-type parameter by itself.
  template <class U>
  struct rebind {
    using other = AlignedAllocator<U, Alignment>;
  };

  AlignedAllocator() noexcept = default;
  template <class U>
  AlignedAllocator(const AlignedAllocator<U, Alignment>&) noexcept {}

  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{Alignment}));
  }
  // The unsized form: clang before 19 does not declare sized deallocation unless asked (-fsized-deallocation).
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p, std::align_val_t{Alignment}); }

  // Stateless: memory from one instance may be freed by any other.
  template <class U>
  bool operator==(const AlignedAllocator<U, Alignment>&) const noexcept {
    return true;
  }
};

template <class T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace sigmanet
