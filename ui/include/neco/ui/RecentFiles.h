#pragma once
// A most-recent-first list of paths kept in the application's QSettings (File ▸ Recent Checkpoints),
// and the menu that shows it: missing files are greyed out, "Clear" empties the list.

#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>

class QMenu;

namespace neco::ui {

class RecentFiles : public QObject {
  Q_OBJECT
 public:
  /// Keeps up to `maximum` paths under `settingsKey` of the default QSettings.
  RecentFiles(const QString& title, QString settingsKey, int maximum = 8, QObject* parent = nullptr);
  ~RecentFiles() override;

  /// The stored paths, most recent first.
  QStringList paths() const;
  /// Puts `path` (made absolute) first, dropping an older entry of it and the oldest beyond the maximum.
  void add(const QString& path);
  void remove(const QString& path);
  void clear();
  int maximum() const noexcept { return maximum_; }

  /// The submenu (owned by this object). Rebuilt when the list changes and each time it opens, so a
  /// file deleted meanwhile shows greyed out.
  QMenu* menu() const noexcept { return menu_.get(); }

 Q_SIGNALS:
  /// An entry was chosen in the menu.
  void openRequested(QString path);
  void changed();

 private:
  void store(const QStringList& paths);
  void rebuildMenu();

  QString key_;
  int maximum_;
  std::unique_ptr<QMenu> menu_;
};

}  // namespace neco::ui
