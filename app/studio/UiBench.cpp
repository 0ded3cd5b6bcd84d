#include "UiBench.h"

#include "StudioOptions.h"

#include "neco/core/BuildInfo.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/TrainingPanel.h"
#include "neco/ui/TrainingWorker.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEvent>
#include <QEventLoop>
#include <QFile>
#include <QGuiApplication>
#include <QMouseEvent>
#include <QPushButton>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QWindow>

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace neco::studio {
namespace {

using Clock = std::chrono::steady_clock;
// The fallback origin of the cold start: dynamic initialisation, just before main().
const Clock::time_point kStaticInit = Clock::now();

constexpr int kInputSize = 518;
constexpr double kClickGoalMs = 16.0;
constexpr double kEventLoopGoalMs = 50.0;
constexpr double kColdStartGoalMs = 1500.0;
constexpr int kProbeIntervalMs = 10;
constexpr int kLiveEvery = 5;
// The demo configuration shrunk to a fraction of a second a step (as tests/ui/TrainingPanelTest).
const QStringList kFastDemo{
    QStringLiteral("data.size_crops=[56, 28]"),     QStringLiteral("data.nmb_samples=[2, 2]"),
    QStringLiteral("train.batch_size=4"),           QStringLiteral("train.projection_hidden_dim=64"),
    QStringLiteral("train.projection_feat_dim=32"), QStringLiteral("train.queue_length=256"),
    QStringLiteral("neco.monitor_every=2"),         QStringLiteral("neco.eval_every=3")};

struct BenchFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Sizes {
  int clicks;
  int idleMs;
  int trainingMs;
};

// Milliseconds since the kernel started this process (/proc/self/stat starttime, in clock ticks
// since boot, against CLOCK_BOOTTIME); nullopt where that cannot be read.
std::optional<double> processAgeMs() {
  std::ifstream file("/proc/self/stat");
  std::string text;
  if (!std::getline(file, text)) return std::nullopt;
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
  }
  timespec now{};
  const long ticks = ::sysconf(_SC_CLK_TCK);
  if (!fields || ticks <= 0 || ::clock_gettime(CLOCK_BOOTTIME, &now) != 0) return std::nullopt;
  const double startSeconds = std::stod(field) / static_cast<double>(ticks);
  const double age = (static_cast<double>(now.tv_sec) + now.tv_nsec * 1e-9 - startSeconds) * 1000.0;
  if (age < 0.0 || age > 3600e3) return std::nullopt;
  return age;
}

// Calls `onEvent` for every event `target` receives, before the target handles it.
class EventWatcher : public QObject {
 public:
  EventWatcher(QObject* target, std::function<void(QEvent*)> onEvent) : target_(target), onEvent_(std::move(onEvent)) {
    target_->installEventFilter(this);
  }
  ~EventWatcher() override { target_->removeEventFilter(this); }
  bool eventFilter(QObject*, QEvent* event) override {
    onEvent_(event);
    return false;
  }

 private:
  QObject* target_;
  std::function<void(QEvent*)> onEvent_;
};

// Runs the event loop until `done()` holds (checked every 10 ms); throws after `timeoutMs`.
void waitUntil(const std::function<bool()>& done, int timeoutMs, const char* what) {
  QElapsedTimer clock;
  clock.start();
  QEventLoop loop;
  QTimer poll;
  QObject::connect(&poll, &QTimer::timeout, &loop, [&] {
    if (done() || clock.elapsed() > timeoutMs) loop.quit();
  });
  poll.start(10);
  if (!done()) loop.exec();
  if (!done()) throw BenchFailure(std::string("timed out waiting for ") + what);
}

// Runs the event loop for `ms` milliseconds, with nothing of its own in it.
void runEventLoopFor(int ms) {
  QEventLoop loop;
  QTimer::singleShot(ms, Qt::PreciseTimer, &loop, &QEventLoop::quit);
  loop.exec();
}

// Nearest-rank percentile (0..100) of `values`; 0 when empty.
double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::max(1.0, std::ceil(p / 100.0 * values.size())));
  return values[std::min(rank, values.size()) - 1];
}

// Milliseconds to the microsecond, so the JSON reads cleanly.
double rounded(double ms) {
  return std::round(ms * 1000.0) / 1000.0;
}

nlohmann::json summary(const std::vector<double>& ms, double p) {
  return {{"p50_ms", rounded(percentile(ms, 50))},
          {"p" + std::to_string(static_cast<int>(p)) + "_ms", rounded(percentile(ms, p))},
          {"max_ms", rounded(ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end()))},
          {"count", ms.size()}};
}

