// `neco fetch-weights NAME`: downloads official DINOv2 / DINO / NeCo weights by name into the cache
// (verified, resumable) and prints the file's path on stdout, so that scripts can do
// `w=$(neco fetch-weights dinov2_vits14_reg)`. Progress goes to stderr: a bar on a terminal, a log
// line every 10 % otherwise.
#include "CliApp.h"
#include "ExitCodes.h"
#include "neco/core/Error.h"
#include "neco/core/Weights.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include <sys/ioctl.h>
#include <unistd.h>

namespace neco::cli {
namespace {

using Clock = std::chrono::steady_clock;

double megabytes(std::uint64_t bytes) {
  return static_cast<double>(bytes) / 1e6;
}

std::string duration(double seconds) {
  const auto s = static_cast<long long>(std::min(seconds, 359999.0));
  char text[32];
  if (s >= 3600)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else
    std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
  return text;
}

/// Draws the download's progress on stderr: a bar redrawn in place (at most 10 times a second) on a
/// terminal, else a log line at every 10 % (every 10 s when the size is unknown).
class ProgressReporter {
 public:
  explicit ProgressReporter(std::string label) : label_(std::move(label)), tty_(::isatty(STDERR_FILENO) == 1) {}

  bool operator()(const DownloadProgress& p) {
    if (p.resumed && !announcedResume_) {
      announcedResume_ = true;
      endLine();
      spdlog::info("{}: resuming a partial download at {:.1f} MB", label_, megabytes(p.startedAt));
    }
    const bool done = p.total != 0 && p.received >= p.total;
    if (tty_)
      drawBar(p, done);
    else
      logStep(p, done);
    return true;
  }

  /// Ends the bar's line (before any other output: an error, a log line, the result).
  void endLine() {
    if (lineOpen_) std::fputc('\n', stderr);
    lineOpen_ = false;
  }

 private:
  /// "dinov2_vits14_reg  42% [#########.............] 37.1/88.3 MB  12.4 MB/s  ETA 0:04", the bar
  /// shortened (or dropped) so that the line fits the terminal: a wrapped line breaks the \r redraw.
  void drawBar(const DownloadProgress& p, bool done) {
    const Clock::time_point now = Clock::now();
    if (!done && drawn_ && now - lastDraw_ < std::chrono::milliseconds(100)) return;
    if (done && finished_) return;
    if (p.total == 0 && p.received == p.startedAt) return;  // nothing new before the response starts
    drawn_ = true;
    lastDraw_ = now;
    char text[96];
    std::string numbers;
    if (p.total != 0)
      std::snprintf(text, sizeof text, " %.1f/%.1f MB", megabytes(p.received), megabytes(p.total));
    else
      std::snprintf(text, sizeof text, " %.1f MB", megabytes(p.received));
    numbers = text;
    if (p.bytesPerSecond > 0) {
      std::snprintf(text, sizeof text, "  %.1f MB/s", p.bytesPerSecond / 1e6);
      numbers += text;
      if (p.total > p.received)
        numbers += "  ETA " + duration(static_cast<double>(p.total - p.received) / p.bytesPerSecond);
    }
    std::string line = label_;
    if (p.total != 0) {
      const double fraction = std::min(1.0, static_cast<double>(p.received) / static_cast<double>(p.total));
      std::snprintf(text, sizeof text, " %3d%%", static_cast<int>(fraction * 100));
      line += text;
      // Room for the longest numbers (" 1234.5/4400.0 MB  12.4 MB/s  ETA 1:02:03"): a steady bar width.
      const int numbersWidth = std::max(42, static_cast<int>(numbers.size()));
      const int room = terminalColumns() - 1 - static_cast<int>(line.size()) - numbersWidth - 3;
      const int width = std::min(30, room);
      if (width >= 8) {
        const int filled = static_cast<int>(fraction * width);
        line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
                std::string(static_cast<std::size_t>(width - filled), '.') + "]";
      }
    }
    line = "\r" + line + numbers + "\x1b[K";  // erase what a longer previous line left
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
    lineOpen_ = true;
    if (done) {
      finished_ = true;
      endLine();
    }
  }

  static int terminalColumns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 20) return size.ws_col;
    return 80;
  }

