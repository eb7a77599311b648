// rte_telemetry commands (read with dpdk-telemetry.py, same --file-prefix as farend's EAL):
//   /farend/stats               every counter, summed over workers
//   /farend/lcore_stats,<lcore> one worker's counters
//   /farend/config              the running configuration (option names with '_' for '-')
//   /farend/flows               flow count and the 32 most recently seen flows with their fields
#pragma once

#include <farend/dataplane/dataplane.hpp>

#include <string>

namespace farend::telemetry {

// Registers the commands for dp (which must outlive the EAL). False, and the command and reason in
// error, if a registration failed (EAL started with --no-telemetry, for one).
bool register_commands(const dataplane::Dataplane* dp, std::string* error);

// The counters as a JSON object {"name": value, ...} (the reported ones).
std::string counters_json(const pipeline::Counters& c);
// Dataplane::resources() as a JSON object {"ports": {...}, "pools": {...}, "flows": n, ...}.
std::string resources_json(const dataplane::Dataplane::Resources& r);

}  // namespace farend::telemetry
