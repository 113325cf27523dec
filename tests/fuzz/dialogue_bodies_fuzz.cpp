// libFuzzer: any bytes as the body of a dialogue save, parsed under the frames' guard and
// decoded. Nothing crashes; a dialogue is accepted exactly when no problem is listed,
// every problem says where and why, and an accepted graph has no holes and bounded paths,
// its audience compiles, and the engine runs it (start, then answers) without a runaway step;
// the same, with its flow cards' flows written in (each the body itself).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dynchat/dialogue/embed.hpp"
#include "dynchat/dialogue/validate.hpp"
#include "dynchat/engine/step.hpp"
#include "dynchat/protocol/codec.hpp"
#include "dynchat/targeting/audience.hpp"

using namespace dynchat;

namespace {

void run_script(const dialogue::definition& d) {
  engine::cursor at;
  at.flow = engine::flow_kind::dialogue;
  const std::vector<std::string> blocked{"gmail.com"};
  const engine::context ctx{nullptr, engine::agent_availability::none_available, 0, &d, 100, &blocked};
  const std::vector<engine::input> script = {engine::in::started{}, engine::in::visitor_text{"ann@acme.example"},
                                             engine::in::choice{"x"}, engine::in::visitor_text{"yes"}};
  for (const auto& in : script) {
    auto r = engine::step(at, in, ctx);
    if (r.outputs.size() > 4 * d.cards.size() + 8) std::abort();
    at = std::move(r.cursor);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parsed = protocol::parse_json(std::string_view{reinterpret_cast<const char*>(data), size});
  if (!parsed) return 0;
  dialogue::limits lim;
  lim.max_cards = 40; // small limits, so the fuzzer reaches them
  lim.max_paths = 50;
  auto checked = dialogue::decode(*parsed, lim);
  if (checked.value.has_value() == !checked.problems.empty()) std::abort();
  for (const auto& p : checked.problems)
    if (p.reason.empty()) std::abort();
  if (!checked.value) return 0;
  const auto& d = *checked.value;
  if (d.cards.empty() || d.cards.size() > lim.max_cards || !dialogue::check_graph(d).empty()) std::abort();
  auto paths = dialogue::enumerate_paths(d, lim.max_paths);
  if (paths.paths.empty() || paths.paths.size() > lim.max_paths) std::abort();
  for (const auto& p : paths.paths)
    if (p.empty() || p.front() != d.start) std::abort();
  if (!targeting::compiled_audience::compile(d.audience)) std::abort();
  // Every step stops at a card that waits, or the end: a step's outputs stay within what
  // the cards can say (two per card at most, with typing).
  run_script(d);
  // Its flow cards, each embedding the body itself (as a publish would a flow).
  auto embedded = dialogue::embed_flows(*parsed, [&](const std::string&) { return std::optional<nlohmann::json>{*parsed}; });
  if (embedded.value.has_value() == !embedded.problems.empty()) std::abort();
  if (!embedded.value) return 0;
  lim.max_cards = 40 * 41;
  auto whole = dialogue::decode(*embedded.value, lim);
  if (whole.value.has_value() == !whole.problems.empty()) std::abort();
  if (whole.value) run_script(*whole.value);
  return 0;
}
