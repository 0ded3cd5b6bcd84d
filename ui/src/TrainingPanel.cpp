#include "neco/ui/TrainingPanel.h"

#include "SlotGuard.h"
#include "neco/core/Paths.h"
#include "neco/ui/TrainingCurves.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

namespace neco::ui {
namespace {

bool holdsRun(const QString& folder) {
  return !folder.isEmpty() && QFileInfo::exists(QDir(folder).filePath(QStringLiteral("config.yml")));
}

}  // namespace

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent), worker_(new TrainingWorker(this)) {
  setObjectName(QStringLiteral("trainingPanel"));
  start_ = new QPushButton(tr("Start"), this);
  pause_ = new QPushButton(tr("Pause"), this);
  step_ = new QPushButton(tr("Step"), this);
  stop_ = new QPushButton(tr("Stop"), this);
  start_->setToolTip(tr("Start a new run in the run folder, or continue the run it holds"));
  step_->setToolTip(tr("While paused: run exactly one more step"));
  stop_->setToolTip(tr("Stop at the next step boundary; a checkpoint is saved first"));
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("trainingError"));
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_->setStyleSheet(QStringLiteral("color: #c0392b;"));
  error_->hide();
  curves_ = new TrainingCurves(this);
  checkpoints_ = new QListWidget(this);
  checkpoints_->setObjectName(QStringLiteral("trainingCheckpoints"));
  checkpoints_->setToolTip(tr("Checkpoints of this run, newest first; double-click to open one in the views"));
  checkpoints_->setMaximumHeight(90);

  auto* buttons = new QHBoxLayout;
  for (QPushButton* b : {start_, pause_, step_, stop_}) buttons->addWidget(b);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(buildSetup());
  layout->addLayout(buttons);
  layout->addWidget(status_);
  layout->addWidget(error_);
  layout->addWidget(buildStats());
  layout->addWidget(curves_, 1);
  layout->addWidget(new QLabel(tr("Checkpoints"), this));
  layout->addWidget(checkpoints_);

  connect(start_, &QPushButton::clicked, this, [this] { guardSlot("Start training", [this] { start(); }); });
  connect(pause_, &QPushButton::clicked, this, [this] { guardSlot("Pause training", [this] { pauseOrResume(); }); });
  connect(step_, &QPushButton::clicked, this, [this] { guardSlot("Step training", [this] { stepOnce(); }); });
  connect(stop_, &QPushButton::clicked, this, [this] { guardSlot("Stop training", [this] { stop(); }); });
  connect(checkpoints_, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
    guardSlot("open checkpoint", [&] { Q_EMIT checkpointActivated(item->data(Qt::UserRole).toString()); });
  });
  connect(worker_, &TrainingWorker::started, this, [this](const QString& dir, const QString& d, const QStringList& n) {
    guardSlot("training started", [&] { onStarted(dir, d, n); });
  });
  connect(worker_, &TrainingWorker::history, this, [this](const QList<TrainingProgress>& rows) {
    for (const TrainingProgress& p : rows) curves_->addStep(p);  // a resumed run's past steps
  });
  connect(worker_, &TrainingWorker::progress, this,
          [this](const TrainingProgress& p) { guardSlot("training progress", [&] { onProgress(p); }); });
  connect(worker_, &TrainingWorker::evaluated, this,
          [this](const TrainingEvaluation& e) { guardSlot("training evaluation", [&] { onEvaluation(e); }); });
  connect(worker_, &TrainingWorker::checkpointSaved, this,
          [this](const QString& dir, qint64 step) { guardSlot("checkpoint saved", [&] { onCheckpoint(dir, step); }); });
  connect(worker_, &TrainingWorker::pausedChanged, this,
          [this](bool paused) { guardSlot("training paused", [&] { onPausedChanged(paused); }); });
  connect(worker_, &TrainingWorker::liveModel, this, [this](ExtractorPtr s, ExtractorPtr t, qint64 step) {
    guardSlot("live model", [&] { onLiveModel(std::move(s), std::move(t), step); });
  });
  connect(worker_, &TrainingWorker::finished, this,
          [this](bool stopped, qint64 done, qint64 total, const QString& last) {
            guardSlot("training finished", [&] { onFinished(stopped, done, total, last); });
          });
  connect(worker_, &TrainingWorker::failed, this,
          [this](const QString& message) { guardSlot("training failed", [&] { onFailed(message); }); });
  setRunFolder(newRunFolder());
  setState(State::Idle);
}

