#pragma once
// An HTTP client with its own io thread, for actors that call other services (iCal
// feeds, SMTP is separate, Marketo): they never block, and never run on the socket
// threads. Destroying it cancels what is in flight and joins the thread.
#include <memory>
#include <thread>

#include "dynchat/http/client.hpp"

namespace dynchat::http {

class runner {
public:
  explicit runner(client_options options = {});
  ~runner();
  runner(const runner&) = delete;
  runner& operator=(const runner&) = delete;
  http::client& client() { return *client_; }
  /// The io_context the client runs on: for timers of code built on the client.
  boost::asio::io_context& context();

private:
  struct io;
  std::unique_ptr<io> io_;
  std::unique_ptr<http::client> client_;
  std::thread thread_;
};

} // namespace dynchat::http
