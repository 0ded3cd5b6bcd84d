#pragma once
// File ▸ Checkpoint Options…: how the next checkpoint is read (which network of a two-network
// file, registers, attention heads for widths without metadata, position-embedding interpolation).
// Accepting remembers them in QSettings; loading stays strict (a key mismatch offers "Load anyway").

#include "neco/core/Checkpoint.h"

#include <QDialog>

class QComboBox;
class QSpinBox;

namespace neco::ui {

class CheckpointOptionsDialog : public QDialog {
  Q_OBJECT
 public:
  /// Shows the remembered options.
  explicit CheckpointOptionsDialog(QWidget* parent = nullptr);

  CheckpointOptions options() const;  ///< strict is always true
  void setOptions(const CheckpointOptions& options);

  /// The options in QSettings (defaults when none were saved or a stored value is invalid).
  static CheckpointOptions remembered();
  static void remember(const CheckpointOptions& options);

  void accept() override;  ///< remembers, then closes

 private:
  QComboBox* part_;
  QComboBox* registers_;
  QSpinBox* heads_;
  QComboBox* interpolation_;
};

}  // namespace neco::ui