TrainingPanel::~TrainingPanel() {
  shutdown();
}

QWidget* TrainingPanel::buildSetup() {
  auto* box = new QWidget(this);
  config_ = new QComboBox(box);
  config_->addItem(tr("Built-in demo (tiny ViT, demo scenes)"), QString());
  config_->setToolTip(tr("The run configuration: the built-in demo or a YAML file with the reference's keys"));
  openConfig_ = new QPushButton(tr("Open config…"), box);
  runDir_ = new QLineEdit(box);
  runDir_->setObjectName(QStringLiteral("trainingRunFolder"));
  newRun_ = new QPushButton(tr("New"), box);
  newRun_->setToolTip(tr("A new run folder named after the current time"));
  resumeRun_ = new QPushButton(tr("Resume…"), box);
  resumeRun_->setToolTip(tr("Choose an existing run folder to continue from its newest checkpoint"));
  runHint_ = new QLabel(box);
  maxSteps_ = new QSpinBox(box);
  maxSteps_->setRange(0, 100000000);
  maxSteps_->setSpecialValueText(tr("the schedule"));
  maxSteps_->setToolTip(tr("Stop once this many steps are done in all (0: the whole schedule)"));
  liveEvery_ = new QSpinBox(box);
  liveEvery_->setRange(0, 1000000);
  liveEvery_->setValue(10);
  liveEvery_->setSpecialValueText(tr("off"));
  liveEvery_->setSuffix(tr(" steps"));
  liveEvery_->setToolTip(tr("The views follow the live weights every N steps, on every pause and at the end"));
  follow_ = new QComboBox(box);
  follow_->addItems({tr("student"), tr("teacher")});

  auto* configRow = new QHBoxLayout;
  configRow->addWidget(config_, 1);
  configRow->addWidget(openConfig_);
  auto* runRow = new QHBoxLayout;
  runRow->addWidget(runDir_, 1);
  runRow->addWidget(newRun_);
  runRow->addWidget(resumeRun_);
  auto* liveRow = new QHBoxLayout;
  liveRow->addWidget(liveEvery_, 1);
  liveRow->addWidget(follow_);
  auto* form = new QFormLayout(box);
  form->setContentsMargins(0, 0, 0, 0);
  form->addRow(tr("Config"), configRow);
  form->addRow(tr("Run folder"), runRow);
  form->addRow(QString(), runHint_);
  form->addRow(tr("Steps"), maxSteps_);
  form->addRow(tr("Views follow"), liveRow);

  connect(openConfig_, &QPushButton::clicked, this, [this] { guardSlot("Open config", [this] { chooseConfig(); }); });
  connect(newRun_, &QPushButton::clicked, this, [this] { setRunFolder(newRunFolder()); });
  connect(resumeRun_, &QPushButton::clicked, this,
          [this] { guardSlot("Resume run", [this] { chooseRunToResume(); }); });
  connect(runDir_, &QLineEdit::textChanged, this, [this] { updateRunHint(); });
  connect(liveEvery_, &QSpinBox::valueChanged, this, [this](int steps) { worker_->setLiveEvery(steps); });
  connect(follow_, &QComboBox::currentIndexChanged, this, [this] { guardSlot("follow", [this] { applyFollow(); }); });
  return box;
}

QWidget* TrainingPanel::buildStats() {
  auto* box = new QWidget(this);
  auto* grid = new QGridLayout(box);
  grid->setContentsMargins(0, 0, 0, 0);
  QLabel** labels[] = {&stepLabel_, &epochLabel_, &lossLabel_, &lrLabel_, &speedLabel_, &etaLabel_, &evalLabel_};
  const QString names[] = {tr("Step"), tr("Epoch"), tr("Loss"), tr("lr backbone / heads"), tr("Images/s"), tr("ETA"),
                           tr("Evaluation")};
  for (int i = 0; i < 7; ++i) {
    *labels[i] = new QLabel(QStringLiteral("–"), box);
    (*labels[i])->setTextInteractionFlags(Qt::TextSelectableByMouse);
    grid->addWidget(new QLabel(names[i] + QLatin1Char(':'), box), i / 2, (i % 2) * 2);
    grid->addWidget(*labels[i], i / 2, (i % 2) * 2 + 1);
  }
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(3, 1);
  return box;
}

QString TrainingPanel::evaluationText() const { return evalLabel_->text(); }

