#pragma once
// A store writer that fails on demand, for actor tests: it stands between the actors
// and the real writer and fails the next `*failures_left` write requests.
#include <memory>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/store_writer.hpp"

namespace dynchat::testing {

inline caf::behavior flaky_writer(caf::event_based_actor* self, store_writer_actor real, std::shared_ptr<int> failures_left) {
  return {
    [=](msg::write_atom, store::write_batch& batch) -> caf::result<std::uint64_t> {
      if (*failures_left > 0) {
        --*failures_left;
        return caf::make_error(caf::sec::runtime_error, "the disk is full");
      }
      auto promise = self->make_response_promise<std::uint64_t>();
      self->request(real, caf::infinite, msg::write_atom::value, std::move(batch))
        .then([=](std::uint64_t n) mutable { promise.deliver(n); },
              [=](caf::error& e) mutable { promise.deliver(std::move(e)); });
      return promise;
    },
  };
}

} // namespace dynchat::testing