// Shows the window and waits for its first frame: the expose event handled (the window painted
// and flushed), seen from a queued call right after it. Milliseconds since the process started.
nlohmann::json measureColdStart(neco::ui::MainWindow& window, const QString& demoRoot) {
  std::optional<double> firstFrameMs;
  const std::optional<double> ageAtShow = processAgeMs();
  const Clock::time_point shown = Clock::now();
  window.winId();  // the native window exists, so its first expose cannot be missed
  EventWatcher expose(window.windowHandle(), [&](QEvent* event) {
    if (event->type() != QEvent::Expose || firstFrameMs) return;
    QMetaObject::invokeMethod(
        &window,
        [&] {
          if (firstFrameMs || !window.windowHandle()->isExposed()) return;
          const double sinceShow = std::chrono::duration<double, std::milli>(Clock::now() - shown).count();
          firstFrameMs = ageAtShow ? *ageAtShow + sinceShow
                                   : std::chrono::duration<double, std::milli>(Clock::now() - kStaticInit).count();
        },
        Qt::QueuedConnection);
  });
  window.show();
  window.openDemo(demoRoot);  // as a plain start does, right after show()
  waitUntil([&] { return firstFrameMs.has_value(); }, 60000, "the main window's first frame");
  return {{"cold_start_ms", rounded(*firstFrameMs)},
          {"cold_start_from", ageAtShow ? "process start (/proc/self/stat starttime against CLOCK_BOOTTIME)"
                                        : "static initialisation before main()"}};
}

// Clicks on the patch canvas, each posted to the window as the platform delivers a press and a
// release, and timed until the heatmap was recomputed (heatmapUpdated), until the canvas's paint
// began, and until that paint was flushed (a queued call right after the paint's event).
class ClickTimer {
 public:
  struct Times {
    std::vector<double> painted, paintStart, handled;
  };

  explicit ClickTimer(neco::ui::MainWindow& window)
      : window_(window), paints_(window.canvas(), [this](QEvent* event) { onCanvasEvent(event); }) {
    QObject::connect(&window, &neco::ui::MainWindow::heatmapUpdated, &loop_, [this] {
      heatmap_ = true;
      handledMs_ = clock_.nsecsElapsed() / 1e6;
    });
    guard_.setSingleShot(true);
    QObject::connect(&guard_, &QTimer::timeout, &loop_, [this] { loop_.exit(1); });
  }

  void click(QPoint patch) {
    neco::ui::PatchCanvas* canvas = window_.canvas();
    const QPointF inWindow = canvas->mapTo(&window_, canvas->patchRect(patch).center());
    const QPointF global = window_.mapToGlobal(inWindow);
    heatmap_ = painted_ = false;
    clock_.start();
    QWindow* handle = window_.windowHandle();
    QCoreApplication::postEvent(handle, new QMouseEvent(QEvent::MouseButtonPress, inWindow, inWindow, global,
                                                        Qt::LeftButton, Qt::LeftButton, Qt::NoModifier));
    QCoreApplication::postEvent(handle, new QMouseEvent(QEvent::MouseButtonRelease, inWindow, inWindow, global,
                                                        Qt::LeftButton, Qt::NoButton, Qt::NoModifier));
    guard_.start(10000);
    if (loop_.exec() != 0) throw BenchFailure("a click on the canvas brought no painted heatmap within 10 s");
    guard_.stop();
    if (canvas->selectedPatch() != patch)
      throw BenchFailure("a click on the canvas did not select the patch under the cursor");
    times_.painted.push_back(doneMs_);
    times_.paintStart.push_back(paintStartMs_);
    times_.handled.push_back(handledMs_);
  }
  const Times& times() const noexcept { return times_; }

 private:
  void onCanvasEvent(QEvent* event) {
    if (event->type() != QEvent::Paint || !heatmap_ || painted_) return;
    painted_ = true;  // the paint runs right after this filter, the queued call after its flush
    paintStartMs_ = clock_.nsecsElapsed() / 1e6;
    QMetaObject::invokeMethod(
        &loop_,
        [this] {
          doneMs_ = clock_.nsecsElapsed() / 1e6;
          loop_.quit();
        },
        Qt::QueuedConnection);
  }

  neco::ui::MainWindow& window_;
  QEventLoop loop_;
  QTimer guard_;
  QElapsedTimer clock_;
  bool heatmap_ = false, painted_ = false;
  double handledMs_ = 0.0, paintStartMs_ = 0.0, doneMs_ = 0.0;
  Times times_;
  EventWatcher paints_;  // last: it calls back into the members above
};

