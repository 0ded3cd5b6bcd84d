#include "neco/ui/RecentFiles.h"

#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace neco::ui {

RecentFiles::RecentFiles(const QString& title, QString settingsKey, int maximum, QObject* parent)
    : QObject(parent),
      key_(std::move(settingsKey)),
      maximum_(std::max(1, maximum)),
      menu_(std::make_unique<QMenu>(title)) {
  menu_->setObjectName(QStringLiteral("recentMenu"));
  menu_->setToolTipsVisible(true);
  connect(menu_.get(), &QMenu::aboutToShow, this, &RecentFiles::rebuildMenu);
  rebuildMenu();
}

RecentFiles::~RecentFiles() = default;

QStringList RecentFiles::paths() const {
  QStringList list = QSettings().value(key_).toStringList();
  list.removeAll(QString());
  if (list.size() > maximum_) list.erase(list.begin() + maximum_, list.end());
  return list;
}

void RecentFiles::add(const QString& path) {
  if (path.isEmpty()) return;
  const QString absolute = QDir::cleanPath(QFileInfo(path).absoluteFilePath());
  QStringList list = paths();
  list.removeAll(absolute);
  list.prepend(absolute);
  store(list);
}

void RecentFiles::remove(const QString& path) {
  QStringList list = paths();
  list.removeAll(path);
  list.removeAll(QDir::cleanPath(QFileInfo(path).absoluteFilePath()));
  store(list);
}

void RecentFiles::clear() {
  store({});
}

void RecentFiles::store(const QStringList& list) {
  QStringList kept = list;
  if (kept.size() > maximum_) kept.erase(kept.begin() + maximum_, kept.end());
  QSettings settings;
  settings.setValue(key_, kept);
  settings.sync();
  rebuildMenu();
  Q_EMIT changed();
}

void RecentFiles::rebuildMenu() {
  // Not QMenu::clear(): it deletes at once, and "Clear" rebuilds from inside its own triggered().
  for (QAction* old : menu_->actions()) {
    menu_->removeAction(old);
    if (old->parent() == menu_.get()) old->deleteLater();
  }
  const QStringList list = paths();
  int number = 1;
  for (const QString& path : list) {
    const QFileInfo info(path);
    const bool present = info.exists();
    QString text =
        QStringLiteral("&%1  %2").arg(number++).arg(info.fileName().replace(QLatin1Char('&'), QStringLiteral("&&")));
    if (!present) text += tr("  (missing)");
    QAction* action = menu_->addAction(text);
    action->setData(path);
    action->setToolTip(present ? path : tr("%1 no longer exists").arg(path));
    action->setEnabled(present);
    connect(action, &QAction::triggered, this, [this, path] { Q_EMIT openRequested(path); });
  }
  if (list.isEmpty()) menu_->addAction(tr("(none)"))->setEnabled(false);
  menu_->addSeparator();
  QAction* clearAction = menu_->addAction(tr("&Clear"), this, &RecentFiles::clear);
  clearAction->setObjectName(QStringLiteral("clearRecent"));
  clearAction->setEnabled(!list.isEmpty());
}

}  // namespace neco::ui
