// Headless test of the studio's training panel on the real trainer: the demo configuration shrunk so
// a step takes a fraction of a second, driven through the panel's buttons. Checks pause / single
// step / resume / stop with their button states, the live weights reaching the views, the stop's
// checkpoint (listed, and opened by a double-click), a GUI thread that never stalls, real pixels of the curves, a bad
// config reported inline, and closing the window during training.
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/core/Paths.h"
#include "neco/ui/FeatureService.h"
#include "neco/ui/LogPanel.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/TrainingCurves.h"
#include "neco/ui/TrainingPanel.h"
#include "neco/ui/TrainingWorker.h"
#include "neco/ui/TrainingXRayView.h"
#include "neco/ui/CrossEntropyStrip.h"
#include "neco/ui/PermutationMatrixWidget.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QListWidget>
#include <QPushButton>
#include <QTableWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <cmath>

using neco::ui::MainWindow;
using neco::ui::TrainingCurves;
using neco::ui::TrainingPanel;
using neco::ui::TrainingWorker;
using neco::ui::TrainingXRayView;
using State = neco::ui::TrainingPanel::State;

namespace {

const QStringList kFastDemo{
    QStringLiteral("data.size_crops=[56, 28]"),     QStringLiteral("data.nmb_samples=[2, 2]"),
    QStringLiteral("train.batch_size=4"),           QStringLiteral("train.projection_hidden_dim=64"),
    QStringLiteral("train.projection_feat_dim=32"), QStringLiteral("train.queue_length=256"),
    QStringLiteral("neco.monitor_every=2"),         QStringLiteral("neco.eval_every=3")};

// Pixels within `tolerance` of `colour` (per channel).
int countColour(const QImage& image, const QColor& colour, int tolerance = 12) {
  int n = 0;
  for (int y = 0; y < image.height(); ++y)
    for (int x = 0; x < image.width(); ++x) {
      const QColor c = image.pixelColor(x, y);
      if (std::abs(c.red() - colour.red()) <= tolerance && std::abs(c.green() - colour.green()) <= tolerance &&
          std::abs(c.blue() - colour.blue()) <= tolerance)
        ++n;
    }
  return n;
}

// The longest gap between ticks of a 50 ms timer on the GUI thread.
class StallMeter {
 public:
  StallMeter() {
    timer_.setInterval(50);
    QObject::connect(&timer_, &QTimer::timeout, [this] { maxGapMs_ = std::max(maxGapMs_, clock_.restart()); });
    clock_.start();
    timer_.start();
  }
  qint64 maxGapMs() const { return maxGapMs_; }

 private:
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 maxGapMs_ = 0;
};

}  // namespace

class TrainingPanelTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::shared_ptr<const neco::FeatureExtractor> extractor_;

  void configureFastDemo(TrainingPanel& panel, const QString& runName) {
    panel.useDemoConfig();
    panel.setRunFolder(tmp_.filePath(runName));
    panel.setOverrides(kFastDemo);
    panel.setMaxSteps(400);
    panel.setLiveEvery(3);
  }
  void openDemoAndWait(MainWindow& w) {
    QSignalSpy ready(w.featureService(), &neco::ui::FeatureService::featuresReady);
    w.openDemo(tmp_.filePath(QStringLiteral("demo")));
    QVERIFY(ready.wait(120000));
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() != nullptr, 120000);
  }
  static void verifyButtons(TrainingPanel& panel, bool start, bool pause, bool step, bool stop) {
    QCOMPARE(panel.startButton()->isEnabled(), start);
    QCOMPARE(panel.pauseButton()->isEnabled(), pause);
    QCOMPARE(panel.stepButton()->isEnabled(), step);
    QCOMPARE(panel.stopButton()->isEnabled(), stop);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    neco::LogOptions log;
    log.file = false;
    neco::configureLogging(log);
    extractor_ = neco::FeatureExtractor::createDemo(0);
  }

  void pauseStepResumeStopThroughTheButtons() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1500, 1000);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    openDemoAndWait(w);  // an image whose features must follow the live weights
    TrainingPanel& panel = *w.trainingPanel();
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("trainingDock"));
    QVERIFY(dock && dock->isAncestorOf(&panel) && dock->isVisible());
    configureFastDemo(panel, QStringLiteral("run"));
    QCOMPARE(panel.state(), State::Idle);
    verifyButtons(panel, true, false, false, false);

    StallMeter stalls;
    QSignalSpy finished(panel.worker(), &TrainingWorker::finished);
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QCOMPARE(panel.state(), State::Starting);  // the session is built on the worker thread
    verifyButtons(panel, false, true, false, true);
    QTRY_VERIFY_WITH_TIMEOUT(panel.progressCount() >= 2, 180000);
    QCOMPARE(panel.state(), State::Running);
    verifyButtons(panel, false, true, false, true);

    // Pause: acknowledged at once, in effect at the next step boundary; then nothing moves.
    QTest::mouseClick(panel.pauseButton(), Qt::LeftButton);
    QVERIFY(panel.state() == State::Pausing || panel.state() == State::Paused);
    QTRY_COMPARE_WITH_TIMEOUT(panel.state(), State::Paused, 30000);
    verifyButtons(panel, false, true, true, true);
    QCOMPARE(panel.pauseButton()->text(), QStringLiteral("Resume"));
    const int pausedCount = panel.progressCount();
    const qint64 pausedStep = panel.stepsDone();
    QTest::qWait(1000);
    QCOMPARE(panel.progressCount(), pausedCount);
    QCOMPARE(panel.stepsDone(), pausedStep);

    // A pause publishes the live weights; the model label and the views follow them.
    QTRY_COMPARE_WITH_TIMEOUT(panel.liveStep(), pausedStep, 30000);
    const QString atPause = QStringLiteral("at step %1").arg(pausedStep);
    QTRY_VERIFY2_WITH_TIMEOUT(w.modelSummary().contains(atPause), qPrintable(w.modelSummary()), 30000);
    QVERIFY2(w.modelSummary().startsWith(QStringLiteral("student of run at step")), qPrintable(w.modelSummary()));
    QVERIFY(QString::fromStdString(w.currentModel().weights).contains(QStringLiteral("student of")));

    // Step: exactly one more step, then paused again with the new weights in the views.
    QSignalSpy features(&w, &MainWindow::featuresUpdated);
    QTest::mouseClick(panel.stepButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(panel.progressCount(), pausedCount + 1, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(panel.liveStep(), pausedStep + 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(w.modelSummary().contains(QStringLiteral("at step %1").arg(pausedStep + 1)), 30000);
    QTRY_VERIFY_WITH_TIMEOUT(features.count() >= 1, 60000);  // re-extracted on the stepped weights
    QVERIFY(
        QString::fromStdString(w.currentModel().weights).endsWith(QStringLiteral("at step %1").arg(pausedStep + 1)));
    QTest::qWait(500);
    QCOMPARE(panel.progressCount(), pausedCount + 1);
    QCOMPARE(panel.stepsDone(), pausedStep + 1);
    QCOMPARE(panel.state(), State::Paused);

    // Resume, then Stop: the trainer saves a checkpoint and reports a stopped run.
    QTest::mouseClick(panel.pauseButton(), Qt::LeftButton);
    QCOMPARE(panel.state(), State::Running);
    QCOMPARE(panel.pauseButton()->text(), QStringLiteral("Pause"));
    QTRY_VERIFY_WITH_TIMEOUT(panel.progressCount() >= pausedCount + 3, 60000);
    QTest::mouseClick(panel.stopButton(), Qt::LeftButton);
    QCOMPARE(panel.state(), State::Stopping);
    verifyButtons(panel, false, false, false, false);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const QList<QVariant> summary = finished.takeFirst();
    QVERIFY(summary.at(0).toBool());  // stopped
    QCOMPARE(summary.at(1).toLongLong(), panel.stepsDone());
    QCOMPARE(summary.at(2).toLongLong(), 400);
    QCOMPARE(panel.state(), State::Finished);
    verifyButtons(panel, true, false, false, false);
    const QString last = summary.at(3).toString();
    const QDir checkpoints(tmp_.filePath(QStringLiteral("run/checkpoints")));
    QVERIFY2(QFileInfo(last).isDir() && QFileInfo(last).absolutePath() == checkpoints.absolutePath(), qPrintable(last));
    QVERIFY(QFileInfo::exists(QDir(last).filePath(QStringLiteral("manifest.json"))));
    QVERIFY(panel.checkpointList()->count() >= 1);
    QCOMPARE(panel.checkpointList()->item(0)->data(Qt::UserRole).toString(), last);  // newest first
    // Double-clicking a checkpoint opens it in the views (a training checkpoint holds both networks).
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    QListWidget* list = panel.checkpointList();
    QSignalSpy loadFailed(&w, &MainWindow::checkpointFailed);
    QSignalSpy activated(&panel, &TrainingPanel::checkpointActivated);
    const QPoint newest = list->visualItemRect(list->item(0)).center();
    QTest::mouseClick(list->viewport(), Qt::LeftButton, {}, newest);  // the item views want a press first
    QTest::mouseDClick(list->viewport(), Qt::LeftButton, {}, newest);
    QCOMPARE(activated.count(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(changed.count() >= 1 || loadFailed.count() >= 1, 60000);
    QVERIFY2(loadFailed.isEmpty(), qPrintable(loadFailed.isEmpty() ? QString() : loadFailed.at(0).at(1).toString()));
    QVERIFY2(w.modelSummary().startsWith(QStringLiteral("state.safetensors")), qPrintable(w.modelSummary()));
    QVERIFY2(stalls.maxGapMs() < 1000, qPrintable(QStringLiteral("GUI stalled %1 ms").arg(stalls.maxGapMs())));

    // The curves: one point per step, the monitor's points, and real pixels in the curve colours.
    QCOMPARE(panel.curves()->stepCount(), panel.progressCount());
    QVERIFY(panel.curves()->monitorCount() >= 2);
    // the in-training evaluation: before the first step, every 3 steps and at the stop
    QVERIFY2(panel.curves()->evaluationCount() >= 2, qPrintable(QString::number(panel.curves()->evaluationCount())));
    QVERIFY2(panel.evaluationText().startsWith(QStringLiteral("mIoU ")) &&
                 panel.evaluationText().contains(QStringLiteral("overclustering K=7 of the student")),
             qPrintable(panel.evaluationText()));
    const QImage curves = panel.curves()->grab().toImage().convertToFormat(QImage::Format_RGB888);
    QVERIFY2(curves.width() >= 200 && curves.height() >= 120,
             qPrintable(QStringLiteral("%1x%2").arg(curves.width()).arg(curves.height())));
    if (const QByteArray out = qgetenv("NECO_TEST_OUTPUT_DIR");
        !out.isEmpty() && QDir().mkpath(QString::fromLocal8Bit(out)))
      curves.save(QDir(QString::fromLocal8Bit(out)).filePath(QStringLiteral("training-curves.png")));
    QVERIFY(countColour(curves, TrainingCurves::averageColor()) >= 20);
    QVERIFY(countColour(curves, TrainingCurves::heldOutColor()) >= 10);
    QVERIFY(countColour(curves, TrainingCurves::lrHeadColor()) >= 10);
    QVERIFY(countColour(curves, TrainingCurves::evaluationColor()) >= 10);
    const QColor background = curves.pixelColor(curves.width() / 2, 2);
    QVERIFY(countColour(curves, background, 2) < curves.width() * curves.height() * 95 / 100);
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("stopped at step")));
  }

  void curvesSurviveNaNAndThousandsOfSteps() {
    TrainingCurves curves;
    curves.resize(500, 300);
    neco::TrainingProgress p;
    for (int i = 0; i < 20000; ++i) {
      p.stepsDone = i + 1;
      p.skipped = i % 97 == 5;
      p.loss = p.skipped ? std::nan("") : 5.0 * std::exp(-i / 4000.0) + 0.3 * std::sin(i);
      p.lrBackbone = 1e-4 * (1 - i / 20000.0);
      p.lrHead = 1e-3 * (1 - i / 20000.0);
      p.monitored = i % 500 == 0;
      p.heldOutLoss = 5.0 * std::exp(-i / 4000.0);
      p.agreement = std::tanh(i / 5000.0);
      curves.addStep(p);
    }
    QCOMPARE(curves.stepCount(), 20000);
    QVERIFY(std::isfinite(curves.latestAverage()));
    const QImage image = curves.grab().toImage().convertToFormat(QImage::Format_RGB888);
    QVERIFY(countColour(image, TrainingCurves::averageColor()) >= 100);
    QVERIFY(countColour(image, TrainingCurves::lossColor()) >= 100);
    QVERIFY(countColour(image, TrainingCurves::skippedColor(), 20) >= 20);
    QVERIFY(countColour(image, TrainingCurves::agreementColor()) >= 20);
  }

  void badConfigIsReportedInlineAndThePanelReturnsToIdle() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    QFile demo(QStringLiteral(NECO_SOURCE_DIR "/configs/demo.yml"));
    QVERIFY(demo.open(QIODevice::ReadOnly | QIODevice::Text));
    QString yaml = QString::fromUtf8(demo.readAll());
    QVERIFY(yaml.contains(QStringLiteral("dataset_name: 'demo'")));
    yaml.replace(QStringLiteral("dataset_name: 'demo'"), QStringLiteral("dataset_name: 'no-such-dataset'"));
    QFile bad(tmp_.filePath(QStringLiteral("bad.yml")));
    QVERIFY(bad.open(QIODevice::WriteOnly | QIODevice::Text));
    bad.write(yaml.toUtf8());
    bad.close();

    TrainingPanel& panel = *w.trainingPanel();
    panel.setConfigFile(bad.fileName());
    panel.setRunFolder(tmp_.filePath(QStringLiteral("bad-run")));
    QSignalSpy failed(panel.worker(), &TrainingWorker::failed);
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QVERIFY(failed.wait(60000));
    const QString message = failed.at(0).at(0).toString();
    QVERIFY2(message.contains(QStringLiteral("dataset_name")), qPrintable(message));
    QCOMPARE(panel.state(), State::Failed);
    QVERIFY(!panel.training());
    verifyButtons(panel, true, false, false, false);
    QVERIFY2(panel.errorText().contains(QStringLiteral("dataset_name")), qPrintable(panel.errorText()));
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("no-such-dataset")));
  }

  void trainOnTheDemoStartsANewRunFolder() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    auto* action = w.findChild<QAction*>(QStringLiteral("trainDemoAction"));
    QVERIFY(action);
    TrainingPanel& panel = *w.trainingPanel();
    const QString runs = QString::fromStdString((neco::stateDirectory() / "runs").string());
    QSignalSpy finished(panel.worker(), &TrainingWorker::finished);
    action->trigger();
    QCOMPARE(panel.state(), State::Starting);
    QVERIFY2(panel.runFolder().startsWith(runs), qPrintable(panel.runFolder()));
    QTest::mouseClick(panel.stopButton(), Qt::LeftButton);  // stopped before (or at) its first step
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QVERIFY(finished.at(0).at(0).toBool());
    QVERIFY(QFileInfo::exists(QDir(panel.runFolder()).filePath(QStringLiteral("config.yml"))));
  }

  void xrayOfThePausedStepShowsWhatTheLossSees() {
    // The X-ray dock: taken by itself at a pause when visible, drawn with real pixels, patch picking
    // by clicking a grid cell, the permutation matrices recomputed from the recorded rows agree with
    // the trainer's loss for that patch, and the step that follows reports exactly the X-ray's loss.
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1100);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    const bool screenshot = qEnvironmentVariableIsSet("NECO_SCREENSHOT_DIR");
    if (screenshot) openDemoAndWait(w);
    TrainingPanel& panel = *w.trainingPanel();
    configureFastDemo(panel, QStringLiteral("xray-run"));
    TrainingXRayView& view = *w.xrayView();
    QVERIFY(!view.requestButton()->isEnabled());
    w.showXRay();  // not training: it says what to do
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("trainingXRayDock"));
    QVERIFY(dock && dock->isVisible());
    QVERIFY2(view.summary().contains(QStringLiteral("Pause")), qPrintable(view.summary()));

    QSignalSpy xrays(panel.worker(), &TrainingWorker::xray);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(panel.progressCount() >= 1, 180000);
    panel.pauseOrResume();
    QTRY_COMPARE_WITH_TIMEOUT(panel.state(), State::Paused, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(view.xray() != nullptr, 60000);  // the visible dock asked by itself
    QVERIFY(view.requestButton()->isEnabled());
    const neco::ui::XRayPtr x = view.xray();
    QCOMPARE(x->step, panel.stepsDone());
    QCOMPARE(static_cast<int>(x->images.size()), 4);
    QVERIFY2(view.summary().startsWith(QStringLiteral("Step %1").arg(x->step)), qPrintable(view.summary()));

    // Pixels: the image with the chosen pair's crops solid in their colours, the other crops dashed;
    // the loss-tinted grid over the student's crop.
    const QImage source = view.sourceCanvas()->grab().toImage();
    QVERIFY(countColour(source, QColor(255, 127, 14), 40) > 30);  // global 1 (orange)
    QVERIFY(countColour(source, QColor(44, 160, 44), 40) > 10);   // local 1 (green) of the first pair
    const QImage other = view.otherCanvas()->grab().toImage();
    QVERIFY(countColour(other, QColor(0, 255, 255), 30) > 10);  // the selected cell's outline

    // Picking a patch by clicking its cell: matrices, strip and references follow.
    const QRectF cell = view.otherCanvas()->cellRect(10);
    QVERIFY(!cell.isEmpty());
    QTest::mouseClick(view.otherCanvas(), Qt::LeftButton, {}, cell.center().toPoint());
    QCOMPARE(view.currentPatch(), 10);
    QCOMPARE(view.studentPermutation()->n(), 49);
    QCOMPARE(view.teacherPermutation()->n(), 49);
    for (int e = 0; e < 49; e += 12) {
      double row = 0;
      for (int r = 0; r < 49; ++r) row += view.studentPermutation()->weight(e, r);
      QVERIFY(std::abs(row - 1.0) < 1e-3);
    }
    const neco::XRayPair& pair = x->images[0].pairs[0];
    const double trained = pair.patchLoss[10];
    QVERIFY2(std::abs(view.recomputedPatchLoss() - trained) < 1e-3 * std::max(1.0, trained),
             qPrintable(QStringLiteral("recomputed %1, trainer %2").arg(view.recomputedPatchLoss()).arg(trained)));
    QCOMPARE(view.crossEntropy()->values().size(), std::size_t{49});
    QCOMPARE(view.referenceTable()->rowCount(), 49);
    QCOMPARE(view.referenceTable()->item(0, 0)->text(), QStringLiteral("1"));
    QVERIFY(view.referenceTable()->item(0, 1)->text().startsWith(QStringLiteral("queue slot")));
    QVERIFY(!view.studentSimilarity()->cellImage().isNull());

    // Another pair and image redraw the crops.
    view.selectPair(3);
    QCOMPARE(view.currentPair(), 3);
    view.selectImage(2);
    QCOMPARE(view.currentImage(), 2);
    QVERIFY(view.otherCanvas()->grab().toImage() != other);
    view.selectImage(0);
    view.selectPair(0);
    if (screenshot) {  // docs/images/studio-xray.png: the dock floated and large, as a user would for a close look
      dock->setFloating(true);
      dock->resize(1500, 900);
      QTest::qWait(300);
      QVERIFY(dock->grab().save(QDir(qEnvironmentVariable("NECO_SCREENSHOT_DIR")).filePath(QStringLiteral("studio-xray.png"))));
      dock->setFloating(false);
      dock->raise();
      QTest::qWait(300);
    }

    // Single step: the X-rayed step runs on its batch and reports exactly the X-ray's loss; the new
    // pause brings the X-ray of the step after it.
    const int count = panel.progressCount();
    QTest::mouseClick(panel.stepButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(panel.progressCount(), count + 1, 60000);
    QCOMPARE(panel.lastProgress().step, x->step);
    QCOMPARE(panel.lastProgress().loss, x->stepLoss);
    QTRY_VERIFY_WITH_TIMEOUT(view.xray() && view.xray()->step == x->step + 1, 60000);
    QVERIFY(xrays.count() >= 2);
    QSignalSpy finished(panel.worker(), &TrainingWorker::finished);
    panel.stop();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(!view.requestButton()->isEnabled());
  }

  void aResumedRunsCurvesStartFromItsHistory() {
    TrainingPanel panel;
    configureFastDemo(panel, QStringLiteral("history-run"));
    panel.setMaxSteps(3);
    QSignalSpy finished(panel.worker(), &TrainingWorker::finished);
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 180000);
    QCOMPARE(panel.curves()->stepCount(), 3);
    // the same folder again: the run continues, and its curves begin with the 3 steps on disk
    panel.setRunFolder(tmp_.filePath(QStringLiteral("history-run")));
    panel.setMaxSteps(5);
    QSignalSpy history(panel.worker(), &TrainingWorker::history);
    QVERIFY(panel.start());
    QCOMPARE(panel.curves()->stepCount(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(history.count(), 1, 60000);
    QVERIFY(panel.curves()->stepCount() >= 3);
    QVERIFY(panel.curves()->monitorCount() >= 1);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 180000);
    QCOMPARE(panel.curves()->stepCount(), 5);
  }

  void closingTheWindowDuringTrainingStopsAndCheckpoints() {
    auto w = std::make_unique<MainWindow>(extractor_);
    w->setInteractive(false);
    w->show();
    TrainingPanel& panel = *w->trainingPanel();
    configureFastDemo(panel, QStringLiteral("closed-run"));
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(panel.progressCount() >= 1, 180000);
    QVERIFY(w->close());  // no question asked: the run stops and saves
    const QDir checkpoints(tmp_.filePath(QStringLiteral("closed-run/checkpoints")));
    QVERIFY(!checkpoints.entryList({QStringLiteral("step-*")}, QDir::Dirs).isEmpty());
    QVERIFY(checkpoints.exists(QStringLiteral("latest")));
    QTRY_VERIFY(w->logPanel()->text().contains(QStringLiteral("closing the studio during training")));
    w.reset();
  }
};

QTEST_MAIN(TrainingPanelTest)
#include "TrainingPanelTest.moc"
