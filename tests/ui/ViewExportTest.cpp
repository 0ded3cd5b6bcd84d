// File ▸ Export View… and File ▸ Open View… on the demo, headless: the export writes every file
// (PNG at the chosen resolution with the canvas's colour logic, CSV equal to the similarity map,
// SVG, manifest), the manifest round-trips, a fresh window with other settings reopens the exact
// view (same numbers, same pixels), tampered manifests are refused naming what is wrong, and an
// unwritable destination leaves no file.
#include "neco/core/Colormap.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/MainWindow.h"
#include "StudioTestSupport.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/ViewManifest.h"

#include <QAction>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <cmath>

using neco::ui::MainWindow;

class ViewExportTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QString demoRoot_;
  QString manifest_;  // written by the first test, reopened and tampered with by the others
  std::shared_ptr<const neco::FeatureExtractor> extractor_;

  static QColor blend(QColor under, neco::PaletteColor over, double alpha) {
    auto mix = [alpha](int u, int o) { return static_cast<int>(std::lround(alpha * o + (1 - alpha) * u)); };
    return QColor(mix(under.red(), over.r), mix(under.green(), over.g), mix(under.blue(), over.b));
  }
  static bool close(QColor a, QColor b, int tolerance = 3) {
    return std::abs(a.red() - b.red()) <= tolerance && std::abs(a.green() - b.green()) <= tolerance &&
           std::abs(a.blue() - b.blue()) <= tolerance;
  }
  static QByteArray read(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  }
  static void write(const QString& path, const QByteArray& data) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
  }
  static void showWindow(MainWindow& w) {
    w.setInteractive(false);
    w.resize(1400, 900);
    w.show();
  }
  // Waits until the heatmap of `patch` and a feature map are shown.
  static void waitForView(MainWindow& w) {
    QTRY_VERIFY_WITH_TIMEOUT(!w.similarity().empty(), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(!w.featureMapView()->overlay().isNull() && !w.featureMapView()->busy(), 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.permutationView()->studentRow().has_value(), 20000);
  }
  // Tampers one key of the manifest (a dotted path) and returns the new file.
  QString tampered(const QString& name, const QString& section, const QString& key, const QJsonValue& value,
                   QString from = {}) {
    QJsonObject root = QJsonDocument::fromJson(read(from.isEmpty() ? manifest_ : from)).object();
    if (section.isEmpty()) {
      root[key] = value;
    } else {
      QJsonObject inner = root[section].toObject();
      inner[key] = value;
      root[section] = inner;
    }
    const QString path = tmp_.filePath(name);
    write(path, QJsonDocument(root).toJson());
    return path;
  }
  // Every frame of a recorded video, as decoded by OpenCV.
  static std::vector<cv::Mat> videoFrames(const QString& path) {
    cv::VideoCapture video(path.toStdString());
    std::vector<cv::Mat> frames;
    cv::Mat frame;
    while (video.isOpened() && video.read(frame)) frames.push_back(frame.clone());
    return frames;
  }
  static double meanAbsDifference(const cv::Mat& a, const cv::Mat& b) {
    return cv::norm(a, b, cv::NORM_L1) / double(a.total() * a.channels());
  }
  // Opens `path` in a fresh window and returns the message it was refused with.
  QString refusal(const QString& path) {
    MainWindow w(extractor_);
    w.setInteractive(false);
    QSignalSpy failed(&w, &MainWindow::viewOpenFailed);
    if (w.openView(path)) return QStringLiteral("<accepted>");
    return failed.isEmpty() ? QStringLiteral("<no signal>") : failed.front().at(1).toString();
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    demoRoot_ = tmp_.filePath(QStringLiteral("demo"));
    extractor_ = neco::test::quietDemoModel();
  }

  void exportWritesEveryFileAndAFreshWindowReopensTheExactView() {
    MainWindow w(extractor_);
    showWindow(w);
    w.openDemo(demoRoot_);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentPath().startsWith(demoRoot_) && w.currentFeatures() != nullptr, 120000);
    w.controls()->setColormap(neco::ColormapKind::Turbo);
    w.controls()->setOpacity(0.7);
    w.permutationView()->setStudentSteepness(30.0);
    w.permutationView()->setTeacherSteepness(300.0);
    w.permutationView()->setNetwork(neco::SortNetworkKind::OddEven);
    w.featureMapView()->setComponents({1, 2, 0});
    const int depth = extractor_->describe().depth;
    w.controls()->setLayer(depth - 1);  // an earlier block travels in the manifest too
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures()->layer == depth - 1, 60000);
    const QPoint query(5, 6);
    w.selectPatch(query);
    w.addQueryPatch(QPoint(1, 8));  // the heatmap is the max over both queries
    waitForView(w);
    w.featureMapView()->setBasisLocked(true);  // the basis travels in the manifest as numbers

    const QString base = tmp_.filePath(QStringLiteral("out/view"));
    QVERIFY(QDir().mkpath(tmp_.filePath(QStringLiteral("out"))));
    QVERIFY(w.exportView(base, 2));
    for (const char* suffix :
         {".png", ".similarity.csv", ".permutation.csv", ".permutation.svg", ".features.png", ".json"})
      QVERIFY2(QFileInfo::exists(base + QLatin1String(suffix)), suffix);

    // The PNG: twice the image's pixels; a patch centre is the image blended with its colour.
    const QImage image = w.canvas()->image();
    const QImage png(base + QStringLiteral(".png"));
    QCOMPARE(png.size(), image.size() * 2);
    const QImage scaled =
        image.convertToFormat(QImage::Format_RGB32).scaled(png.size(), Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    const auto f = w.currentFeatures();
    const neco::Colormap turbo(neco::ColormapKind::Turbo);
    for (QPoint patch : {query, QPoint(1, 1), QPoint(f->gridW - 2, f->gridH - 1)}) {
      const QPoint centre(int((patch.x() + 0.5) * png.width() / f->gridW),
                          int((patch.y() + 0.5) * png.height() / f->gridH));
      const float sim = w.similarity()[std::size_t(patch.y() * f->gridW + patch.x())];
      const QColor expected = blend(scaled.pixelColor(centre), turbo.map(sim, -1.f, 1.f), 0.7);
      QVERIFY2(close(png.pixelColor(centre), expected),
               qPrintable(QStringLiteral("patch %1,%2: %3 vs %4")
                              .arg(patch.x())
                              .arg(patch.y())
                              .arg(png.pixelColor(centre).name(), expected.name())));
    }
    QCOMPARE(QImage(base + QStringLiteral(".features.png")).size(), png.size());

    // The CSV: one row per patch, the exact similarity values.
    const QList<QByteArray> lines = read(base + QStringLiteral(".similarity.csv")).trimmed().split('\n');
    QCOMPARE(lines.front(), QByteArray("row,column,similarity"));
    QCOMPARE(lines.size() - 1, f->gridW * f->gridH);
    for (int i = 1; i < lines.size(); ++i) {
      const QList<QByteArray> cells = lines[i].split(',');
      QCOMPARE(cells.size(), 3);
      const int row = cells[0].toInt(), col = cells[1].toInt();
      QCOMPARE(cells[2].toFloat(), w.similarity()[std::size_t(row * f->gridW + col)]);
    }
    const int n = w.permutationView()->studentRow()->n;
    QCOMPARE(read(base + QStringLiteral(".permutation.csv")).trimmed().split('\n').size(), 1 + 2 * n * n);
    const QByteArray svg = read(base + QStringLiteral(".permutation.svg"));
    QVERIFY(svg.startsWith("<?xml") && svg.trimmed().endsWith("</svg>"));
    QCOMPARE(svg.count("<rect "), 1 + 2 * n * n);

    // The manifest round-trips and records the view.
    manifest_ = base + QStringLiteral(".json");
    const neco::ui::ViewManifest m = neco::ui::viewManifestFromJson(read(manifest_), manifest_);
    QCOMPARE(neco::ui::toJson(neco::ui::viewManifestFromJson(neco::ui::toJson(m), manifest_)), neco::ui::toJson(m));
    QVERIFY(m.source == neco::ui::ViewModelSource::Demo);
    QCOMPARE(QString::fromStdString(m.model.weights), QString::fromStdString(extractor_->describe().weights));
    QCOMPARE(m.layerIndex, depth - 1);
    QCOMPARE(m.imagePath, QFileInfo(w.currentPath()).absoluteFilePath());
    QCOMPARE(m.imageSha256.size(), 64);
    QCOMPARE(m.queryPatch, std::optional<QPoint>(query));
    QCOMPARE(m.extraQueryPatches, QList<QPoint>{QPoint(1, 8)});
    QVERIFY(m.colormap == neco::ColormapKind::Turbo);
    QCOMPARE(m.opacity, 0.7);
    QCOMPARE(m.studentSteepness, 30.0);
    QVERIFY(m.network == neco::SortNetworkKind::OddEven);
    QCOMPARE(m.exportSize, png.size());
    QVERIFY(m.basisLocked && !m.basis.empty());
    QCOMPARE(m.basis.components, w.featureMapView()->basis()->components);

    // A fresh window with other settings reopens the same view.
    MainWindow v(extractor_);
    showWindow(v);
    v.controls()->setInputSize(112);
    v.controls()->setColormap(neco::ColormapKind::Inferno);
    v.controls()->setOpacity(0.2);
    v.permutationView()->setStudentSteepness(5.0);
    QSignalSpy opened(&v, &MainWindow::viewOpened);
    QVERIFY(v.openView(manifest_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 120000);
    QCOMPARE(v.controls()->inputSize(), w.controls()->inputSize());
    QCOMPARE(v.controls()->layer(), depth - 1);
    QCOMPARE(v.currentFeatures()->layer, depth - 1);
    QVERIFY(v.controls()->colormap() == neco::ColormapKind::Turbo);
    QCOMPARE(v.controls()->opacity(), 0.7);
    QCOMPARE(v.canvas()->selectedPatch(), std::optional<QPoint>(query));
    QCOMPARE(v.extraQueries(), QList<QPoint>{QPoint(1, 8)});
    QCOMPARE(v.permutationView()->studentSteepness(), 30.0);
    QCOMPARE(v.permutationView()->teacherSteepness(), 300.0);
    QVERIFY(v.permutationView()->network() == neco::SortNetworkKind::OddEven);
    QCOMPARE(v.featureMapView()->components(), w.featureMapView()->components());
    QVERIFY(v.featureMapView()->basisLocked());
    QCOMPARE(v.similarity(), w.similarity());
    waitForView(v);
    const QString again = tmp_.filePath(QStringLiteral("out/again"));
    QVERIFY(v.exportView(again, 2));
    QCOMPARE(QImage(again + QStringLiteral(".png")), png);
    QCOMPARE(QImage(again + QStringLiteral(".features.png")), QImage(base + QStringLiteral(".features.png")));
    QCOMPARE(read(again + QStringLiteral(".similarity.csv")), read(base + QStringLiteral(".similarity.csv")));
    QCOMPARE(read(again + QStringLiteral(".permutation.csv")), read(base + QStringLiteral(".permutation.csv")));

    // A pixel width keeps the aspect ratio.
    QVERIFY(w.exportViewAtWidth(tmp_.filePath(QStringLiteral("out/wide.png")), 300));
    QCOMPARE(QImage(tmp_.filePath(QStringLiteral("out/wide.png"))).width(), 300);
  }

  void tamperedManifestsAreRefusedNamingWhatIsWrong() {
    QVERIFY2(!manifest_.isEmpty(), "needs the export of the first test");
    const QJsonObject root = QJsonDocument::fromJson(read(manifest_)).object();
    const QString imageSha = root[QStringLiteral("image")].toObject()[QStringLiteral("sha256")].toString();

    const QString badHash = QString(64, QLatin1Char('0'));
    QString message =
        refusal(tampered(QStringLiteral("hash.json"), QStringLiteral("image"), QStringLiteral("sha256"), badHash));
    QVERIFY2(message.contains(badHash) && message.contains(imageSha), qPrintable(message));

    const QString missing = tmp_.filePath(QStringLiteral("nowhere/scene.png"));
    message = refusal(tampered(QStringLiteral("path.json"), QStringLiteral("image"), QStringLiteral("path"), missing));
    QVERIFY2(message.contains(missing), qPrintable(message));

    // A checkpoint whose bytes are not the recorded ones (any existing file stands in for one).
    QString ckpt = tampered(QStringLiteral("ckpt.json"), QStringLiteral("model"), QStringLiteral("source"),
                            QStringLiteral("checkpoint"));
    ckpt = tampered(QStringLiteral("ckpt.json"), QStringLiteral("model"), QStringLiteral("checkpointPath"),
                    root[QStringLiteral("image")].toObject()[QStringLiteral("path")].toString(), ckpt);
    ckpt = tampered(QStringLiteral("ckpt.json"), QStringLiteral("model"), QStringLiteral("checkpointSha256"), badHash,
                    ckpt);
    message = refusal(ckpt);
    QVERIFY2(message.contains(badHash) && message.contains(imageSha) && message.contains(QStringLiteral("checkpoint")),
             qPrintable(message));

    message =
        refusal(tampered(QStringLiteral("opacity.json"), QStringLiteral("similarity"), QStringLiteral("opacity"), 3.0));
    QVERIFY2(message.contains(QStringLiteral("similarity.opacity")), qPrintable(message));
    message = refusal(tampered(QStringLiteral("schema.json"), QString(), QStringLiteral("schemaVersion"), 99));
    QVERIFY2(message.contains(QStringLiteral("schemaVersion")), qPrintable(message));

    // A block the model does not have is refused once the model is known.
    const int depth = extractor_->describe().depth;
    MainWindow w(extractor_);
    w.setInteractive(false);
    QSignalSpy failed(&w, &MainWindow::viewOpenFailed);
    w.openView(tampered(QStringLiteral("layer.json"), QStringLiteral("model"), QStringLiteral("layerIndex"), depth + 1));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 60000);
    message = failed.front().at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("block %1").arg(depth + 1)) &&
                 message.contains(QStringLiteral("%1 blocks").arg(depth)),
             qPrintable(message));
    QCOMPARE(w.controls()->layer(), 0);
  }

  void aCheckpointViewIsReopenedAndRefusedOnceTheFileChanged() {
    // A copy, so the test can change its bytes afterwards.
    const QString checkpoint = tmp_.filePath(QStringLiteral("model.safetensors"));
    QVERIFY(QFile::copy(
        QDir(QStringLiteral(NECO_TEST_DATA_DIR)).filePath(QStringLiteral("vit/dinov2_reg4.safetensors")), checkpoint));
    MainWindow w(extractor_);
    showWindow(w);
    w.openDemo(demoRoot_);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() != nullptr, 120000);
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    w.openCheckpoint(checkpoint);
    QVERIFY(changed.wait(60000));
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() && w.currentFeatures()->dim == 32, 60000);
    w.selectPatch(QPoint(4, 2));
    waitForView(w);
    const QString base = tmp_.filePath(QStringLiteral("ckpt/view"));
    QVERIFY(QDir().mkpath(tmp_.filePath(QStringLiteral("ckpt"))));
    QVERIFY(w.exportView(base, 1));
    const neco::ui::ViewManifest m = neco::ui::viewManifestFromJson(read(base + QStringLiteral(".json")), base);
    QVERIFY(m.source == neco::ui::ViewModelSource::Checkpoint);
    QCOMPARE(m.checkpointPath, QFileInfo(checkpoint).absoluteFilePath());
    QCOMPARE(m.checkpointSha256, neco::ui::contentSha256(checkpoint));
    QCOMPARE(m.model.embedDim, 32);

    MainWindow v(extractor_);  // starts on the demo model
    showWindow(v);
    QSignalSpy opened(&v, &MainWindow::viewOpened);
    QVERIFY(v.openView(base + QStringLiteral(".json")));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 120000);
    QCOMPARE(v.currentModel().embedDim, 32);
    QCOMPARE(v.similarity(), w.similarity());

    // The file changed since: refused, naming both hashes.
    QFile file(checkpoint);
    QVERIFY(file.open(QIODevice::Append));
    file.write("x");
    file.close();
    const QString now = neco::ui::contentSha256(checkpoint);
    const QString message = refusal(base + QStringLiteral(".json"));
    QVERIFY2(message.contains(now) && message.contains(m.checkpointSha256), qPrintable(message));
    QFile::remove(checkpoint);
    QVERIFY2(refusal(base + QStringLiteral(".json")).contains(QStringLiteral("does not exist")), "missing checkpoint");
  }

  void aSteepnessSweepIsRecordedToAVideo() {
    MainWindow w(extractor_);
    showWindow(w);
    w.openDemo(demoRoot_);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentPath().startsWith(demoRoot_) && w.currentFeatures() != nullptr, 120000);
    const QString dir = tmp_.filePath(QStringLiteral("sweep"));
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + QStringLiteral("/sweep.avi");
    QSignalSpy failed(&w, &MainWindow::recordingFailed);
    QVERIFY(!w.recordSteepnessSweep(path, 1.0, 1000.0, 6));  // nothing pinned yet
    QVERIFY2(failed.last().at(1).toString().contains(QStringLiteral("pin a patch")), qPrintable(failed.last().at(1).toString()));
    w.selectPatch(QPoint(4, 4));
    QTRY_VERIFY_WITH_TIMEOUT(w.permutationView()->studentRow().has_value(), 20000);
    const double before = w.permutationView()->studentSteepness();

    // An earlier file of that name stays as it was until the new video is complete.
    write(path, "earlier");
    QSignalSpy finished(&w, &MainWindow::recordingFinished);
    QVERIFY(w.recordSteepnessSweep(path, 1.0, 1000.0, 6, 5.0));
    QVERIFY(w.isRecording());
    QCOMPARE(read(path), QByteArray("earlier"));
    QVERIFY(!w.startRecording(dir + QStringLiteral("/other.avi")));  // one recording at a time
    QVERIFY(failed.last().at(1).toString().contains(QStringLiteral("already running")));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(finished.front().at(0).toString(), path);
    QCOMPARE(finished.front().at(1).toInt(), 6);
    QVERIFY(!w.isRecording());
    QCOMPARE(w.permutationView()->studentSteepness(), before);  // restored

    const std::vector<cv::Mat> frames = videoFrames(path);
    QCOMPARE(int(frames.size()), 6);
    QVERIFY(frames.front().cols >= 320 && frames.front().cols % 2 == 0 && frames.front().rows % 2 == 0);
    // The soft matrices sharpen as the steepness grows: every frame differs from the one before.
    for (std::size_t i = 1; i < frames.size(); ++i)
      QVERIFY2(meanAbsDifference(frames[i - 1], frames[i]) > 0.2,
               qPrintable(QStringLiteral("frame %1: %2").arg(i).arg(meanAbsDifference(frames[i - 1], frames[i]))));
    // Nothing else is left in the folder (no hidden partial or replaced file).
    QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden), QStringList{QStringLiteral("sweep.avi")});
  }

  void recordViewsFilmsEveryNewViewThroughTheMenu() {
    MainWindow w(extractor_);
    showWindow(w);
    w.openDemo(demoRoot_);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentPath().startsWith(demoRoot_) && w.currentFeatures() != nullptr, 120000);
    w.selectPatch(QPoint(6, 6));
    QTRY_VERIFY_WITH_TIMEOUT(w.permutationView()->studentRow().has_value(), 20000);
    const QString dir = tmp_.filePath(QStringLiteral("views"));
    QVERIFY(QDir().mkpath(dir));
    const QString path = dir + QStringLiteral("/views.avi");

    // File ▸ Record ▸ Record Views… asks for the file; the recording starts with the view on screen.
    auto* action = w.findChild<QAction*>(QStringLiteral("recordViewsAction"));
    QVERIFY(action && action->isCheckable());
    action->trigger();
    QDialog* dialog = nullptr;
    QTRY_VERIFY((dialog = w.findChild<QDialog*>(QStringLiteral("recordViewsDialog"))) && dialog->isVisible());
    dialog->findChild<QLineEdit*>()->setText(path);
    QTest::mouseClick(dialog->findChild<QDialogButtonBox*>()->button(QDialogButtonBox::Ok), Qt::LeftButton);
    QTRY_VERIFY(w.isRecording());
    QVERIFY(action->isChecked());

    // Each new view is a frame once the matrices have followed: another query, another layer.
    QSignalSpy sorted(w.permutationView(), &neco::ui::PermutationView::sorted);
    w.selectPatch(QPoint(2, 9));
    QTRY_VERIFY_WITH_TIMEOUT(sorted.count() >= 1, 20000);
    w.controls()->setLayer(1);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures()->layer == 1 && sorted.count() >= 2, 60000);
    QSignalSpy finished(&w, &MainWindow::recordingFinished);
    action->trigger();  // unchecks: stop and write
    QCOMPARE(finished.count(), 1);
    QVERIFY(!action->isChecked());
    const int count = finished.front().at(1).toInt();
    QCOMPARE(count, 3);
    const std::vector<cv::Mat> frames = videoFrames(path);
    QCOMPARE(int(frames.size()), count);
    QVERIFY(meanAbsDifference(frames[0], frames[1]) > 0.5);  // another query
    QVERIFY(meanAbsDifference(frames[1], frames[2]) > 0.5);  // another block

    // Refusals name the reason, and leave the user's files alone.
    QSignalSpy failed(&w, &MainWindow::recordingFailed);
    QVERIFY(!w.startRecording(dir + QStringLiteral("/views.gif")));
    QVERIFY(failed.last().at(1).toString().contains(QStringLiteral(".avi")));
    QVERIFY(!w.startRecording(w.currentPath()));
    QVERIFY(failed.last().at(1).toString().contains(QStringLiteral("open image")));
    QVERIFY(!w.startRecording(tmp_.filePath(QStringLiteral("nowhere/views.avi"))));
    QVERIFY(failed.last().at(1).toString().contains(QStringLiteral("does not exist")));
    MainWindow empty(extractor_);  // nothing on screen: a recording with no frame writes nothing
    empty.setInteractive(false);
    write(dir + QStringLiteral("/kept.avi"), "mine");
    QSignalSpy emptyFailed(&empty, &MainWindow::recordingFailed);
    QVERIFY(empty.startRecording(dir + QStringLiteral("/kept.avi")));
    empty.stopRecording();
    QCOMPARE(emptyFailed.count(), 1);
    QVERIFY(emptyFailed.front().at(1).toString().contains(QStringLiteral("nothing was recorded")));
    QCOMPARE(read(dir + QStringLiteral("/kept.avi")), QByteArray("mine"));
    QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::Hidden), (QStringList{QStringLiteral("kept.avi"), QStringLiteral("views.avi")}));
  }

  void anUnwritableDestinationLeavesNoFile() {
    MainWindow w(extractor_);
    showWindow(w);
    w.openDemo(demoRoot_);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() != nullptr, 120000);
    w.selectPatch(QPoint(2, 3));
    waitForView(w);
    QSignalSpy failed(&w, &MainWindow::exportFailed);
    const QString missingDir = tmp_.filePath(QStringLiteral("no/such/folder/view"));
    QVERIFY(!w.exportView(missingDir, 1));
    QCOMPARE(failed.count(), 1);
    QVERIFY(failed.front().at(0).toString().startsWith(tmp_.filePath(QStringLiteral("no/such/folder"))));
    // One file of the set cannot be written (a folder in its place): none of the others appear.
    const QString dir = tmp_.filePath(QStringLiteral("partial"));
    QVERIFY(QDir().mkpath(dir + QStringLiteral("/view.features.png")));
    QVERIFY(!w.exportView(dir + QStringLiteral("/view"), 1));
    QCOMPARE(failed.count(), 2);
    QVERIFY2(failed.back().at(0).toString().endsWith(QStringLiteral("view.features.png")),
             qPrintable(failed.back().at(0).toString()));
    QCOMPARE(QDir(dir).entryList(QDir::Files | QDir::NoDotAndDotDot), QStringList());
    // A file that was there before a failed export is left as it was.
    {
      QFile old(dir + QStringLiteral("/view.png"));
      QVERIFY(old.open(QIODevice::WriteOnly));
      old.write("an earlier export");
    }
    QVERIFY(!w.exportView(dir + QStringLiteral("/view"), 1));
    QFile kept(dir + QStringLiteral("/view.png"));
    QVERIFY(kept.open(QIODevice::ReadOnly));
    QCOMPARE(kept.readAll(), QByteArray("an earlier export"));
  }

  void theOpenImageIsNeverAnExportTarget() {
    MainWindow w(extractor_);
    showWindow(w);
    const QString png = tmp_.filePath(QStringLiteral("own/scene.png"));
    QVERIFY(QDir().mkpath(QFileInfo(png).absolutePath()));
    QImage image(64, 48, QImage::Format_RGB888);
    image.fill(QColor(40, 120, 200));
    QVERIFY(image.save(png));
    QFile before(png);
    QVERIFY(before.open(QIODevice::ReadOnly));
    const QByteArray bytes = before.readAll();
    before.close();
    w.openImage(png);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentPath() == png && w.currentFeatures() != nullptr, 120000);
    w.selectPatch(QPoint(1, 1));
    waitForView(w);
    QSignalSpy failed(&w, &MainWindow::exportFailed);
    QVERIFY(!w.exportView(tmp_.filePath(QStringLiteral("own/scene")), 1));  // would write own/scene.png
    QCOMPARE(failed.count(), 1);
    QVERIFY(failed.front().at(1).toString().contains(QStringLiteral("open image")));
    QFile after(png);
    QVERIFY(after.open(QIODevice::ReadOnly));
    QCOMPARE(after.readAll(), bytes);
    QVERIFY(!QFile::exists(tmp_.filePath(QStringLiteral("own/scene.json"))));
  }
};

QTEST_MAIN(ViewExportTest)
#include "ViewExportTest.moc"
