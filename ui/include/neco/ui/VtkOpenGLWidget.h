#pragma once
// A Qt 6 widget that shows a VTK render window: the studio's bridge for its 3-D views, because
// Debian's VTK 9.1 builds its own Qt module (VTK::GUISupportQt) against Qt 5.
//
// NOTE: never link VTK::GUISupportQt in a process that uses this widget: Qt 5 and Qt 6 cannot share
//       a process.
// NOTE: the widget needs Qt's X11 platform (QT_QPA_PLATFORM=xcb): VTK 9.1 initialises OpenGL
//       through GLEW/GLX and fails on native Wayland and on Qt's "offscreen" platform. Choosing the
//       platform is the application's job; under Xvfb the default already is xcb.
// NOTE: call setDefaultSurfaceFormat() before the QApplication is constructed.
// NOTE: <QOpenGLWidget> includes <GL/gl.h>. A file that also needs VTK's GL headers (vtk_glew.h and
//       the vtkOpenGL* classes that include it) must include those before this header, or GLEW
//       stops the build with "gl.h included before glew.h". This header itself names VTK types only
//       by forward declaration.
//
// How a frame is made: VTK renders into its own framebuffers inside paintGL() and the result is
// blitted into this widget's framebuffer. The interactor's render requests (camera moves from the
// mouse, wheel and keys) are deferred to the next paintGL(), so a burst of mouse moves costs one
// render per displayed frame. After changing the scene, call update() to render at the next paint,
// or renderWindow()->Render() to render at once (the result is shown at the next paint).
//
// Typical use:
//   VtkOpenGLWidget::setDefaultSurfaceFormat();            // before QApplication
//   QApplication app(argc, argv);
//   VtkOpenGLWidget view;
//   view.renderer()->AddActor(actor);
//   view.renderer()->ResetCamera();
//   view.show();

#include <QOpenGLWidget>
#include <QSurfaceFormat>

#include <vtkSmartPointer.h>

class QEnterEvent;
class QEvent;
class QKeyEvent;
class QMouseEvent;
class QSurface;
class QWheelEvent;

class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkObject;
class vtkRenderWindow;
class vtkRenderWindowInteractor;
class vtkRenderer;

namespace neco::ui {

class VtkOpenGLWidget : public QOpenGLWidget {
  Q_OBJECT

 public:
  /// Creates the render window, its interactor (trackball-camera style) and one renderer that
  /// covers the whole viewport. No OpenGL work happens before the widget is first shown.
  /// Throws std::bad_alloc only.
  explicit VtkOpenGLWidget(QWidget* parent = nullptr, Qt::WindowFlags flags = {});

  /// Releases VTK's OpenGL resources while this widget's context still exists. Never throws.
  ~VtkOpenGLWidget() override;

  /// The surface format VTK 9.1 needs: OpenGL 3.2 core profile, 24-bit depth, 8-bit stencil and
  /// alpha, double buffering, no multisampling (VTK renders into its own framebuffers; Qt's
  /// multisampled framebuffer would only be blitted into). Never throws.
  static QSurfaceFormat defaultSurfaceFormat();

  /// Makes defaultSurfaceFormat() Qt's default. Must run before the QApplication is constructed
  /// (Qt reads the default format when it creates the global share context). Never throws.
  static void setDefaultSurfaceFormat();

  /// The VTK render window (a vtkGenericOpenGLRenderWindow) drawn by this widget. Owned by the
  /// widget; keep a vtkSmartPointer to use it past the widget's lifetime. Never null.
  vtkRenderWindow* renderWindow() const noexcept;

  /// The interactor that receives this widget's mouse, wheel, key and enter/leave events in device
  /// pixels with VTK's bottom-up Y. Its style defaults to vtkInteractorStyleTrackballCamera;
  /// replace it with SetInteractorStyle(). Render requests of the interactor are deferred to the
  /// next paintGL() (EnableRender is off; its RenderEvent schedules update()). Timers
  /// (CreateTimer) are not implemented. Never null.
  vtkRenderWindowInteractor* interactor() const noexcept;

  /// The default renderer, created with the widget and covering the whole viewport. More
  /// renderers (overlays, side-by-side viewports) can be added with
  /// renderWindow()->AddRenderer(). Never null.
  vtkRenderer* renderer() const noexcept;

  /// True once initializeGL() has set VTK up on the widget's current context. False before the
  /// widget is first shown, and when VTK could not initialise OpenGL (the reason is logged with
  /// qCritical; the widget then shows grey). Never throws.
  bool renderingReady() const noexcept;

 Q_SIGNALS:
  /// Emitted at the end of every paintGL() that put a VTK frame into the widget (rendered in that
  /// paint, or by an earlier renderWindow()->Render()). The widget's context is current and Qt is
  /// still painting: connect with Qt::QueuedConnection to grab the framebuffer, resize or delete
  /// the widget from the slot.
  void frameRendered();

 protected:
  void initializeGL() override;
  void paintGL() override;

  void mousePressEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void keyReleaseEvent(QKeyEvent* event) override;
  void enterEvent(QEnterEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  // Connected to QOpenGLWidget::resized (widget resize or device-pixel-ratio change).
  void syncSizeToVtk();
  // Connected (direct) to the context's aboutToBeDestroyed: VTK frees its GL objects in time.
  void releaseVtkGraphics();

  void onRenderWindowEvent(vtkObject* caller, unsigned long eventId, void* callData);
  void onInteractorRender(vtkObject* caller, unsigned long eventId, void* callData);

  void forwardMouseEvent(QMouseEvent* event, unsigned long vtkEventId, int repeatCount);
  void forwardKeyEvent(QKeyEvent* event, bool pressed);
  void setEventPosition(const QPointF& logicalPos, Qt::KeyboardModifiers modifiers);
  void beginExternalRender();
  void endExternalRender();
  void blitToWidget();
  bool contextIsCurrent() const;

  vtkSmartPointer<vtkGenericOpenGLRenderWindow> renderWindow_;
  vtkSmartPointer<vtkGenericRenderWindowInteractor> interactor_;
  vtkSmartPointer<vtkRenderer> renderer_;
  unsigned long renderWindowObservers_[6] = {};
  unsigned long interactorRenderObserver_ = 0;
  QMetaObject::Connection contextConnection_;
  QSurface* glSurface_ = nullptr;  // the offscreen surface Qt made the context current with

  bool vtkGlReady_ = false;        // OpenGLInitContext succeeded on the current context
  bool inPaint_ = false;           // inside paintGL(): VTK renders need no state guard
  bool inExternalRender_ = false;  // a Render() called outside paintGL() is running
  bool frameIsFresh_ = false;      // the display framebuffer holds a render not yet blitted
  int wheelRemainderX_ = 0;        // angle deltas below one notch (120), kept for touchpads
  int wheelRemainderY_ = 0;
};

}  // namespace neco::ui
