#pragma once
// The studio's log panel: a spdlog sink shows every message of every thread, with a level selector
// that changes the process-wide log level.

#include <QWidget>

#include <memory>

class QComboBox;
class QPlainTextEdit;

namespace spdlog::sinks {
class sink;
}

namespace neco::ui {

class LogPanel : public QWidget {
  Q_OBJECT
 public:
  explicit LogPanel(QWidget* parent = nullptr);
  ~LogPanel() override;  ///< detaches its sink; messages after that are simply not shown

  /// Appends one formatted line (GUI thread; the sink queues calls from other threads here).
  void appendLine(const QString& line, int level);
  QString text() const;
  QComboBox* levelBox() const noexcept { return level_; }

 private:
  QPlainTextEdit* view_;
  QComboBox* level_;
  std::shared_ptr<spdlog::sinks::sink> sink_;
};

}  // namespace neco::ui
