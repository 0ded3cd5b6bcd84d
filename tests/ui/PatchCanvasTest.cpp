// PatchCanvas: geometry of the fitted image and its grid, click-to-patch mapping, and the real
// pixels of the overlay at several opacities.
#include "neco/ui/PatchCanvas.h"

#include <QSignalSpy>
#include <QTest>

using neco::ui::PatchCanvas;

class PatchCanvasTest : public QObject {
  Q_OBJECT

 private:
  static QImage solid(int w, int h, QColor c) {
    QImage img(w, h, QImage::Format_RGB888);
    img.fill(c);
    return img;
  }
  static QImage render(PatchCanvas& canvas) { return canvas.grab().toImage().convertToFormat(QImage::Format_RGB888); }

 private Q_SLOTS:
  void fitsImagePreservingAspectAndMapsPatches() {
    PatchCanvas canvas;
    canvas.resize(400, 400);
    canvas.setImage(solid(200, 100, Qt::red));  // 2:1 image in a square widget
    canvas.setGrid(4, 2);
    const QRectF r = canvas.imageRect();
    QCOMPARE(r, QRectF(0, 100, 400, 200));
    QCOMPARE(canvas.patchRect(QPoint(1, 1)), QRectF(100, 200, 100, 100));
    QCOMPARE(canvas.patchAt(QPointF(150, 250)), std::optional<QPoint>(QPoint(1, 1)));
    QCOMPARE(canvas.patchAt(QPointF(399.9, 299.9)), std::optional<QPoint>(QPoint(3, 1)));
    QVERIFY(!canvas.patchAt(QPointF(10, 50)).has_value());  // letterbox band
  }

  void clickEmitsThePatchUnderTheCursor() {
    PatchCanvas canvas;
    canvas.resize(320, 320);
    canvas.setImage(solid(64, 64, Qt::gray));
    canvas.setGrid(4, 4);
    canvas.show();
    QVERIFY(QTest::qWaitForWindowExposed(&canvas));
    QSignalSpy spy(&canvas, &PatchCanvas::patchClicked);
    QTest::mouseClick(&canvas, Qt::LeftButton, {}, QPoint(250, 90));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toPoint(), QPoint(3, 1));
    QTest::mouseClick(&canvas, Qt::RightButton, {}, QPoint(250, 90));
    QCOMPARE(spy.count(), 1);  // only the left button pins a query
  }

  void overlayBlendsWithTheOpacityAndVanishesAtZero() {
    PatchCanvas canvas;
    canvas.resize(200, 200);
    canvas.setGridVisible(false);
    canvas.setImage(solid(100, 100, QColor(0, 0, 200)));
    canvas.setGrid(2, 2);
    QImage overlay(2, 2, QImage::Format_RGB888);
    overlay.fill(QColor(250, 250, 0));
    overlay.setPixelColor(1, 1, QColor(0, 250, 0));
    canvas.setOverlay(overlay);
    canvas.setOverlayOpacity(0.5);
    QImage px = render(canvas);
    auto close = [](QColor a, QColor b) {
      return std::abs(a.red() - b.red()) <= 3 && std::abs(a.green() - b.green()) <= 3 && std::abs(a.blue() - b.blue()) <= 3;
    };
    QVERIFY2(close(px.pixelColor(50, 50), QColor(125, 125, 100)), qPrintable(px.pixelColor(50, 50).name()));
    QVERIFY2(close(px.pixelColor(150, 150), QColor(0, 125, 100)), qPrintable(px.pixelColor(150, 150).name()));
    canvas.setOverlayOpacity(1.0);
    px = render(canvas);
    QVERIFY(close(px.pixelColor(150, 150), QColor(0, 250, 0)));
    // Nearest-neighbour: the patch boundary is sharp, no blended seam next to it.
    QVERIFY(close(px.pixelColor(98, 150), QColor(250, 250, 0)));
    QVERIFY(close(px.pixelColor(101, 150), QColor(0, 250, 0)));
    canvas.setOverlayOpacity(0.0);
    px = render(canvas);
    QVERIFY(close(px.pixelColor(150, 150), QColor(0, 0, 200)));
  }

  void gridLinesAreDrawnOnlyWhenVisible() {
    PatchCanvas canvas;
    canvas.resize(200, 200);
    canvas.setImage(solid(100, 100, Qt::black));
    canvas.setGrid(2, 2);
    canvas.setGridVisible(true);
    const QColor withGrid = render(canvas).pixelColor(100, 40);
    canvas.setGridVisible(false);
    const QColor without = render(canvas).pixelColor(100, 40);
    QVERIFY(withGrid.lightness() > without.lightness() + 20);
    QCOMPARE(without, QColor(Qt::black));
  }

  void newImageClearsOverlayAndSelection() {
    PatchCanvas canvas;
    canvas.setImage(solid(10, 10, Qt::white));
    canvas.setGrid(2, 2);
    canvas.setOverlay(solid(2, 2, Qt::red));
    canvas.setSelectedPatch(QPoint(1, 1));
    canvas.setImage(solid(10, 10, Qt::white));
    QVERIFY(!canvas.hasOverlay());
    QVERIFY(!canvas.selectedPatch().has_value());
    QCOMPARE(canvas.gridColumns(), 2);
  }
};

QTEST_MAIN(PatchCanvasTest)
#include "PatchCanvasTest.moc"
