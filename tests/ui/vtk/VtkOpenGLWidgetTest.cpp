// Renders a known scene through neco::ui::VtkOpenGLWidget and checks real pixels of the grabbed
// framebuffer: a pure red cone (lighting off, so its colour is exact) seen side-on through a
// parallel camera on a pure blue background.
//
// Needs an X server and Qt's xcb platform (VTK 9.1 initialises GL through GLX); ctest runs it under
// xvfb-run, by hand: QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" ./VtkOpenGLWidgetTest
// A failed pixel check keeps the grabbed frame as vtk_widget_actual.png in the working directory.

#include "neco/ui/VtkOpenGLWidget.h"

#include <QGuiApplication>
#include <QImage>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QProcess>
#include <QScopeGuard>
#include <QSignalSpy>
#include <QTest>
#include <QWheelEvent>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCommand.h>
#include <vtkConeSource.h>
#include <vtkNew.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderWindowInteractor.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <string>

using neco::ui::VtkOpenGLWidget;

namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 240;
constexpr double kParallelScale = 0.75;  // half the view height, in world units
constexpr int kChannelTolerance = 8;     // per 8-bit channel
const char* const kActualImage = "vtk_widget_actual.png";

bool isColour(QRgb pixel, int r, int g, int b) {
  return std::abs(qRed(pixel) - r) <= kChannelTolerance && std::abs(qGreen(pixel) - g) <= kChannelTolerance &&
         std::abs(qBlue(pixel) - b) <= kChannelTolerance;
}
bool isRed(QRgb pixel) {
  return isColour(pixel, 255, 0, 0);
}
bool isBlue(QRgb pixel) {
  return isColour(pixel, 0, 0, 255);
}

// What the grabbed frame contains, measured once per image.
struct FrameStats {
  int opaquePixels = 0;
  int redPixels = 0;
  int bluePixels = 0;
  QRect redBounds;  // bounding box of the red pixels
};

FrameStats measure(const QImage& image) {
  FrameStats stats;
  int left = image.width(), top = image.height(), right = -1, bottom = -1;
  for (int y = 0; y < image.height(); ++y) {
    const auto* row = reinterpret_cast<const QRgb*>(image.constScanLine(y));
    for (int x = 0; x < image.width(); ++x) {
      if (qAlpha(row[x]) == 255) ++stats.opaquePixels;
      if (isBlue(row[x])) ++stats.bluePixels;
      if (isRed(row[x])) {
        ++stats.redPixels;
        left = std::min(left, x);
        right = std::max(right, x);
        top = std::min(top, y);
        bottom = std::max(bottom, y);
      }
    }
  }
  if (right >= 0) stats.redBounds = QRect(QPoint(left, top), QPoint(right, bottom));
  return stats;
}

QString describe(QRgb pixel) {
  return QStringLiteral("rgba(%1,%2,%3,%4)").arg(qRed(pixel)).arg(qGreen(pixel)).arg(qBlue(pixel)).arg(qAlpha(pixel));
}

