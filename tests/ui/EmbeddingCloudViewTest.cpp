// The VTK 3-D views, headless. The Embedding 3-D view on real demo features: every patch is a point at its projection
// on the first three principal components (checked against the PCA basis of core), picking works
// both ways (a click on a point selects its patch; a selected patch is drawn as a large red point,
// checked on the rendered pixels), a drag rotates instead of picking, and the colourings. The
// Permutation 3-D view: both matrices as height fields, heights = probabilities, drawn and rotatable.
#include "neco/core/FeatureExtractor.h"
#include "neco/core/FeatureMaps.h"
#include "neco/core/Log.h"
#include "neco/core/SoftSort.h"
#include "neco/ui/EmbeddingCloudView.h"
#include "neco/ui/MainWindow.h"
#include "neco/ui/PatchCanvas.h"
#include "neco/ui/PermutationSurfaceView.h"
#include "neco/ui/VtkOpenGLWidget.h"
#include "StudioTestSupport.h"

#include <QLineF>
#include <QOpenGLWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

using neco::ui::EmbeddingCloudView;
using neco::ui::VtkOpenGLWidget;

namespace {

neco::RgbImage stripes(int side) {  // two textures, so the cloud has structure
  neco::RgbImage img{side, side, std::vector<std::uint8_t>(std::size_t(side) * side * 3)};
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x) {
      auto* p = img.at(x, y);
      const bool left = x < side / 2;
      p[0] = std::uint8_t(left ? ((x / 6) % 2 ? 220 : 30) : 90);
      p[1] = std::uint8_t(left ? 60 : ((y / 9) % 2 ? 200 : 20));
      p[2] = std::uint8_t((x * 255) / side);
    }
  return img;
}

bool isRed(QRgb c) { return qRed(c) > 200 && qGreen(c) < 60 && qBlue(c) < 60; }

// A patch other than `except` whose point is on screen with no other point within 10 px (so a click
// on it cannot be ambiguous); nullopt when there is none.
std::optional<QPoint> isolatedPoint(const EmbeddingCloudView& view, std::optional<QPoint> except = std::nullopt) {
  const int gridW = view.gridWidth();
  const int n = static_cast<int>(view.positions().size());
  std::vector<QPointF> shown(static_cast<std::size_t>(n));
  for (int p = 0; p < n; ++p) {
    const std::optional<QPointF> at = view.displayPosition(QPoint(p % gridW, p / gridW));
    if (!at) return std::nullopt;
    shown[std::size_t(p)] = *at;
  }
  for (int p = 0; p < n; ++p) {
    if (QPoint(p % gridW, p / gridW) == except) continue;
    if (!view.vtkWidget()->rect().adjusted(10, 10, -10, -10).contains(shown[std::size_t(p)].toPoint())) continue;
    double nearest = 1e9;
    for (int q = 0; q < n; ++q)
      if (q != p) nearest = std::min(nearest, QLineF(shown[std::size_t(p)], shown[std::size_t(q)]).length());
    if (nearest > 10.0) return QPoint(p % gridW, p / gridW);
  }
  return std::nullopt;
}

}  // namespace

class EmbeddingCloudViewTest : public QObject {
  Q_OBJECT

