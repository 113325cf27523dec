#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace dynchat::load {

std::size_t latency_histogram::index_of(std::uint64_t v) noexcept {
  if (v < sub_count) return static_cast<std::size_t>(v); // magnitude 0 is exact
  const int msb = 63 - std::countl_zero(v);                // >= sub_bits
  const int magnitude = std::min(msb - sub_bits + 1, magnitudes - 1);
  const int shift = magnitude - 1;
  const std::uint64_t sub = std::min<std::uint64_t>((v >> shift) - sub_count, sub_count - 1);
  return static_cast<std::size_t>(magnitude) * sub_count + static_cast<std::size_t>(sub);
}

std::uint64_t latency_histogram::upper_edge(std::size_t index) noexcept {
  const std::size_t magnitude = index / sub_count;
  const std::uint64_t sub = index % sub_count;
  if (magnitude == 0) return sub;
  const int shift = static_cast<int>(magnitude) - 1;
  return ((sub_count + sub + 1) << shift) - 1;
}

void latency_histogram::record(std::uint64_t micros) noexcept {
  buckets_[index_of(micros)]++;
  count_++;
  max_ = std::max(max_, micros);
}

void latency_histogram::merge(const latency_histogram& other) noexcept {
  for (std::size_t i = 0; i < buckets_.size(); ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

bool latency_histogram::add_bucket(std::size_t index, std::uint64_t n, std::uint64_t max) noexcept {
  if (index >= buckets_.size()) return false;
  buckets_[index] += n;
  count_ += n;
  max_ = std::max(max_, max);
  return true;
}

std::uint64_t latency_histogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= std::max<std::uint64_t>(rank, 1)) return std::min(upper_edge(i), max_);
  }
  return max_;
}

} // namespace dynchat::load