// The side-on cone (height 1 along x, base radius 0.5) is a triangle 1 x 1 world units, centred.
// Returns an empty string when `image` shows it as expected at `devicePixelsPerUnit`.
QString sceneProblem(const QImage& image, QSize expectedSize, double devicePixelsPerUnit) {
  if (image.size() != expectedSize) {
    return QStringLiteral("frame is %1x%2, expected %3x%4")
        .arg(image.width())
        .arg(image.height())
        .arg(expectedSize.width())
        .arg(expectedSize.height());
  }
  const int w = image.width();
  const int h = image.height();
  const QRgb centre = image.pixel(w / 2, h / 2);
  if (!isRed(centre)) return QStringLiteral("centre pixel is %1, expected red").arg(describe(centre));
  for (const QPoint corner : {QPoint(1, 1), QPoint(w - 2, 1), QPoint(1, h - 2), QPoint(w - 2, h - 2)}) {
    const QRgb pixel = image.pixel(corner);
    if (!isBlue(pixel)) {
      return QStringLiteral("corner (%1,%2) is %3, expected blue").arg(corner.x()).arg(corner.y()).arg(describe(pixel));
    }
  }
  const FrameStats stats = measure(image);
  const int total = w * h;
  if (stats.opaquePixels != total) {
    return QStringLiteral("%1 of %2 pixels are not opaque").arg(total - stats.opaquePixels).arg(total);
  }
  const double expectedRed = 0.5 * devicePixelsPerUnit * devicePixelsPerUnit / total;
  const double redFraction = double(stats.redPixels) / total;
  if (std::abs(redFraction / expectedRed - 1.0) > 0.08) {
    return QStringLiteral("red area is %1 of the frame, expected %2 +- 8%").arg(redFraction).arg(expectedRed);
  }
  // Anything neither red nor blue is an edge pixel (multisampling) or a wrong colour (lighting).
  if (double(stats.redPixels + stats.bluePixels) / total < 0.97) {
    return QStringLiteral("only %1 of the pixels are pure red or pure blue")
        .arg(double(stats.redPixels + stats.bluePixels) / total);
  }
  // The triangle keeps its size and stays centred: VTK rendered at the widget's size.
  const QRect& box = stats.redBounds;
  const double side = devicePixelsPerUnit;
  if (std::abs(box.width() - side) > 4 || std::abs(box.height() - side) > 4 ||
      std::abs(box.center().x() - w / 2.0) > 3 || std::abs(box.center().y() - h / 2.0) > 3) {
    return QStringLiteral("red box is %1x%2 at (%3,%4), expected %5x%5 centred in %6x%7")
        .arg(box.width())
        .arg(box.height())
        .arg(box.x())
        .arg(box.y())
        .arg(side)
        .arg(w)
        .arg(h);
  }
  return {};
}

int differingPixels(const QImage& a, const QImage& b) {
  if (a.size() != b.size()) return a.width() * a.height();
  int count = 0;
  for (int y = 0; y < a.height(); ++y) {
    for (int x = 0; x < a.width(); ++x) {
      const QRgb p = a.pixel(x, y);
      if (!isColour(b.pixel(x, y), qRed(p), qGreen(p), qBlue(p))) ++count;
    }
  }
  return count;
}

// At least 1% of the pixels differ between `before` and `after`.
QString changeProblem(const QImage& before, const QImage& after, const char* cause) {
  const int changed = differingPixels(before, after);
  if (changed >= before.width() * before.height() / 100) return {};
  return QStringLiteral("only %1 pixels changed after %2").arg(changed).arg(QLatin1String(cause));
}

// Opaque everywhere with a red centre: the frame after a camera move.
QString movedSceneProblem(const QImage& image) {
  const int total = image.width() * image.height();
  const FrameStats stats = measure(image);
  if (stats.opaquePixels != total) {
    return QStringLiteral("%1 of %2 pixels are not opaque").arg(total - stats.opaquePixels).arg(total);
  }
  const QRgb centre = image.pixel(image.width() / 2, image.height() / 2);
  if (!isRed(centre)) return QStringLiteral("centre pixel is %1, expected red").arg(describe(centre));
  return {};
}

// Counts the VTK renders of a window (its EndEvent).
class RenderCounter {
 public:
  explicit RenderCounter(vtkRenderWindow* window) : window_(window) {
    id_ = window_->AddObserver(vtkCommand::EndEvent, this, &RenderCounter::onEnd);
  }
  ~RenderCounter() { window_->RemoveObserver(id_); }
  RenderCounter(const RenderCounter&) = delete;
  RenderCounter& operator=(const RenderCounter&) = delete;
  int count() const { return count_; }

 private:
  void onEnd(vtkObject*, unsigned long, void*) { ++count_; }
  vtkRenderWindow* window_;
  unsigned long id_ = 0;
  int count_ = 0;
};

}  // namespace