// `count` clicks on varying patches of the current image, its features cached.
ClickTimer::Times measureClicks(neco::ui::MainWindow& window, int count) {
  const neco::ui::FeaturesPtr features = window.currentFeatures();
  const int patches = features->gridW * features->gridH;
  ClickTimer timer(window);
  for (int i = 0; i < count; ++i) {
    const int index = static_cast<int>((i * 7919LL + 13) % patches);  // a prime stride: every click moves
    timer.click(QPoint(index % features->gridW, index / features->gridW));
    if (window.currentFeatures() != features) throw BenchFailure("the features changed during the clicks");
    runEventLoopFor(30);  // what else the click started settles, as between a user's clicks
  }
  return timer.times();
}

// Lateness of each tick of a 10 ms precise timer on the GUI thread (gap beyond the interval), for `ms`.
std::vector<double> measureEventLoop(int ms) {
  std::vector<double> lateness;
  QTimer tick;
  tick.setTimerType(Qt::PreciseTimer);
  tick.setInterval(kProbeIntervalMs);
  QElapsedTimer clock;
  qint64 last = 0;
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    lateness.push_back(std::max(0.0, (now - last) / 1e6 - kProbeIntervalMs));
    last = now;
  });
  clock.start();
  tick.start();
  runEventLoopFor(ms);
  return lateness;
}

// The demo trained in the background through the Training panel: the fast overrides, a temporary
// run folder, the views following the live weights every few steps.
class BackgroundRun {
 public:
  using State = neco::ui::TrainingPanel::State;

  explicit BackgroundRun(neco::ui::TrainingPanel& panel) : panel_(panel) {
    if (!runs_.isValid()) throw BenchFailure("cannot create a temporary run folder");
    panel.useDemoConfig();
    panel.setRunFolder(runs_.filePath(QStringLiteral("run")));
    panel.setOverrides(kFastDemo);
    panel.setMaxSteps(100000000);  // longer than any measurement: the demo schedule is the limit
    panel.setLiveEvery(kLiveEvery);
    QObject::connect(panel.worker(), &neco::ui::TrainingWorker::finished, &context_, [this] { finished_ = true; });
    QObject::connect(panel.worker(), &neco::ui::TrainingWorker::failed, &context_,
                     [this](const QString& message) { failure_ = message; });
  }

  /// Clicks Start and waits for the first step (the session is built on the worker thread).
  void start() {
    panel_.startButton()->click();
    waitUntil([this] { return failed() || (panel_.state() == State::Running && panel_.progressCount() >= 1); }, 300000,
              "the training run's first step");
    if (failed()) throw BenchFailure("training failed: " + failure_.toStdString());
  }
  /// Clicks Stop and waits for the run to end (it saves a checkpoint first).
  void stop() {
    panel_.stopButton()->click();
    waitUntil([this] { return finished_ || failed(); }, 300000, "the training run to stop");
    if (failed()) throw BenchFailure("training failed: " + failure_.toStdString());
  }
  bool stoppedCleanly() const { return finished_ && panel_.state() == State::Finished; }

 private:
  bool failed() const { return !failure_.isEmpty(); }

  neco::ui::TrainingPanel& panel_;
  QTemporaryDir runs_;
  QObject context_;  // the connections end with the run
  bool finished_ = false;
  QString failure_;
};

// The event loop probed for `ms` while the demo trains in the background; then the run is stopped.
nlohmann::json measureUnderTraining(neco::ui::MainWindow& window, int ms) {
  neco::ui::TrainingPanel& panel = *window.trainingPanel();
  BackgroundRun run(panel);
  run.start();
  int liveModels = 0, extractions = 0;
  QObject counters;
  QObject::connect(&window, &neco::ui::MainWindow::modelChanged, &counters, [&] { ++liveModels; });
  QObject::connect(&window, &neco::ui::MainWindow::featuresUpdated, &counters, [&] { ++extractions; });
  const qint64 stepsBefore = panel.stepsDone();
  const std::vector<double> lateness = measureEventLoop(ms);
  const qint64 stepsDuring = panel.stepsDone() - stepsBefore;
  const int liveDuring = liveModels, extractionsDuring = extractions;
  run.stop();

  nlohmann::json probe = summary(lateness, 99);
  probe["seconds"] = ms / 1000.0;
  std::vector<std::string> overrides;
  for (const QString& o : kFastDemo) overrides.push_back(o.toStdString());
  return {{"event_loop", probe},
          {"training",
           {{"steps_during_measurement", stepsDuring},
            {"steps_total", panel.stepsDone()},
            {"live_every", kLiveEvery},
            {"live_models_during_measurement", liveDuring},
            {"feature_extractions_during_measurement", extractionsDuring},
            {"stopped_cleanly", run.stoppedCleanly()},
            {"overrides", overrides}}}};
}

