// PatchCanvas: geometry of the fitted image and its grid, click-to-patch mapping, the real
// pixels of the overlay at several opacities, and zoom / pan down to pixel-exact patches.
#include "neco/ui/PatchCanvas.h"

#include <QApplication>
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
  // One image pixel black, the next white: any smoothing shows as grey.
  static QImage checkerboard(int side) {
    QImage img(side, side, QImage::Format_RGB888);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) img.setPixelColor(x, y, (x + y) % 2 ? Qt::white : Qt::black);
    return img;
  }
  static void wheel(PatchCanvas& canvas, QPointF at, int notches) {
    QWheelEvent event(at, canvas.mapToGlobal(at), QPoint(), QPoint(0, 120 * notches), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(&canvas, &event);
  }
  static void mouse(PatchCanvas& canvas, QEvent::Type type, QPointF at, Qt::MouseButtons buttons) {
    QMouseEvent event(type, at, canvas.mapToGlobal(at), type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton,
                      buttons, Qt::NoModifier);
    QCoreApplication::sendEvent(&canvas, &event);
  }

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

  void wheelZoomsAboutTheCursor() {
    PatchCanvas canvas;
    canvas.resize(400, 400);
    canvas.setImage(checkerboard(28));
    canvas.setGrid(2, 2);
    QSignalSpy zoomed(&canvas, &PatchCanvas::zoomChanged);
    const QPointF cursor(130, 270);
    const QRectF before = canvas.imageRect();
    const QPointF imagePoint((cursor.x() - before.left()) / before.width(), (cursor.y() - before.top()) / before.height());
    wheel(canvas, cursor, 3);
    QCOMPARE(zoomed.count(), 1);
    QVERIFY(std::abs(canvas.zoom() - std::pow(PatchCanvas::kWheelStep, 3)) < 1e-9);
    const QRectF after = canvas.imageRect();
    QVERIFY(std::abs(after.left() + imagePoint.x() * after.width() - cursor.x()) < 1e-6);
    QVERIFY(std::abs(after.top() + imagePoint.y() * after.height() - cursor.y()) < 1e-6);
    // The patch under the cursor is the same one, and clicks still map through the zoom.
    QCOMPARE(canvas.patchAt(cursor), std::optional<QPoint>(QPoint(0, 1)));
    canvas.setZoom(1000);
    QCOMPARE(canvas.zoom(), PatchCanvas::kMaxZoom);
    canvas.setZoom(0.1);
    QCOMPARE(canvas.zoom(), 1.0);
    QCOMPARE(canvas.imageRect(), before);
  }

  void highZoomShowsSharpPixelsAndExactPatchBoundaries() {
    PatchCanvas canvas;
    canvas.resize(400, 400);
    canvas.setImage(checkerboard(28));  // two 14-pixel patches across
    canvas.setGrid(2, 2);
    canvas.setGridVisible(true);
    canvas.setZoom(2.0);  // 400 / 28 * 2 = 28.6 screen pixels per image pixel
    QVERIFY(canvas.pixelScale() > PatchCanvas::kPixelExactScale);
    const QImage shot = render(canvas);
    const QRectF r = canvas.imageRect();
    const double s = canvas.pixelScale();
    // Inside each image pixel one flat colour, black or white, never grey.
    for (int py = 8; py < 20; ++py) {
      for (int px = 8; px < 20; ++px) {
        const QPointF centre(r.left() + (px + 0.5) * s, r.top() + (py + 0.5) * s);
        if (!QRectF(canvas.rect()).contains(centre)) continue;
        const QColor expected = (px + py) % 2 ? Qt::white : Qt::black;
        for (QPointF off : {QPointF(0, 0), QPointF(-s / 3, -s / 3), QPointF(s / 3, s / 3)}) {
          const QPoint at = (centre + off).toPoint();
          if (std::abs(at.x() - r.left() - 14 * s) < 3 || std::abs(at.y() - r.top() - 14 * s) < 3) continue;  // grid line
          QCOMPARE(shot.pixelColor(at), expected);
        }
      }
    }
    // The grid line between the two patches lies on the boundary between image pixels 13 and 14.
    const int lineX = static_cast<int>(std::floor(r.left() + 14 * s));
    const QPoint onLine(lineX, static_cast<int>(r.top() + 10.5 * s));
    const QColor line = shot.pixelColor(onLine), beside = shot.pixelColor(onLine + QPoint(-5, 0));
    QVERIFY2(line != beside, qPrintable(line.name() + QStringLiteral(" vs ") + beside.name()));
  }

  void dragPansAClickStillPinsAndDoubleClickFits() {
    PatchCanvas canvas;
    canvas.resize(300, 300);
    canvas.setImage(checkerboard(28));
    canvas.setGrid(2, 2);
    canvas.show();
    QVERIFY(QTest::qWaitForWindowExposed(&canvas));
    QSignalSpy clicked(&canvas, &PatchCanvas::patchClicked);
    canvas.setZoom(4.0);
    const QPointF centre = canvas.viewCentre();
    mouse(canvas, QEvent::MouseButtonPress, QPointF(150, 150), Qt::LeftButton);
    mouse(canvas, QEvent::MouseMove, QPointF(170, 160), Qt::LeftButton);
    mouse(canvas, QEvent::MouseMove, QPointF(200, 180), Qt::LeftButton);
    mouse(canvas, QEvent::MouseButtonRelease, QPointF(200, 180), Qt::NoButton);
    QCOMPARE(clicked.count(), 0);  // a drag is not a click
    const double w = canvas.imageRect().width(), h = canvas.imageRect().height();
    QVERIFY(std::abs(canvas.viewCentre().x() - (centre.x() - 50 / w)) < 1e-9);
    QVERIFY(std::abs(canvas.viewCentre().y() - (centre.y() - 30 / h)) < 1e-9);
    // A press and release in place pins the patch under it.
    mouse(canvas, QEvent::MouseButtonPress, QPointF(100, 100), Qt::LeftButton);
    mouse(canvas, QEvent::MouseButtonRelease, QPointF(100, 100), Qt::NoButton);
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.takeFirst().at(0).toPoint(), *canvas.patchAt(QPointF(100, 100)));
    // Panning far never shows an empty margin: the corner is still image.
    canvas.panBy(QPointF(10000, 10000));
    QVERIFY(canvas.imageRect().contains(QPointF(0, 0)));
    QVERIFY(canvas.imageRect().contains(QPointF(299, 299)));
    QCOMPARE(canvas.patchAt(QPointF(1, 1)), std::optional<QPoint>(QPoint(0, 0)));
    // Double click: back to the whole image; the release after it pins nothing in the fitted layout.
    clicked.clear();
    mouse(canvas, QEvent::MouseButtonPress, QPointF(150, 150), Qt::LeftButton);
    mouse(canvas, QEvent::MouseButtonRelease, QPointF(150, 150), Qt::NoButton);
    mouse(canvas, QEvent::MouseButtonDblClick, QPointF(150, 150), Qt::LeftButton);
    mouse(canvas, QEvent::MouseButtonRelease, QPointF(150, 150), Qt::NoButton);
    QCOMPARE(canvas.zoom(), 1.0);
    QCOMPARE(clicked.count(), 1);  // the pair's first click only
    QCOMPARE(canvas.imageRect(), QRectF(0, 0, 300, 300));
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
