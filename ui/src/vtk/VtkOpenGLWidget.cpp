// The Qt 6 <-> VTK 9.1 bridge; VtkOpenGLWidget.h lists the rules it keeps.

#include "neco/ui/VtkOpenGLWidget.h"

// NOTE: no vtk_glew.h in this file. The header above pulls in Qt's <GL/gl.h> (GLEW refuses to come
// after it); the GL enums used here come from Qt's headers and every GL call goes through VTK's
// state cache (vtkOpenGLState), so VTK's cached bindings stay true.
#include <QCoreApplication>
#include <QCursor>
#include <QEnterEvent>
#include <QGuiApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QScreen>
#include <QWheelEvent>

#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkRenderer.h>

#include <array>
#include <cstddef>
#include <exception>
#include <iterator>
#include <string>

namespace neco::ui {
namespace {

// Qt calls the overrides below from its event loop, VTK calls the observers from its render loop:
// neither may see an exception.
template <typename Body>
void runGuarded(const char* where, Body&& body) noexcept {
  try {
    body();
  } catch (const std::exception& e) {
    qCritical("VtkOpenGLWidget::%s: %s", where, e.what());
  } catch (...) {
    qCritical("VtkOpenGLWidget::%s: unknown exception", where);
  }
}

// Sets a flag for the lifetime of a scope, even when the scope is left by an exception.
class FlagScope {
 public:
  explicit FlagScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~FlagScope() { flag_ = false; }
  FlagScope(const FlagScope&) = delete;
  FlagScope& operator=(const FlagScope&) = delete;

 private:
  bool& flag_;
};

// Collects the VTK errors an object raises while it is alive (instead of VTK's output window).
class ScopedVtkErrorCatcher {
 public:
  ScopedVtkErrorCatcher(vtkObject* source, std::string& firstError) : source_(source), firstError_(firstError) {
    id_ = source_->AddObserver(vtkCommand::ErrorEvent, this, &ScopedVtkErrorCatcher::onError);
  }
  ~ScopedVtkErrorCatcher() { source_->RemoveObserver(id_); }
  ScopedVtkErrorCatcher(const ScopedVtkErrorCatcher&) = delete;
  ScopedVtkErrorCatcher& operator=(const ScopedVtkErrorCatcher&) = delete;

 private:
  void onError(vtkObject*, unsigned long, void* message) {
    if (!firstError_.empty()) return;
    firstError_ = message != nullptr ? static_cast<const char*>(message) : "unknown VTK error";
    while (!firstError_.empty() && (firstError_.back() == '\n' || firstError_.back() == ' ')) {
      firstError_.pop_back();
    }
  }

