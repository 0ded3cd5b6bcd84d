// The feature map view on synthetic features whose two halves point in different directions,
// driven through its own controls (keys and clicks) and checked on the canvas's real pixels: PCA-RGB
// gives the halves two colours equal to core's projection; other components change them; the
// background threshold lets the raw image through one half; a locked basis survives new features;
// k-means at K = 2 paints the halves two palette colours; opacity 0 shows the image alone; of two
// quick requests only the newest result is shown.
#include "neco/core/FeatureMaps.h"
#include "neco/ui/FeatureMapView.h"
#include "neco/ui/PatchCanvas.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QTest>

#include <cmath>
#include <random>
#include <set>

using neco::ui::FeatureMapMode;
using neco::ui::FeatureMapView;
using neco::ui::FeaturesPtr;

namespace {

constexpr int kGridW = 8, kGridH = 6, kDim = 16;
constexpr int kWaitMs = 20000;
const QColor kImageColour(40, 90, 200);

enum class Split { LeftRight, TopBottom };

/// Unit tokens near direction `a` on one side of the grid and `b` on the other, small noise.
FeaturesPtr halves(int a, int b, std::uint32_t seed, Split split = Split::LeftRight, int dim = kDim) {
  auto f = std::make_shared<neco::PatchFeatures>();
  f->gridW = kGridW;
  f->gridH = kGridH;
  f->dim = dim;
  f->tokens.resize(static_cast<std::size_t>(kGridW) * kGridH * dim);
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  for (int y = 0; y < kGridH; ++y) {
    for (int x = 0; x < kGridW; ++x) {
      const bool first = split == Split::LeftRight ? x < kGridW / 2 : y < kGridH / 2;
      float* row = f->tokens.data() + (static_cast<std::size_t>(y) * kGridW + x) * dim;
      double norm = 0;
      for (int d = 0; d < dim; ++d) {
        row[d] = noise(rng) + (d == (first ? a : b) ? 1.0f : 0.0f);
        norm += double(row[d]) * row[d];
      }
      for (int d = 0; d < dim; ++d) row[d] = static_cast<float>(row[d] / std::sqrt(norm));
    }
  }
  return f;
}

QImage solidImage() {
  QImage img(kGridW * 20, kGridH * 20, QImage::Format_RGB888);
  img.fill(kImageColour);
  return img;
}

bool close(QColor a, QColor b, int tol = 2) {
  return std::abs(a.red() - b.red()) <= tol && std::abs(a.green() - b.green()) <= tol && std::abs(a.blue() - b.blue()) <= tol;
}

/// Waits until the worker is idle and its last result has been delivered.
void settle(FeatureMapView& view) {
  QTRY_VERIFY_WITH_TIMEOUT(!view.busy(), kWaitMs);
  QCoreApplication::processEvents();  // the result signal was posted before the worker went idle
}

/// The canvas pixel at the centre of patch (x, y).
QColor canvasAt(FeatureMapView& view, int x, int y) {
  const QImage px = view.canvas()->grab().toImage().convertToFormat(QImage::Format_RGB888);
  return px.pixelColor(view.canvas()->patchRect(QPoint(x, y)).center().toPoint());
}

void clickCheckBox(QCheckBox* box) {
  QTest::mouseClick(box, Qt::LeftButton, {}, QPoint(6, box->height() / 2));  // on the indicator
}

}  // namespace

class FeatureMapViewTest : public QObject {
  Q_OBJECT

 private:
  // A shown view with the image and features set, opacity 1 (End on the slider), map fitted.
  static void prepare(FeatureMapView& view, FeaturesPtr features) {
    view.resize(1000, 560);
    view.canvas()->setGridVisible(false);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setImage(solidImage());
    view.setFeatures(std::move(features));
    QTest::keyClick(view.opacitySlider(), Qt::Key_End);
    QCOMPARE(view.opacity(), 1.0);
    settle(view);
    QVERIFY(!view.overlay().isNull());
  }

