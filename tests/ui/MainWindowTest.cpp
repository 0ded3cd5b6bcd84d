// Headless smoke test of the studio window on the generated demo dataset: opening is asynchronous,
// clicking a patch paints the expected heatmap pixels, opacity/colour map/grid follow the controls,
// bad files give a typed error, drag-and-drop opens files, the log level is settable.
#include "neco/core/Colormap.h"
#include "neco/core/DemoDataset.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/ui/LogPanel.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/SimilarityControls.h"

#include <QComboBox>
#include <QDir>
#include <QMimeData>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <spdlog/spdlog.h>

using neco::ui::MainWindow;

class MainWindowTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QString demoRoot_;
  std::shared_ptr<const neco::FeatureExtractor> extractor_;

  static QImage grabCanvas(MainWindow& w) {
    return w.canvas()->grab().toImage().convertToFormat(QImage::Format_RGB888);
  }
  static bool close(QColor a, QColor b, int tol = 4) {
    return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
           std::abs(a.blue() - b.blue()) <= tol;
  }
  static QColor blend(QColor under, neco::PaletteColor over, double alpha) {
    auto mix = [alpha](int u, int o) { return static_cast<int>(std::lround(alpha * o + (1 - alpha) * u)); };
    return QColor(mix(under.red(), over.r), mix(under.green(), over.g), mix(under.blue(), over.b));
  }
  // Opens the demo and waits for the features of its first image.
  void openDemoAndWait(MainWindow& w) {
    QSignalSpy ready(w.featureService(), &neco::ui::FeatureService::featuresReady);
    w.openDemo(demoRoot_);
    QVERIFY(ready.wait(120000));
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() != nullptr, 120000);
  }
  // Drags `path` onto the window, drops it, and waits for the features of what it opened.
  static void dropAndWait(MainWindow& w, const QString& path) {
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QSignalSpy ready(w.featureService(), &neco::ui::FeatureService::featuresReady);
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &drop);
    QVERIFY(ready.wait(120000));
  }
  // Widget-pixel centre of a patch, rounded inwards so it never touches the grid lines.
  static QPoint centre(MainWindow& w, QPoint patch) { return w.canvas()->patchRect(patch).center().toPoint(); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    demoRoot_ = tmp_.filePath(QStringLiteral("demo"));
    neco::LogOptions log;
    log.file = false;
    neco::configureLogging(log);
    extractor_ = neco::FeatureExtractor::createDemo(0);
  }

  void openingIsAsynchronousAndClickPaintsTheHeatmap() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1200, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    openDemoAndWait(w);
    QVERIFY(w.currentPath().endsWith(QStringLiteral(".jpg")));
    QCOMPARE(w.canvas()->gridColumns(), 16);
    QCOMPARE(w.canvas()->gridRows(), 16);

    // The UI thread does not wait for the model: openImage returns with the job still queued or
    // running on the worker (decode + forward take milliseconds; this check takes microseconds).
    QSignalSpy again(w.featureService(), &neco::ui::FeatureService::featuresReady);
    w.openImage(w.currentPath());
    QVERIFY(w.featureService()->busy());
    QCOMPARE(again.count(), 0);
    QVERIFY(again.wait(120000));

    w.controls()->setGridVisible(false);
    w.controls()->setOpacity(0.5);
    const QImage before = grabCanvas(w);
    QVERIFY(!w.canvas()->hasOverlay());

    const QPoint query(5, 7);
    QSignalSpy heat(&w, &MainWindow::heatmapUpdated);
    QTest::mouseClick(w.canvas(), Qt::LeftButton, {}, centre(w, query));
    QCOMPARE(heat.count(), 1);
    QCOMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(query));
    const auto& sim = w.similarity();
    QCOMPARE(static_cast<int>(sim.size()), 256);
    QVERIFY(std::fabs(sim[7 * 16 + 5] - 1.0f) < 1e-4f);
    const QImage after = grabCanvas(w);

    // Every sampled patch shows blend(image, colormap(similarity on the fixed [-1, 1] scale), 0.5).
    const neco::Colormap viridis(neco::ColormapKind::Viridis);
    int checked = 0;
    for (int row = 0; row < 16; row += 3) {
      for (int col = 0; col < 16; col += 3) {
        if (QPoint(col, row) == query) continue;  // the selection outline covers its border only, but skip
        const QPoint p = centre(w, QPoint(col, row));
        const QColor expected = blend(before.pixelColor(p), viridis.map(sim[row * 16 + col], -1.f, 1.f), 0.5);
        QVERIFY2(close(after.pixelColor(p), expected),
                 qPrintable(QStringLiteral("patch %1,%2: got %3 expected %4")
                                .arg(col).arg(row).arg(after.pixelColor(p).name(), expected.name())));
        ++checked;
      }
    }
    QVERIFY(checked >= 30);
    const QPoint q = centre(w, query);
    QVERIFY(close(after.pixelColor(q), blend(before.pixelColor(q), viridis.at(1.f), 0.5)));

    // Colour map change recolours the query patch with turbo's top colour.
    w.controls()->setColormap(neco::ColormapKind::Turbo);
    const neco::Colormap turbo(neco::ColormapKind::Turbo);
    QVERIFY(close(grabCanvas(w).pixelColor(q), blend(before.pixelColor(q), turbo.at(1.f), 0.5)));

    // Opacity 0 gives back the untouched image.
    w.controls()->opacitySlider()->setValue(0);
    const QImage hidden = grabCanvas(w);
    for (int row = 0; row < 16; row += 5)
      for (int col = 0; col < 16; col += 5) {
        const QPoint p = centre(w, QPoint(col, row));
        if (QPoint(col, row) != query) QVERIFY(close(hidden.pixelColor(p), before.pixelColor(p), 1));
      }
  }

  void changingTheInputSizeReextractsOnANewGrid() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    openDemoAndWait(w);
    QSignalSpy ready(w.featureService(), &neco::ui::FeatureService::featuresReady);
    w.controls()->setInputSize(112);
    QVERIFY(ready.wait(120000));
    QCOMPARE(w.currentFeatures()->gridW, 8);
    QCOMPARE(w.canvas()->gridColumns(), 8);
  }

  void badFileGivesATypedErrorAndKeepsTheWindowUsable() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    const QString bogus = tmp_.filePath(QStringLiteral("not-an-image.jpg"));
    QFile f(bogus);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is text, not a JPEG");
    f.close();
    QSignalSpy failed(&w, &MainWindow::openFailed);
    w.openImage(bogus);
    QVERIFY(failed.wait(30000));
    const QString message = failed.at(0).at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("not-an-image.jpg")), qPrintable(message));
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("not-an-image.jpg")));
    QVERIFY(QFile::exists(bogus));  // never touched
    openDemoAndWait(w);             // and the window still works
  }

  void droppingAFileOpensIt() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    openDemoAndWait(w);
    const QString second = QDir(demoRoot_).filePath(QStringLiteral("JPEGImages/demo_000001.jpg"));
    QVERIFY(QFile::exists(second));
    dropAndWait(w, second);
    QTRY_COMPARE(w.currentPath(), second);
  }

  void droppingADatasetFolderOpensItsFirstImage() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.show();
    openDemoAndWait(w);  // makes sure the demo folder exists
    dropAndWait(w, demoRoot_);
    QTRY_COMPARE(w.currentPath(), QDir(demoRoot_).filePath(QStringLiteral("JPEGImages/demo_000000.jpg")));
  }

  void logLevelIsSettableFromThePanel() {
    MainWindow w(extractor_);
    w.logPanel()->levelBox()->setCurrentText(QStringLiteral("debug"));
    QCOMPARE(spdlog::default_logger()->level(), spdlog::level::debug);
    spdlog::debug("debug-line-for-panel");
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("debug-line-for-panel")));
    w.logPanel()->levelBox()->setCurrentText(QStringLiteral("warn"));
    QCOMPARE(spdlog::default_logger()->level(), spdlog::level::warn);
  }
};

QTEST_MAIN(MainWindowTest)
#include "MainWindowTest.moc"