  vtkObject* source_;
  std::string& firstError_;
  unsigned long id_ = 0;
};

// X11 keysym names of printable ASCII (32..126): the names VTK's interactor styles compare against.
// clang-format off
constexpr std::array<const char*, 95> kAsciiKeySyms = {
    "space",     "exclam",    "quotedbl",     "numbersign",  "dollar",     "percent",
    "ampersand", "apostrophe", "parenleft",   "parenright",  "asterisk",   "plus",
    "comma",     "minus",     "period",       "slash",       "0",          "1",
    "2",         "3",         "4",            "5",           "6",          "7",
    "8",         "9",         "colon",        "semicolon",   "less",       "equal",
    "greater",   "question",  "at",           "A",           "B",          "C",
    "D",         "E",         "F",            "G",           "H",          "I",
    "J",         "K",         "L",            "M",           "N",          "O",
    "P",         "Q",         "R",            "S",           "T",          "U",
    "V",         "W",         "X",            "Y",           "Z",          "bracketleft",
    "backslash", "bracketright", "asciicircum", "underscore", "grave",     "a",
    "b",         "c",         "d",            "e",           "f",          "g",
    "h",         "i",         "j",            "k",           "l",          "m",
    "n",         "o",         "p",            "q",           "r",          "s",
    "t",         "u",         "v",            "w",           "x",          "y",
    "z",         "braceleft", "bar",          "braceright",  "asciitilde"};
// clang-format on

struct KeySymName {
  int key;
  const char* keySym;
};

// X11 keysym names of the keys without printable text.
// clang-format off
constexpr KeySymName kSpecialKeySyms[] = {
    {Qt::Key_Backspace, "BackSpace"}, {Qt::Key_Tab, "Tab"},           {Qt::Key_Backtab, "Tab"},
    {Qt::Key_Return, "Return"},       {Qt::Key_Enter, "KP_Enter"},    {Qt::Key_Escape, "Escape"},
    {Qt::Key_Delete, "Delete"},       {Qt::Key_Insert, "Insert"},     {Qt::Key_Home, "Home"},
    {Qt::Key_End, "End"},             {Qt::Key_Left, "Left"},         {Qt::Key_Up, "Up"},
    {Qt::Key_Right, "Right"},         {Qt::Key_Down, "Down"},         {Qt::Key_PageUp, "Prior"},
    {Qt::Key_PageDown, "Next"},       {Qt::Key_Shift, "Shift_L"},     {Qt::Key_Control, "Control_L"},
    {Qt::Key_Alt, "Alt_L"},           {Qt::Key_Meta, "Super_L"},      {Qt::Key_CapsLock, "Caps_Lock"},
    {Qt::Key_NumLock, "Num_Lock"},    {Qt::Key_ScrollLock, "Scroll_Lock"}, {Qt::Key_Pause, "Pause"},
    {Qt::Key_Print, "Print"},         {Qt::Key_F1, "F1"},             {Qt::Key_F2, "F2"},
    {Qt::Key_F3, "F3"},               {Qt::Key_F4, "F4"},             {Qt::Key_F5, "F5"},
    {Qt::Key_F6, "F6"},               {Qt::Key_F7, "F7"},             {Qt::Key_F8, "F8"},
    {Qt::Key_F9, "F9"},               {Qt::Key_F10, "F10"},           {Qt::Key_F11, "F11"},
    {Qt::Key_F12, "F12"}};
// clang-format on

const char* keySymForSpecialKey(int key) {
  for (const KeySymName& entry : kSpecialKeySyms) {
    if (entry.key == key) return entry.keySym;
  }
  return nullptr;
}

int vtkButtonEvent(Qt::MouseButton button, bool pressed) {
  switch (button) {
    case Qt::LeftButton:
      return pressed ? vtkCommand::LeftButtonPressEvent : vtkCommand::LeftButtonReleaseEvent;
    case Qt::MiddleButton:
      return pressed ? vtkCommand::MiddleButtonPressEvent : vtkCommand::MiddleButtonReleaseEvent;
    case Qt::RightButton:
      return pressed ? vtkCommand::RightButtonPressEvent : vtkCommand::RightButtonReleaseEvent;
    default:
      return vtkCommand::NoEvent;
  }
}

Qt::CursorShape qtCursorFor(int vtkCursor) {
  switch (vtkCursor) {
    case VTK_CURSOR_CROSSHAIR:
      return Qt::CrossCursor;
    case VTK_CURSOR_SIZEALL:
      return Qt::SizeAllCursor;
    case VTK_CURSOR_SIZENS:
      return Qt::SizeVerCursor;
    case VTK_CURSOR_SIZEWE:
      return Qt::SizeHorCursor;
    case VTK_CURSOR_SIZENE:
    case VTK_CURSOR_SIZESW:
      return Qt::SizeBDiagCursor;
    case VTK_CURSOR_SIZENW:
    case VTK_CURSOR_SIZESE:
      return Qt::SizeFDiagCursor;
    case VTK_CURSOR_HAND:
      return Qt::PointingHandCursor;
    default:
      return Qt::ArrowCursor;
  }
}

constexpr int kWheelNotch = 120;  // QWheelEvent::angleDelta() units of one wheel step

}  // namespace

VtkOpenGLWidget::VtkOpenGLWidget(QWidget* parent, Qt::WindowFlags flags)
    : QOpenGLWidget(parent, flags),
      renderWindow_(vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New()),
      interactor_(vtkSmartPointer<vtkGenericRenderWindowInteractor>::New()),
      renderer_(vtkSmartPointer<vtkRenderer>::New()) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(true);  // VTK styles and widgets want moves without a button too (hover, pick)
  setUpdateBehavior(QOpenGLWidget::NoPartialUpdate);

