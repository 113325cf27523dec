// GET/PUT /v1/config: the site's chat configuration (docs/configuration.md). A PUT
// replaces it whole (absent fields take their defaults), checked first with every
// problem listed; once committed, new hellos and every conversation's next step use it.
#include "actors/rest/handlers.hpp"
#include "dynchat/site/config.hpp"
#include "dynchat/store/writes.hpp"

namespace dynchat::rest_api {

void get_site_config(call c) {
  if (!query_ok(c)) return;
  c.reply(json_response(200, site::to_json(*c.ctx().site->current())));
}

void put_site_config(call c) {
  if (!query_ok(c)) return;
  auto body = parse_body(c);
  if (!body) return;
  auto checked = site::decode(*body);
  if (!checked.value) return c.reply(problems_response("the configuration", checked.problems));
  serially(std::move(c), "site.config", [config = *checked.value](call c, std::function<void()> done) {
    store::write_batch batch;
    store::writes::put_meta(batch, site::meta_key, site::to_json(config).dump());
    write_then(
      c, std::move(batch),
      [c, config] {
        c.ctx().site->set(config);
        c.reply(json_response(200, site::to_json(config)));
      },
      done);
  });
}

} // namespace dynchat::rest_api
