// Headless test of the segmentation quality panel on the demo model and the demo scenes, through the
// studio window: overclustering runs off the GUI thread and lists every image worst first; the
// overlay's pixels are the palette colours blended at the chosen opacity, ignore is hatched, a
// recoloured class changes its pixels; the K slider re-clusters and the per-class table follows with
// the change against the base; a confusion cell lists exactly the images with pixels in it (counted
// here from predictions and targets); retrieval and the linear probe run too; a dataset that cannot
// be opened is reported in the panel. With NECO_SCREENSHOT_DIR set it writes
// studio-segmentation-quality.png there.
#include "neco/core/DemoDataset.h"
#include "neco/core/Evaluation.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/ImageIo.h"
#include "neco/core/Log.h"
#include "neco/ui/ConfusionMatrixWidget.h"
#include "neco/ui/ImageConversion.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/SegmentationOutcome.h"
#include "neco/ui/SegmentationOverlay.h"
#include "neco/ui/SegmentationPalette.h"
#include "neco/ui/SegmentationQualityView.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QTest>
#include <QTreeWidget>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <tuple>

using neco::ui::MainWindow;
using neco::ui::OverlayMode;
using neco::ui::SegmentationProtocol;
using neco::ui::SegmentationQualityView;

namespace {

constexpr int kWaitMs = 120000;

QColor blend(QColor under, QColor over, double a) {
  const auto mix = [a](int u, int o) { return static_cast<int>(std::lround(u * (1 - a) + o * a)); };
  return QColor(mix(under.red(), over.red()), mix(under.green(), over.green()), mix(under.blue(), over.blue()));
}

// The label under image pixel (x, y): nearest, as the overlay scales its map.
int labelAt(const neco::LabelImage& map, int x, int y, int width, int height) {
  return map.at(static_cast<int>(static_cast<long long>(x) * map.width / width),
                static_cast<int>(static_cast<long long>(y) * map.height / height));
}

// The first image pixel for which `accept(x, y, label)` holds.
template <typename Accept>
std::optional<QPoint> findPixel(const neco::LabelImage& map, int width, int height, Accept accept) {
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      if (accept(x, y, labelAt(map, x, y, width, height))) return QPoint(x, y);
  return std::nullopt;
}

// Pixels of (gt, prediction) per image, counted here from the maps (not by the panel).
std::map<int, std::int64_t> countCell(const neco::ui::SegmentationOutcome& o, int gt, int prediction) {
  std::map<int, std::int64_t> out;
  for (std::size_t i = 0; i < o.predictions.size(); ++i) {
    std::int64_t n = 0;
    for (std::size_t j = 0; j < o.targets[i].labels.size(); ++j)
      n += o.targets[i].labels[j] == gt && o.predictions[i].labels[j] == prediction ? 1 : 0;
    if (n > 0) out[static_cast<int>(i)] = n;
  }
  return out;
}

// The table row of class c (the table sorts), and the number behind a cell.
int rowOf(QTableWidget* table, int c) {
  for (int r = 0; r < table->rowCount(); ++r)
    if (table->item(r, 0)->data(Qt::UserRole).toInt() == c) return r;
  return -1;
}
double cellValue(QTableWidget* table, int c, int column) {
  return table->item(rowOf(table, c), column)->data(Qt::UserRole).toDouble();
}

}  // namespace

class SegmentationQualityTest : public QObject {
  Q_OBJECT

 private:
  std::shared_ptr<const neco::FeatureExtractor> extractor_;
  std::unique_ptr<neco::EvaluationData> val_;

  QImage demoImage(int index) const { return neco::ui::toQImage(val_->image(static_cast<std::size_t>(index))); }

  static void evaluateAndWait(SegmentationQualityView& view, SegmentationProtocol protocol) {
    view.setProtocol(protocol);
    QSignalSpy shown(&view, &SegmentationQualityView::outcomeChanged);
    QTest::mouseClick(view.evaluateButton(), Qt::LeftButton);
    QVERIFY(view.evaluating());  // the click returned with the evaluation still running
    QTRY_VERIFY_WITH_TIMEOUT(!view.evaluating(), kWaitMs);
    QVERIFY2(view.errorText().isEmpty(), qPrintable(view.errorText()));
    QVERIFY(view.outcome() && view.outcome()->protocol == protocol);
    QVERIFY(shown.count() >= 1);
  }