nlohmann::json runPhases(neco::ui::MainWindow& window, const StudioOptions& options, const Sizes& sizes) {
  window.setInteractive(false);
  window.controls()->setInputSize(kInputSize);
  nlohmann::json out = measureColdStart(window, options.demoRoot);
  waitUntil([&] { return window.currentFeatures() != nullptr; }, 300000, "the demo image's features");
  const neco::ui::FeaturesPtr features = window.currentFeatures();
  out["input_size"] = kInputSize;
  out["grid"] = {features->gridW, features->gridH};

  const ClickTimer::Times clicks = measureClicks(window, sizes.clicks);
  const nlohmann::json painted = summary(clicks.painted, 95);
  out["click_to_heatmap_p50_ms"] = painted["p50_ms"];
  out["click_to_heatmap_p95_ms"] = painted["p95_ms"];
  out["click_to_heatmap_max_ms"] = painted["max_ms"];
  out["click_to_heatmap_count"] = painted["count"];
  // Where the time goes: the click handled (similarity, overlay, permutation rows), the paint begun.
  out["click_to_heatmap_signal"] = summary(clicks.handled, 95);
  out["click_to_paint_start"] = summary(clicks.paintStart, 95);

  // The baseline of the same probe, measured in the same run: the idle studio.
  const std::vector<double> idle = measureEventLoop(sizes.idleMs);
  nlohmann::json training = measureUnderTraining(window, sizes.trainingMs);
  const nlohmann::json& probe = training["event_loop"];
  out["event_loop_p50_ms"] = probe["p50_ms"];
  out["event_loop_p99_ms"] = probe["p99_ms"];
  out["event_loop_max_ms"] = probe["max_ms"];
  out["event_loop_samples"] = probe["count"];
  out["event_loop_interval_ms"] = kProbeIntervalMs;
  out["event_loop_seconds"] = probe["seconds"];
  out["event_loop_idle"] = summary(idle, 99);
  out["training"] = training["training"];
  return out;
}

// The goals next to the measurements, and what they were measured on.
void addGoalsAndMachine(nlohmann::json& out, const neco::ui::MainWindow& window, bool quick) {
  out["benchmark"] = "neco-studio --bench-ui";
  out["version"] = buildInfo().version;
  out["quick"] = quick;
  out["goals"] = {{"click_to_heatmap_p95_ms", kClickGoalMs},
                  {"event_loop_p99_ms", kEventLoopGoalMs},
                  {"cold_start_ms", kColdStartGoalMs}};
  out["met"] = {{"click_to_heatmap_p95_ms", out["click_to_heatmap_p95_ms"].get<double>() <= kClickGoalMs},
                {"event_loop_p99_ms", out["event_loop_p99_ms"].get<double>() <= kEventLoopGoalMs},
                {"cold_start_ms", out["cold_start_ms"].get<double>() <= kColdStartGoalMs}};
  const BuildInfo build = buildInfo();
  out["machine"] = {{"cores", QThread::idealThreadCount()},
                    {"compute_threads", build.intraOpThreads},
                    {"cuda", build.cudaAvailable},
                    {"qt_qpa_platform", qEnvironmentVariable("QT_QPA_PLATFORM").toStdString()},
                    {"qt_platform_name", QGuiApplication::platformName().toStdString()},
                    {"window", {window.width(), window.height()}}};
}

}  // namespace

int runUiBench(neco::ui::MainWindow& window, const StudioOptions& options) {
  const Sizes sizes = options.benchQuick ? Sizes{30, 1000, 3000} : Sizes{200, 3000, 10000};
  std::string text;
  try {
    nlohmann::json out = runPhases(window, options, sizes);
    addGoalsAndMachine(out, window, options.benchQuick);
    text = out.dump(2) + "\n";
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neco-studio --bench-ui: cannot run: %s\n", e.what());
    return 1;
  }
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!options.benchOut.isEmpty()) {
    QFile file(options.benchOut);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        file.write(text.data(), static_cast<qint64>(text.size())) != static_cast<qint64>(text.size())) {
      std::fprintf(stderr, "neco-studio --bench-ui: cannot write %s\n", qPrintable(options.benchOut));
      return 1;
    }
  }
  return 0;
}

}  // namespace neco::studio
