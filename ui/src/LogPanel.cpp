#include "neco/ui/LogPanel.h"

#include "neco/core/Log.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMetaObject>
#include <QPlainTextEdit>
#include <QPointer>
#include <QVBoxLayout>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace neco::ui {
namespace {

constexpr int kMaxLines = 5000;

// Formats on the logging thread, then hands the text to the panel through the event loop; the
// QPointer makes a late message after the panel's destruction harmless.
class PanelSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit PanelSink(LogPanel* panel) : panel_(panel) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    QString line = QString::fromUtf8(formatted.data(), static_cast<int>(formatted.size())).trimmed();
    const int level = static_cast<int>(msg.level);
    QPointer<LogPanel> panel = panel_;
    QMetaObject::invokeMethod(
        panel_, [panel, line, level] { if (panel) panel->appendLine(line, level); }, Qt::QueuedConnection);
  }
  void flush_() override {}

 private:
  QPointer<LogPanel> panel_;
};

}  // namespace

LogPanel::LogPanel(QWidget* parent) : QWidget(parent) {
  view_ = new QPlainTextEdit(this);
  view_->setReadOnly(true);
  view_->setMaximumBlockCount(kMaxLines);
  view_->setLineWrapMode(QPlainTextEdit::NoWrap);
  view_->setFont(QFont(QStringLiteral("monospace")));
  level_ = new QComboBox(this);
  for (const auto& name : logLevelNames()) level_->addItem(QString::fromStdString(name));
  level_->setCurrentIndex(static_cast<int>(spdlog::default_logger()->level()));

  auto* header = new QHBoxLayout;
  header->addWidget(new QLabel(tr("Level"), this));
  header->addWidget(level_);
  header->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(2, 2, 2, 2);
  layout->addLayout(header);
  layout->addWidget(view_, 1);

  connect(level_, &QComboBox::currentIndexChanged, this, [](int index) {
    setLogLevel(static_cast<spdlog::level::level_enum>(index));
    spdlog::info("log level set to {}", logLevelNames().at(static_cast<std::size_t>(index)));
  });

  sink_ = std::make_shared<PanelSink>(this);
  sink_->set_pattern("%H:%M:%S.%e %-5l %v");
  addLogSink(sink_);
}

LogPanel::~LogPanel() { removeLogSink(sink_); }

void LogPanel::appendLine(const QString& line, int level) {
  const bool problem = level >= static_cast<int>(spdlog::level::warn) && level < static_cast<int>(spdlog::level::off);
  if (problem) {
    view_->appendHtml(QStringLiteral("<span style='color:#d04040'>%1</span>").arg(line.toHtmlEscaped()));
  } else {
    view_->appendPlainText(line);
  }
}

QString LogPanel::text() const { return view_->toPlainText(); }

}  // namespace neco::ui
