#pragma once
// --procs N: one run in N client processes, so that the connections can pass the
// descriptor limit of one process and the generator can use more than one core. The
// launcher forks the children (each runs its share of the scenario), prints one merged
// progress line a second, tells every child to stop once all visitors everywhere are done
// (a child's agents serve visitors of other children), and merges their tallies.
#include "scenario_run.hpp"

namespace dynchat::load {

run_result run_in_processes(const scenario& s, const run_options& o);

} // namespace dynchat::load
