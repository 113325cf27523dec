// libFuzzer: a request target ("path?query") as the REST layer reads it. The route table,
// percent-decoding and the strict query reader never crash, and a query either yields
// values within their ranges or an error naming a parameter.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "dynchat/rest/query.hpp"
#include "dynchat/rest/route_table.hpp"

using namespace dynchat::rest;

namespace {
const route_table& routes() {
  static const route_table table{{{"GET", "/v1/agents", 1},
                                  {"POST", "/v1/agents", 2},
                                  {"GET", "/v1/agents/{id}", 3},
                                  {"GET", "/v1/conversations", 4},
                                  {"GET", "/v1/conversations/{id}/transcript.txt", 5}}};
  return table;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target{reinterpret_cast<const char*>(data), size};
  const auto mark = target.find('?');
  const auto path = target.substr(0, mark);
  (void)percent_decode(path);
  for (const char* method : {"GET", "POST", "PUT"}) {
    auto m = routes().match(method, path);
    for (auto& [name, value] : m.params)
      if (value.empty()) std::abort(); // a path parameter is never empty
  }
  if (mark == std::string_view::npos) return 0;
  query q{target.substr(mark + 1)};
  const auto limit = q.integer("limit", 50, 1, 500);
  const auto status = q.text("status", {"bot", "waiting", "live", "ended"});
  (void)q.text("cursor");
  const auto error = q.error();
  if (!error) {
    if (limit < 1 || limit > 500) std::abort();
    if (!status.empty() && status != "bot" && status != "waiting" && status != "live" && status != "ended") std::abort();
  } else if (error->find('\'') == std::string::npos) {
    std::abort(); // every refusal names what it refuses
  }
  return 0;
}