  // Every patch centre of the canvas shows the overlay's colour (opacity 1), or the image where
  // the overlay is transparent.
  static void checkCanvasShowsOverlay(FeatureMapView& view) {
    const QImage px = view.canvas()->grab().toImage().convertToFormat(QImage::Format_RGB888);
    for (int y = 0; y < kGridH; ++y) {
      for (int x = 0; x < kGridW; ++x) {
        const QColor want = qAlpha(view.overlay().pixel(x, y)) == 0 ? kImageColour : view.overlay().pixelColor(x, y);
        const QColor got = px.pixelColor(view.canvas()->patchRect(QPoint(x, y)).center().toPoint());
        QVERIFY2(close(got, want), qPrintable(QStringLiteral("patch %1,%2: %3 vs %4").arg(x).arg(y).arg(got.name(), want.name())));
      }
    }
  }

 private Q_SLOTS:
  void pcaPaintsTheHalvesTwoColoursOfCoresProjection() {
    FeatureMapView view;
    const FeaturesPtr f = halves(0, 1, 1);
    prepare(view, f);
    QCOMPARE(view.mode(), FeatureMapMode::PcaRgb);
    QCOMPARE(view.components(), (std::array<int, 3>{0, 1, 2}));
    QCOMPARE(view.componentBox(0)->value(), 1);  // shown 1-based
    QCOMPARE(view.overlay().size(), QSize(kGridW, kGridH));
    // the overlay is exactly core's map with the view's basis
    const neco::PatchRgbMap map = neco::projectPcaRgb(*f, *view.basis(), {0, 1, 2});
    for (int p = 0; p < kGridW * kGridH; ++p) {
      QCOMPARE(view.overlay().pixelColor(p % kGridW, p / kGridW), QColor(map.rgb[3 * p], map.rgb[3 * p + 1], map.rgb[3 * p + 2]));
    }
    checkCanvasShowsOverlay(view);
    const QColor left = canvasAt(view, 1, 2), right = canvasAt(view, 6, 2);
    QVERIFY2(std::abs(left.red() - right.red()) > 150, qPrintable(left.name() + " " + right.name()));
  }

