// neco-studio: startup only — logging, OpenGL surface format, the main window, the --screenshot
// mode that renders the real window to a PNG (used for docs/ and tests) and the --bench-ui mode
// that measures the speed goals on it (UiBench.h).
#include "StudioOptions.h"
#include "UiBench.h"

#include "neco/core/BuildInfo.h"
#include "neco/core/Colormap.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/core/SoftSort.h"
#include "neco/ui/CompareView.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/PatchBankBuilder.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/TrainingPanel.h"
#include "neco/ui/VtkOpenGLWidget.h"

#include <QApplication>
#include <QDialog>
#include <QDockWidget>
#include <QPainter>
#include <QTimer>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

namespace {

// Qt's own warnings go to the same log as everything else.
void qtMessageToSpdlog(QtMsgType type, const QMessageLogContext&, const QString& message) {
  const std::string text = message.toStdString();
  switch (type) {
    case QtDebugMsg: spdlog::debug("qt: {}", text); break;
    case QtInfoMsg: spdlog::info("qt: {}", text); break;
    case QtWarningMsg: spdlog::warn("qt: {}", text); break;
    case QtCriticalMsg:
    case QtFatalMsg: spdlog::error("qt: {}", text); break;
  }
}

// The window with its open dialogs (an error message) painted centred over it, each under a plain
// title bar: under Xvfb there is no window manager to place and frame them, and window.grab() alone
// leaves top-level dialogs out.
QImage grabWithDialogs(QWidget& window) {
  QImage image = window.grab().toImage();
  QPainter painter(&image);
  for (QDialog* dialog : window.findChildren<QDialog*>()) {
    if (!dialog->isVisible()) continue;
    const QPixmap pixmap = dialog->grab();
    const int titleHeight = dialog->fontMetrics().height() + 10;
    const QPoint at((image.width() - pixmap.width()) / 2, (image.height() - pixmap.height() + titleHeight) / 2);
    const QRect title(at.x(), at.y() - titleHeight, pixmap.width(), titleHeight);
    painter.fillRect(title, dialog->palette().color(QPalette::Highlight));
    painter.setPen(dialog->palette().color(QPalette::HighlightedText));
    painter.drawText(title.adjusted(10, 0, -10, 0), Qt::AlignVCenter | Qt::AlignLeft, dialog->windowTitle());
    painter.drawPixmap(at, pixmap);
    painter.setPen(dialog->palette().color(QPalette::Dark));
    painter.drawRect(title.united(QRect(at, pixmap.size())).adjusted(0, 0, -1, -1));
  }
  return image;
}

// Saves the --screenshot once the Before / after dock has every model's map, then quits.
void shootWhenSettled(neco::ui::MainWindow& window, const neco::studio::StudioOptions& options) {
  if (window.compareView()->busy()) {
    QTimer::singleShot(100, &window, [&window, options] { shootWhenSettled(window, options); });
    return;
  }
  const bool saved = grabWithDialogs(window).save(options.screenshot, "PNG");
  if (saved) spdlog::info("screenshot saved to {}", options.screenshot.toStdString());
  else spdlog::error("cannot write screenshot {}", options.screenshot.toStdString());
  QCoreApplication::exit(saved ? 0 : 1);
}

// --screenshot: wait for the image, its features and the heatmap (with --checkpoint: on the loaded
// model, or on the previous one with the error dialog up; with --train-steps: on the weights of the
// finished run), then grab the window and quit.
void armScreenshot(neco::ui::MainWindow& window, const neco::studio::StudioOptions& options) {
  auto* timeout = new QTimer(&window);
  timeout->setSingleShot(true);
  QObject::connect(timeout, &QTimer::timeout, [] {
    spdlog::error("screenshot: timed out waiting for the heatmap");
    QCoreApplication::exit(1);
  });
  timeout->start(180000);
  QObject::connect(&window, &neco::ui::MainWindow::openFailed, [] { QCoreApplication::exit(1); });
  struct State {
    bool settled = false;  // the model will not change any more
    bool selected = false;
    bool bankRequested = false, bankBuilt = false;
  };
  auto state = std::make_shared<State>();
  state->settled = options.checkpoint.isEmpty() && options.trainSteps == 0;
  if (options.trainSteps > 0) {
    // The run's final weights reach the views just before finished(); their features come after it.
    neco::ui::TrainingWorker* worker = window.trainingPanel()->worker();
    QObject::connect(worker, &neco::ui::TrainingWorker::finished, &window, [state] { state->settled = true; });
    QObject::connect(worker, &neco::ui::TrainingWorker::failed, &window, [] { QCoreApplication::exit(1); });
    timeout->start(600000);
  }
  auto select = [&window, options, state] {
    const neco::ui::FeaturesPtr f = window.currentFeatures();
    if (!state->settled || state->selected || !f) return;
    if (options.patchBank && !state->bankBuilt) {
      if (!state->bankRequested) {
        state->bankRequested = true;
        window.buildPatchBank();
      }
      return;  // selected once the bank is there
    }
    state->selected = true;
    const QPoint patch = options.patch.value_or(QPoint(f->gridW / 2, f->gridH / 2));
    window.selectPatch(patch);
    if (options.zoom > 1.0) window.canvas()->setZoom(options.zoom, window.canvas()->patchRect(patch).center());
  };
  if (options.patchBank) {
    QObject::connect(window.patchBankBuilder(), &neco::ui::PatchBankBuilder::finished, &window, [state, select] {
      state->bankBuilt = true;
      select();
    });
  }
  QObject::connect(&window, &neco::ui::MainWindow::featuresUpdated, &window, select);
  QObject::connect(&window, &neco::ui::MainWindow::modelChanged, &window, [state, training = options.trainSteps > 0] {
    if (!training) state->settled = true;  // live weights keep changing the model until the run ends
  });
  QObject::connect(&window, &neco::ui::MainWindow::checkpointFailed, &window, [state, select] {
    state->settled = true;
    select();  // the previous model's features may already be there
  });
  QObject::connect(&window, &neco::ui::MainWindow::heatmapUpdated, &window, [&window, options, state] {
    if (!state->selected) return;
    // the views that follow the query (a frame later) and the near/far strip's search settle first
    QTimer::singleShot(800, &window, [&window, options] { shootWhenSettled(window, options); });
  });
}

}  // namespace

