#include "neco/ui/CheckpointOptionsDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace neco::ui {
namespace {

const QString kPart = QStringLiteral("checkpointOptions/part");
const QString kRegisters = QStringLiteral("checkpointOptions/registers");
const QString kHeads = QStringLiteral("checkpointOptions/heads");
const QString kInterpolation = QStringLiteral("checkpointOptions/interpolation");

const QStringList kParts{QStringLiteral("auto"), QStringLiteral("student"), QStringLiteral("teacher")};
const QStringList kInterpolations{QString(), QStringLiteral("offset"), QStringLiteral("antialias"),
                                  QStringLiteral("size")};
constexpr int kMaxRegisters = 8;
constexpr int kMaxHeads = 64;

}  // namespace

CheckpointOptionsDialog::CheckpointOptionsDialog(QWidget* parent)
    : QDialog(parent),
      part_(new QComboBox(this)),
      registers_(new QComboBox(this)),
      heads_(new QSpinBox(this)),
      interpolation_(new QComboBox(this)) {
  setWindowTitle(tr("Checkpoint options"));
  part_->setObjectName(QStringLiteral("part"));
  part_->addItem(tr("auto (the student of a training checkpoint)"), kParts[0]);
  part_->addItem(tr("student"), kParts[1]);
  part_->addItem(tr("teacher"), kParts[2]);
  registers_->setObjectName(QStringLiteral("registers"));
  registers_->addItem(tr("from the file"), -1);
  registers_->addItem(tr("0 (run a register checkpoint without them)"), 0);
  for (int r = 1; r <= kMaxRegisters; ++r) registers_->addItem(QString::number(r), r);
  heads_->setObjectName(QStringLiteral("heads"));
  heads_->setRange(0, kMaxHeads);
  heads_->setSpecialValueText(tr("auto (metadata or released width)"));
  heads_->setToolTip(tr("Needed for widths the released models do not use, e.g. small test models"));
  interpolation_->setObjectName(QStringLiteral("interpolation"));
  interpolation_->addItem(tr("family default"), kInterpolations[0]);
  interpolation_->addItem(tr("offset (DINOv2 / DINO release, +0.1 scale factor)"), kInterpolations[1]);
  interpolation_->addItem(tr("antialias (Hugging Face, bicubic + antialias)"), kInterpolations[2]);
  interpolation_->addItem(tr("size (bicubic to the exact size)"), kInterpolations[3]);

  auto* form = new QFormLayout;
  form->addRow(tr("&Network:"), part_);
  form->addRow(tr("&Registers:"), registers_);
  form->addRow(tr("&Heads:"), heads_);
  form->addRow(tr("Position &interpolation:"), interpolation_);
  auto* note = new QLabel(tr("Applies to the checkpoints opened from now on. Loading is strict: when the keys of a "
                             "file do not match its architecture, the error offers to load it anyway."),
                          this);
  note->setWordWrap(true);
  auto* buttons =
      new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::RestoreDefaults, this);
  connect(buttons, &QDialogButtonBox::accepted, this, &CheckpointOptionsDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &CheckpointOptionsDialog::reject);
  connect(buttons->button(QDialogButtonBox::RestoreDefaults), &QPushButton::clicked, this,
          [this] { setOptions(CheckpointOptions{}); });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(note);
  layout->addWidget(buttons);
  setOptions(remembered());
}

CheckpointOptions CheckpointOptionsDialog::options() const {
  CheckpointOptions o;
  o.part = part_->currentData().toString().toStdString();
  o.numRegisters = registers_->currentData().toInt();
  o.numHeads = heads_->value();
  o.interpolation = interpolation_->currentData().toString().toStdString();
  return o;
}

void CheckpointOptionsDialog::setOptions(const CheckpointOptions& o) {
  part_->setCurrentIndex(std::max(0, part_->findData(QString::fromStdString(o.part))));
  registers_->setCurrentIndex(std::max(0, registers_->findData(o.numRegisters)));
  heads_->setValue(o.numHeads);
  interpolation_->setCurrentIndex(std::max(0, interpolation_->findData(QString::fromStdString(o.interpolation))));
}

CheckpointOptions CheckpointOptionsDialog::remembered() {
  const QSettings s;
  CheckpointOptions o;
  const QString part = s.value(kPart).toString();
  if (kParts.contains(part)) o.part = part.toStdString();
  bool ok = false;
  const int registers = s.value(kRegisters, -1).toInt(&ok);
  if (ok && registers >= -1 && registers <= kMaxRegisters) o.numRegisters = registers;
  const int heads = s.value(kHeads, 0).toInt(&ok);
  if (ok && heads >= 0 && heads <= kMaxHeads) o.numHeads = heads;
  const QString interpolation = s.value(kInterpolation).toString();
  if (kInterpolations.contains(interpolation)) o.interpolation = interpolation.toStdString();
  return o;
}

void CheckpointOptionsDialog::remember(const CheckpointOptions& o) {
  QSettings s;
  s.setValue(kPart, QString::fromStdString(o.part));
  s.setValue(kRegisters, o.numRegisters);
  s.setValue(kHeads, o.numHeads);
  s.setValue(kInterpolation, QString::fromStdString(o.interpolation));
  s.sync();
}

void CheckpointOptionsDialog::accept() {
  remember(options());
  QDialog::accept();
}

}  // namespace neco::ui
