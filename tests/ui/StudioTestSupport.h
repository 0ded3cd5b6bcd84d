#pragma once
// What the studio's window suites share: console-only logging with the demo model, and opening the
// demo until a demo image's features are shown.
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/ui/MainWindow.h"

#include <QTest>

#include <memory>

namespace neco::test {

inline std::shared_ptr<const FeatureExtractor> quietDemoModel() {
  LogOptions log;
  log.file = false;
  configureLogging(log);
  return FeatureExtractor::createDemo(0);
}

// Shows `w` non-interactive (errors are logged, not shown in dialogs) at `size` and waits until it
// has the keyboard focus, which QTest's key clicks on its shortcuts need.
[[nodiscard]] inline bool showActive(ui::MainWindow& w, QSize size) {
  w.setInteractive(false);
  w.resize(size);
  w.show();
  w.activateWindow();
  return QTest::qWaitForWindowActive(&w);
}

// An earlier image's features may still be on their way: wait for a demo image's own.
inline void openDemoAndWait(ui::MainWindow& w, const QString& demoRoot) {
  w.openDemo(demoRoot);
  QTRY_VERIFY_WITH_TIMEOUT(w.currentPath().startsWith(demoRoot) && w.currentFeatures() != nullptr, 120000);
}

}  // namespace neco::test
