#pragma once
// Log-linear latency histogram (HdrHistogram is not packaged for Debian 12): values in
// microseconds, 64 linear sub-buckets per power of two, so every recorded value is
// kept within 1.6 % of its true size, from 1 µs to over an hour, in a fixed 2,300 slots.
#include <array>
#include <cstdint>
#include <string>

namespace dynchat::load {

class latency_histogram {
public:
  static constexpr int sub_bits = 6;
  static constexpr int sub_count = 1 << sub_bits;
  static constexpr int magnitudes = 36;

  void record(std::uint64_t micros) noexcept;
  void merge(const latency_histogram& other) noexcept;
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  /// The value at quantile q in [0, 1], as the upper edge of its bucket.
  std::uint64_t quantile(double q) const noexcept;

  /// Adds n values to bucket `index` (for merging histograms sent between processes);
  /// `max` is the largest value among them. Returns false for an index out of range.
  bool add_bucket(std::size_t index, std::uint64_t n, std::uint64_t max) noexcept;
  /// Calls fn(index, count) for every non-empty bucket, lowest first.
  template <class Fn> void for_each_bucket(Fn&& fn) const {
    for (std::size_t i = 0; i < buckets_.size(); ++i)
      if (buckets_[i]) fn(i, buckets_[i]);
  }

  static std::size_t index_of(std::uint64_t v) noexcept;
  static std::uint64_t upper_edge(std::size_t index) noexcept;

private:
  std::array<std::uint64_t, magnitudes * sub_count> buckets_{};
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

} // namespace dynchat::load
