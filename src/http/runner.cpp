#include "dynchat/http/runner.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

namespace dynchat::http {

struct runner::io {
  boost::asio::io_context context;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> keep{context.get_executor()};
};

runner::runner(client_options options) : io_(std::make_unique<io>()) {
  client_ = std::make_unique<http::client>(io_->context, std::move(options));
  thread_ = std::thread{[ctx = &io_->context] { ctx->run(); }};
}

boost::asio::io_context& runner::context() { return io_->context; }

runner::~runner() {
  client_->shutdown(); // every request ends with `cancelled`, on the io thread
  io_->keep.reset();
  thread_.join();
  client_.reset();
}

} // namespace dynchat::http
