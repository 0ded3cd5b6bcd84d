// The feature views inside the real window, headless: a pinned patch drives the Near / far strip,
// clicking one of its thumbnails selects that patch (in this image, or across the patch bank in
// another image, which the window then opens), the Feature maps dock follows the current features,
// and a model change drops the bank that was built on the old one.
#include "neco/core/FeatureExtractor.h"
#include "neco/core/ImageIo.h"
#include "neco/core/Log.h"
#include "neco/core/PatchBank.h"
#include "neco/core/Similarity.h"
#include "neco/ui/CompareView.h"
#include "neco/ui/CrossImageView.h"
#include "neco/ui/DatasetBrowser.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/MainWindow.h"
#include "StudioTestSupport.h"
#include "neco/ui/NearFarStrip.h"
#include "neco/ui/PatchBankBuilder.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/SimilarityControls.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>

using neco::ui::MainWindow;

class StudioViewsTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  QString demoRoot_;
  std::shared_ptr<const neco::FeatureExtractor> extractor_;

  void openDemoAndWait(MainWindow& w) { neco::test::openDemoAndWait(w, demoRoot_); }
  static QPoint patchOf(MainWindow& w) { return w.canvas()->selectedPatch().value_or(QPoint(-1, -1)); }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    demoRoot_ = tmp_.filePath(QStringLiteral("demo"));
    extractor_ = neco::test::quietDemoModel();
  }

  void clickingAPatchRanksItsNeighboursAndAThumbnailJumpsThere() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    openDemoAndWait(w);
    neco::ui::NearFarStrip* strip = w.nearFarStrip();
    QSignalSpy shown(strip, &neco::ui::NearFarStrip::rankingShown);
    const QPoint query(3, 4);
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::NoModifier, w.canvas()->patchRect(query).center().toPoint());
    QTRY_VERIFY_WITH_TIMEOUT(!strip->nearest().empty(), 20000);
    QCOMPARE(int(strip->nearest().size()), strip->k());
    // Within the image: every entry is from this image, the query itself is left out, and the
    // scores are the heatmap's values at those patches.
    const int gridW = w.currentFeatures()->gridW;
    for (const auto& e : strip->nearest()) {
      QCOMPARE(e.path, w.currentPath());
      QVERIFY(e.patch != query);
      QVERIFY(std::abs(e.score - w.similarity()[std::size_t(e.patch.y() * gridW + e.patch.x())]) < 1e-4f);
    }
    QVERIFY(strip->nearest().front().score >= strip->nearest().back().score);
    QVERIFY(strip->farthest().front().score <= strip->nearest().back().score);
    // Clicking the farthest patch's thumbnail pins it.
    const QPoint far = strip->farthest().front().patch;
    QWidget* tile = strip->tile(false, 0);
    QVERIFY(tile);
    QTest::mouseClick(tile, Qt::LeftButton, Qt::NoModifier, tile->rect().center());
    QTRY_COMPARE(patchOf(w), far);
    QTRY_VERIFY(!w.similarity().empty());
  }

  void thePatchBankRanksAcrossTheDatasetAndOpensTheMatchingImage() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    openDemoAndWait(w);
    QSignalSpy built(w.patchBankBuilder(), &neco::ui::PatchBankBuilder::finished);
    w.buildPatchBank();
    QVERIFY(built.wait(300000));
    const auto bank = built.takeFirst().at(0).value<neco::ui::PatchBankPtr>();
    QVERIFY(bank);
    QCOMPARE(bank->imageCount(), w.datasetBrowser()->count());
    neco::ui::NearFarStrip* strip = w.nearFarStrip();
    QCOMPARE(strip->scope(), neco::ui::NearFarScope::Bank);
    w.selectPatch(QPoint(5, 5));
    QTRY_VERIFY_WITH_TIMEOUT(!strip->nearest().empty(), 20000);
    // The best match in another image: clicking it opens that image with the patch pinned.
    auto other = std::find_if(strip->nearest().begin(), strip->nearest().end(),
                              [&](const auto& e) { return e.path != w.currentPath(); });
    QVERIFY2(other != strip->nearest().end(), "no match outside the query image among the nearest");
    const auto target = *other;
    QWidget* tile = strip->tile(true, int(other - strip->nearest().begin()));
    QTest::mouseClick(tile, Qt::LeftButton, Qt::NoModifier, tile->rect().center());
    QTRY_COMPARE_WITH_TIMEOUT(w.currentPath(), target.path, 60000);
    QTRY_COMPARE_WITH_TIMEOUT(patchOf(w), target.patch, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() != nullptr && !w.similarity().empty(), 60000);
    QCOMPARE(w.datasetBrowser()->currentPath(), target.path);
    // The query patch compared with itself in the bank: the bank's score is the heatmap's 1.
    const int gridW = w.currentFeatures()->gridW;
    QVERIFY(std::abs(w.similarity()[std::size_t(target.patch.y() * gridW + target.patch.x())] - 1.f) < 1e-4f);
    // A new model makes the bank stale: it is dropped and the strip ranks within the image again.
    w.openCheckpoint(QStringLiteral("/nonexistent/model.safetensors"));  // fails: the model stays
    QTRY_VERIFY_WITH_TIMEOUT(!w.checkpointLoading(), 60000);
    QCOMPARE(strip->scope(), neco::ui::NearFarScope::Bank);
    w.useDemoModel();
    QTRY_COMPARE_WITH_TIMEOUT(strip->scope(), neco::ui::NearFarScope::Image, 60000);
  }

  void aLayerTheModelLacksWaitsForAModelWithIt() {
    neco::ui::SimilarityControls controls;
    QSignalSpy changes(&controls, &neco::ui::SimilarityControls::layerChanged);
    controls.setDepth(4);
    controls.setLayer(9);  // a restored session; its 12-block checkpoint is still loading
    QCOMPARE(controls.layer(), 0);
    QCOMPARE(controls.pendingLayer(), std::optional<int>(9));
    controls.setDepth(6);  // another shallow model: still waiting
    QCOMPARE(controls.layer(), 0);
    controls.setDepth(12);
    QCOMPARE(controls.layer(), 9);
    QCOMPARE(controls.pendingLayer(), std::nullopt);
    controls.setDepth(4);  // the chosen block is gone: the last block, and nothing waits
    QCOMPARE(controls.layer(), 0);
    controls.setDepth(12);
    QCOMPARE(controls.layer(), 0);
    QCOMPARE(changes.count(), 0);  // setDepth emits nothing: the caller changes the model
    controls.setLayer(12);         // the depth itself: the last block
    QCOMPARE(controls.layer(), 0);
    controls.setDepth(4);
    controls.setLayer(9);
    Q_EMIT controls.layerBox()->activated(1);  // the user picks a block: nothing waits any more
    QCOMPARE(controls.pendingLayer(), std::nullopt);
    controls.setDepth(12);
    QCOMPARE(controls.layer(), 0);
  }

  void theLayerChoiceReadsAnEarlierBlock() {
    MainWindow w(extractor_);
    QVERIFY(neco::test::showActive(w, QSize(1600, 1000)));
    openDemoAndWait(w);
    const int depth = extractor_->describe().depth;
    QComboBox* box = w.controls()->layerBox();
    QCOMPARE(box->count(), depth);  // "Last (block depth)", then blocks depth-1 … 1
    QCOMPARE(w.controls()->layer(), 0);
    QCOMPARE(w.currentFeatures()->layer, depth);
    const QPoint query(4, 5);
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::NoModifier, w.canvas()->patchRect(query).center().toPoint());
    QTRY_VERIFY(!w.similarity().empty());
    const std::vector<float> lastBlock = w.similarity();
    auto statusText = [&] {
      QStringList texts;
      for (const QLabel* label : w.statusBar()->findChildren<QLabel*>()) texts << label->text();
      return texts.join(QLatin1Char('\n'));
    };
    QVERIFY(!statusText().contains(QStringLiteral("block")));

    // The keyboard picks block 1 (the list's last entry): the image is re-read there, query kept.
    box->setFocus();
    QTest::keyClick(box, Qt::Key_End);
    QCOMPARE(w.controls()->layer(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures()->layer == 1 && !w.similarity().empty(), 60000);
    const neco::PatchFeatures want =
        extractor_->atLayer(1)->extract(neco::readImage(w.currentPath().toStdString()), w.controls()->inputSize());
    QVERIFY(w.currentFeatures()->tokens == want.tokens);
    QCOMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(query));
    const std::vector<float> expected = neco::cosineSimilarityMap(want, query.y() * want.gridW + query.x());
    QCOMPARE(w.similarity().size(), expected.size());
    float worst = 0.f;
    for (std::size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(w.similarity()[i] - expected[i]));
    QVERIFY2(worst < 1e-5f, qPrintable(QString::number(worst)));
    QVERIFY(w.similarity() != lastBlock);
    QCOMPARE(w.currentModel().layer, 1);
    QVERIFY2(statusText().contains(QStringLiteral("block 1 of %1").arg(depth)), qPrintable(statusText()));

    // Another model keeps the chosen block.
    QSignalSpy updated(&w, &MainWindow::featuresUpdated);
    w.useDemoModel();
    QTRY_VERIFY_WITH_TIMEOUT(!updated.isEmpty(), 60000);
    QCOMPARE(w.currentFeatures()->layer, 1);
    QCOMPARE(w.controls()->layer(), 1);

    // Back to the last block: the first heatmap again.
    QTest::keyClick(box, Qt::Key_Home);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures()->layer == depth, 60000);
    QTRY_COMPARE(w.similarity(), lastBlock);
  }

  void beforeAfterShowsTheQueryUnderEveryModel() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    openDemoAndWait(w);
    const QPoint query(5, 5);
    w.selectPatch(query);
    QTRY_VERIFY(!w.similarity().empty());
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("compareDock"));
    QVERIFY(dock);
    w.showBottomDock("compareDock");
    neco::ui::CompareView* cmp = w.compareView();
    QTRY_VERIFY(cmp->isVisible());

    // The base through the button (the model on screen), then a second model.
    QTest::mouseClick(cmp->findChild<QPushButton*>(QStringLiteral("compareAddCurrent")), Qt::LeftButton);
    QCOMPARE(cmp->modelCount(), 1);
    const std::shared_ptr<const neco::FeatureExtractor> other = neco::FeatureExtractor::createDemo(1);
    cmp->addModel(QStringLiteral("demo, seed 1"), other);
    QCOMPARE(cmp->modelCount(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(cmp->readyCount() == 2 && !cmp->busy(), 60000);
    QTRY_VERIFY(!cmp->similarity(1).empty());

    // Each tile is its own model's map of the same query.
    const neco::RgbImage image = neco::readImage(w.currentPath().toStdString());
    const std::shared_ptr<const neco::FeatureExtractor> models[] = {extractor_, other};
    for (int i = 0; i < 2; ++i) {
      const neco::PatchFeatures f = models[i]->extract(image, w.controls()->inputSize());
      const std::vector<float> want = neco::cosineSimilarityMap(f, query.y() * f.gridW + query.x());
      QCOMPARE(cmp->similarity(i).size(), want.size());
      float worst = 0.f;
      for (std::size_t k = 0; k < want.size(); ++k) worst = std::max(worst, std::abs(cmp->similarity(i)[k] - want[k]));
      QVERIFY2(worst < 1e-5f, qPrintable(QStringLiteral("model %1: %2").arg(i).arg(worst)));
      QVERIFY(cmp->tile(i)->hasOverlay());
      QCOMPARE(cmp->tile(i)->selectedPatch(), std::optional<QPoint>(query));
    }
    QVERIFY(cmp->similarity(0) != cmp->similarity(1));
    QCOMPARE(cmp->wipeModel(), 1);

    // The wipe: left of the divider is the base's picture, right of it the other model's.
    neco::ui::WipeView* wipe = cmp->wipe();
    QTRY_VERIFY(wipe->width() > 100);
    cmp->setWipePosition(1.0);
    const QImage allBase = wipe->grab().toImage();
    cmp->setWipePosition(0.0);
    const QImage allOther = wipe->grab().toImage();
    QVERIFY(allBase != allOther);
    QTest::mouseClick(wipe, Qt::LeftButton, Qt::NoModifier, wipe->imageRect().center().toPoint());  // a click moves it
    QVERIFY2(std::abs(cmp->wipeSlider()->value() - 500) <= 5, qPrintable(QString::number(cmp->wipeSlider()->value())));
    const QImage half = wipe->grab().toImage();
    const QRectF r = wipe->imageRect();
    const QPoint leftProbe(int(r.left() + r.width() * 0.2), int(r.center().y()));
    const QPoint rightProbe(int(r.left() + r.width() * 0.8), int(r.center().y()));
    QCOMPARE(half.pixelColor(leftProbe), allBase.pixelColor(leftProbe));
    QCOMPARE(half.pixelColor(rightProbe), allOther.pixelColor(rightProbe));

    // Linked cursors: a patch hovered in one tile (or the main canvas) is outlined in every tile.
    const QPoint hovered(3, 7);
    QTest::mouseMove(cmp->tile(1), cmp->tile(1)->patchRect(hovered).center().toPoint());
    QTRY_COMPARE(cmp->tile(0)->extraSelections(), QList<QPoint>{hovered});
    QCOMPARE(cmp->cursorPosition(), std::optional<QPointF>(neco::ui::patchCentre(hovered, cmp->tile(1)->gridColumns(),
                                                                                  cmp->tile(1)->gridRows())));
    const QPoint fromCanvas(8, 2);
    QTest::mouseMove(w.canvas(), w.canvas()->patchRect(fromCanvas).center().toPoint());
    QTRY_COMPARE(cmp->tile(1)->extraSelections(), QList<QPoint>{fromCanvas});

    // A click in a tile pins that patch in the studio; every tile follows.
    const QPoint picked(2, 3);
    QTest::mouseClick(cmp->tile(0), Qt::LeftButton, Qt::NoModifier, cmp->tile(0)->patchRect(picked).center().toPoint());
    QTRY_COMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(picked));
    QTRY_COMPARE(cmp->tile(1)->selectedPatch(), std::optional<QPoint>(picked));

    // Two runs' checkpoints of the same file name are two models, named by their folders.
    for (const char* run : {"run1", "run2"}) {
      QVERIFY(QDir().mkpath(tmp_.filePath(QString::fromLatin1(run))));
      QVERIFY(QFile::copy(QStringLiteral(NECO_TEST_DATA_DIR "/vit/dinov2.safetensors"),
                          tmp_.filePath(QStringLiteral("%1/state.safetensors").arg(QString::fromLatin1(run)))));
      cmp->addCheckpoint(tmp_.filePath(QStringLiteral("%1/state.safetensors").arg(QString::fromLatin1(run))));
    }
    QCOMPARE(cmp->modelCount(), 4);
    QCOMPARE(cmp->modelName(2), QStringLiteral("run1/state.safetensors"));
    QCOMPARE(cmp->modelName(3), QStringLiteral("run2/state.safetensors"));
    QTRY_COMPARE_WITH_TIMEOUT(cmp->readyCount(), 4, 60000);
    QCOMPARE(cmp->similarity(2), cmp->similarity(3));  // the same weights in both files

    // A model of another patch size reads the patch at the same place of the image, not the same index.
    cmp->addCheckpoint(QStringLiteral(NECO_TEST_DATA_DIR "/vit/dino_v1_p16.safetensors"));
    QTRY_COMPARE_WITH_TIMEOUT(cmp->readyCount(), 5, 60000);
    const neco::ui::FeaturesPtr mainGrid = w.currentFeatures(), p16 = cmp->features(4);
    QVERIFY(p16->gridW < mainGrid->gridW);
    const QPoint corner(mainGrid->gridW - 1, mainGrid->gridH - 1);
    w.selectPatch(corner);
    const QPoint under(p16->gridW - 1, p16->gridH - 1);
    QTRY_COMPARE(cmp->tile(4)->selectedPatch(), std::optional<QPoint>(under));
    QCOMPARE(cmp->queryPatch(4), std::optional<QPoint>(under));
    QCOMPARE(cmp->similarity(4), neco::cosineSimilarityMap(*p16, under.y() * p16->gridW + under.x()));
    const QPoint middle(mainGrid->gridW / 2, mainGrid->gridH / 2);
    QTest::mouseMove(w.canvas(), w.canvas()->patchRect(middle).center().toPoint());
    const QPointF at = neco::ui::patchCentre(middle, mainGrid->gridW, mainGrid->gridH);
    QTRY_COMPARE(cmp->tile(4)->extraSelections(), QList<QPoint>{*neco::ui::patchUnder(at, p16->gridW, p16->gridH)});
    QCOMPARE(cmp->tile(0)->extraSelections(), QList<QPoint>{middle});
    w.selectPatch(picked);

    // A checkpoint that cannot be read says why on its own tile; the others stay.
    cmp->addCheckpoint(QStringLiteral("/nonexistent/model.safetensors"));
    QCOMPARE(cmp->modelCount(), 6);
    QTRY_VERIFY_WITH_TIMEOUT(cmp->tile(5)->parentWidget()->findChild<QLabel*>()->text().contains(QStringLiteral("✗")), 60000);
    QTRY_COMPARE_WITH_TIMEOUT(cmp->readyCount(), 5, 60000);

    // The dock reads the chosen block too; hidden, it extracts nothing until shown again.
    dock->close();
    QTRY_VERIFY(!cmp->isVisible());
    w.controls()->setLayer(1);
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures()->layer == 1, 60000);
    QCOMPARE(cmp->readyCount(), 0);
    QVERIFY(!cmp->busy());
    w.showBottomDock("compareDock");
    QTRY_VERIFY_WITH_TIMEOUT(cmp->readyCount() == 5 && !cmp->busy(), 60000);
    QCOMPARE(cmp->features(0)->layer, 1);

    // Hidden, a new query waits for the next show (every click reaches the dock).
    QTRY_VERIFY(!cmp->similarity(0).empty());
    const std::vector<float> before = cmp->similarity(0);
    dock->close();
    QTRY_VERIFY(!cmp->isVisible());
    const QPoint later(6, 1);
    w.selectPatch(later);
    QTest::qWait(100);  // the followers run a frame after the click
    QCOMPARE(cmp->similarity(0), before);
    QCOMPARE(cmp->tile(0)->selectedPatch(), std::optional<QPoint>(picked));
    w.showBottomDock("compareDock");
    QTRY_COMPARE(cmp->tile(0)->selectedPatch(), std::optional<QPoint>(later));
    QCOMPARE(cmp->similarity(0),
             neco::cosineSimilarityMap(*cmp->features(0), later.y() * cmp->features(0)->gridW + later.x()));
  }

  void shiftClickAddsQueriesAndHoverPreviews() {
    MainWindow w(extractor_);
    QVERIFY(neco::test::showActive(w, QSize(1600, 1000)));
    openDemoAndWait(w);
    const auto f = w.currentFeatures();
    auto mapOf = [&](QPoint p) { return neco::cosineSimilarityMap(*f, p.y() * f->gridW + p.x()); };
    auto centre = [&](QPoint p) { return w.canvas()->patchRect(p).center().toPoint(); };
    const QPoint a(2, 3), b(12, 9);
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::NoModifier, centre(a));
    QCOMPARE(w.similarity(), mapOf(a));
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::ShiftModifier, centre(b));
    QCOMPARE(w.extraQueries(), QList<QPoint>{b});
    QCOMPARE(w.canvas()->extraSelections(), QList<QPoint>{b});
    QCOMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(a));  // the first query stays pinned
    const auto ma = mapOf(a), mb = mapOf(b);
    for (std::size_t i = 0; i < ma.size(); ++i) QCOMPARE(w.similarity()[i], std::max(ma[i], mb[i]));
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::ShiftModifier, centre(b));  // again: removed
    QVERIFY(w.extraQueries().isEmpty());
    QCOMPARE(w.similarity(), ma);
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::ShiftModifier, centre(b));
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::NoModifier, centre(b));  // a plain click starts over
    QVERIFY(w.extraQueries().isEmpty());
    QCOMPARE(w.similarity(), mb);

    // H turns the hover preview on: the heatmap follows the cursor, the pin stays, leaving restores it.
    QVERIFY(!w.hoverPreview());
    QTest::keyClick(&w, Qt::Key_H);
    QVERIFY(w.hoverPreview());
    QTest::mouseMove(w.canvas(), centre(a));
    QTRY_COMPARE(w.similarity(), ma);
    QCOMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(b));
    QEvent leave(QEvent::Leave);  // the cursor leaves the canvas (whatever its layout)
    QCoreApplication::sendEvent(w.canvas(), &leave);
    QTRY_COMPARE(w.similarity(), mb);
    QTest::keyClick(&w, Qt::Key_H);
    QVERIFY(!w.hoverPreview());
  }

  void zoomActionsZoomTheCanvas() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    openDemoAndWait(w);
    auto* in = w.findChild<QAction*>(QStringLiteral("zoomInAction"));
    auto* fit = w.findChild<QAction*>(QStringLiteral("fitImageAction"));
    QVERIFY(in && fit);
    in->trigger();
    QVERIFY(w.canvas()->zoom() > 1.5);
    // Clicks still pin the patch under the cursor through the zoom.
    const QPoint at = w.canvas()->rect().center() + QPoint(7, 5);  // clear of the grid line at the centre
    const QPoint p = *w.canvas()->patchAt(at);
    QTest::mouseClick(w.canvas(), Qt::LeftButton, Qt::NoModifier, at);
    QTRY_COMPARE(w.canvas()->selectedPatch(), std::optional<QPoint>(p));
    fit->trigger();
    QCOMPARE(w.canvas()->zoom(), 1.0);
  }

  void sessionIsAutosavedAndRestoredAfterACrash() {
    QSettings().clear();
    QString image;
    {
      auto w = std::make_unique<MainWindow>(extractor_);
      w->setSessionPersistence(true);
      w->setInteractive(false);
      w->resize(1400, 900);
      w->show();
      openDemoAndWait(*w);
      QVERIFY(w->nextImage());
      QTRY_VERIFY_WITH_TIMEOUT(w->currentPath().endsWith(QStringLiteral("49.jpg")) && w->currentFeatures(), 60000);
      image = w->currentPath();
      w->controls()->setColormap(neco::ColormapKind::Turbo);
      w->controls()->setOpacity(0.35);
      w->selectPatch(QPoint(4, 5));
      w->addQueryPatch(QPoint(9, 9));
      // autosaved a moment later…
      QTRY_COMPARE_WITH_TIMEOUT(QSettings().value(QStringLiteral("session/extraQueries")).toList().size(), 1, 10000);
      QVERIFY(MainWindow::previousSessionCrashed());
      // …and the window goes away without closing: a crash, as far as the session is concerned.
    }
    MainWindow w(extractor_);
    w.setSessionPersistence(true);
    w.setInteractive(false);
    w.resize(1400, 900);
    w.show();
    w.restoreViewSettings();
    QCOMPARE(w.controls()->colormap(), neco::ColormapKind::Turbo);
    QVERIFY(std::abs(w.controls()->opacity() - 0.35) < 0.01);
    QVERIFY(w.restoreSession());
    // Marked as restoring until the restored view autosaves: a restore that crashes is not retried.
    QVERIFY(QSettings().value(QStringLiteral("session/restoring")).toBool());
    QTRY_COMPARE_WITH_TIMEOUT(w.currentPath(), image, 60000);
    QTRY_COMPARE_WITH_TIMEOUT(w.canvas()->selectedPatch(), std::optional<QPoint>(QPoint(4, 5)), 60000);
    QCOMPARE(w.extraQueries(), QList<QPoint>{QPoint(9, 9)});
    QCOMPARE(w.datasetBrowser()->currentPath(), image);  // the demo listing is back, at this image
    QVERIFY(w.datasetBrowser()->count() > 1);
    QTRY_VERIFY(!w.similarity().empty());
    QTRY_VERIFY_WITH_TIMEOUT(!QSettings().value(QStringLiteral("session/restoring")).toBool(), 10000);
    QVERIFY(MainWindow::previousSessionCrashed());  // still open: this window has not closed yet
    {
      QSettings settings;  // as if the restore itself had crashed the studio
      settings.setValue(QStringLiteral("session/restoring"), true);
    }
    QVERIFY(!MainWindow::previousSessionCrashed());  // …so it is not tried again
    w.saveSession();
    // A clean close: no crash next time.
    w.close();
    QVERIFY(!MainWindow::previousSessionCrashed());
    MainWindow layout(extractor_);
    QVERIFY(layout.restoreLayout());
  }

  void crossImageMapsFollowTheQueryAndJump() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    openDemoAndWait(w);
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("crossImageDock"));
    QVERIFY(dock);
    neco::ui::CrossImageView* cross = w.crossImageView();
    QCOMPARE(cross->targetCount(), 0);  // hidden: nothing extracted
    dock->show();
    dock->raise();
    QTRY_COMPARE(cross->targetCount(), int(neco::ui::CrossImageView::kMaxTargets));
    QCOMPARE(cross->targetPath(0), w.datasetBrowser()->images()[1]);  // the next image of the list
    w.selectPatch(QPoint(6, 8));
    QTRY_VERIFY_WITH_TIMEOUT(cross->ready(), 60000);
    const auto match = cross->bestMatch(0);
    QVERIFY(match.has_value());
    // Clicking the best match in a tile opens that image with the patch pinned.
    neco::ui::PatchCanvas* tile = cross->tileCanvas(0);
    const QString target = cross->targetPath(0);
    QTest::mouseClick(tile, Qt::LeftButton, Qt::NoModifier, tile->patchRect(match->patch).center().toPoint());
    QTRY_COMPARE_WITH_TIMEOUT(w.currentPath(), target, 60000);
    QTRY_COMPARE_WITH_TIMEOUT(w.canvas()->selectedPatch(), std::optional<QPoint>(match->patch), 60000);
    // The mutual toggle reaches the view.
    auto* mutual = w.findChild<QCheckBox*>(QStringLiteral("mutualOnlyCheckBox"));
    QVERIFY(mutual);
    mutual->click();
    QVERIFY(cross->mutualOnly());
  }

  void featureMapsFollowTheCurrentImage() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    neco::ui::FeatureMapView* maps = w.featureMapView();
    QSignalSpy updated(maps, &neco::ui::FeatureMapView::mapUpdated);
    openDemoAndWait(w);
    QTRY_VERIFY_WITH_TIMEOUT(!maps->overlay().isNull(), 60000);
    const auto f = w.currentFeatures();
    QCOMPARE(maps->overlay().width(), f->gridW);
    QCOMPARE(maps->overlay().height(), f->gridH);
    QCOMPARE(maps->canvas()->image().size(), w.canvas()->image().size());
    const QImage first = maps->overlay();
    QVERIFY(w.nextImage());
    QTRY_VERIFY_WITH_TIMEOUT(w.currentFeatures() != f && w.currentFeatures() != nullptr, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(!maps->overlay().isNull() && maps->overlay() != first, 60000);
  }
};

QTEST_MAIN(StudioViewsTest)
#include "StudioViewsTest.moc"