  // Nothing may render before initializeGL() has handed VTK a context.
  renderWindow_->SetReadyForRendering(false);
  // The blit into Qt's framebuffer happens in paintGL(), not at the end of VTK's Render().
  renderWindow_->SetFrameBlitModeToNoBlit();
  // Core profiles cap the hardware line width; with this VTK draws wide lines itself.
  renderWindow_->SetForceMaximumHardwareLineWidth(1);
  renderWindow_->AddRenderer(renderer_);

  const unsigned long windowEvents[] = {vtkCommand::WindowMakeCurrentEvent,
                                        vtkCommand::WindowIsCurrentEvent,
                                        vtkCommand::WindowFrameEvent,
                                        vtkCommand::StartEvent,
                                        vtkCommand::EndEvent,
                                        vtkCommand::CursorChangedEvent};
  static_assert(sizeof(windowEvents) == sizeof(renderWindowObservers_), "one id per event");
  for (std::size_t i = 0; i < std::size(windowEvents); ++i) {
    renderWindowObservers_[i] =
        renderWindow_->AddObserver(windowEvents[i], this, &VtkOpenGLWidget::onRenderWindowEvent);
  }

  interactor_->SetRenderWindow(renderWindow_);
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  interactor_->SetInteractorStyle(style);
  // Interactor renders become update(): they are coalesced and done inside paintGL().
  interactor_->EnableRenderOff();
  interactorRenderObserver_ =
      interactor_->AddObserver(vtkCommand::RenderEvent, this, &VtkOpenGLWidget::onInteractorRender);
  interactor_->Initialize();

  connect(this, &QOpenGLWidget::resized, this, &VtkOpenGLWidget::syncSizeToVtk);
}

VtkOpenGLWidget::~VtkOpenGLWidget() {
  // The base destructor destroys the context and emits aboutToBeDestroyed after this object is
  // gone: cut that connection first and release VTK's GL objects here instead.
  QObject::disconnect(contextConnection_);
  runGuarded("~VtkOpenGLWidget", [this] {
    if (vtkGlReady_ && context() != nullptr) {
      makeCurrent();
      releaseVtkGraphics();
      doneCurrent();
    }
    for (unsigned long id : renderWindowObservers_) renderWindow_->RemoveObserver(id);
    interactor_->RemoveObserver(interactorRenderObserver_);
    renderWindow_->SetReadyForRendering(false);
  });
}

QSurfaceFormat VtkOpenGLWidget::defaultSurfaceFormat() {
  QSurfaceFormat format;
  format.setRenderableType(QSurfaceFormat::OpenGL);
  format.setVersion(3, 2);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
  format.setRedBufferSize(8);
  format.setGreenBufferSize(8);
  format.setBlueBufferSize(8);
  format.setAlphaBufferSize(8);
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(8);
  format.setSamples(0);
  format.setStereo(false);
  return format;
}

void VtkOpenGLWidget::setDefaultSurfaceFormat() {
  if (QCoreApplication::instance() != nullptr) {
    qWarning(
        "VtkOpenGLWidget::setDefaultSurfaceFormat() called after the QApplication was "
        "created: Qt's global share context may already use another format");
  }
  QSurfaceFormat::setDefaultFormat(defaultSurfaceFormat());
}

vtkRenderWindow* VtkOpenGLWidget::renderWindow() const noexcept {
  return renderWindow_;
}

vtkRenderWindowInteractor* VtkOpenGLWidget::interactor() const noexcept {
  return interactor_;
}

vtkRenderer* VtkOpenGLWidget::renderer() const noexcept {
  return renderer_;
}

bool VtkOpenGLWidget::renderingReady() const noexcept {
  return vtkGlReady_;
}

// ---- OpenGL life cycle --------------------------------------------------------------------------

