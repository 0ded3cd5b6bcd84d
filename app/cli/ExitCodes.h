#pragma once
// Exit statuses of `neco`, documented in `neco --help` and the README.

namespace neco::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;      ///< the command ran and failed (bad file, I/O error, ...)
constexpr int kExitUsage = 2;        ///< bad command line: unknown option, missing or invalid value
constexpr int kExitUnavailable = 3;  ///< the command or feature is not in this build or version
constexpr int kExitInterrupted = 130;///< stopped by SIGINT/SIGTERM after saving state

}  // namespace neco::cli
