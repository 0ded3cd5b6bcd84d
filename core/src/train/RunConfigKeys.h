#pragma once
// The key table of RunConfig (RunConfig.cpp), shared with the resolution (RunConfigResolve.cpp) so
// that validation messages quote a value exactly as the YAML would show it.

#include "train/RunConfig.h"

#include <string>
#include <string_view>

namespace neco::train::detail {

/// The value of a dotted key ("train.batch_size") as YAML flow text ("64", "[518, 98]", "'bitonic'").
/// "?" for an unknown key. Never throws.
std::string runConfigValueText(const RunConfig& config, std::string_view key);

}  // namespace neco::train::detail
