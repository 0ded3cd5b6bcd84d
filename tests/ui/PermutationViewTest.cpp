// The soft permutation view and the sorting network diagram in the studio window, on the demo dataset:
// the selected patch's row against the 7x7 reference sub-grid (marked on the canvas), the student and
// teacher matrices (doubly stochastic, equal to SoftSort.h's result, painted with the colour map), the
// steepness sliders re-sorting at once, the cross-entropy strip and mean equal to rankCrossEntropy, the
// network choice changing the diagram (21 -> 49 layers for n = 49), comparator colours following the
// swap weights, hover tooltips, fit and zoom, and the invalid-network warning.
#include "neco/core/Colormap.h"
#include "neco/core/FeatureExtractor.h"
#include "neco/core/Log.h"
#include "neco/core/Similarity.h"
#include "neco/core/SoftSort.h"
#include "neco/ui/CrossEntropyStrip.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationMatrixWidget.h"
#include "neco/ui/PermutationView.h"
#include "neco/ui/ReferencePatches.h"
#include "neco/ui/SimilarityControls.h"
#include "neco/ui/SortingNetworkDiagram.h"
#include "neco/ui/SortingNetworkView.h"

#include <QComboBox>
#include <QHelpEvent>
#include <QLabel>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numeric>

using neco::ui::MainWindow;
using neco::ui::PermutationMatrixWidget;
using neco::ui::PermutationView;
using neco::ui::SortingNetworkDiagram;

namespace {

constexpr int kN = 49;

int colourDistance(QColor a, QColor b) {
  return std::max({std::abs(a.red() - b.red()), std::abs(a.green() - b.green()), std::abs(a.blue() - b.blue())});
}

QColor toQColor(neco::PaletteColor c) {
  return QColor(c.r, c.g, c.b);
}

// The pixel nearest in colour to `expected` within one pixel of `at` (aliased lines may land on
// either side of a fractional coordinate).
QColor closestPixel(const QImage& image, QPoint at, QColor expected) {
  QColor best = image.pixelColor(at);
  for (int dy = -1; dy <= 1; ++dy)
    for (int dx = -1; dx <= 1; ++dx) {
      const QColor c = image.pixelColor(at + QPoint(dx, dy));
      if (colourDistance(c, expected) < colourDistance(best, expected)) best = c;
    }
  return best;
}

QImage grab(QWidget* widget) {
  return widget->grab().toImage().convertToFormat(QImage::Format_RGB888);
}

float maxEntry(const std::vector<float>& m) {
  return *std::max_element(m.begin(), m.end());
}

// Shows the tooltip of `widget` at `position` as a hover would, and returns its text.
QString hoverText(QWidget* widget, QPoint position) {
  QHelpEvent help(QEvent::ToolTip, position, widget->mapToGlobal(position));
  QCoreApplication::sendEvent(widget, &help);
  return QToolTip::isVisible() ? QToolTip::text() : QString();
}

std::shared_ptr<const neco::PatchFeatures> syntheticFeatures(int columns, int rows) {
  auto f = std::make_shared<neco::PatchFeatures>();
  f->gridW = columns;
  f->gridH = rows;
  f->dim = 3;
  for (int i = 0; i < columns * rows; ++i) {
    const float v[3] = {std::cos(0.7f * i), std::sin(0.7f * i), 0.3f * std::sin(1.3f * i)};
    const float norm = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    for (float x : v) f->tokens.push_back(x / norm);
  }
  return f;
}

}  // namespace

class PermutationViewTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir tmp_;
  std::shared_ptr<const neco::FeatureExtractor> extractor_;
  std::unique_ptr<MainWindow> window_;

  MainWindow& w() { return *window_; }
  PermutationView* view() { return window_->permutationView(); }
  SortingNetworkDiagram* diagram() { return window_->sortingNetworkView()->diagram(); }

  // The mean cross-entropy recomputed from the view's own rows with the core function.
  double expectedMean() {
    const auto ce = neco::rankCrossEntropy(*view()->teacherRow(), *view()->studentRow());
    return std::accumulate(ce.begin(), ce.end(), 0.0) / static_cast<double>(ce.size());
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(tmp_.isValid());
    neco::LogOptions log;
    log.file = false;
    neco::configureLogging(log);
    extractor_ = neco::FeatureExtractor::createDemo(0);
    window_ = std::make_unique<MainWindow>(extractor_);
    w().setInteractive(false);
    w().resize(1600, 1000);
    w().show();
    QVERIFY(QTest::qWaitForWindowExposed(&w()));
    QSignalSpy ready(w().featureService(), &neco::ui::FeatureService::featuresReady);
    w().openDemo(tmp_.filePath(QStringLiteral("demo")));
    QVERIFY(ready.wait(120000));
    QTRY_VERIFY_WITH_TIMEOUT(w().currentFeatures() != nullptr, 120000);
    QCOMPARE(w().currentFeatures()->gridW, 16);
  }
  void cleanupTestCase() { window_.reset(); }

  void referenceGridIsAnEvenlySpacedSubGrid() {
    const auto grid = neco::ui::referencePatchGrid(16, 16);
    QCOMPARE(static_cast<int>(grid.size()), kN);
    const int expected[7] = {1, 3, 5, 8, 10, 12, 14};  // bin centres floor((i + 0.5) * 16 / 7)
    for (int i = 0; i < kN; ++i) QCOMPARE(grid[i], QPoint(expected[i % 7], expected[i / 7]));
    // Axes smaller than 7 use every patch; an empty grid has no references.
    QCOMPARE(neco::ui::referencePatchGrid(4, 4).size(), std::size_t(16));
    QCOMPARE(neco::ui::referencePatchGrid(5, 9).size(), std::size_t(35));
    QCOMPARE(neco::ui::referencePatchGrid(7, 7).front(), QPoint(0, 0));
    QCOMPARE(neco::ui::referencePatchGrid(7, 7).back(), QPoint(6, 6));
    QVERIFY(neco::ui::referencePatchGrid(0, 5).empty());
  }

  void selectingAPatchSortsItsRow() {
    QVERIFY(!view()->studentRow().has_value());
    QCOMPARE(diagram()->layerCount(), 0);
    QSignalSpy sorted(view(), &PermutationView::sorted);
    const QPoint source(6, 8);
    QTest::mouseClick(w().canvas(), Qt::LeftButton, {}, w().canvas()->patchRect(source).center().toPoint());
    QVERIFY(!w().similarity().empty());  // the heatmap at once; the permutation one frame later
    QTRY_COMPARE(sorted.count(), 1);
    QCOMPARE(view()->sourcePatch(), std::optional<QPoint>(source));

    // The row: cosine similarities of the source patch to the 49 references, marked on the canvas.
    const auto& refs = view()->referencePatches();
    QCOMPARE(static_cast<int>(refs.size()), kN);
    QCOMPARE(w().canvas()->markedPatches().size(), kN);
    QCOMPARE(w().canvas()->markedPatches().front(), QPoint(1, 1));
    const auto map = neco::cosineSimilarityMap(*w().currentFeatures(), source.y() * 16 + source.x());
    for (int e = 0; e < kN; ++e)
      QVERIFY(std::abs(view()->similarities()[e] - map[refs[e].y() * 16 + refs[e].x()]) < 1e-5f);

    // The student matrix is SoftSort.h's permutation for that row, doubly stochastic.
    PermutationMatrixWidget* student = view()->studentMatrix();
    QCOMPARE(student->n(), kN);
    const neco::SoftSortRow expected = neco::softSortRow(view()->similarities(), view()->studentSettings());
    QVERIFY(student->matrix() == expected.permutation);
    for (int i = 0; i < kN; ++i) {
      double row = 0, column = 0;
      for (int j = 0; j < kN; ++j) {
        row += student->weight(i, j);
        column += student->weight(j, i);
      }
      QVERIFY2(std::abs(row - 1.0) < 1e-3 && std::abs(column - 1.0) < 1e-3,
               qPrintable(QStringLiteral("row/column %1 sums %2 %3").arg(i).arg(row).arg(column)));
    }
    QCOMPARE(view()->teacherMatrix()->n(), kN);
    QCOMPARE(view()->studentSettings().steepness, 100.0);
    QCOMPARE(view()->teacherSettings().steepness, 100.0);
    QVERIFY(!view()->warningLabel()->isVisible());
  }

  void matrixCellsArePaintedWithTheColourScale() {
    PermutationMatrixWidget* student = view()->studentMatrix();
    const auto& m = student->matrix();
    const auto maxIt = std::max_element(m.begin(), m.end());
    const auto minIt = std::min_element(m.begin(), m.end());
    const int maxCell = static_cast<int>(maxIt - m.begin()), minCell = static_cast<int>(minIt - m.begin());
    const QImage image = grab(student);
    const QPoint hot = student->cellRect(maxCell / kN, maxCell % kN).center().toPoint();
    const QPoint cold = student->cellRect(minCell / kN, minCell % kN).center().toPoint();
    const neco::Colormap viridis(neco::ColormapKind::Viridis);
    QVERIFY(colourDistance(image.pixelColor(hot), toQColor(viridis.map(*maxIt, 0.f, 1.f))) <= 2);
    QVERIFY(colourDistance(image.pixelColor(cold), toQColor(viridis.map(*minIt, 0.f, 1.f))) <= 2);
    QVERIFY(colourDistance(image.pixelColor(hot), image.pixelColor(cold)) > 100);

    // Hovering a cell names the element, its reference patch, the rank and the weight.
    const QString tip = hoverText(student, hot);
    QVERIFY2(tip.contains(QStringLiteral("e = %1").arg(maxCell / kN)) &&
                 tip.contains(QStringLiteral("r = %1").arg(maxCell % kN)) && tip.contains(QStringLiteral("patch")),
             qPrintable(tip));
    QCOMPARE(student->cellAt(hot)->rank, maxCell % kN);

    // The colour map follows the similarity controls.
    w().controls()->setColormap(neco::ColormapKind::Turbo);
    const neco::Colormap turbo(neco::ColormapKind::Turbo);
    QVERIFY(colourDistance(grab(student).pixelColor(hot), toQColor(turbo.map(*maxIt, 0.f, 1.f))) <= 2);
    w().controls()->setColormap(neco::ColormapKind::Viridis);
  }

  void crossEntropyIsTheMeanOfRankCrossEntropy() {
    const double mean = expectedMean();
    QVERIFY(std::isfinite(mean) && mean > 0.0);
    QVERIFY(std::abs(view()->meanCrossEntropy() - mean) < 1e-9);
    QVERIFY2(view()->lossLabel()->text().contains(QString::number(mean, 'f', 4)),
             qPrintable(view()->lossLabel()->text()));
    const auto ce = neco::rankCrossEntropy(*view()->teacherRow(), *view()->studentRow());
    QVERIFY(view()->crossEntropyStrip()->values() == ce);
    // The longest bar belongs to the largest value and spans the strip.
    const int worst = static_cast<int>(std::max_element(ce.begin(), ce.end()) - ce.begin());
    const int best = static_cast<int>(std::min_element(ce.begin(), ce.end()) - ce.begin());
    QVERIFY(view()->crossEntropyStrip()->barRect(worst).width() > view()->crossEntropyStrip()->barRect(best).width());
    QVERIFY(hoverText(view()->crossEntropyStrip(), view()->crossEntropyStrip()->barRect(worst).center().toPoint())
                .contains(QString::number(double(ce[worst]), 'f', 4)));
  }

  void steepnessSliderReSortsAtOnce() {
    PermutationMatrixWidget* student = view()->studentMatrix();
    const float before = maxEntry(student->matrix());
    const std::vector<float> teacherBefore = view()->teacherMatrix()->matrix();
    const QImage imageBefore = grab(student);
    const double meanBefore = view()->meanCrossEntropy();
    QSignalSpy sorted(view(), &PermutationView::sorted);

    QTest::keyClick(view()->studentSteepnessSlider(), Qt::Key_End);  // the user drags to the top: 1000
    QCOMPARE(sorted.count(), 1);
    QVERIFY(std::abs(view()->studentSteepness() - 1000.0) < 1e-6);
    const float sharper = maxEntry(student->matrix());
    QVERIFY2(sharper > before, qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(sharper)));
    QVERIFY(student->matrix() == neco::softSortRow(view()->similarities(), view()->studentSettings()).permutation);
    QVERIFY(view()->teacherMatrix()->matrix() == teacherBefore);  // the teacher keeps its own steepness
    QVERIFY(grab(student) != imageBefore);
    QVERIFY(student->title().contains(QStringLiteral("1000")));
    QVERIFY(view()->meanCrossEntropy() != meanBefore);
    QVERIFY(std::abs(view()->meanCrossEntropy() - expectedMean()) < 1e-9);
    QVERIFY(view()->lossLabel()->text().contains(QString::number(expectedMean(), 'f', 4)));

    QTest::keyClick(view()->studentSteepnessSlider(), Qt::Key_Home);  // steepness 1: blurred
    QVERIFY(std::abs(view()->studentSteepness() - 1.0) < 1e-9);
    QVERIFY(maxEntry(student->matrix()) < before);

    view()->teacherSteepnessSlider()->setValue(PermutationView::positionOf(1000.0));
    QVERIFY(maxEntry(view()->teacherMatrix()->matrix()) > maxEntry(teacherBefore));
    QVERIFY(std::abs(view()->meanCrossEntropy() - expectedMean()) < 1e-9);

    view()->setStudentSteepness(100.0);
    view()->setTeacherSteepness(100.0);
    QCOMPARE(view()->studentSteepnessSlider()->value(), 200);
  }

  void networkChoiceChangesTheDiagram() {
    QCOMPARE(diagram()->wireCount(), kN);
    QCOMPARE(diagram()->layerCount(), 21);
    QCOMPARE(diagram()->comparatorCount(), 483);  // METHOD.md 3.4: 546 rows, 63 of them identity
    QVERIFY(window_->sortingNetworkView()->summaryLabel()->text().contains(QStringLiteral("bitonic")));
    // Fitted: the whole network is in view, no scrolling.
    QScrollArea* scroll = window_->sortingNetworkView()->scrollArea();
    QCOMPARE(scroll->horizontalScrollBar()->maximum(), 0);

    QComboBox* network = view()->networkBox();
    network->setCurrentIndex(network->findText(QStringLiteral("odd_even")));
    QCOMPARE(view()->network(), neco::SortNetworkKind::OddEven);
    QCOMPARE(diagram()->layerCount(), 49);
    QCOMPARE(diagram()->comparatorCount(), 49 * 24);
    for (const auto& layer : diagram()->layout().layers)
      for (const auto& c : layer) QCOMPARE(std::abs(c.a - c.b), 1);
    QVERIFY(window_->sortingNetworkView()->summaryLabel()->text().contains(QStringLiteral("odd_even")));
    QVERIFY(view()->studentMatrix()->matrix() ==
            neco::softSortRow(view()->similarities(), view()->studentSettings()).permutation);
    QVERIFY(std::abs(view()->meanCrossEntropy() - expectedMean()) < 1e-9);

    // Every relaxation sorts; the matrix changes with it.
    const std::vector<float> cauchy = view()->studentMatrix()->matrix();
    QCOMPARE(view()->relaxationBox()->count(), 6);
    view()->relaxationBox()->setCurrentIndex(view()->relaxationBox()->findText(QStringLiteral("logistic")));
    QCOMPARE(view()->relaxation(), neco::SortRelaxation::Logistic);
    QVERIFY(view()->studentMatrix()->matrix() != cauchy);
    QVERIFY(view()->warningText().isEmpty());
    view()->setRelaxation(neco::SortRelaxation::Cauchy);

    // Zoom in: the diagram outgrows the view and scrolls; Fit brings it back.
    QToolButton* fit = window_->sortingNetworkView()->fitButton();
    diagram()->setZoom(2.0);
    QVERIFY(!fit->isChecked());
    QTRY_VERIFY(scroll->horizontalScrollBar()->maximum() > 0);
    fit->click();
    QCOMPARE(diagram()->zoom(), 0.0);
    QTRY_COMPARE(scroll->horizontalScrollBar()->maximum(), 0);

    view()->setNetwork(neco::SortNetworkKind::Bitonic);
    QCOMPARE(diagram()->layerCount(), 21);
  }

  void comparatorColoursFollowTheSwapWeights() {
    using Id = SortingNetworkDiagram::ComparatorId;
    // The most undecided comparator at steepness 1 and the most decided at steepness 1000.
    auto extreme = [this](bool decided) {
      Id best;
      double bestCertainty = decided ? -1.0 : 2.0;
      for (int l = 0; l < diagram()->layerCount(); ++l)
        for (int c = 0; c < static_cast<int>(diagram()->layout().layers[l].size()); ++c) {
          const double certainty = std::abs(diagram()->swapWeight({l, c}) - 0.5);
          if (decided ? certainty > bestCertainty : certainty < bestCertainty) {
            bestCertainty = certainty;
            best = {l, c};
          }
        }
      return std::make_pair(best, bestCertainty);
    };
    // Between the comparator's first two wires: no min dot and no other comparator of its column there.
    auto sample = [this](Id id) {
      const QLineF line = diagram()->comparatorLine(id);
      const auto& c = diagram()->layout().layers[id.layer][id.index];
      const int lo = std::min(c.a, c.b);
      const QPoint at(static_cast<int>(std::floor(line.x1())),
                      static_cast<int>(std::lround((diagram()->wireY(lo) + diagram()->wireY(lo + 1)) / 2)));
      const QColor expected = SortingNetworkDiagram::alphaColour(diagram()->swapWeight(id));
      return std::make_pair(closestPixel(grab(diagram()), at, expected), expected);
    };

    view()->setStudentSteepness(1.0);
    QVERIFY(diagram()->row().swapWeights == view()->studentRow()->swapWeights);
    const auto [undecided, undecidedCertainty] = extreme(false);
    QVERIFY2(undecidedCertainty < 0.05, qPrintable(QString::number(undecidedCertainty)));
    const auto [undecidedPixel, undecidedColour] = sample(undecided);
    QVERIFY2(colourDistance(undecidedPixel, undecidedColour) <= 3,
             qPrintable(undecidedPixel.name() + QLatin1Char(' ') + undecidedColour.name()));
    const QString tip = hoverText(diagram(), diagram()->comparatorLine(undecided).center().toPoint());
    QVERIFY2(tip.contains(QStringLiteral("layer %1").arg(undecided.layer)) && tip.contains(QStringLiteral("alpha = ")),
             qPrintable(tip));

    view()->setStudentSteepness(1000.0);
    const auto [decided, decidedCertainty] = extreme(true);
    QVERIFY2(decidedCertainty > 0.45, qPrintable(QString::number(decidedCertainty)));
    const auto [decidedPixel, decidedColour] = sample(decided);
    QVERIFY2(colourDistance(decidedPixel, decidedColour) <= 3,
             qPrintable(decidedPixel.name() + QLatin1Char(' ') + decidedColour.name()));
    QVERIFY(colourDistance(decidedPixel, undecidedPixel) > 80);
    const auto hit = diagram()->comparatorAt(diagram()->comparatorLine(decided).center());
    QVERIFY(hit && hit->layer == decided.layer && hit->index == decided.index);
    QVERIFY(diagram()->comparatorToolTip(decided).contains(QStringLiteral("decided")));
    view()->setStudentSteepness(100.0);
  }

  void openingAnImageClearsTheRow() {
    QSignalSpy ready(w().featureService(), &neco::ui::FeatureService::featuresReady);
    w().openImage(w().currentPath());
    QVERIFY(ready.wait(120000));
    QVERIFY(!view()->studentRow().has_value());
    QCOMPARE(view()->studentMatrix()->n(), 0);
    QVERIFY(w().canvas()->markedPatches().isEmpty());
    QCOMPARE(diagram()->layerCount(), 0);
  }

  void invalidNetworkShowsAWarning() {
    // 7 x 6 references: n = 42, where diffsort's padded bitonic network does not sort every input.
    PermutationView standalone;
    standalone.resize(500, 600);
    standalone.show();
    QVERIFY(QTest::qWaitForWindowExposed(&standalone));
    standalone.setSource(syntheticFeatures(7, 6), QPoint(2, 3));
    QCOMPARE(static_cast<int>(standalone.referencePatches().size()), 42);
    QVERIFY(!standalone.networkLayout().valid);
    QVERIFY(standalone.warningLabel()->isVisible());
    QVERIFY2(standalone.warningLabel()->text().contains(QStringLiteral("odd_even")),
             qPrintable(standalone.warningLabel()->text()));
    QCOMPARE(standalone.studentMatrix()->n(), 42);  // still sorted, with the warning beside it

    neco::ui::SortingNetworkView network;
    network.setNetwork(standalone.networkLayout(), *standalone.studentRow(), standalone.studentSettings());
    network.show();
    QVERIFY(network.warningLabel()->isVisible());

    standalone.setNetwork(neco::SortNetworkKind::OddEven);
    QVERIFY(standalone.networkLayout().valid);
    QVERIFY(!standalone.warningLabel()->isVisible());

    // A 1 x 1 grid has no row to sort: said so, nothing drawn.
    standalone.setSource(syntheticFeatures(1, 1), QPoint(0, 0));
    QVERIFY(!standalone.studentRow().has_value());
    QVERIFY(standalone.warningLabel()->isVisible());
  }
};

QTEST_MAIN(PermutationViewTest)
#include "PermutationViewTest.moc"