  void componentBoxesChangeTheColours() {
    FeatureMapView view;
    const FeaturesPtr f = halves(0, 1, 2);
    prepare(view, f);
    const QImage before = view.overlay();
    QSignalSpy updated(&view, &FeatureMapView::mapUpdated);
    QTest::keyClick(view.componentBox(0), Qt::Key_Up);  // R: component 1 -> 2
    QCOMPARE(view.components(), (std::array<int, 3>{1, 1, 2}));
    QVERIFY(updated.count() >= 1);
    QVERIFY(view.overlay() != before);
    // typed: B = 5
    QSpinBox* blue = view.componentBox(2);
    QTest::keyClick(blue, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(blue, QStringLiteral("5"));
    QTest::keyClick(blue, Qt::Key_Enter);
    QCOMPARE(view.components(), (std::array<int, 3>{1, 1, 4}));
    const neco::PatchRgbMap map = neco::projectPcaRgb(*f, *view.basis(), {1, 1, 4});
    QCOMPARE(view.overlay().pixelColor(3, 3), QColor(map.rgb[3 * 27], map.rgb[3 * 27 + 1], map.rgb[3 * 27 + 2]));
    checkCanvasShowsOverlay(view);
    // the box cannot go past the fitted components
    for (int i = 0; i < 10; ++i) QTest::keyClick(blue, Qt::Key_Up);
    QCOMPARE(blue->value(), FeatureMapView::kBasisComponents);
    // back to 1, 2, 3: the first picture again
    view.setComponents({0, 1, 2});
    QCOMPARE(view.overlay(), before);
  }

  void backgroundThresholdLetsTheImageThroughOneHalf() {
    FeatureMapView view;
    prepare(view, halves(0, 1, 3));
    QVERIFY(!view.backgroundSlider()->isEnabled());
    clickCheckBox(view.backgroundCheckBox());
    QVERIFY(view.backgroundCheckBox()->isChecked());
    QVERIFY(view.backgroundSlider()->isEnabled());
    QCOMPARE(view.backgroundThreshold(), std::optional<float>(0.5f));
    // exactly one half is background (transparent): the first component separates the halves
    int leftHidden = 0, rightHidden = 0;
    for (int y = 0; y < kGridH; ++y) {
      for (int x = 0; x < kGridW; ++x) (x < kGridW / 2 ? leftHidden : rightHidden) += qAlpha(view.overlay().pixel(x, y)) == 0;
    }
    const int half = kGridW * kGridH / 2;
    QVERIFY2((leftHidden == half && rightHidden == 0) || (leftHidden == 0 && rightHidden == half),
             qPrintable(QStringLiteral("%1 %2").arg(leftHidden).arg(rightHidden)));
    const int hiddenX = leftHidden > 0 ? 1 : 6, shownX = leftHidden > 0 ? 6 : 1;
    QVERIFY(close(canvasAt(view, hiddenX, 3), kImageColour));
    QVERIFY(!close(canvasAt(view, shownX, 3), kImageColour, 20));
    checkCanvasShowsOverlay(view);
    // threshold 0: nothing is background
    QTest::keyClick(view.backgroundSlider(), Qt::Key_Home);
    QCOMPARE(view.backgroundThreshold(), std::optional<float>(0.0f));
    QVERIFY(!close(canvasAt(view, hiddenX, 3), kImageColour, 20));
    // unchecked: off again
    clickCheckBox(view.backgroundCheckBox());
    QVERIFY(!view.backgroundThreshold().has_value());
  }

  void lockedBasisKeepsTheColoursForNewFeatures() {
    FeatureMapView view;
    const FeaturesPtr first = halves(0, 1, 4);
    prepare(view, first);
    const auto basis = view.basis();
    const QColor leftBefore = view.overlay().pixelColor(1, 1);
    clickCheckBox(view.lockCheckBox());
    QVERIFY(view.basisLocked());
    // new features: the same left half, a new direction on the right
    auto second = std::make_shared<neco::PatchFeatures>(*halves(0, 5, 5));
    for (int y = 0; y < kGridH; ++y) {
      for (int x = 0; x < kGridW / 2; ++x) {
        const std::size_t p = static_cast<std::size_t>(y) * kGridW + x;
        std::copy(first->row(int(p)), first->row(int(p)) + kDim, second->tokens.begin() + std::ptrdiff_t(p * kDim));
      }
    }
    view.setFeatures(second);
    settle(view);
    QCOMPARE(view.basis(), basis);  // not refitted
    QCOMPARE(view.overlay().pixelColor(1, 1), leftBefore);
    checkCanvasShowsOverlay(view);
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("locked")));
    // a model of another dimension cannot be shown in a locked basis: said, no map
    view.setFeatures(halves(0, 1, 6, Split::LeftRight, 12));
    settle(view);
    QVERIFY(view.overlay().isNull());
    QVERIFY2(view.statusLabel()->text().contains(QStringLiteral("12-d")), qPrintable(view.statusLabel()->text()));
    // unlocked: refitted on the current features
    view.setFeatures(second);
    clickCheckBox(view.lockCheckBox());
    QVERIFY(!view.basisLocked());
    settle(view);
    QVERIFY(view.basis() != basis);
    QVERIFY(!view.overlay().isNull());
  }

  void sharedBasisImagesAreFittedTogether() {
    FeatureMapView view;
    const FeaturesPtr a = halves(0, 1, 7), b = halves(2, 3, 8);
    prepare(view, a);
    view.setBasisImages({a, b});
    settle(view);
    const neco::PcaRgbBasis want = neco::fitPcaRgbBasis({a.get(), b.get()}, {});
    const auto sameBasis = [&want](const neco::PcaRgbBasis& got) {
      if (got.components.size() != want.components.size()) return false;
      for (std::size_t i = 0; i < want.components.size(); ++i) {
        if (std::abs(got.components[i] - want.components[i]) > 1e-5f) return false;
      }
      return true;
    };
    QVERIFY(sameBasis(*view.basis()));
    const auto shared = view.basis();
    const QImage overA = view.overlay();
    view.setFeatures(b);  // basis images stay the source: no refit, b painted in the shared basis
    settle(view);
    QCOMPARE(view.basis(), shared);
    QVERIFY(view.overlay() != overA);
  }

  void kmeansWithTwoClustersPaintsTheHalves() {
    FeatureMapView view;
    prepare(view, halves(3, 9, 9));
    QTest::keyClick(view.modeBox(), Qt::Key_Down);
    QCOMPARE(view.mode(), FeatureMapMode::KMeans);
    QCOMPARE(view.clusterCount(), FeatureMapView::kDefaultClusters);
    QTest::keyClick(view.clusterSlider(), Qt::Key_Home);
    QCOMPARE(view.clusterCount(), 2);
    settle(view);
    QVERIFY(!view.overlay().isNull());
    std::set<QRgb> left, right;
    for (int y = 0; y < kGridH; ++y) {
      for (int x = 0; x < kGridW; ++x) (x < kGridW / 2 ? left : right).insert(view.overlay().pixel(x, y));
    }
    QCOMPARE(left.size(), std::size_t(1));
    QCOMPARE(right.size(), std::size_t(1));
    QVERIFY(*left.begin() != *right.begin());
    checkCanvasShowsOverlay(view);
    QVERIFY(!close(canvasAt(view, 1, 1), canvasAt(view, 6, 1), 30));
    QVERIFY(view.statusLabel()->text().contains(QStringLiteral("2 clusters")));
  }

  void newestClusteringWins() {
    FeatureMapView view;
    prepare(view, halves(0, 1, 10));
    view.setClusterCount(2);
    view.setMode(FeatureMapMode::KMeans);
    // three requests in a row: only the top/bottom split's labels may be shown
    view.setFeatures(halves(0, 1, 11));
    view.setClusterCount(3);
    view.setClusterCount(2);
    view.setFeatures(halves(4, 7, 12, Split::TopBottom));
    settle(view);
    QVERIFY(!view.overlay().isNull());
    for (int x = 0; x < kGridW; ++x) {
      QCOMPARE(view.overlay().pixel(x, 0), view.overlay().pixel(0, 0));
      QCOMPARE(view.overlay().pixel(x, kGridH - 1), view.overlay().pixel(0, kGridH - 1));
    }
    QVERIFY(view.overlay().pixel(0, 0) != view.overlay().pixel(0, kGridH - 1));
  }

  void opacityZeroShowsTheRawImage() {
    FeatureMapView view;
    prepare(view, halves(0, 1, 13));
    QVERIFY(!close(canvasAt(view, 1, 1), kImageColour, 20) || !close(canvasAt(view, 6, 1), kImageColour, 20));
    QTest::keyClick(view.opacitySlider(), Qt::Key_Home);
    QCOMPARE(view.opacity(), 0.0);
    for (int y = 0; y < kGridH; ++y) {
      for (int x = 0; x < kGridW; ++x) QVERIFY(close(canvasAt(view, x, y), kImageColour));
    }
  }

  void newImageClearsTheMapUntilItsFeaturesArrive() {
    FeatureMapView view;
    prepare(view, halves(0, 1, 14));
    QSignalSpy updated(&view, &FeatureMapView::mapUpdated);
    view.setImage(solidImage());
    QVERIFY(view.overlay().isNull());
    QVERIFY(!view.canvas()->hasOverlay());
    QVERIFY(updated.count() >= 1);
    view.setFeatures(halves(0, 1, 15));
    settle(view);
    QVERIFY(view.canvas()->hasOverlay());
  }
};

QTEST_MAIN(FeatureMapViewTest)
#include "FeatureMapViewTest.moc"