void VtkOpenGLWidget::initializeGL() {
  runGuarded("initializeGL", [this] {
    // Also runs again after a reparent into another window gave the widget a new context.
    QObject::disconnect(contextConnection_);
    contextConnection_ = connect(context(), &QOpenGLContext::aboutToBeDestroyed, this,
                                 &VtkOpenGLWidget::releaseVtkGraphics, Qt::DirectConnection);
    glSurface_ = context()->surface();

    vtkOpenGLState* state = renderWindow_->GetState();
    state->Reset();                    // Qt has touched the context: re-read the real GL state
    state->vtkglDepthFunc(GL_LEQUAL);  // Qt leaves GL_LESS; VTK's passes assume GL_LEQUAL
    renderWindow_->SetReadyForRendering(true);
    renderWindow_->SetOwnContext(false);
    std::string initError;
    {
      // OpenGLInitContext() reports a failed GLEW/GLX set-up only as a VTK error.
      const ScopedVtkErrorCatcher catcher(renderWindow_, initError);
      renderWindow_->OpenGLInitContext();
    }
    if (!initError.empty()) {
      renderWindow_->SetReadyForRendering(false);
      qCritical(
          "VtkOpenGLWidget: VTK could not initialise OpenGL on Qt platform '%s' (%s). "
          "VTK 9.1 needs GLX: run with QT_QPA_PLATFORM=xcb.",
          qPrintable(QGuiApplication::platformName()), initError.c_str());
      return;
    }
    vtkGlReady_ = true;
    frameIsFresh_ = false;
    syncSizeToVtk();
  });
}

void VtkOpenGLWidget::releaseVtkGraphics() {
  runGuarded("releaseVtkGraphics", [this] {
    if (!vtkGlReady_) return;
    // Qt keeps the surface alive until after this signal, so the context can still be made current.
    if (!contextIsCurrent()) makeCurrent();
    renderWindow_->Finalize();
    renderWindow_->SetReadyForRendering(false);
    vtkGlReady_ = false;
    frameIsFresh_ = false;
    glSurface_ = nullptr;
  });
}

void VtkOpenGLWidget::paintGL() {
  runGuarded("paintGL", [this] {
    if (!vtkGlReady_) {
      // No VTK frame to show: paint an opaque neutral grey rather than undefined memory.
      QOpenGLFunctions* gl = context()->functions();
      gl->glClearColor(0.5f, 0.5f, 0.5f, 1.0f);
      gl->glClear(GL_COLOR_BUFFER_BIT);
      return;
    }
    vtkOpenGLState* state = renderWindow_->GetState();
    state->Reset();
    state->Push();
    state->vtkglDepthFunc(GL_LEQUAL);
    if (!frameIsFresh_) {
      FlagScope painting(inPaint_);
      renderWindow_->Render();
    }
    frameIsFresh_ = false;
    blitToWidget();
    state->Pop();
    Q_EMIT frameRendered();
  });
}

void VtkOpenGLWidget::blitToWidget() {
  vtkOpenGLState* state = renderWindow_->GetState();
  vtkOpenGLFramebufferObject* rendered = renderWindow_->GetRenderFramebuffer();
  const QSize target = size() * devicePixelRatioF();

  state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  unsigned int drawBuffer = GL_COLOR_ATTACHMENT0;
  state->vtkglDrawBuffers(1, &drawBuffer);
  state->vtkglDisable(GL_SCISSOR_TEST);  // a scissor would clip the blit
  if (rendered != nullptr) {
    const int* last = rendered->GetLastSize();
    renderWindow_->BlitDisplayFramebuffer(0, 0, 0, last[0], last[1], 0, 0, target.width(), target.height(),
                                          GL_COLOR_BUFFER_BIT, GL_LINEAR);
  }
  // NOTE: force alpha to 1. Mesa leaves it 0 after the blit and the composed widget (and
  // grabFramebuffer()) would come out black.
  state->vtkglColorMask(GL_FALSE, GL_FALSE, GL_FALSE, GL_TRUE);
  state->vtkglClearColor(0.0f, 0.0f, 0.0f, 1.0f);
  state->vtkglViewport(0, 0, target.width(), target.height());
  state->vtkglClear(GL_COLOR_BUFFER_BIT);
}

void VtkOpenGLWidget::syncSizeToVtk() {
  runGuarded("syncSizeToVtk", [this] {
    const qreal ratio = devicePixelRatioF();
    const QSize device = size() * ratio;
    // Resizes the render window too; the interactor needs the height to flip Y.
    interactor_->UpdateSize(device.width(), device.height());
    if (const QScreen* s = screen()) {
      const QSize screenDevice = s->size() * ratio;
      renderWindow_->SetScreenSize(screenDevice.width(), screenDevice.height());
    }
    renderWindow_->SetDPI(qRound(72.0 * ratio));  // text and 2-D actors scale with the ratio
    frameIsFresh_ = false;
  });
}