  // The list shows every image, worst first, one entry each (and a new view opens the worst).
  static void verifyWorstFirst(SegmentationQualityView& view, bool worstShown = true) {
    const auto& o = *view.outcome();
    QCOMPARE(view.imageListCount(), static_cast<int>(o.predictions.size()));
    std::set<int> seen;
    for (int row = 0; row < view.imageListCount(); ++row) {
      const int image = view.imageListEntry(row);
      seen.insert(image);
      if (row > 0)
        QVERIFY(o.imageMiou[static_cast<std::size_t>(view.imageListEntry(row - 1))] <=
                o.imageMiou[static_cast<std::size_t>(image)]);
    }
    QCOMPARE(static_cast<int>(seen.size()), view.imageListCount());
    if (worstShown) QCOMPARE(view.currentImage(), view.imageListEntry(0));
  }

  // Clicking an off-diagonal cell lists exactly the images with pixels in it, most pixels first,
  // and their pixels add up to the confusion matrix's count.
  static void verifyConfusionCell(SegmentationQualityView& view) {
    const auto& o = *view.outcome();
    neco::ui::ConfusionMatrixWidget& matrix = *view.confusionMatrix();
    QCOMPARE(matrix.classes(), o.classes);
    int gt = -1, prediction = -1;
    std::int64_t best = 0;
    for (int g = 0; g < o.classes; ++g)
      for (int p = 0; p < o.classes; ++p)
        if (g != p && matrix.count(g, p) > best) std::tie(gt, prediction, best) = std::tuple(g, p, matrix.count(g, p));
    QVERIFY(best > 0);
    const std::map<int, std::int64_t> expected = countCell(o, gt, prediction);
    std::int64_t total = 0;
    for (const auto& [image, n] : expected) total += n;
    QCOMPARE(total, matrix.count(gt, prediction));
    const QRectF cell = matrix.cellRect(gt, prediction);
    QVERIFY(!cell.isEmpty());
    QTest::mouseClick(&matrix, Qt::LeftButton, {}, cell.center().toPoint());
    QVERIFY(matrix.selectedCell() && matrix.selectedCell()->gt == gt &&
            matrix.selectedCell()->prediction == prediction);
    QCOMPARE(view.imageListCount(), static_cast<int>(expected.size()));
    std::int64_t previous = std::numeric_limits<std::int64_t>::max();
    for (int row = 0; row < view.imageListCount(); ++row) {
      const int image = view.imageListEntry(row);
      QVERIFY(expected.count(image) == 1);
      const std::int64_t pixels = view.imageList()->topLevelItem(row)->text(2).toLongLong();
      QCOMPARE(pixels, expected.at(image));
      QVERIFY(pixels <= previous);
      previous = pixels;
    }
    QCOMPARE(view.confusionCellImages(gt, prediction).size(), expected.size());
    QCOMPARE(view.currentImage(), view.imageListEntry(0));  // the image with most pixels is opened
    // the hover text names both classes and the count
    const QString tip = matrix.cellToolTip({gt, prediction});
    QVERIFY2(tip.contains(view.classPalette().names[gt]) && tip.contains(QString::number(best)), qPrintable(tip));
    view.clearCellFilter();
    QCOMPARE(view.imageListCount(), static_cast<int>(o.predictions.size()));
    QCOMPARE(view.imageList()->columnCount(), 2);  // the pixel counts belong to the cell's list
  }

  // docs/images/studio-segmentation-quality.png: the dock floated and large, K = 21 against the
  // K = 7 base, the prediction overlay, the images behind the largest confusion off the diagonal.
  static void screenshot(SegmentationQualityView& view, QDockWidget& dock) {
    view.setOverlayMode(OverlayMode::Prediction);
    view.setOpacity(0.55);
    dock.setFloating(true);
    dock.resize(1500, 820);
    QTest::qWait(300);
    const neco::ui::ConfusionMatrixWidget& m = *view.confusionMatrix();
    int gt = 0, prediction = 1;
    for (int g = 0; g < m.classes(); ++g)
      for (int p = 0; p < m.classes(); ++p)
        if (g != p && m.count(g, p) > m.count(gt, prediction)) std::tie(gt, prediction) = std::pair(g, p);
    view.selectConfusionCell(gt, prediction);
    QTest::qWait(300);
    const QDir dir(qEnvironmentVariable("NECO_SCREENSHOT_DIR"));
    QVERIFY(dock.grab().save(dir.filePath(QStringLiteral("studio-segmentation-quality.png"))));
    view.clearCellFilter();
    dock.setFloating(false);
    QTest::qWait(300);
  }

