#pragma once
// neco-studio --bench-ui: the studio's speed goals (issue 7) measured on the real window and widgets,
// printed as one JSON object on stdout:
//   cold_start_ms            process start until the main window's first frame is on screen
//   click_to_heatmap_p95_ms  a mouse click on the patch canvas until the new heatmap is painted, at
//                            518 px with the image's features cached
//   event_loop_p99_ms        lateness of a 10 ms GUI timer while NeCo trains in the background with
//                            the views following the live weights
// The goals stand next to the measurements with a `met` flag each; a missed goal is reported, not
// an error. NOTE: speed goals are checked here, never by timed assertions in tests.

#include <QString>

namespace neco::ui {
class MainWindow;
}

namespace neco::studio {

struct StudioOptions;

/// Shows `window`, opens the demo at 518 px, runs the three measurements and prints the JSON (also
/// to options.benchOut when set). Returns the process exit status: 0 when the benchmark ran (goals
/// met or not), 1 when it could not run (the reason on stderr). Throws nothing.
int runUiBench(neco::ui::MainWindow& window, const StudioOptions& options);

}  // namespace neco::studio
