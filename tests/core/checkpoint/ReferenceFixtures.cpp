#include "ReferenceFixtures.h"

#include "checkpoint/BackboneLoader.h"

#include <ATen/ATen.h>

#include <cmath>
#include <cstdlib>
#include <limits>

namespace neco::test {

std::filesystem::path dataDir() {
  const char* dir = std::getenv("NECO_TEST_DATA_DIR");
  return dir ? std::filesystem::path(dir) : std::filesystem::path(NECO_SOURCE_DIR) / "tests" / "data";
}

at::Tensor referenceInput(int batch, int height, int width) {
  at::Tensor x = at::empty({batch, 3, height, width}, at::kFloat);
  float* p = x.data_ptr<float>();
  for (int b = 0; b < batch; ++b) {
    for (int c = 0; c < 3; ++c) {
      for (int y = 0; y < height; ++y) {
        for (int xx = 0; xx < width; ++xx) {
          const double v = 1.5 * std::sin(0.05 * (y + 1) * (c + 1) + 0.031 * xx + 1.7 * b + 0.3 * c);
          *p++ = static_cast<float>(v);
        }
      }
    }
  }
  return x;
}

double maxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  if (a.numel() == 0) return 0.0;
  return (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
}

at::Tensor asTensor(const formats::RawTensor& t) { return checkpoint::toTensor(t); }

}  // namespace neco::test