bool VtkOpenGLWidget::contextIsCurrent() const {
  const QOpenGLContext* current = QOpenGLContext::currentContext();
  return current != nullptr && current == context() && current->surface() == glSurface_;
}

// ---- VTK -> Qt ----------------------------------------------------------------------------------

void VtkOpenGLWidget::onRenderWindowEvent(vtkObject*, unsigned long eventId, void* callData) {
  runGuarded("onRenderWindowEvent", [&] {
    switch (eventId) {
      case vtkCommand::WindowMakeCurrentEvent:
        // NOTE: not QOpenGLWidget::makeCurrent(): it rebinds Qt's framebuffer behind VTK's cached
        // bindings and the frame comes out transparent black.
        if (context() != nullptr && glSurface_ != nullptr && !contextIsCurrent()) {
          context()->makeCurrent(glSurface_);
        }
        break;
      case vtkCommand::WindowIsCurrentEvent:
        *static_cast<bool*>(callData) = contextIsCurrent();
        break;
      case vtkCommand::WindowFrameEvent:
        if (!inPaint_) {
          frameIsFresh_ = true;  // rendered outside paintGL(): show it without rendering again
          update();
        }
        break;
      case vtkCommand::StartEvent:
        if (!inPaint_) beginExternalRender();
        break;
      case vtkCommand::EndEvent:
        if (inExternalRender_) endExternalRender();
        break;
      case vtkCommand::CursorChangedEvent:
        setCursor(QCursor(qtCursorFor(*static_cast<int*>(callData))));
        break;
      default:
        break;
    }
  });
}

// A Render() the application calls outside paintGL() gets the same state guard as paintGL().
void VtkOpenGLWidget::beginExternalRender() {
  vtkOpenGLState* state = renderWindow_->GetState();
  state->Reset();
  state->Push();
  state->vtkglDepthFunc(GL_LEQUAL);
  inExternalRender_ = true;
}

void VtkOpenGLWidget::endExternalRender() {
  inExternalRender_ = false;
  renderWindow_->GetState()->Pop();
}

void VtkOpenGLWidget::onInteractorRender(vtkObject*, unsigned long, void*) {
  runGuarded("onInteractorRender", [this] { update(); });
}

// ---- Qt -> VTK ----------------------------------------------------------------------------------

void VtkOpenGLWidget::setEventPosition(const QPointF& logicalPos, Qt::KeyboardModifiers modifiers) {
  const qreal ratio = devicePixelRatioF();
  interactor_->SetAltKey((modifiers & Qt::AltModifier) ? 1 : 0);
  interactor_->SetEventInformationFlipY(qRound(logicalPos.x() * ratio), qRound(logicalPos.y() * ratio),
                                        (modifiers & Qt::ControlModifier) ? 1 : 0,
                                        (modifiers & Qt::ShiftModifier) ? 1 : 0);
}

void VtkOpenGLWidget::forwardMouseEvent(QMouseEvent* event, unsigned long vtkEventId, int repeatCount) {
  setEventPosition(event->position(), event->modifiers());
  interactor_->SetRepeatCount(repeatCount);
  interactor_->InvokeEvent(vtkEventId, nullptr);
  event->accept();
}

void VtkOpenGLWidget::mousePressEvent(QMouseEvent* event) {
  runGuarded("mousePressEvent", [&] {
    const int id = vtkButtonEvent(event->button(), true);
    if (id == vtkCommand::NoEvent) {
      QOpenGLWidget::mousePressEvent(event);  // a button VTK has no event for (back, forward, ...)
    } else {
      forwardMouseEvent(event, id, 0);
    }
  });
}

void VtkOpenGLWidget::mouseReleaseEvent(QMouseEvent* event) {
  runGuarded("mouseReleaseEvent", [&] {
    const int id = vtkButtonEvent(event->button(), false);
    if (id == vtkCommand::NoEvent) {
      QOpenGLWidget::mouseReleaseEvent(event);  // a button VTK has no event for (back, forward, ...)
    } else {
      forwardMouseEvent(event, id, 0);
    }
  });
}

