#pragma once
// Shared helpers for the checkpoint tests: the fixture paths and the deterministic input images the
// Python reference (tests/reference/make_vit_fixtures.py) used.

#include "formats/RawTensor.h"

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

namespace neco::test {

std::filesystem::path dataDir();  ///< $NECO_TEST_DATA_DIR (tests/data)

/// input[b, c, y, x] = float32(1.5 * sin(0.05 (y+1)(c+1) + 0.031 x + 1.7 b + 0.3 c)), in float64.
at::Tensor referenceInput(int batch, int height, int width);

/// Max |a - b| over all elements; shapes must match (else +inf).
double maxAbsDiff(const at::Tensor& a, const at::Tensor& b);

/// Float32 copy of a stored tensor.
at::Tensor asTensor(const formats::RawTensor& t);

}  // namespace neco::test
