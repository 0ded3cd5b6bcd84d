#include "neco/ui/DemoBootstrap.h"

#include "neco/core/DemoDataset.h"

#include <QDir>
#include <QFile>
#include <QPointer>
#include <QTextStream>
#include <QThread>

#include <spdlog/spdlog.h>

namespace neco::ui {

DemoBootstrap::DemoBootstrap(QObject* parent) : QObject(parent) {}

DemoBootstrap::~DemoBootstrap() {
  if (thread_) thread_->wait();
}

QStringList DemoBootstrap::listImages(const QString& root) {
  QStringList images;
  const QDir dir(root);
  for (const char* split : {"val", "train"}) {
    QFile list(dir.filePath(QStringLiteral("ImageSets/Segmentation/%1.txt").arg(QLatin1String(split))));
    if (!list.open(QIODevice::ReadOnly | QIODevice::Text)) continue;
    QTextStream in(&list);
    while (!in.atEnd()) {
      const QString id = in.readLine().trimmed();
      if (!id.isEmpty()) images << dir.filePath(QStringLiteral("JPEGImages/%1.jpg").arg(id));
    }
  }
  return images;
}

void DemoBootstrap::start(const QString& root) {
  if (thread_) {
    thread_->wait();
    thread_->deleteLater();
  }
  QPointer<DemoBootstrap> self(this);
  thread_ = QThread::create([self, root] {
    QString error;
    try {
      writeDemoDataset(root.toStdString(), DemoDatasetOptions{});  // no-op when already there
    } catch (const std::exception& e) {
      error = QString::fromStdString(e.what());
    } catch (...) {
      error = QStringLiteral("unknown error while writing the demo dataset");
    }
    if (!self) return;
    if (!error.isEmpty()) {
      spdlog::error("demo dataset: {}", error.toStdString());
      QMetaObject::invokeMethod(self, [self, root, error] { if (self) Q_EMIT self->failed(root, error); },
                                Qt::QueuedConnection);
      return;
    }
    const QStringList images = listImages(root);
    QMetaObject::invokeMethod(self, [self, root, images] { if (self) Q_EMIT self->ready(root, images); },
                              Qt::QueuedConnection);
  });
  thread_->setParent(this);
  thread_->start();
}

}  // namespace neco::ui