// On failure keeps the frame for review, then fails the calling test function.
#define NECO_CHECK_FRAME(image, problemExpr)                                                       \
  do {                                                                                             \
    const QString neco_problem_ = (problemExpr);                                                   \
    if (!neco_problem_.isEmpty()) {                                                                \
      (image).save(QString::fromLatin1(kActualImage));                                             \
      QFAIL(qPrintable(neco_problem_ + QStringLiteral(" (frame saved as %1)").arg(kActualImage))); \
    }                                                                                              \
  } while (0)

class VtkOpenGLWidgetTest : public QObject {
  Q_OBJECT

 public:
  // QTEST_MAIN calls this before it constructs the QApplication.
  static void initMain() {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "xcb");
    VtkOpenGLWidget::setDefaultSurfaceFormat();
  }

 private Q_SLOTS:
  void initTestCase();
  void init();
  void cleanup();

  void contextHasRequestedFormat();
  void rendersKnownScene();
  void renderWindowRenderIsShownWithoutRenderingAgain();
  void leftDragRotatesCamera();
  void dragFollowsVtkBottomUpY();
  void wheelZoomsInWholeNotches();
  void keyReachesInteractorStyle();
  void resizeFollowsWidget();
  void survivesMoveToAnotherWindow();
  void renderWindowOutlivesWidget();
  void noQt5LibraryLoaded();

 private:
  QImage grab() const;
  QSize deviceSize() const;
  double devicePixelsPerUnit() const;
  void sendMouse(QEvent::Type type, QPoint pos, Qt::MouseButton button, Qt::MouseButtons buttons);

  std::unique_ptr<VtkOpenGLWidget> widget_;
  vtkSmartPointer<vtkActor> cone_;
};

void VtkOpenGLWidgetTest::initTestCase() {
  QVERIFY2(QGuiApplication::platformName() == QLatin1String("xcb"),
           qPrintable(QStringLiteral("needs Qt's xcb platform under an X server (xvfb-run), got '%1'")
                          .arg(QGuiApplication::platformName())));
  QCOMPARE(QSurfaceFormat::defaultFormat(), VtkOpenGLWidget::defaultSurfaceFormat());
}

void VtkOpenGLWidgetTest::init() {
  widget_ = std::make_unique<VtkOpenGLWidget>();
  widget_->setWindowTitle(QString::fromLatin1(QTest::currentTestFunction()));

  vtkNew<vtkConeSource> source;  // axis along +x, apex at x = 0.5, base radius 0.5 at x = -0.5
  source->SetResolution(64);
  vtkNew<vtkPolyDataMapper> mapper;
  mapper->SetInputConnection(source->GetOutputPort());
  cone_ = vtkSmartPointer<vtkActor>::New();
  cone_->SetMapper(mapper);
  vtkProperty* look = cone_->GetProperty();
  look->SetColor(1.0, 0.0, 0.0);
  look->LightingOff();
  look->SetAmbient(1.0);
  look->SetDiffuse(0.0);
  look->SetSpecular(0.0);

  vtkRenderer* renderer = widget_->renderer();
  renderer->AddActor(cone_);
  renderer->SetBackground(0.0, 0.0, 1.0);
  vtkCamera* camera = renderer->GetActiveCamera();
  camera->ParallelProjectionOn();
  camera->SetParallelScale(kParallelScale);
  camera->SetPosition(0.0, 0.0, 5.0);
  camera->SetFocalPoint(0.0, 0.0, 0.0);
  camera->SetViewUp(0.0, 1.0, 0.0);
  renderer->ResetCameraClippingRange();

  widget_->resize(kWidth, kHeight);
  widget_->show();
  QVERIFY(QTest::qWaitForWindowExposed(widget_.get()));
  QVERIFY2(!grab().isNull() && widget_->renderingReady(),
           "VTK could not initialise OpenGL on the widget's context (see the log above)");
}

void VtkOpenGLWidgetTest::cleanup() {
  widget_.reset();  // exercises Finalize() on a live context every time
  cone_ = nullptr;
}

QImage VtkOpenGLWidgetTest::grab() const {
  return widget_->grabFramebuffer().convertToFormat(QImage::Format_ARGB32);
}

