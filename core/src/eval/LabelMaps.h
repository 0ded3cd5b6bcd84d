#pragma once
// Label-map helpers shared by the evaluation protocols (METHOD.md §4: every resize of a label map is
// nearest): PIL's NEAREST rule (the source pixel under each output pixel's centre), torch's `nearest`
// rule (floor(dst * in / out)), and the reference's two-step resize of a ground truth (PIL to the
// input size when the image is resized, torch to the compared size). Torch-free.

#include "neco/core/Image.h"

#include <string>
#include <vector>

namespace neco::eval {

/// PIL's Image.resize(NEAREST): output (x, y) takes the source pixel at ((x + 0.5) W / w, (y + 0.5) H / h).
LabelImage pilNearest(const LabelImage& m, int width, int height);
/// torch's interpolate(mode="nearest"): output (x, y) takes the source pixel at (floor(x W / w), floor(y H / h)).
LabelImage torchNearest(const LabelImage& m, int width, int height);
/// pilNearest to input², then torchNearest to out² (the reference's ground truth at the compared size).
LabelImage referenceMaskResize(const LabelImage& m, int input, int out);

/// names[c], or the number when the dataset names no classes.
std::string className(const std::vector<std::string>& names, int c);

struct MeanStd {
  double mean = 0, std = 0;  ///< population standard deviation, as the seeds' spread is reported
};
MeanStd meanAndStd(const std::vector<double>& values);

}  // namespace neco::eval