 private Q_SLOTS:
  void initTestCase() {
    neco::LogOptions log;
    log.file = false;
    neco::configureLogging(log);
    extractor_ = neco::FeatureExtractor::createDemo(0);
    val_ = neco::demoEvaluationData({}, "val");
  }

  void palettesFollowTheDatasets() {
    const auto voc = neco::vocPalette();
    const neco::ui::ClassPalette demo = neco::ui::classPalette(QStringLiteral("demo"), 7, neco::demoClassNames());
    QCOMPARE(demo.colours.size(), std::size_t{256});
    QCOMPARE(demo.colours[1], QColor(voc[1].r, voc[1].g, voc[1].b));
    QCOMPARE(demo.names[0], QStringLiteral("background"));
    const neco::ui::ClassPalette ade = neco::ui::classPalette(QStringLiteral("ade20k"), 151);
    QCOMPARE(neco::ui::ade20kColours().size(), std::size_t{150});
    QCOMPARE(ade.colours[1], QColor(120, 120, 120));  // wall
    QCOMPARE(ade.colours[150], QColor(92, 0, 255));   // flag
    QCOMPARE(ade.names[1], QStringLiteral("wall"));
    QCOMPARE(ade.names[150], QStringLiteral("flag"));
    const neco::ui::ClassPalette city = neco::ui::classPalette(QStringLiteral("cityscapes"), 19);
    QCOMPARE(city.colours[0], QColor(128, 64, 128));  // road
    QCOMPARE(city.colours[18], QColor(119, 11, 32));  // bicycle
    QCOMPARE(city.names[11], QStringLiteral("person"));
  }

  void overclusteringOverlaysTableAndConfusion() {
    MainWindow w(extractor_);
    w.setInteractive(false);
    w.resize(1600, 1000);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto* action = w.findChild<QAction*>(QStringLiteral("segmentationQualityAction"));
    QVERIFY(action);
    action->trigger();
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("segmentationQualityDock"));
    SegmentationQualityView& view = *w.segmentationQualityView();
    QVERIFY(dock && dock->isAncestorOf(&view));
    QTRY_VERIFY(dock->isVisible() && !dock->visibleRegion().isEmpty());
    QVERIFY(!view.outcome());
    QVERIFY(view.statusText().contains(QStringLiteral("Press Evaluate")));

    evaluateAndWait(view, SegmentationProtocol::Overcluster);
    const neco::ui::OutcomePtr first = view.outcome();
    QCOMPARE(first->k, 7);
    QCOMPARE(first->matching, std::string("hungarian"));
    QCOMPARE(first->predictions.size(), val_->size());
    QCOMPARE(first->predictions[0].width, 100);
    QVERIFY(first->miou > 0 && first->miou < 1);
    QVERIFY2(view.statusText().contains(QStringLiteral("mIoU")) && view.statusText().contains(QStringLiteral("K = 7")),
             qPrintable(view.statusText()));
    verifyWorstFirst(view);
    QCOMPARE(view.baseOutcome(), first);  // the first result is the base

    // Ground truth at opacity 0.5: a class pixel is the VOC colour blended over the image.
    view.setOverlayMode(OverlayMode::GroundTruth);
    view.setOpacity(0.5);
    const int shown = view.currentImage();
    const QImage image = demoImage(shown);
    const neco::LabelImage& target = first->targets[static_cast<std::size_t>(shown)];
    QCOMPARE(view.overlayImage().size(), image.size());
    const auto voc = neco::vocPalette();
    const auto classPixel =
        findPixel(target, image.width(), image.height(), [](int, int, int label) { return label >= 1 && label < 7; });
    QVERIFY(classPixel);
    const int c = labelAt(target, classPixel->x(), classPixel->y(), image.width(), image.height());
    const QColor under = image.pixelColor(*classPixel);
    const QColor vocColour(voc[static_cast<std::size_t>(c)].r, voc[static_cast<std::size_t>(c)].g,
                           voc[static_cast<std::size_t>(c)].b);
    QCOMPARE(view.overlayImage().pixelColor(*classPixel), blend(under, vocColour, 0.5));