QSize VtkOpenGLWidgetTest::deviceSize() const {
  return widget_->size() * widget_->devicePixelRatioF();
}

double VtkOpenGLWidgetTest::devicePixelsPerUnit() const {
  return deviceSize().height() / (2.0 * kParallelScale);
}

void VtkOpenGLWidgetTest::sendMouse(QEvent::Type type, QPoint pos, Qt::MouseButton button, Qt::MouseButtons buttons) {
  QMouseEvent event(type, QPointF(pos), QPointF(widget_->mapToGlobal(pos)), button, buttons, Qt::NoModifier);
  QCoreApplication::sendEvent(widget_.get(), &event);
}

void VtkOpenGLWidgetTest::contextHasRequestedFormat() {
  QOpenGLContext* context = widget_->context();
  QVERIFY(context != nullptr);
  const QSurfaceFormat format = context->format();
  QCOMPARE(format.profile(), QSurfaceFormat::CoreProfile);
  QVERIFY2(format.version() >= qMakePair(3, 2),
           qPrintable(QStringLiteral("OpenGL %1.%2").arg(format.majorVersion()).arg(format.minorVersion())));
  QVERIFY(format.depthBufferSize() >= 24);
  QVERIFY(format.alphaBufferSize() >= 8);
}

void VtkOpenGLWidgetTest::rendersKnownScene() {
  QSignalSpy frames(widget_.get(), &VtkOpenGLWidget::frameRendered);
  const QImage image = grab();
  NECO_CHECK_FRAME(image, sceneProblem(image, deviceSize(), devicePixelsPerUnit()));
  QVERIFY(frames.count() >= 1);
}

void VtkOpenGLWidgetTest::renderWindowRenderIsShownWithoutRenderingAgain() {
  QVERIFY(!grab().isNull());  // the first frame is out; nothing pending
  RenderCounter renders(widget_->renderWindow());
  QSignalSpy frames(widget_.get(), &VtkOpenGLWidget::frameRendered);

  widget_->renderer()->SetBackground(0.0, 1.0, 0.0);
  widget_->doneCurrent();             // VTK must make the context current through the widget
  widget_->renderWindow()->Render();  // outside paintGL(): the widget schedules a paint
  QCOMPARE(renders.count(), 1);
  QVERIFY(frames.wait(5000));
  QCOMPARE(renders.count(), 1);  // the paint showed that render instead of rendering again

  const QImage image = grab();
  NECO_CHECK_FRAME(
      image, isColour(image.pixel(1, 1), 0, 255, 0)
                 ? QString()
                 : QStringLiteral("corner is %1 after the background turned green").arg(describe(image.pixel(1, 1))));
}

void VtkOpenGLWidgetTest::leftDragRotatesCamera() {
  vtkCamera* camera = widget_->renderer()->GetActiveCamera();
  double before[3];
  camera->GetPosition(before);
  const QImage first = grab();
  NECO_CHECK_FRAME(first, sceneProblem(first, deviceSize(), devicePixelsPerUnit()));

  const int y = kHeight / 2;
  sendMouse(QEvent::MouseButtonPress, QPoint(100, y), Qt::LeftButton, Qt::LeftButton);
  for (int x = 115; x <= 160; x += 15) {
    sendMouse(QEvent::MouseMove, QPoint(x, y), Qt::NoButton, Qt::LeftButton);
  }
  sendMouse(QEvent::MouseButtonRelease, QPoint(160, y), Qt::LeftButton, Qt::NoButton);

  double after[3];
  camera->GetPosition(after);
  const double moved = std::hypot(after[0] - before[0], after[1] - before[1], after[2] - before[2]);
  QVERIFY2(moved > 1.0, qPrintable(QStringLiteral("camera moved by %1").arg(moved)));

  const QImage second = grab();
  NECO_CHECK_FRAME(second, changeProblem(first, second, "the drag"));
  NECO_CHECK_FRAME(second, movedSceneProblem(second));
}