 public:
  static void initMain() {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "xcb");
    VtkOpenGLWidget::setDefaultSurfaceFormat();
  }

 private:
  neco::ui::FeaturesPtr features_;

  void showAndRender(EmbeddingCloudView& view) {
    view.resize(520, 460);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QTRY_VERIFY_WITH_TIMEOUT(view.vtkWidget()->renderingReady(), 20000);
    // Two frames: the first may still be of the size before the layout settled.
    for (int i = 0; i < 2; ++i) {
      QSignalSpy frames(view.vtkWidget(), &VtkOpenGLWidget::frameRendered);
      view.vtkWidget()->update();
      QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    }
  }

 private Q_SLOTS:
  void initTestCase() {
    neco::LogOptions log;
    log.file = false;
    neco::configureLogging(log);
    features_ = std::make_shared<const neco::PatchFeatures>(neco::FeatureExtractor::createDemo(0)->extract(stripes(224), 224));
  }

  void pointsAreThePatchesOnTheirFirstThreePrincipalComponents() {
    EmbeddingCloudView view;
    view.setFeatures(features_);
    const auto& pos = view.positions();
    QCOMPARE(int(pos.size()), features_->patchCount());
    const neco::PcaRgbBasis basis = neco::fitPcaRgbBasis({features_.get()});
    // The spread along each axis is that component's variance, in decreasing order.
    double var[3] = {0, 0, 0}, mean[3] = {0, 0, 0};
    for (const auto& p : pos)
      for (int c = 0; c < 3; ++c) mean[c] += p[std::size_t(c)] / double(pos.size());
    for (const auto& p : pos)
      for (int c = 0; c < 3; ++c) var[c] += std::pow(p[std::size_t(c)] - mean[c], 2) / double(pos.size());
    for (int c = 0; c < 3; ++c) {
      QVERIFY2(std::abs(mean[c]) < 1e-4, qPrintable(QString::number(mean[c])));
      QVERIFY2(std::abs(var[c] - basis.variances[std::size_t(c)]) < 1e-3 * (1 + basis.variances[std::size_t(c)]),
               qPrintable(QStringLiteral("%1 vs %2").arg(var[c]).arg(basis.variances[std::size_t(c)])));
    }
    QVERIFY(var[0] >= var[1] && var[1] >= var[2]);
    // PCA-RGB colours are the Feature maps' colours.
    QCOMPARE(view.colours(), neco::projectPcaRgb(*features_, basis, {0, 1, 2}).rgb);
    view.setColouring(neco::ui::CloudColouring::Classes);
    QVERIFY(view.colours() != neco::projectPcaRgb(*features_, basis, {0, 1, 2}).rgb);
    std::vector<float> similarity(std::size_t(features_->patchCount()), -1.f);
    similarity[0] = 1.f;
    view.setColouring(neco::ui::CloudColouring::Similarity);
    view.setSimilarity(similarity);
    const neco::Colormap viridis(neco::ColormapKind::Viridis);
    QCOMPARE(int(view.colours()[0]), int(viridis.map(1.f, -1.f, 1.f).r));
    QCOMPARE(int(view.colours()[3]), int(viridis.map(-1.f, -1.f, 1.f).r));
  }

  void aClickPicksThePatchAndTheSelectionIsDrawnRed() {
    EmbeddingCloudView view;
    view.setFeatures(features_);
    showAndRender(view);
    VtkOpenGLWidget* gl = view.vtkWidget();
    const std::optional<QPoint> target = isolatedPoint(view);
    QVERIFY2(target, "no isolated point on screen");
    const QPointF at = *view.displayPosition(*target);
    QSignalSpy picked(&view, &EmbeddingCloudView::patchPicked);
    QTest::mouseClick(gl, Qt::LeftButton, Qt::NoModifier, at.toPoint());
    QCOMPARE(picked.count(), 1);
    QCOMPARE(picked.front().at(0).toPoint(), *target);
    QCOMPARE(view.selectedPatch(), target);

    // The other way: the selected patch is a large red point where that patch is drawn.
    QSignalSpy frames(gl, &VtkOpenGLWidget::frameRendered);
    gl->update();
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    const QImage frame = gl->grabFramebuffer();
    const double ratio = gl->devicePixelRatioF();
    const QPoint centre((at * ratio).toPoint());
    QVERIFY2(isRed(frame.pixel(centre)), qPrintable(QColor(frame.pixel(centre)).name()));
    view.setSelectedPatch(std::nullopt);
    frames.clear();
    gl->update();
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    QVERIFY(!isRed(gl->grabFramebuffer().pixel(centre)));

    // A drag rotates the cloud (the interactor) and picks nothing.
    picked.clear();
    QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, at.toPoint());
    QTest::mouseMove(gl, (at + QPointF(60, 20)).toPoint());
    QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, (at + QPointF(60, 20)).toPoint());
    QCOMPARE(picked.count(), 0);
    frames.clear();
    gl->update();
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    QVERIFY(view.displayPosition(*target) != std::optional<QPointF>(at));  // the camera moved
  }

  void permutationSurfacesAreTheMatricesAsHeights() {
    std::vector<float> values;
    for (int i = 0; i < 16; ++i) values.push_back(std::sin(1.7f * float(i)));
    neco::SoftSortSettings soft, hard;
    soft.steepness = 5.0;
    hard.steepness = 500.0;
    const neco::SoftSortRow student = neco::softSortRow(values, soft), teacher = neco::softSortRow(values, hard);
    neco::ui::PermutationSurfaceView view;
    view.setRows(student, teacher);
    const int n = student.n;
    QCOMPARE(view.surfacePointCount(false), n * n);
    QCOMPARE(view.surfacePointCount(true), n * n);
    const double top = view.heightAt(true, 0, 0) / std::max(1e-9, double(teacher.permutation[0]));
    for (int e = 0; e < n; ++e)
      for (int r = 0; r < n; ++r) {
        QVERIFY(std::abs(view.heightAt(false, e, r) - top * student.permutation[std::size_t(e * n + r)]) < 1e-4 * top);
        QVERIFY(std::abs(view.heightAt(true, e, r) - top * teacher.permutation[std::size_t(e * n + r)]) < 1e-4 * top);
      }

    view.resize(560, 420);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QTRY_VERIFY_WITH_TIMEOUT(view.vtkWidget()->renderingReady(), 20000);
    VtkOpenGLWidget* gl = view.vtkWidget();
    QSignalSpy frames(gl, &VtkOpenGLWidget::frameRendered);
    gl->update();
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    const QImage first = gl->grabFramebuffer();
    const QRgb background = first.pixel(2, 2);
    int drawn = 0;
    for (int y = 0; y < first.height(); y += 2)
      for (int x = 0; x < first.width(); x += 2) drawn += first.pixel(x, y) != background;
    QVERIFY2(drawn > first.width() * first.height() / 40, qPrintable(QString::number(drawn)));
    // A drag rotates the surfaces.
    const QPoint c = gl->rect().center();
    QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, c);
    QTest::mouseMove(gl, c + QPoint(80, 30));
    QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, c + QPoint(80, 30));
    frames.clear();
    gl->update();
    QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    QVERIFY(gl->grabFramebuffer() != first);
    view.setRows(std::nullopt, std::nullopt);
    QCOMPARE(view.surfacePointCount(false), 0);
  }

  void theStudioMakesItsThreeDViewsWhenTheirDocksAreFirstShown() {
    // NOTE: an OpenGL widget anywhere in a window makes Qt composite the whole window through
    // OpenGL (in software under Xvfb: slower than the paint itself); until a 3-D dock is opened the
    // studio has none.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    neco::ui::MainWindow w(neco::test::quietDemoModel());
    QVERIFY(neco::test::showActive(w, QSize(1400, 900)));
    neco::test::openDemoAndWait(w, tmp.filePath(QStringLiteral("demo")));
    const QPoint query(4, 6);
    w.selectPatch(query);
    QTest::qWait(100);  // the views that follow the query run a frame later
    QVERIFY(w.findChildren<QOpenGLWidget*>().isEmpty());
    QVERIFY(!w.embeddingView());
    QVERIFY(!w.permutationSurface());

    // Shown: the cloud of the image on screen, the query red in it; a click on a point pins its patch.
    w.showBottomDock("embeddingDock");
    QTRY_VERIFY(w.embeddingView() != nullptr);
    EmbeddingCloudView* cloud = w.embeddingView();
    QTRY_COMPARE(cloud->positions().size(), std::size_t(w.currentFeatures()->patchCount()));
    QCOMPARE(cloud->gridWidth(), w.currentFeatures()->gridW);
    QCOMPARE(cloud->selectedPatch(), std::optional<QPoint>(query));
    QTRY_VERIFY_WITH_TIMEOUT(cloud->vtkWidget()->renderingReady(), 20000);
    for (int i = 0; i < 2; ++i) {  // the first frame may be of the size before the dock's layout settled
      QSignalSpy frames(cloud->vtkWidget(), &VtkOpenGLWidget::frameRendered);
      cloud->vtkWidget()->update();
      QTRY_VERIFY_WITH_TIMEOUT(!frames.isEmpty(), 20000);
    }
    const std::optional<QPoint> target = isolatedPoint(*cloud, query);
    QVERIFY2(target, "no isolated point on screen");
    QTest::mouseClick(cloud->vtkWidget(), Qt::LeftButton, Qt::NoModifier, cloud->displayPosition(*target)->toPoint());
    QCOMPARE(w.canvas()->selectedPatch(), target);
    QTRY_COMPARE(cloud->selectedPatch(), target);
    QVERIFY(!w.findChildren<QOpenGLWidget*>().isEmpty());

    // The permutation surfaces follow the query's rows.
    w.showBottomDock("permutationSurfaceDock");
    QTRY_VERIFY(w.permutationSurface() != nullptr);
    QTRY_VERIFY_WITH_TIMEOUT(w.permutationSurface()->surfacePointCount(false) > 0, 20000);
    QVERIFY(w.permutationSurface()->surfacePointCount(true) > 0);
  }

  void emptyFeaturesClearTheCloud() {
    EmbeddingCloudView view;
    view.setFeatures(features_);
    view.setFeatures(nullptr);
    QVERIFY(view.positions().empty());
    QVERIFY(!view.pick(QPointF(10, 10)));
  }
};

QTEST_MAIN(EmbeddingCloudViewTest)
#include "EmbeddingCloudViewTest.moc"
