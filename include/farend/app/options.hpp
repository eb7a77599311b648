// farend's own options (after EAL's and "--"): the command line and an optional config file
// (--config FILE, "name = value" lines with the same names; the command line wins).
#pragma once

#include <farend/pipeline/config.hpp>

#include <optional>
#include <string>
#include <vector>

namespace farend::app {

struct Options {
    pipeline::Config config;
    bool help = false;
    bool version = false;
};

// nullopt on a bad option or file, with a message naming the option in *error.
[[nodiscard]] std::optional<Options> parse_options(int argc, const char* const* argv, std::string* error);

// The "rule =" lines of a config file (for SIGHUP), checked for syntax; nullopt and why on error.
[[nodiscard]] std::optional<std::vector<std::string>> read_file_rules(const std::string& file, std::string* error);

// The --help text.
[[nodiscard]] std::string help_text();

inline constexpr const char* kVersion = "0.1.0";

}  // namespace farend::app