    // Ignore (255) is hatched: white on the stripes, the bare image between them.
    const auto onStripe = findPixel(target, image.width(), image.height(), [](int x, int y, int label) {
      return label == 255 && neco::ui::isIgnoreStripe(x, y);
    });
    const auto offStripe = findPixel(target, image.width(), image.height(), [](int x, int y, int label) {
      return label == 255 && !neco::ui::isIgnoreStripe(x, y);
    });
    QVERIFY(onStripe && offStripe);
    QCOMPARE(view.overlayImage().pixelColor(*onStripe), blend(image.pixelColor(*onStripe), QColor(255, 255, 255), 0.5));
    QCOMPARE(view.overlayImage().pixelColor(*offStripe), image.pixelColor(*offStripe));

    // Recolouring the class changes exactly its pixels; at opacity 1 the canvas shows the colour itself.
    const QColor green(10, 200, 30);
    view.setClassColor(c, green);
    QCOMPARE(view.classColor(c), green);
    QCOMPARE(view.overlayImage().pixelColor(*classPixel), blend(under, green, 0.5));
    QCOMPARE(view.overlayImage().pixelColor(*offStripe), image.pixelColor(*offStripe));
    view.setOpacity(1.0);
    QCOMPARE(view.overlayImage().pixelColor(*classPixel), green);
    QTest::qWait(50);
    const QImage canvas = view.canvas()->grab().toImage().convertToFormat(QImage::Format_RGB888);
    int greenPixels = 0;
    for (int y = 0; y < canvas.height(); ++y)
      for (int x = 0; x < canvas.width(); ++x) greenPixels += canvas.pixelColor(x, y) == green ? 1 : 0;
    QVERIFY2(greenPixels > 50, qPrintable(QString::number(greenPixels)));
    view.setClassColor(c, vocColour);
    view.setOpacity(0.6);

    // Prediction and errors.
    const neco::LabelImage& prediction = first->predictions[static_cast<std::size_t>(shown)];
    view.setOverlayMode(OverlayMode::Prediction);
    const int p = labelAt(prediction, classPixel->x(), classPixel->y(), image.width(), image.height());
    QCOMPARE(view.overlayImage().pixelColor(*classPixel), blend(under, view.classColor(p), 0.6));
    view.setOverlayMode(OverlayMode::Errors);
    const auto wrong = findPixel(target, image.width(), image.height(), [&](int x, int y, int label) {
      return label < 7 && labelAt(prediction, x, y, image.width(), image.height()) != label;
    });
    const auto right = findPixel(target, image.width(), image.height(), [&](int x, int y, int label) {
      return label < 7 && labelAt(prediction, x, y, image.width(), image.height()) == label;
    });
    QVERIFY(wrong || right);
    if (wrong)
      QCOMPARE(view.overlayImage().pixelColor(*wrong), blend(image.pixelColor(*wrong), neco::ui::kErrorColour, 0.6));
    if (right) QCOMPARE(view.overlayImage().pixelColor(*right), image.pixelColor(*right));
    view.setOverlayMode(OverlayMode::Prediction);

    // Selecting an image in the list shows it.
    const int other = view.imageListEntry(3);
    view.imageList()->setCurrentItem(view.imageList()->topLevelItem(3));
    QCOMPARE(view.currentImage(), other);
    QCOMPARE(view.overlayImage().size(), demoImage(other).size());

    verifyConfusionCell(view);

    // The per-class table: the base is the result itself, so every change is zero.
    QTableWidget* table = view.classTable();
    QCOMPARE(table->rowCount(), 7);
    for (int k = 0; k < 7; ++k) {
      QCOMPARE(cellValue(table, k, 1), first->iou[static_cast<std::size_t>(k)]);
      QCOMPARE(cellValue(table, k, 3), 0.0);
    }