void VtkOpenGLWidgetTest::dragFollowsVtkBottomUpY() {
  // Dragging up on screen (Qt's y shrinks) is a positive dy for VTK, whose y grows upwards; the
  // trackball style then elevates by a negative angle and the camera sinks below the focal point.
  const int x = kWidth / 2;
  sendMouse(QEvent::MouseButtonPress, QPoint(x, 160), Qt::LeftButton, Qt::LeftButton);
  sendMouse(QEvent::MouseMove, QPoint(x, 130), Qt::NoButton, Qt::LeftButton);
  sendMouse(QEvent::MouseMove, QPoint(x, 100), Qt::NoButton, Qt::LeftButton);
  sendMouse(QEvent::MouseButtonRelease, QPoint(x, 100), Qt::LeftButton, Qt::NoButton);
  double position[3];
  widget_->renderer()->GetActiveCamera()->GetPosition(position);
  QVERIFY2(position[1] < -0.5 && std::abs(position[0]) < 1e-6,
           qPrintable(QStringLiteral("camera at (%1, %2, %3)").arg(position[0]).arg(position[1]).arg(position[2])));
}

void VtkOpenGLWidgetTest::wheelZoomsInWholeNotches() {
  vtkCamera* camera = widget_->renderer()->GetActiveCamera();
  const QPointF centre(kWidth / 2.0, kHeight / 2.0);
  auto wheel = [&](int angle) {
    QWheelEvent event(centre, widget_->mapToGlobal(centre), QPoint(), QPoint(0, angle), Qt::NoButton, Qt::NoModifier,
                      Qt::NoScrollPhase, false);
    QCoreApplication::sendEvent(widget_.get(), &event);
  };
  wheel(60);  // half a notch: nothing yet
  QCOMPARE(camera->GetParallelScale(), kParallelScale);
  wheel(60);  // completes the notch: zooms in
  QVERIFY2(camera->GetParallelScale() < kParallelScale, qPrintable(QString::number(camera->GetParallelScale())));

  // The triangle grows with the zoom: the frame shows the new camera.
  const double zoomed = camera->GetParallelScale();
  const QImage image = grab();
  const double expected = 0.5 * std::pow(deviceSize().height() / (2.0 * zoomed), 2.0);
  const int red = measure(image).redPixels;
  NECO_CHECK_FRAME(image, std::abs(red / expected - 1.0) < 0.08
                              ? QString()
                              : QStringLiteral("%1 red pixels after the zoom, expected %2").arg(red).arg(expected));
}

void VtkOpenGLWidgetTest::keyReachesInteractorStyle() {
  const QImage solid = grab();
  // The trackball style's 'w' switches every actor to wireframe.
  QTest::keyClick(widget_.get(), Qt::Key_W);
  QCOMPARE(cone_->GetProperty()->GetRepresentation(), VTK_WIREFRAME);

  const QImage wireframe = grab();
  NECO_CHECK_FRAME(wireframe, changeProblem(solid, wireframe, "the 'w' key"));
}

void VtkOpenGLWidgetTest::resizeFollowsWidget() {
  QVERIFY(!grab().isNull());
  // A different aspect ratio: a frame stretched from the old size would show a wider triangle.
  widget_->resize(2 * kWidth, kHeight + kHeight / 2);
  QTRY_COMPARE(widget_->size(), QSize(2 * kWidth, kHeight + kHeight / 2));

  const QImage image = grab();
  NECO_CHECK_FRAME(image, sceneProblem(image, deviceSize(), devicePixelsPerUnit()));
  const int* vtkSize = widget_->renderWindow()->GetSize();
  QCOMPARE(QSize(vtkSize[0], vtkSize[1]), deviceSize());
  const int* interactorSize = widget_->interactor()->GetSize();
  QCOMPARE(QSize(interactorSize[0], interactorSize[1]), deviceSize());
}

