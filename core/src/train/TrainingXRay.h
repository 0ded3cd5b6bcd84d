#pragma once
// TrainerInspection (tensors) -> the torch-free TrainingXRay the studio draws.

#include "neco/core/TrainingXRay.h"
#include "train/Trainer.h"

namespace neco::train {

/// Copies what the X-ray view needs out of an inspection; names are filled by the caller.
TrainingXRay toXRay(const TrainerInspection& inspection, const StepConfig& config);

}  // namespace neco::train
