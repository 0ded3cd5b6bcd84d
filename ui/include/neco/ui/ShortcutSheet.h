#pragma once
// The `?` overlay: every keyboard shortcut and mouse gesture of the studio on a translucent sheet
// over the window. The key list is read from the window's actions when the sheet opens, so it can
// never drift from what the keys really do; mouse gestures are added by the window.

#include <QList>
#include <QString>
#include <QWidget>

class QAction;

namespace neco::ui {

class ShortcutSheet : public QWidget {
  Q_OBJECT
 public:
  struct Entry {
    QString section;      ///< the menu it comes from ("File", "Image", "Mouse", …)
    QString keys;         ///< native text, alternatives joined by " or "
    QString description;  ///< the action's text without mnemonics
  };

  /// Covers `parent` (and follows its size) while shown; hidden at first.
  explicit ShortcutSheet(QWidget* parent);

  /// One entry per action with a shortcut, in the order given, sectioned by `section`.
  static QList<Entry> entriesFor(const QString& section, const QList<QAction*>& actions);
  void setEntries(QList<Entry> entries);
  const QList<Entry>& entries() const noexcept { return entries_; }

  /// Shows the sheet over the whole parent and takes the keyboard focus; hides it when shown.
  void toggle();

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QList<Entry> entries_;
};

}  // namespace neco::ui