    // K slider: a new K re-clusters the cached tokens; the table compares with the base (K = 7).
    view.kSlider()->setValue(21);
    QTRY_VERIFY_WITH_TIMEOUT(!view.evaluating() && view.outcome()->k == 21, kWaitMs);
    const neco::ui::OutcomePtr second = view.outcome();
    QCOMPARE(second->matching, std::string("many-to-one precision"));
    QCOMPARE(view.baseOutcome(), first);
    QVERIFY(view.statusText().contains(QStringLiteral("K = 21")));
    bool changed = false;
    for (int k = 0; k < 7; ++k) {
      const std::size_t i = static_cast<std::size_t>(k);
      QCOMPARE(cellValue(table, k, 1), second->iou[i]);
      QCOMPARE(cellValue(table, k, 2), first->iou[i]);
      QVERIFY(std::abs(cellValue(table, k, 3) - (second->iou[i] - first->iou[i])) < 1e-12);
      const QColor ink = table->item(rowOf(table, k), 3)->foreground().color();
      if (second->iou[i] - first->iou[i] > 1e-3) QCOMPARE(ink, QColor(0, 140, 0));
      if (second->iou[i] - first->iou[i] < -1e-3) QCOMPARE(ink, QColor(200, 0, 0));
      changed = changed || std::abs(second->iou[i] - first->iou[i]) > 1e-6;
    }
    QVERIFY(changed);
    // sortable by IoU
    table->sortByColumn(1, Qt::DescendingOrder);
    for (int r = 1; r < table->rowCount(); ++r)
      QVERIFY(table->item(r - 1, 1)->data(Qt::UserRole).toDouble() >= table->item(r, 1)->data(Qt::UserRole).toDouble());
    table->sortByColumn(0, Qt::AscendingOrder);

    if (qEnvironmentVariableIsSet("NECO_SCREENSHOT_DIR")) screenshot(view, *dock);

    // Keep as base: K = 21 becomes the base; back to K = 7, the change is the other way round.
    QTest::mouseClick(view.keepBaseButton(), Qt::LeftButton);
    QCOMPARE(view.baseOutcome(), second);
    for (int k = 0; k < 7; ++k) QCOMPARE(cellValue(table, k, 3), 0.0);
    view.setK(7);
    QTRY_VERIFY_WITH_TIMEOUT(!view.evaluating() && view.outcome()->k == 7, kWaitMs);
    for (int k = 0; k < 7; ++k) {
      const std::size_t i = static_cast<std::size_t>(k);
      QVERIFY(std::abs(cellValue(table, k, 3) - (view.outcome()->iou[i] - second->iou[i])) < 1e-12);
    }
    QCOMPARE(view.outcome()->iou, first->iou);  // the same tokens, K and seed: the same clustering
  }

  void retrievalLinearProbeAndErrors() {
    SegmentationQualityView view;
    view.resize(1400, 700);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QVERIFY(!view.evaluateButton()->isEnabled());  // no model yet
    view.setModel(extractor_, QStringLiteral("Demo model"));
    QVERIFY(view.evaluateButton()->isEnabled());

    evaluateAndWait(view, SegmentationProtocol::Retrieval);
    const neco::ui::OutcomePtr retrieval = view.outcome();
    QCOMPARE(retrieval->predictions.size(), val_->size());
    QCOMPARE(retrieval->predictions[0].width, 112);
    QCOMPARE(retrieval->targets[0].width, 112);
    QVERIFY(retrieval->miou > 0 && retrieval->miou <= 1);
    verifyWorstFirst(view);
    verifyConfusionCell(view);
    QVERIFY(!view.kSlider()->isEnabled());  // K is overclustering's

    evaluateAndWait(view, SegmentationProtocol::LinearProbe);
    const neco::ui::OutcomePtr linear = view.outcome();
    QCOMPARE(linear->predictions.size(), val_->size());
    QCOMPARE(linear->matching, std::string("none"));
    verifyWorstFirst(view, /*worstShown=*/false);  // the same images: the one shown stays

    // Each protocol keeps its latest result: switching back shows retrieval's again.
    view.setProtocol(SegmentationProtocol::Retrieval);
    QCOMPARE(view.outcome(), retrieval);
    view.setProtocol(SegmentationProtocol::Overcluster);
    QVERIFY(!view.outcome());

    // A dataset that cannot be opened: the panel says which and why; nothing else changes.
    neco::ui::EvaluationDataChoice missing;
    missing.kind = QStringLiteral("voc");
    missing.root = QDir::temp().filePath(QStringLiteral("neco-no-such-dataset"));
    view.setDataChoice(missing);
    view.setProtocol(SegmentationProtocol::Retrieval);
    QSignalSpy failed(&view, &SegmentationQualityView::evaluationFailed);
    view.evaluate();
    QTRY_VERIFY_WITH_TIMEOUT(!view.evaluating(), kWaitMs);
    QCOMPARE(failed.count(), 1);
    QVERIFY2(view.errorText().contains(QStringLiteral("neco-no-such-dataset")), qPrintable(view.errorText()));
    QCOMPARE(view.outcome(), retrieval);
  }
};

QTEST_MAIN(SegmentationQualityTest)
#include "SegmentationQualityTest.moc"