void TrainingPanel::useDemoConfig() {
  config_->setCurrentIndex(0);
}

void TrainingPanel::setConfigFile(const QString& path) {
  int index = config_->findData(path);
  if (index < 0) {
    config_->addItem(QFileInfo(path).fileName(), path);
    index = config_->count() - 1;
    config_->setItemData(index, path, Qt::ToolTipRole);
  }
  config_->setCurrentIndex(index);
}

void TrainingPanel::setRunFolder(const QString& path) {
  runDir_->setText(path);
}
QString TrainingPanel::runFolder() const {
  return runDir_->text().trimmed();
}
void TrainingPanel::setMaxSteps(int steps) {
  maxSteps_->setValue(steps);
}
void TrainingPanel::setLiveEvery(int steps) {
  liveEvery_->setValue(steps);
}
void TrainingPanel::setFollowTeacher(bool teacher) {
  follow_->setCurrentIndex(teacher ? 1 : 0);
}
bool TrainingPanel::followTeacher() const {
  return follow_->currentIndex() == 1;
}
QString TrainingPanel::errorText() const {
  return error_->text();
}

QString TrainingPanel::newRunFolder() {
  const QDir runs(QString::fromStdString((stateDirectory() / "runs").string()));
  const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
  QString path = runs.filePath(stamp);
  for (int i = 2; QFileInfo::exists(path); ++i) path = runs.filePath(QStringLiteral("%1-%2").arg(stamp).arg(i));
  return path;
}

void TrainingPanel::updateRunHint() {
  runHint_->setText(holdsRun(runFolder()) ? tr("continues the run in this folder (its own config)") : tr("a new run"));
}

void TrainingPanel::chooseConfig() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open run configuration"), QString(),
                                                    tr("YAML configs (*.yml *.yaml);;All files (*)"));
  if (!path.isEmpty()) setConfigFile(path);
}

void TrainingPanel::chooseRunToResume() {
  const QString runs = QString::fromStdString((stateDirectory() / "runs").string());
  const QString path = QFileDialog::getExistingDirectory(this, tr("Continue a run"), runs);
  if (path.isEmpty()) return;
  setRunFolder(path);
  if (!holdsRun(path)) showError(tr("%1 holds no run (no config.yml); Start begins a new one there").arg(path));
}

bool TrainingPanel::start() {
  if (worker_->active()) return false;
  const QString folder = runFolder();
  if (folder.isEmpty()) {
    showError(tr("Choose a run folder first."));
    return false;
  }
  TrainingRequest request;
  if (holdsRun(folder)) {
    request.resumeDir = folder.toStdString();
  } else {
    request.outDir = folder.toStdString();
    const QString config = config_->currentData().toString();
    request.demo = config.isEmpty();
    if (!request.demo) request.config = config.toStdString();
  }
  for (const QString& o : overrides_) request.overrides.push_back(o.toStdString());
  request.maxSteps = maxSteps_->value();
  error_->clear();
  error_->hide();
  curves_->clear();
  checkpoints_->clear();
  evalLabel_->setText(QStringLiteral("–"));
  progressCount_ = 0;
  last_ = TrainingProgress{};
  liveStep_ = -1;
  runName_ = QFileInfo(folder).fileName();
  worker_->setLiveEvery(liveEvery_->value());
  spdlog::info("training: {} {}", request.resumeDir.empty() ? "a new run in" : "continuing the run in",
               folder.toStdString());
  setState(State::Starting);
  worker_->start(request);
  return true;
}

bool TrainingPanel::startDemo() {
  if (worker_->active()) return false;
  useDemoConfig();
  setRunFolder(newRunFolder());
  return start();
}

void TrainingPanel::pauseOrResume() {
  if (state_ == State::Paused) {
    worker_->resume();
    setState(State::Running);
  } else if (state_ == State::Running || state_ == State::Starting) {
    worker_->pause();
    setState(State::Pausing);
  }
}

void TrainingPanel::stepOnce() {
  if (state_ == State::Paused) worker_->stepOnce();
}

void TrainingPanel::stop() {
  if (!worker_->active()) return;
  worker_->stop();
  setState(State::Stopping);
}

void TrainingPanel::shutdown() {
  if (worker_->active())
    spdlog::info("training: stopping the run in {}; it saves a checkpoint first", runFolder().toStdString());
  worker_->shutdown();
}

}  // namespace neco::ui