void VtkOpenGLWidget::mouseDoubleClickEvent(QMouseEvent* event) {
  runGuarded("mouseDoubleClickEvent", [&] {
    // Qt sends the second press of a double click as this event; VTK expects a press with a
    // repeat count.
    const int id = vtkButtonEvent(event->button(), true);
    if (id == vtkCommand::NoEvent) {
      QOpenGLWidget::mouseDoubleClickEvent(event);  // a button VTK has no event for (back, forward, ...)
    } else {
      forwardMouseEvent(event, id, 1);
    }
  });
}

void VtkOpenGLWidget::mouseMoveEvent(QMouseEvent* event) {
  runGuarded("mouseMoveEvent", [&] { forwardMouseEvent(event, vtkCommand::MouseMoveEvent, 0); });
}

void VtkOpenGLWidget::wheelEvent(QWheelEvent* event) {
  runGuarded("wheelEvent", [&] {
    // Touchpads send fractions of a notch: VTK gets one event per accumulated full notch.
    setEventPosition(event->position(), event->modifiers());
    wheelRemainderY_ += event->angleDelta().y();
    wheelRemainderX_ += event->angleDelta().x();
    for (; wheelRemainderY_ >= kWheelNotch; wheelRemainderY_ -= kWheelNotch) {
      interactor_->InvokeEvent(vtkCommand::MouseWheelForwardEvent, nullptr);
    }
    for (; wheelRemainderY_ <= -kWheelNotch; wheelRemainderY_ += kWheelNotch) {
      interactor_->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, nullptr);
    }
    // Qt: a positive horizontal delta is a tilt to the left.
    for (; wheelRemainderX_ >= kWheelNotch; wheelRemainderX_ -= kWheelNotch) {
      interactor_->InvokeEvent(vtkCommand::MouseWheelLeftEvent, nullptr);
    }
    for (; wheelRemainderX_ <= -kWheelNotch; wheelRemainderX_ += kWheelNotch) {
      interactor_->InvokeEvent(vtkCommand::MouseWheelRightEvent, nullptr);
    }
    event->accept();
  });
}

void VtkOpenGLWidget::forwardKeyEvent(QKeyEvent* event, bool pressed) {
  const QString text = event->text();
  char keyCode = 0;
  const char* keySym = nullptr;
  if (text.size() == 1 && text.at(0).unicode() >= 32 && text.at(0).unicode() <= 126) {
    keyCode = static_cast<char>(text.at(0).unicode());
    keySym = kAsciiKeySyms[static_cast<std::size_t>(keyCode - 32)];
  } else {
    keySym = keySymForSpecialKey(event->key());
  }
  // Key events carry no position: VTK picks the renderer under the cursor.
  setEventPosition(mapFromGlobal(QCursor::pos()), event->modifiers());
  interactor_->SetKeyCode(keyCode);
  interactor_->SetKeySym(keySym);
  interactor_->SetRepeatCount(event->isAutoRepeat() ? 1 : 0);
  if (pressed) {
    interactor_->InvokeEvent(vtkCommand::KeyPressEvent, nullptr);
    if (keyCode != 0) interactor_->InvokeEvent(vtkCommand::CharEvent, nullptr);
  } else {
    interactor_->InvokeEvent(vtkCommand::KeyReleaseEvent, nullptr);
  }
  event->accept();
}

void VtkOpenGLWidget::keyPressEvent(QKeyEvent* event) {
  runGuarded("keyPressEvent", [&] { forwardKeyEvent(event, true); });
}

void VtkOpenGLWidget::keyReleaseEvent(QKeyEvent* event) {
  runGuarded("keyReleaseEvent", [&] { forwardKeyEvent(event, false); });
}

void VtkOpenGLWidget::enterEvent(QEnterEvent* event) {
  runGuarded("enterEvent", [&] {
    setEventPosition(event->position(), QGuiApplication::keyboardModifiers());
    interactor_->InvokeEvent(vtkCommand::EnterEvent, nullptr);
    QOpenGLWidget::enterEvent(event);
  });
}

void VtkOpenGLWidget::leaveEvent(QEvent* event) {
  runGuarded("leaveEvent", [&] {
    interactor_->InvokeEvent(vtkCommand::LeaveEvent, nullptr);
    QOpenGLWidget::leaveEvent(event);
  });
}

}  // namespace neco::ui