void VtkOpenGLWidgetTest::survivesMoveToAnotherWindow() {
  QVERIFY(!grab().isNull());
  // A new top-level window gives the widget a new context: Qt destroys the old one (VTK must let
  // go of its GL objects on aboutToBeDestroyed) and runs initializeGL() again.
  auto host = std::make_unique<QWidget>();
  host->resize(kWidth, kHeight);
  widget_->setParent(host.get());
  const auto unparent = qScopeGuard([this] { widget_->setParent(nullptr); });  // before ~host
  widget_->setGeometry(0, 0, kWidth, kHeight);
  widget_->show();
  host->show();
  QVERIFY(QTest::qWaitForWindowExposed(host.get()));

  const QImage image = grab();
  QVERIFY(widget_->renderingReady());
  NECO_CHECK_FRAME(image, sceneProblem(image, deviceSize(), devicePixelsPerUnit()));
}

void VtkOpenGLWidgetTest::renderWindowOutlivesWidget() {
  QVERIFY(!grab().isNull());
  vtkSmartPointer<vtkRenderWindow> window = widget_->renderWindow();
  vtkSmartPointer<vtkRenderWindowInteractor> interactor = widget_->interactor();
  RenderCounter renders(window);
  widget_.reset();

  // Nothing may call back into the destroyed widget, and nothing renders without its context.
  window->Render();
  interactor->SetEventInformationFlipY(10, 10);
  interactor->InvokeEvent(vtkCommand::LeftButtonPressEvent, nullptr);
  interactor->InvokeEvent(vtkCommand::MouseMoveEvent, nullptr);
  interactor->InvokeEvent(vtkCommand::LeftButtonReleaseEvent, nullptr);
  interactor->Render();
  QCOMPARE(renders.count(), 0);
}

// Debian's libtorch_cpu depends on libopencv_highgui, which links Qt 5: its libraries get mapped
// into every LibTorch process, though nothing ever initialises them. What we promise is narrower and
// checkable: neither our binaries nor VTK link Qt 5 (no VTK::GUISupportQt), so the only way Qt 5 gets
// in is that transitive one, and everything that draws is Qt 6.
void VtkOpenGLWidgetTest::noQt5LibraryLoaded() {
  QProcess readelf;
  readelf.start(QStringLiteral("readelf"), {QStringLiteral("-d"), QCoreApplication::applicationFilePath()});
  QVERIFY2(readelf.waitForFinished(30000) && readelf.exitCode() == 0, "readelf -d on the test binary failed");
  const QString needed = QString::fromLocal8Bit(readelf.readAllStandardOutput());
  QVERIFY2(needed.contains(QStringLiteral("libQt6Widgets")), "readelf output looks incomplete");
  QVERIFY2(!needed.contains(QStringLiteral("libQt5")), qPrintable(needed));
  QVERIFY2(!needed.contains(QStringLiteral("GUISupportQt")), qPrintable(needed));

  std::ifstream maps("/proc/self/maps");
  QVERIFY2(maps.is_open(), "cannot read /proc/self/maps");
  bool sawQt6OpenGLWidgets = false, sawVtkOpenGL2 = false, sawQt5 = false, sawHighgui = false;
  for (std::string line; std::getline(maps, line);) {
    QVERIFY2(line.find("GUISupportQt") == std::string::npos, line.c_str());
    sawQt6OpenGLWidgets |= line.find("libQt6OpenGLWidgets") != std::string::npos;
    sawVtkOpenGL2 |= line.find("libvtkRenderingOpenGL2") != std::string::npos;
    sawQt5 |= line.find("libQt5") != std::string::npos;
    sawHighgui |= line.find("libopencv_highgui") != std::string::npos;
  }
  QVERIFY2(sawQt6OpenGLWidgets && sawVtkOpenGL2, "the maps were read but look incomplete");
  QVERIFY2(!sawQt5 || sawHighgui, "Qt 5 is mapped by some route other than LibTorch -> OpenCV highgui");
  QCOMPARE(QString::fromLatin1(qVersion()).left(2), QStringLiteral("6."));
}

QTEST_MAIN(VtkOpenGLWidgetTest)
#include "VtkOpenGLWidgetTest.moc"