int main(int argc, char** argv) {
  // VTK 9.1 initialises OpenGL through GLX: prefer the X11 platform (also under XWayland).
  if (std::getenv("QT_QPA_PLATFORM") == nullptr) ::setenv("QT_QPA_PLATFORM", "xcb", 0);
  QCoreApplication::setApplicationName(QStringLiteral("neco-studio"));
  QCoreApplication::setOrganizationName(QStringLiteral("NeCo Studio"));
  QCoreApplication::setApplicationVersion(QString::fromStdString(neco::buildInfo().version));
  // Options first: --help, --version and bad values must work without a display.
  QStringList arguments;
  for (int i = 0; i < argc; ++i) arguments << QString::fromLocal8Bit(argv[i]);
  const auto options = neco::studio::parseStudioOptions(arguments);
  if (!options) return 2;

  neco::ui::VtkOpenGLWidget::setDefaultSurfaceFormat();  // must precede QApplication
  QApplication app(argc, argv);
  try {
    neco::LogOptions logOptions;
    logOptions.level = options->logLevel.toStdString();
    neco::configureLogging(logOptions);
    neco::setComputeThreads(options->threads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "neco-studio: %s\n", e.what());
    return 2;
  }
  qInstallMessageHandler(qtMessageToSpdlog);

  // A session of its own (layout, view settings, crash restore) only for a person at the window: the
  // screenshot and benchmark modes must look and measure the same on every machine.
  const bool personal = options->screenshot.isEmpty() && !options->benchUi;
  const bool crashed = personal && neco::ui::MainWindow::previousSessionCrashed();  // before anything autosaves
  neco::ui::MainWindow window(neco::FeatureExtractor::createDemo());
  bool layoutRestored = false;
  window.setSessionPersistence(personal);
  if (personal) {
    layoutRestored = window.restoreLayout();
    window.restoreViewSettings();
  }
  // Options given on the command line win over the saved session; the defaults apply without one.
  auto use = [&](const char* name) { return !personal || options->given.contains(QLatin1String(name)); };
  if (use("input-size")) window.controls()->setInputSize(options->inputSize);
  if (use("opacity")) window.controls()->setOpacity(options->opacity);
  if (use("colormap")) window.controls()->setColormap(neco::parseColormap(options->colormap.toStdString()));
  window.permutationView()->setStudentSteepness(options->studentSteepness);
  window.permutationView()->setTeacherSteepness(options->teacherSteepness);
  window.permutationView()->setNetwork(neco::parseSortNetwork(options->network.toStdString()));
  if (!layoutRestored || options->given.contains(QStringLiteral("window-size"))) window.resize(options->windowSize);
  if (options->benchUi) return neco::studio::runUiBench(window, *options);
  if (!options->screenshot.isEmpty()) {
    armScreenshot(window, *options);  // error dialogs stay on: they do not block, and show in the PNG
  } else if (options->patch) {
    QObject::connect(window.featureService(), &neco::ui::FeatureService::featuresReady, &window,
                     [&window, p = *options->patch](quint64, const neco::ui::FeaturesPtr&, double) { window.selectPatch(p); },
                     Qt::SingleShotConnection);
  }
  window.show();
  for (const QString& name : options->show) {
    if (name == QStringLiteral("shortcuts")) {
      window.toggleShortcutSheet();
      continue;
    }
    if (name == QStringLiteral("near-far") || name == QStringLiteral("cross-image") || name == QStringLiteral("compare") ||
        name == QStringLiteral("embedding") || name == QStringLiteral("permutation-3d")) {
      window.showBottomDock(name == QStringLiteral("near-far")      ? "nearFarDock"
                            : name == QStringLiteral("cross-image") ? "crossImageDock"
                            : name == QStringLiteral("compare")     ? "compareDock"
                            : name == QStringLiteral("embedding")   ? "embeddingDock"
                                                                    : "permutationSurfaceDock");
      continue;
    }
    for (const auto& [known, object] : neco::studio::knownDockNames())
      if (known == name)
        if (auto* dock = window.findChild<QDockWidget*>(object)) {
          dock->show();
          dock->raise();
          // the Training dock shares the right column: give it most of the height (its curves)
          if (name == QStringLiteral("training"))
            QTimer::singleShot(0, &window, [&window, dock] {
              window.resizeDocks({dock}, {window.height() * 7 / 10}, Qt::Vertical);
            });
        }
  }
  if (!options->compare.isEmpty()) {
    window.showBottomDock("compareDock");
    // The base is the model on screen: with --checkpoint, once that has loaded (or failed).
    auto compare = [&window, paths = options->compare, done = std::make_shared<bool>(false)] {
      if (std::exchange(*done, true)) return;  // the model arrived or failed: once
      window.compareWithCurrentModel();
      for (const QString& path : paths) window.compareView()->addCheckpoint(path);
    };
    if (options->checkpoint.isEmpty()) {
      compare();
    } else {
      QObject::connect(&window, &neco::ui::MainWindow::modelChanged, &window, compare, Qt::SingleShotConnection);
      QObject::connect(&window, &neco::ui::MainWindow::checkpointFailed, &window, compare, Qt::SingleShotConnection);
    }
  }
  if (!options->checkpoint.isEmpty()) window.openCheckpoint(options->checkpoint);
  if (options->trainSteps > 0) {
    window.trainingPanel()->setMaxSteps(options->trainSteps);
    window.trainDemo();
  }
  if (!options->image.isEmpty()) {
    window.openImage(options->image);
  } else if (crashed && options->checkpoint.isEmpty() && window.restoreSession()) {
    spdlog::warn("the last session did not close cleanly: its dataset, image, query and checkpoint were restored");
  } else {
    window.openDemo(options->demoRoot);
  }
  return QApplication::exec();
}
