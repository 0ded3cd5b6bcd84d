// The studio with real checkpoints (tiny ViT fixtures in tests/data): loading off the UI thread
// swaps the model and repaints the similarity heatmap from the new features; a refused file, a key
// mismatch and a file that needs options each give the error dialog (non-blocking) while the previous
// model stays active; drag-and-drop of checkpoints and Hugging Face folders; the recent list in
// QSettings; the options dialog; the official-weights dialog against a loopback HTTP server.
#include "LoopbackHttpServer.h"
#include "neco/core/Colormap.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/core/Weights.h"
#include "neco/ui/CheckpointOptionsDialog.h"
#include "neco/ui/CompareView.h"
#include "neco/ui/LogPanel.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/RecentFiles.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/WeightsDownloadDialog.h"

#include <QAction>
#include <QComboBox>
#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>
#include <QUrl>
#include <QtEndian>

#include <cmath>

using neco::ui::MainWindow;

namespace {

const QString kData = QStringLiteral(NECO_TEST_DATA_DIR);
QString data(const QString& relative) {
  return QDir(kData).filePath(relative);
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A copy of a safetensors file without the tensor `drop` (offsets repacked, metadata kept).
bool writeSafetensorsWithout(const QString& from, const QString& to, const QString& drop) {
  const QByteArray bytes = readAll(from);
  if (bytes.size() < 8) return false;
  const quint64 headerSize = qFromLittleEndian<quint64>(bytes.constData());
  const QJsonObject header = QJsonDocument::fromJson(bytes.mid(8, static_cast<int>(headerSize))).object();
  const QByteArray payload = bytes.mid(static_cast<int>(8 + headerSize));
  QJsonObject out;
  QByteArray outPayload;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == drop) continue;
    if (it.key() == QLatin1String("__metadata__")) {
      out.insert(it.key(), it.value());
      continue;
    }
    QJsonObject entry = it.value().toObject();
    const auto offsets = entry.value(QStringLiteral("data_offsets")).toArray();
    const qint64 begin = offsets.at(0).toInteger(), end = offsets.at(1).toInteger();
    entry.insert(QStringLiteral("data_offsets"), QJsonArray{outPayload.size(), outPayload.size() + (end - begin)});
    outPayload += payload.mid(static_cast<int>(begin), static_cast<int>(end - begin));
    out.insert(it.key(), entry);
  }
  const QByteArray json = QJsonDocument(out).toJson(QJsonDocument::Compact);
  QByteArray size(8, '\0');
  qToLittleEndian<quint64>(static_cast<quint64>(json.size()), size.data());
  QFile f(to);
  return f.open(QIODevice::WriteOnly) && f.write(size + json + outPayload) == 8 + json.size() + outPayload.size();
}

QImage grabCanvas(MainWindow& w) {
  return w.canvas()->grab().toImage().convertToFormat(QImage::Format_RGB888);
}

bool close(QColor a, QColor b, int tol = 4) {
  return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol &&
         std::abs(a.blue() - b.blue()) <= tol;
}

QColor blend(QColor under, neco::PaletteColor over, double alpha) {
  auto mix = [alpha](int u, int o) { return static_cast<int>(std::lround(alpha * o + (1 - alpha) * u)); };
  return QColor(mix(under.red(), over.r), mix(under.green(), over.g), mix(under.blue(), over.b));
}

QPoint centre(MainWindow& w, QPoint patch) {
  return w.canvas()->patchRect(patch).center().toPoint();
}

QMessageBox* errorBox(MainWindow& w) {
  return w.findChild<QMessageBox*>(QStringLiteral("checkpointErrorBox"));
}

QAction* menuAction(MainWindow& w, const QString& textStart) {
  for (QAction* top : w.menuBar()->actions())
    if (top->menu())
      for (QAction* a : top->menu()->actions())
        if (a->text().remove(QLatin1Char('&')).startsWith(textStart)) return a;
  return nullptr;
}

}  // namespace

class CheckpointStudioTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QString demoRoot_;
  std::shared_ptr<const neco::FeatureExtractor> demo_;

  void openDemoAndWait(MainWindow& w) {
    QSignalSpy ready(&w, &MainWindow::featuresUpdated);
    w.openDemo(demoRoot_);
    QVERIFY(ready.wait(120000));
  }
  // Opens `path` and waits for the model to change and the current image's features to follow.
  static void loadAndWaitForFeatures(MainWindow& w, const QString& path) {
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    QSignalSpy features(&w, &MainWindow::featuresUpdated);
    w.openCheckpoint(path);
    QVERIFY(changed.wait(60000));
    QTRY_VERIFY_WITH_TIMEOUT(features.count() > 0, 60000);
  }
  static void drop(MainWindow& w, const QStringList& paths) {
    QMimeData mime;
    QList<QUrl> urls;
    for (const QString& p : paths) urls << QUrl::fromLocalFile(p);
    mime.setUrls(urls);
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent dropEvent(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(&w, &dropEvent);
    QVERIFY(dropEvent.isAccepted());
  }
  static QStringList recentSetting() {
    return QSettings().value(QStringLiteral("studio/recentCheckpoints")).toStringList();
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    // Settings of this run only: QSettings reads XDG_CONFIG_HOME when it is first used.
    qputenv("XDG_CONFIG_HOME", tmp_.filePath(QStringLiteral("config")).toUtf8());
    QCoreApplication::setOrganizationName(QStringLiteral("NeCoStudioTest"));
    QVERIFY(QSettings().fileName().startsWith(tmp_.path()));
    demoRoot_ = tmp_.filePath(QStringLiteral("demo"));
    neco::LogOptions log;
    log.file = false;
    neco::configureLogging(log);
    demo_ = neco::FeatureExtractor::createDemo(0);
  }

  void init() { QSettings().clear(); }

  void loadingACheckpointSwapsTheModelAndRepaintsTheHeatmap() {
    MainWindow w(demo_);
    w.setInteractive(false);
    w.resize(1200, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    openDemoAndWait(w);
    QCOMPARE(w.currentModel().embedDim, 192);
    QVERIFY2(w.modelSummary().contains(QStringLiteral("Demo model")), qPrintable(w.modelSummary()));
    w.controls()->setGridVisible(false);
    w.controls()->setOpacity(0.5);
    const QPoint query(5, 7);
    QSignalSpy heat(&w, &MainWindow::heatmapUpdated);
    w.selectPatch(query);
    QCOMPARE(heat.count(), 1);
    const std::vector<float> demoSimilarity = w.similarity();
    const QImage demoShot = grabCanvas(w);
    const QRectF demoRect = w.canvas()->imageRect();

    // The UI thread does not wait: openCheckpoint returns with the load still in flight.
    const QString path = data(QStringLiteral("vit/dinov2_reg4.safetensors"));
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    w.openCheckpoint(path);
    QVERIFY(w.checkpointLoading());
    QCOMPARE(changed.count(), 0);
    QCOMPARE(w.currentModel().embedDim, 192);
    QVERIFY(changed.wait(60000));
    QVERIFY(!w.checkpointLoading());
    QTRY_VERIFY_WITH_TIMEOUT(heat.count() >= 2, 60000);

    // The model description and the label show the checkpoint.
    QCOMPARE(w.currentModel().numRegisters, 4);
    QCOMPARE(w.currentModel().embedDim, 32);
    QCOMPARE(w.currentModel().numHeads, 2);
    QCOMPARE(w.currentFeatures()->dim, 32);
    const QString summary = w.modelSummary();
    for (const char* part : {"dinov2_reg4.safetensors", "4 registers", "32-d", "2 heads", "dinov2-official", "88,480"})
      QVERIFY2(summary.contains(QLatin1String(part)),
               qPrintable(summary + QStringLiteral(" lacks ") + QLatin1String(part)));

    // Same image, same query: the similarity now comes from the checkpoint's features...
    QCOMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(query));
    const std::vector<float>& sim = w.similarity();
    QCOMPARE(sim.size(), demoSimilarity.size());
    QVERIFY(std::fabs(sim[7 * 16 + 5] - 1.0f) < 1e-4f);
    float largest = 0;
    for (std::size_t i = 0; i < sim.size(); ++i) largest = std::max(largest, std::fabs(sim[i] - demoSimilarity[i]));
    QVERIFY2(largest > 0.1f, qPrintable(QString::number(largest)));

    // ...and the pixels show it: each sampled patch is blend(image, viridis(new similarity), 0.5),
    // and many differ visibly from the demo model's heatmap.
    QCOMPARE(w.canvas()->imageRect(), demoRect);
    const QImage shot = grabCanvas(w);
    w.controls()->setOpacity(0.0);
    const QImage plain = grabCanvas(w);
    w.controls()->setOpacity(0.5);
    const neco::Colormap viridis(neco::ColormapKind::Viridis);
    int checked = 0, changedPixels = 0;
    for (int row = 0; row < 16; row += 3) {
      for (int col = 0; col < 16; col += 3) {
        if (QPoint(col, row) == query) continue;
        const QPoint p = centre(w, QPoint(col, row));
        const QColor expected = blend(plain.pixelColor(p), viridis.map(sim[row * 16 + col], -1.f, 1.f), 0.5);
        QVERIFY2(close(shot.pixelColor(p), expected), qPrintable(QStringLiteral("patch %1,%2: got %3 expected %4")
                                                                     .arg(col)
                                                                     .arg(row)
                                                                     .arg(shot.pixelColor(p).name(), expected.name())));
        if (!close(shot.pixelColor(p), demoShot.pixelColor(p), 8)) ++changedPixels;
        ++checked;
      }
    }
    QVERIFY(checked >= 30);
    QVERIFY2(changedPixels >= checked / 4,
             qPrintable(QStringLiteral("%1 of %2 changed").arg(changedPixels).arg(checked)));

    // Loaded files go first in the recent list, persisted in QSettings.
    QCOMPARE(recentSetting().value(0), QFileInfo(path).absoluteFilePath());

    // Use Demo Model gives back exactly the demo model's similarity.
    QSignalSpy back(&w, &MainWindow::modelChanged);
    w.useDemoModel();
    QCOMPARE(back.count(), 1);
    QCOMPARE(w.currentModel().embedDim, 192);
    QVERIFY(w.modelSummary().contains(QStringLiteral("Demo model")));
    const int before = heat.count();
    QTRY_VERIFY_WITH_TIMEOUT(heat.count() > before, 60000);
    for (std::size_t i = 0; i < sim.size(); ++i) QVERIFY(std::fabs(w.similarity()[i] - demoSimilarity[i]) < 1e-6f);
  }

  void droppingACheckpointOrAHuggingFaceFolderLoadsIt() {
    MainWindow w(demo_);
    w.setInteractive(false);
    w.show();
    openDemoAndWait(w);
    {
      QSignalSpy changed(&w, &MainWindow::modelChanged);
      drop(w, {data(QStringLiteral("checkpoints/dinov2_reg4_hf"))});
      QVERIFY(changed.wait(60000));
      QCOMPARE(w.currentModel().numRegisters, 4);
      QCOMPARE(w.currentModel().embedDim, 32);
      QVERIFY2(w.modelSummary().contains(QStringLiteral("huggingface")), qPrintable(w.modelSummary()));
    }
    // A checkpoint file and an image in one drop: both open.
    w.useDemoModel();
    const QString image = QDir(demoRoot_).filePath(QStringLiteral("JPEGImages/demo_000001.jpg"));
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    drop(w, {data(QStringLiteral("vit/dinov2_reg4.safetensors")), image});
    QVERIFY(changed.wait(60000));
    QCOMPARE(w.currentModel().embedDim, 32);
    QTRY_COMPARE_WITH_TIMEOUT(w.currentPath(), image, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() && w.currentFeatures()->dim == 32, 60000);
  }

  void refusedPickleShowsTheErrorAndKeepsThePreviousModel() {
    MainWindow w(demo_);
    w.show();  // interactive: the error dialog is non-blocking
    openDemoAndWait(w);
    loadAndWaitForFeatures(w, data(QStringLiteral("vit/dinov2_reg4.safetensors")));
    if (QTest::currentTestFailed()) return;
    QCOMPARE(w.currentFeatures()->dim, 32);
    w.selectPatch(QPoint(3, 4));
    const std::vector<float> similarity = w.similarity();
    const QString summary = w.modelSummary();

    QSignalSpy failed(&w, &MainWindow::checkpointFailed);
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    const QString evil = data(QStringLiteral("malformed/torch/os-system.pth"));
    w.openCheckpoint(evil);
    QVERIFY(failed.wait(60000));
    QCOMPARE(failed.at(0).at(0).toString(), evil);
    const QString message = failed.at(0).at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("system")) && message.contains(QStringLiteral("os-system.pth")),
             qPrintable(message));

    QMessageBox* box = errorBox(w);
    QVERIFY(box);
    QTRY_VERIFY(box->isVisible());
    QCOMPARE(box->windowTitle(), QStringLiteral("Cannot open checkpoint"));
    QVERIFY2(
        box->text().contains(QStringLiteral("`posix.system`")) || box->text().contains(QStringLiteral("`os.system`")),
        qPrintable(box->text()));
    QVERIFY(box->text().contains(QStringLiteral("os-system.pth")));
    QVERIFY(!box->findChild<QPushButton*>(QStringLiteral("loadNonStrict")));  // nothing to retry

    // The previous model is untouched, the window keeps working, nothing was recorded as recent.
    QCOMPARE(changed.count(), 0);
    QCOMPARE(w.currentModel().embedDim, 32);
    QCOMPARE(w.modelSummary(), summary);
    QCOMPARE(w.similarity(), similarity);
    QVERIFY(!recentSetting().contains(QFileInfo(evil).absoluteFilePath()));
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("os-system.pth")));
    box->button(QMessageBox::Close)->click();
    QTRY_VERIFY(!errorBox(w));
    w.selectPatch(QPoint(8, 8));
    QVERIFY(std::fabs(w.similarity()[8 * 16 + 8] - 1.0f) < 1e-4f);
  }

  void keyMismatchIsAnErrorUnlessLoadedAnyway() {
    const QString broken = tmp_.filePath(QStringLiteral("reg4-missing-key.safetensors"));
    QVERIFY(writeSafetensorsWithout(data(QStringLiteral("vit/dinov2_reg4.safetensors")), broken,
                                    QStringLiteral("blocks.1.mlp.fc2.bias")));
    MainWindow w(demo_);
    w.show();
    QSignalSpy failed(&w, &MainWindow::checkpointFailed);
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    w.openCheckpoint(broken);
    QVERIFY(failed.wait(60000));
    const QString message = failed.at(0).at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("blocks.1.mlp.fc2.bias")), qPrintable(message));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(w.currentModel().embedDim, 192);  // strict by default: still the demo model

    QMessageBox* box = errorBox(w);
    QVERIFY(box);
    auto* anyway = box->findChild<QPushButton*>(QStringLiteral("loadNonStrict"));
    QVERIFY(anyway);
    QCOMPARE(anyway->text(), QStringLiteral("Load anyway (non-strict)"));
    anyway->click();
    QVERIFY(changed.wait(60000));
    QCOMPARE(w.currentModel().embedDim, 32);
    QCOMPARE(w.currentModel().numRegisters, 4);
    QVERIFY2(w.modelSummary().contains(QStringLiteral("non-strictly")), qPrintable(w.modelSummary()));
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("loaded non-strictly")));
    QTRY_VERIFY(w.logPanel()->text().contains(QStringLiteral("blocks.1.mlp.fc2.bias")));
  }

  void checkpointOptionsAreRememberedAndApplyToTheNextOpen() {
    const QString official = data(QStringLiteral("checkpoints/dinov2_reg4_official.pth"));
    MainWindow w(demo_);
    w.show();
    QSignalSpy failed(&w, &MainWindow::checkpointFailed);
    w.openCheckpoint(official);  // width 32 without metadata: the heads cannot be inferred
    QVERIFY(failed.wait(60000));
    QVERIFY2(failed.at(0).at(1).toString().contains(QStringLiteral("heads")),
             qPrintable(failed.at(0).at(1).toString()));
    QMessageBox* box = errorBox(w);
    QVERIFY(box);
    QVERIFY(box->findChild<QPushButton*>(QStringLiteral("editOptions")));
    QVERIFY(box->informativeText().contains(QStringLiteral("Checkpoint Options")));
    box->close();

    {  // the dialog shows and stores the options
      neco::ui::CheckpointOptionsDialog dialog;
      auto* heads = dialog.findChild<QSpinBox*>(QStringLiteral("heads"));
      auto* part = dialog.findChild<QComboBox*>(QStringLiteral("part"));
      QVERIFY(heads && part);
      QCOMPARE(heads->value(), 0);
      heads->setValue(2);
      part->setCurrentIndex(part->findData(QStringLiteral("teacher")));
      dialog.accept();
    }
    const neco::CheckpointOptions remembered = neco::ui::CheckpointOptionsDialog::remembered();
    QCOMPARE(remembered.numHeads, 2);
    QCOMPARE(remembered.part, std::string("teacher"));
    QVERIFY(remembered.strict);
    QCOMPARE(QSettings().value(QStringLiteral("checkpointOptions/heads")).toInt(), 2);
    QCOMPARE(neco::ui::CheckpointOptionsDialog().findChild<QSpinBox*>(QStringLiteral("heads"))->value(), 2);

    // The next open uses them: a NeCo training checkpoint gives its teacher...
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    w.openCheckpoint(data(QStringLiteral("checkpoints/neco_dinov2_reg4.ckpt")));
    QVERIFY(changed.wait(60000));
    QVERIFY2(w.modelSummary().contains(QStringLiteral("teacher")), qPrintable(w.modelSummary()));
    QCOMPARE(w.currentModel().numRegisters, 4);
    // ...and with the part back on auto, the official single-network file loads.
    neco::CheckpointOptions headsOnly;
    headsOnly.numHeads = 2;
    neco::ui::CheckpointOptionsDialog::remember(headsOnly);
    w.openCheckpoint(official);
    QVERIFY(changed.wait(60000));
    QVERIFY2(w.modelSummary().contains(QStringLiteral("dinov2_reg4_official.pth")), qPrintable(w.modelSummary()));
    // The Before / after dock reads a file with the same remembered options.
    w.showBottomDock("compareDock");
    neco::ui::CompareView* cmp = w.compareView();
    QTRY_VERIFY(cmp->isVisible());
    cmp->addCheckpoint(official);
    QTRY_VERIFY(cmp->tile(0) != nullptr);
    auto* caption = cmp->tile(0)->parentWidget()->findChild<QLabel*>();
    QTRY_VERIFY2_WITH_TIMEOUT(caption->text().contains(QStringLiteral("loaded;")) ||
                                  caption->text().contains(QStringLiteral("✗")),
                              qPrintable(caption->text()), 60000);
    QVERIFY2(!caption->text().contains(QStringLiteral("✗")), qPrintable(caption->text().replace('\n', ' ')));
    neco::ui::CheckpointOptionsDialog::remember(neco::CheckpointOptions{});
  }

  void aNewerRequestSupersedesAnOlderOne() {
    MainWindow w(demo_);
    w.setInteractive(false);
    QSignalSpy failed(&w, &MainWindow::checkpointFailed);
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    w.openCheckpoint(data(QStringLiteral("malformed/torch/os-system.pth")));
    w.openCheckpoint(data(QStringLiteral("checkpoints/dinov2_reg4_hf")));
    QVERIFY(changed.wait(60000));
    QTest::qWait(300);
    QCOMPARE(failed.count(), 0);  // the older request's result (an error) is never delivered
    QCOMPARE(changed.count(), 1);
    QCOMPARE(w.currentModel().numRegisters, 4);
  }

  void recentCheckpointsArePersistedAndMissingOnesGreyed() {
    QDir(tmp_.path()).mkpath(QStringLiteral("recent"));
    QStringList files;
    for (int i = 0; i < 10; ++i) {
      files << tmp_.filePath(QStringLiteral("recent/model%1.safetensors").arg(i));
      QFile f(files.back());
      QVERIFY(f.open(QIODevice::WriteOnly));
    }
    neco::ui::RecentFiles recent(QStringLiteral("Recent"), QStringLiteral("studio/recentCheckpoints"), 8);
    for (const QString& f : files) recent.add(f);
    recent.add(files[5]);  // again: moves to the front, no duplicate
    const QStringList expected{files[5], files[9], files[8], files[7], files[6], files[4], files[3], files[2]};
    QCOMPARE(recent.paths(), expected);
    QCOMPARE(recentSetting(), expected);  // in QSettings, read by a fresh instance too
    QCOMPARE(neco::ui::RecentFiles(QStringLiteral("R"), QStringLiteral("studio/recentCheckpoints")).paths(), expected);

    QVERIFY(QFile::remove(files[9]));
    Q_EMIT recent.menu()->aboutToShow();
    QAction* missing = nullptr;
    QAction* present = nullptr;
    for (QAction* a : recent.menu()->actions()) {
      if (a->data().toString() == files[9]) missing = a;
      if (a->data().toString() == files[5]) present = a;
    }
    QVERIFY(missing && present);
    QVERIFY(!missing->isEnabled());
    QVERIFY(missing->text().contains(QStringLiteral("missing")));
    QVERIFY(present->isEnabled());
    QVERIFY(present->text().startsWith(QStringLiteral("&1")));

    // The window's menu opens a recent entry.
    MainWindow w(demo_);
    w.setInteractive(false);
    w.recentCheckpoints()->add(data(QStringLiteral("checkpoints/dinov2_reg4_hf")));
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    QMenu* menu = w.recentCheckpoints()->menu();
    Q_EMIT menu->aboutToShow();
    QCOMPARE(menu->actions().value(0)->data().toString(),
             QDir::cleanPath(data(QStringLiteral("checkpoints/dinov2_reg4_hf"))));
    menu->actions().value(0)->trigger();
    QVERIFY(changed.wait(60000));
    QCOMPARE(w.currentModel().numRegisters, 4);

    // An entry whose file is gone is removed when opening it fails.
    const QString gone = tmp_.filePath(QStringLiteral("recent/gone.safetensors"));
    w.recentCheckpoints()->add(gone);
    QSignalSpy failed(&w, &MainWindow::checkpointFailed);
    w.openCheckpoint(gone);
    QVERIFY(failed.wait(60000));
    QVERIFY(!w.recentCheckpoints()->paths().contains(gone));
    QVERIFY(!recentSetting().contains(gone));
    QCOMPARE(w.currentModel().numRegisters, 4);

    // Clear empties the list and the setting.
    Q_EMIT menu->aboutToShow();
    QAction* clear = nullptr;
    for (QAction* a : menu->actions())
      if (a->objectName() == QLatin1String("clearRecent")) clear = a;
    QVERIFY(clear && clear->isEnabled());
    clear->trigger();
    QVERIFY(w.recentCheckpoints()->paths().isEmpty());
    QVERIFY(recentSetting().isEmpty());
  }

  void menuHasTheCheckpointEntries() {
    MainWindow w(demo_);
    QAction* open = menuAction(w, QStringLiteral("Open Checkpoint"));
    QVERIFY(open);
    QCOMPARE(open->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+O")));
    QVERIFY(menuAction(w, QStringLiteral("Open Hugging Face Folder")));
    QVERIFY(menuAction(w, QStringLiteral("Recent Checkpoints")));
    QVERIFY(menuAction(w, QStringLiteral("Checkpoint Options")));
    QVERIFY(menuAction(w, QStringLiteral("Use Demo Model")));
    QAction* download = menuAction(w, QStringLiteral("Download Official Weights"));
    QVERIFY(download);
    QCOMPARE(download->isEnabled(), neco::canDownloadWeights());
    if (!neco::canDownloadWeights()) QVERIFY(download->toolTip().contains(QStringLiteral("by hand")));
  }

  void weightsDialogListsTheRegistry() {
    neco::ui::WeightsDownloadDialog dialog;
    const auto& registry = neco::officialWeights();
    QCOMPARE(dialog.list()->topLevelItemCount(), static_cast<int>(registry.size()));
    for (int i = 0; i < dialog.list()->topLevelItemCount(); ++i) {
      QCOMPARE(dialog.list()->topLevelItem(i)->text(0), QString::fromStdString(registry[i].name));
      QCOMPARE(dialog.list()->topLevelItem(i)->text(1), QString::fromStdString(registry[i].family));
      QCOMPARE(dialog.list()->topLevelItem(i)->text(2), QString::fromStdString(registry[i].description));
    }
    QCOMPARE(dialog.downloadButton()->isEnabled(), neco::canDownloadWeights());
  }

  void downloadShowsProgressCancelsResumesAndOpens() {
    if (!neco::canDownloadWeights()) QSKIP("this build cannot download (no libcurl)");
    const QByteArray body = readAll(data(QStringLiteral("checkpoints/dinov2_reg4_official.pth")));
    QVERIFY(body.size() > 100000);
    neco::test::LoopbackHttpServer server;
    neco::test::ServedFile slow = neco::test::servedBytes(std::vector<std::uint8_t>(body.begin(), body.end()));
    slow.dripChunk = 4096;  // about 4.5 s for the whole file: time to see progress and cancel
    slow.dripDelay = std::chrono::milliseconds(50);
    server.serve("/weights.pth", slow);
    neco::FetchOptions options;
    options.cacheDir = tmp_.filePath(QStringLiteral("cache")).toStdString();
    options.url = server.url("/weights.pth");
    options.sha256 = QCryptographicHash::hash(body, QCryptographicHash::Sha256).toHex().toStdString();
    const QString cached =
        QDir(tmp_.filePath(QStringLiteral("cache"))).filePath(QStringLiteral("dinov2_vits14_reg.pth"));

    neco::CheckpointOptions heads;  // the fixture's width needs the heads
    heads.numHeads = 2;
    neco::ui::CheckpointOptionsDialog::remember(heads);
    MainWindow w(demo_);
    w.setInteractive(false);
    w.show();
    menuAction(w, QStringLiteral("Download Official Weights"))->trigger();
    auto* dialog = w.findChild<neco::ui::WeightsDownloadDialog*>();
    QVERIFY(dialog);
    QTRY_VERIFY(dialog->isVisible());
    dialog->setFetchOptions(options);

    // Progress arrives through the bar; Cancel stops it and keeps the partial file.
    QSignalSpy failed(dialog, &neco::ui::WeightsDownloadDialog::failed);
    dialog->download(QStringLiteral("dinov2_vits14_reg"));
    QVERIFY(dialog->busy());
    QVERIFY(!dialog->downloadButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(dialog->progressBar()->maximum() == 1000 && dialog->progressBar()->value() > 0, 30000);
    QVERIFY(dialog->progressBar()->value() < 1000);
    QElapsedTimer clock;
    clock.start();
    dialog->cancelButton()->click();
    QVERIFY(failed.wait(10000));
    QVERIFY2(clock.elapsed() < 2000, qPrintable(QString::number(clock.elapsed())));
    const QString message = dialog->statusLabel()->text();
    QVERIFY2(message.contains(QStringLiteral("cancelled")) && message.contains(QStringLiteral("resumes")) &&
                 message.contains(QStringLiteral(".part")),
             qPrintable(message));
    QVERIFY(QFile::exists(cached + QStringLiteral(".part")));
    QVERIFY(!QFile::exists(cached));

    // Download again: it resumes, verifies, closes the dialog and opens the file in the studio.
    server.serve("/weights.pth", neco::test::servedBytes(std::vector<std::uint8_t>(body.begin(), body.end())));
    QSignalSpy downloaded(dialog, &neco::ui::WeightsDownloadDialog::downloaded);
    QSignalSpy changed(&w, &MainWindow::modelChanged);
    dialog->downloadButton()->click();
    QVERIFY(changed.wait(60000));
    QCOMPARE(downloaded.count(), 1);
    QCOMPARE(downloaded.at(0).at(0).toString(), cached);
    QVERIFY(!server.requests().back().range.empty());  // resumed with a Range request
    QCOMPARE(readAll(cached), body);
    QCOMPARE(w.currentModel().numRegisters, 4);
    QVERIFY(w.modelSummary().contains(QStringLiteral("dinov2_vits14_reg.pth")));
    QCOMPARE(recentSetting().value(0), cached);
    neco::ui::CheckpointOptionsDialog::remember(neco::CheckpointOptions{});
  }

  void downloadFailureIsShownInTheDialog() {
    if (!neco::canDownloadWeights()) QSKIP("this build cannot download (no libcurl)");
    neco::ui::WeightsDownloadDialog dialog;
    neco::FetchOptions options;
    options.cacheDir = tmp_.filePath(QStringLiteral("cache-offline")).toStdString();
    options.url = "http://127.0.0.1:" + std::to_string(neco::test::closedLoopbackPort()) + "/x.pth";
    options.connectTimeoutSeconds = 5;
    dialog.setFetchOptions(options);
    QSignalSpy failed(&dialog, &neco::ui::WeightsDownloadDialog::failed);
    dialog.download(QStringLiteral("dinov2_vits14"));
    QVERIFY(failed.wait(30000));
    const QString message = dialog.statusLabel()->text();
    QVERIFY2(message.contains(QStringLiteral("dinov2_vits14")) && message.contains(QStringLiteral("cache-offline")),
             qPrintable(message));  // names the file and where to put it by hand
    QVERIFY(dialog.downloadButton()->isEnabled());
  }
};

QTEST_MAIN(CheckpointStudioTest)
#include "CheckpointStudioTest.moc"
