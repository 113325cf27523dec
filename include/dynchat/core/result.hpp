#pragma once
// A value or an error, for everything that can fail on bad input (C++20 has no
// std::expected). Decoding never throws past this type.
#include <string>
#include <utility>
#include <variant>

namespace dynchat {

template <class E>
struct failure {
  E code;
  std::string message;
};

template <class T, class E>
class result {
public:
  result(T value) : data_(std::move(value)) {}
  result(failure<E> err) : data_(std::move(err)) {}

  explicit operator bool() const noexcept { return data_.index() == 0; }
  T& operator*() { return std::get<0>(data_); }
  const T& operator*() const { return std::get<0>(data_); }
  T* operator->() { return &std::get<0>(data_); }
  const T* operator->() const { return &std::get<0>(data_); }
  const failure<E>& error() const { return std::get<1>(data_); }

private:
  std::variant<T, failure<E>> data_;
};

} // namespace dynchat
