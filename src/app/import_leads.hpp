#pragma once
// `dynchatd import-leads FILE.csv`: leads from a file in Marketo's export format (a
// header row with the REST field names, id among them; `null` for empty), through the
// sync's own parser, row mapping and writes, into the data folder of a stopped dynchatd.
#include <string>

#include "dynchat/core/settings.hpp"

namespace dynchat::app {

struct import_options {
  std::string file;
  char delimiter = ',';
  bool progress = true; // a progress bar on stderr
};

/// Returns the exit status: 0 when every row was read (bad rows are reported, and
/// counted, but do not fail the import), 1 when the file or the store failed.
int import_leads(const settings& cfg, const import_options& opts);

} // namespace dynchat::app
