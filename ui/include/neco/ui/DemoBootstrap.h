#pragma once
// First-run setup of the embedded demo: makes sure the generated demo dataset exists (writing it on
// a worker thread when missing, so the window appears at once) and lists its images.

#include <QObject>
#include <QString>
#include <QStringList>

class QThread;

namespace neco::ui {

class DemoBootstrap : public QObject {
  Q_OBJECT
 public:
  explicit DemoBootstrap(QObject* parent = nullptr);
  ~DemoBootstrap() override;  ///< waits for a running generation to finish (it is short)

  /// Starts (or restarts) the check/generation for `root`. Emits ready or failed exactly once.
  void start(const QString& root);

  /// The images of a demo dataset's splits, validation first (what the studio opens first).
  static QStringList listImages(const QString& root);

 Q_SIGNALS:
  void ready(QString root, QStringList images);
  void failed(QString root, QString message);

 private:
  QThread* thread_ = nullptr;
};

}  // namespace neco::ui
