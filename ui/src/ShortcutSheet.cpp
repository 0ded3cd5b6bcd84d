#include "neco/ui/ShortcutSheet.h"

#include <QAction>
#include <QEvent>
#include <QKeyEvent>
#include <QKeySequence>
#include <QPainter>
#include <QPainterPath>
#include <QRegularExpression>

#include <algorithm>

namespace neco::ui {
namespace {

constexpr int kMargin = 24;     // between the panel's border and its text
constexpr int kColumnGap = 36;  // between two columns of entries
constexpr int kKeyGap = 16;     // between a key and its description

QString withoutMnemonic(QString text) {
  text.remove(QRegularExpression(QStringLiteral("&(?!&)")));
  text.replace(QStringLiteral("&&"), QStringLiteral("&"));
  if (text.endsWith(QStringLiteral("…"))) text.chop(1);
  return text;
}

}  // namespace

ShortcutSheet::ShortcutSheet(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("shortcutSheet"));
  setFocusPolicy(Qt::StrongFocus);
  setAttribute(Qt::WA_NoSystemBackground);
  hide();
  parent->installEventFilter(this);
}

QList<ShortcutSheet::Entry> ShortcutSheet::entriesFor(const QString& section, const QList<QAction*>& actions) {
  QList<Entry> entries;
  for (const QAction* action : actions) {
    if (action->isSeparator() || action->shortcuts().isEmpty()) continue;
    QStringList keys;
    for (const QKeySequence& key : action->shortcuts()) keys << key.toString(QKeySequence::NativeText);
    entries.push_back({section, keys.join(QObject::tr(" or ")), withoutMnemonic(action->text())});
  }
  return entries;
}

void ShortcutSheet::setEntries(QList<Entry> entries) {
  entries_ = std::move(entries);
  update();
}

void ShortcutSheet::toggle() {
  if (isVisible()) {
    hide();
    return;
  }
  setGeometry(parentWidget()->rect());
  raise();
  show();
  setFocus(Qt::ShortcutFocusReason);
}

void ShortcutSheet::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.fillRect(rect(), QColor(0, 0, 0, 160));

  QFont bold = font();
  bold.setBold(true);
  const QFontMetrics plain(font()), strong(bold);
  const int line = plain.height() * 3 / 2;
  int keyWidth = 0, textWidth = 0;
  for (const Entry& e : entries_) {
    keyWidth = std::max(keyWidth, strong.horizontalAdvance(e.keys));
    textWidth = std::max(textWidth, plain.horizontalAdvance(e.description));
  }
  const int columnWidth = keyWidth + kKeyGap + textWidth;
  // Rows: one per entry plus a header (and a gap) per section; as many columns as the height needs.
  int rows = 0;
  QString section;
  for (const Entry& e : entries_) {
    if (e.section != section) rows += 2, section = e.section;
    ++rows;
  }
  const int title = strong.height() * 2;
  const int available = std::max(line, height() - 2 * kMargin - title - 40);
  const int rowsPerColumn = std::max(4, available / line);
  const int columns = std::max(1, (rows + rowsPerColumn - 1) / rowsPerColumn);
  const int panelW = std::min(width() - 20, columns * columnWidth + (columns - 1) * kColumnGap + 2 * kMargin);
  const int panelH = std::min(height() - 20, std::min(rows, rowsPerColumn) * line + title + 2 * kMargin);
  const QRect panel((width() - panelW) / 2, (height() - panelH) / 2, panelW, panelH);
  QPainterPath outline;
  outline.addRoundedRect(panel, 10, 10);
  painter.fillPath(outline, palette().color(QPalette::Window));

  painter.setFont(bold);
  painter.setPen(palette().color(QPalette::WindowText));
  painter.drawText(QRect(panel.left() + kMargin, panel.top() + kMargin / 2, panel.width() - 2 * kMargin, title),
                   Qt::AlignVCenter | Qt::AlignLeft, tr("Keyboard shortcuts and mouse  (? or Esc closes)"));
  int row = 0, column = 0;
  section.clear();
  auto at = [&](int r) { return QPoint(panel.left() + kMargin + column * (columnWidth + kColumnGap),
                                       panel.top() + kMargin / 2 + title + r * line); };
  auto advance = [&](int needed) {
    if (row + needed > rowsPerColumn) ++column, row = 0;
  };
  for (const Entry& e : entries_) {
    if (e.section != section) {
      section = e.section;
      advance(3);
      if (row > 0) ++row;
      painter.setFont(bold);
      painter.setPen(palette().color(QPalette::Highlight));
      painter.drawText(QRect(at(row), QSize(columnWidth, line)), Qt::AlignVCenter | Qt::AlignLeft, section);
      ++row;
    }
    advance(1);
    const QPoint p = at(row++);
    painter.setFont(bold);
    painter.setPen(palette().color(QPalette::WindowText));
    painter.drawText(QRect(p, QSize(keyWidth, line)), Qt::AlignVCenter | Qt::AlignRight, e.keys);
    painter.setFont(font());
    painter.drawText(QRect(p + QPoint(keyWidth + kKeyGap, 0), QSize(textWidth, line)), Qt::AlignVCenter | Qt::AlignLeft,
                     e.description);
  }
}

void ShortcutSheet::mousePressEvent(QMouseEvent*) { hide(); }

void ShortcutSheet::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Escape || event->key() == Qt::Key_Question || event->key() == Qt::Key_F1) {
    hide();
    return;
  }
  QWidget::keyPressEvent(event);
}

bool ShortcutSheet::eventFilter(QObject* watched, QEvent* event) {
  if (watched == parentWidget() && event->type() == QEvent::Resize && isVisible()) setGeometry(parentWidget()->rect());
  return QWidget::eventFilter(watched, event);
}

}  // namespace neco::ui