  void logStep(const DownloadProgress& p, bool done) {
    const Clock::time_point now = Clock::now();
    if (p.total != 0) {
      const int tenth = static_cast<int>(10 * std::min(p.received, p.total) / p.total);
      if (tenth <= lastTenth_) return;
      lastTenth_ = tenth;
      spdlog::info("{}: {}% ({:.1f} of {:.1f} MB, {:.1f} MB/s)", label_, tenth * 10, megabytes(p.received),
                   megabytes(p.total), p.bytesPerSecond / 1e6);
    } else if (now - lastLog_ >= std::chrono::seconds(10) || done) {
      lastLog_ = now;
      spdlog::info("{}: {:.1f} MB ({:.1f} MB/s)", label_, megabytes(p.received), p.bytesPerSecond / 1e6);
    }
  }

  std::string label_;
  bool tty_;
  bool lineOpen_ = false;
  bool drawn_ = false;
  bool finished_ = false;
  bool announcedResume_ = false;
  int lastTenth_ = 0;
  Clock::time_point lastDraw_{};
  Clock::time_point lastLog_ = Clock::now();
};

void printRegistry(const std::string& cacheDir) {
  std::size_t nameWidth = 4, familyWidth = 6, descriptionWidth = 11;
  for (const OfficialWeights& w : officialWeights()) {
    nameWidth = std::max(nameWidth, w.name.size());
    familyWidth = std::max(familyWidth, w.family.size());
    descriptionWidth = std::max(descriptionWidth, w.description.size());
  }
  const auto row = [&](const std::string& name, const std::string& family, const std::string& description,
                       const std::string& url) {
    std::printf("%-*s  %-*s  %-*s  %s\n", static_cast<int>(nameWidth), name.c_str(), static_cast<int>(familyWidth),
                family.c_str(), static_cast<int>(descriptionWidth), description.c_str(), url.c_str());
  };
  row("NAME", "FAMILY", "DESCRIPTION", "URL");
  for (const OfficialWeights& w : officialWeights()) row(w.name, w.family, w.description, w.url);
  std::printf("\ncache folder: %s%s\n", cacheDir.c_str(),
              canDownloadWeights() ? "" : "  (this build cannot download: copy files there by hand)");
}

struct Args {
  std::string name;
  std::string cache;
  std::string url;
  std::string sha256;
  bool force = false;
  bool list = false;
};

int run(const Args& args) {
  const std::filesystem::path cacheDir =
      args.cache.empty() ? weightsCacheDirectory() : std::filesystem::path(args.cache);
  if (args.list) {
    printRegistry(cacheDir.string());
    return kExitOk;
  }
  if (args.name.empty())
    throw InvalidArgumentError("neco fetch-weights: give a NAME (see neco fetch-weights --list) or an http(s) URL");

  FetchOptions options;
  options.cacheDir = cacheDir;
  options.url = args.url;
  options.sha256 = args.sha256;
  options.force = args.force;
  // A URL is shown by its file name: the bar has to fit a terminal line.
  const bool isUrl = args.name.find("://") != std::string::npos;
  auto reporter =
      std::make_shared<ProgressReporter>(isUrl ? weightsCachePath(args.name, cacheDir).filename().string() : args.name);
  options.progress = [reporter](const DownloadProgress& p) { return (*reporter)(p); };
  try {
    const FetchResult result = fetchWeights(args.name, options);
    reporter->endLine();
    std::printf("%s\n", result.file.c_str());
    return kExitOk;
  } catch (const NetworkError& e) {
    reporter->endLine();
    spdlog::error("{}", e.what());
    return kExitFailure;
  } catch (...) {
    reporter->endLine();  // CliApp maps the rest (bad argument 2, no libcurl 3, I/O 1)
    throw;
  }
}

}  // namespace

void addFetchWeightsCommand(CLI::App& app, CommandSlot& slot) {
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "fetch-weights", "Download official DINOv2 / DINO / NeCo weights by name into the cache (verified, resumable)");
  cmd->add_option("name", args->name, "Registry name (see --list) or an http(s) URL");
  cmd->add_option("--cache", args->cache, "Cache folder (default $XDG_CACHE_HOME/neco-studio/weights)");
  cmd->add_option("--url", args->url, "Download from this URL instead of the official one (a mirror)");
  cmd->add_option("--sha256", args->sha256, "Expected SHA-256 of the file (64 hex digits)");
  cmd->add_flag("--force", args->force, "Download again even when a verified copy is in the cache");
  cmd->add_flag("--list", args->list, "List the known names, their families and official URLs");
  cmd->footer(
      "Prints the file's path on stdout. Partial downloads are kept as <file>.part and resumed.\n"
      "Offline: the error names the URL and the exact path to copy the file to by hand.");
  cmd->callback([&slot, args] { slot.action = [args] { return run(*args); }; });
}

}  // namespace neco::cli
