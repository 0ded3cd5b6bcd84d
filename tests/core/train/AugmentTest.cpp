#include "NecoTest.h"
#include "../checkpoint/ReferenceFixtures.h"
#include "formats/Safetensors.h"
#include "neco/core/Error.h"
#include "train/Augment.h"

#include <ATen/ATen.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace neco::train;

namespace {

std::map<std::string, at::Tensor> loadGolden(std::map<std::string, std::string>& meta) {
  const auto st = neco::formats::readSafetensors(neco::test::dataDir() / "train" / "augment_golden.safetensors");
  std::map<std::string, at::Tensor> t;
  for (const auto& e : st.tensors) {
    const auto bytes = e.tensor.contiguousBytes();
    t[e.name] = at::from_blob(const_cast<std::uint8_t*>(bytes.data()), e.tensor.shape, at::kDouble).clone();
  }
  for (const auto& [k, v] : st.metadata) meta[k] = v;
  return t;
}

std::vector<double> factors(const std::string& list) {
  std::vector<double> out;
  std::stringstream s(list);
  for (std::string item; std::getline(s, item, ',');) out.push_back(std::stod(item));
  return out;
}

}  // namespace

NECO_TEST(Augment, operationsMatchTorchvision) {
  std::map<std::string, std::string> meta;
  const auto t = loadGolden(meta);
  const at::Tensor image = t.at("image");
  NECO_CHECK((grayscale(image) - t.at("grayscale")).abs().max().item<double>() < 1e-12);
  const std::map<std::string, at::Tensor (*)(const at::Tensor&, double)> ops{
      {"brightness", &adjustBrightness}, {"contrast", &adjustContrast}, {"saturation", &adjustSaturation}, {"hue", &adjustHue}};
  int checked = 0;
  for (const auto& [name, op] : ops) {
    const std::vector<double> values = factors(meta.at(name));
    for (std::size_t i = 0; i < values.size(); ++i) {
      const at::Tensor want = t.at(name + "_" + std::to_string(i));
      const double e64 = (op(image, values[i]) - want).abs().max().item<double>();
      const double e32 = (op(image.to(at::kFloat), values[i]).to(at::kDouble) - want).abs().max().item<double>();
      if (!(e64 < 1e-12 && e32 < 1e-5)) {
        ::neco::test::reportFailure(__FILE__, __LINE__, name + " " + std::to_string(values[i]) + ": " +
                                                            std::to_string(e64) + " / " + std::to_string(e32));
      }
      ++checked;
    }
  }
  NECO_CHECK_EQ(checked, 15);
}

NECO_TEST(Augment, blurKeepsConstantsAndMeanAndSmooths) {
  const at::Tensor flat = at::full({3, 20, 24}, 0.3, at::kDouble);
  NECO_CHECK((gaussianBlur(flat, 1.7) - 0.3).abs().max().item<double>() < 1e-12);
  at::manual_seed(1);
  const at::Tensor noise = at::rand({3, 32, 32}, at::kDouble);
  const at::Tensor blurred = gaussianBlur(noise, 2.0);
  NECO_CHECK_EQ(blurred.size(1), 32);
  NECO_CHECK(blurred.std().item<double>() < 0.5 * noise.std().item<double>());
  NECO_CHECK_NEAR(blurred.mean().item<double>(), noise.mean().item<double>(), 0.02);
  NECO_CHECK(gaussianBlur(at::rand({3, 2, 2}), 2.0).isfinite().all().item<bool>());  // tiny crops
  NECO_CHECK_THROWS(neco::InvalidArgumentError, gaussianBlur(noise, 0.0));
}

NECO_TEST(Augment, drawsFollowTheReferenceProbabilitiesAndRanges) {
  CropRng rng(9);
  const PhotometricConfig c;
  int jitter = 0, gray = 0, blur = 0;
  const int N = 20000;
  for (int i = 0; i < N; ++i) {
    const PhotometricDraw d = samplePhotometric(c, rng);
    jitter += d.jitter;
    gray += d.grayscale;
    blur += d.blur;
    if (d.jitter) {
      NECO_REQUIRE(d.brightness >= 0.2 && d.brightness < 1.8 && d.hue >= -0.2 && d.hue < 0.2);
      std::array<int, 4> sorted = d.order;
      std::sort(sorted.begin(), sorted.end());
      NECO_REQUIRE((sorted == std::array<int, 4>{0, 1, 2, 3}));
    }
    if (d.blur) NECO_REQUIRE(d.sigma >= 0.1 && d.sigma < 2.0);
  }
  NECO_CHECK_NEAR(jitter / double(N), 0.8, 0.015);
  NECO_CHECK_NEAR(gray / double(N), 0.2, 0.015);
  NECO_CHECK_NEAR(blur / double(N), 0.5, 0.015);
  // applying a draw keeps the image in range and shape; normalisation is ImageNet's
  CropRng r2(3);
  const at::Tensor img = at::rand({3, 16, 16});
  for (int i = 0; i < 20; ++i) {
    const at::Tensor out = applyPhotometric(img, samplePhotometric(c, r2));
    NECO_REQUIRE(out.sizes().equals(img.sizes()) && out.min().item<float>() >= 0.f && out.max().item<float>() <= 1.f);
  }
  const at::Tensor n = normaliseImageNet(at::full({3, 2, 2}, 0.485));
  NECO_CHECK_NEAR(n[0][0][0].item<float>(), 0.0, 1e-6);
  NECO_CHECK_NEAR(n[2][1][1].item<float>(), (0.485 - 0.406) / 0.225, 1e-5);
  NECO_CHECK_THROWS(neco::InvalidArgumentError, applyPhotometric(at::rand({4, 5, 5}), PhotometricDraw{}));
}
