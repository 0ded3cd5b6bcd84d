// Every checkpoint layout users bring (tests/data/checkpoints, made by torch.save / the reference
// generator) maps onto the canonical DINOv2 names with bit-identical tensors, and the loader picks
// the right network, prefix, architecture and interpolation default.
#include "NecoTest.h"
#include "ReferenceFixtures.h"
#include "TestFiles.h"
#include "checkpoint/BackboneLoader.h"
#include "formats/Safetensors.h"
#include "neco/core/Checkpoint.h"
#include "neco/core/Error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <map>

using namespace neco;

namespace {

std::map<std::string, at::Tensor> familyWeights(const std::string& family) {
  std::map<std::string, at::Tensor> out;
  for (const auto& t : formats::readSafetensors(test::dataDir() / "vit" / (family + ".safetensors")).tensors) {
    out[t.name] = test::asTensor(t.tensor);
  }
  return out;
}

std::map<std::string, at::Tensor> loadedWeights(const checkpoint::LoadedBackbone& loaded) {
  std::map<std::string, at::Tensor> out;
  for (const auto& item : loaded.model->named_parameters()) out[item.key()] = item.value().detach();
  return out;
}

std::filesystem::path ckpt(const std::string& name) { return test::dataDir() / "checkpoints" / name; }

CheckpointOptions heads(int n) {
  CheckpointOptions o;
  o.numHeads = n;
  return o;
}

// Every family tensor equals scale x the loaded parameter (exactly), except `skip`.
void expectWeights(const checkpoint::LoadedBackbone& loaded, const std::string& family, double scale = 1.0,
                   const std::vector<std::string>& skip = {}) {
  const auto want = familyWeights(family);
  const auto got = loadedWeights(loaded);
  for (const auto& [name, value] : want) {
    if (std::find(skip.begin(), skip.end(), name) != skip.end()) continue;
    auto it = got.find(name);
    if (it == got.end()) {
      if (name == "register_tokens" && loaded.mapped.config.numRegisters == 0) continue;
      test::reportFailure(__FILE__, __LINE__, "model lacks " + name);
      continue;
    }
    const double err = test::maxAbsDiff(it->second, value * scale);
    if (err != 0.0) test::reportFailure(__FILE__, __LINE__, name + " differs by " + std::to_string(err));
  }
  NECO_CHECK(loaded.keys.clean());
}

}  // namespace

NECO_TEST(CheckpointLayout, officialDinov2Release) {
  const auto plain = checkpoint::loadBackbone(ckpt("dinov2_official.pth"), heads(2));
  NECO_CHECK_EQ(plain.mapped.layout, std::string("dinov2-official"));
  NECO_CHECK(plain.mapped.config.interpolation == nn::PosEmbedInterpolation::OffsetScaleFactor);
  expectWeights(plain, "dinov2");
  const auto reg = checkpoint::loadBackbone(ckpt("dinov2_reg4_official.pth"), heads(2));
  NECO_CHECK_EQ(reg.mapped.config.numRegisters, 4);
  NECO_CHECK(reg.mapped.config.interpolation == nn::PosEmbedInterpolation::ExplicitSizeAntialias);
  expectWeights(reg, "dinov2_reg4");
  const auto g = checkpoint::loadBackbone(ckpt("dinov2_swiglu_official.pth"), heads(3));
  NECO_CHECK(g.mapped.config.mlp == nn::MlpKind::SwiGlu);
  NECO_CHECK_EQ(g.mapped.config.mlpHidden(), 128);
  expectWeights(g, "dinov2_swiglu");
}

NECO_TEST(CheckpointLayout, huggingFaceFolderAndPytorchModelBin) {
  // Heads come from config.json; q, k, v are merged back into qkv.
  const auto reg = checkpoint::loadBackbone(ckpt("dinov2_reg4_hf"));
  NECO_CHECK_EQ(reg.mapped.layout, std::string("huggingface"));
  NECO_CHECK_EQ(reg.mapped.config.numHeads, 2);
  NECO_CHECK(reg.mapped.config.interpolation == nn::PosEmbedInterpolation::ExplicitSizeAntialias);
  expectWeights(reg, "dinov2_reg4");
  const auto bin = checkpoint::loadBackbone(ckpt("dinov2_hf_pytorch_model.bin"), heads(2));
  NECO_CHECK_EQ(bin.mapped.layout, std::string("huggingface"));
  NECO_CHECK(bin.mapped.config.interpolation == nn::PosEmbedInterpolation::ExplicitSize);
  expectWeights(bin, "dinov2");
}

NECO_TEST(CheckpointLayout, timmFoldsTheClsPosition) {
  auto reg = checkpoint::loadBackbone(ckpt("dinov2_reg4_timm.safetensors"), heads(2));
  NECO_CHECK_EQ(reg.mapped.layout, std::string("timm"));
  NECO_CHECK_EQ(reg.mapped.config.numRegisters, 4);
  NECO_CHECK_EQ(reg.keys.filled.size(), 1u);  // mask_token: timm drops it
  expectWeights(reg, "dinov2_reg4", 1.0, {"cls_token", "pos_embed", "mask_token"});
  const auto want = familyWeights("dinov2_reg4");
  const auto got = loadedWeights(reg);
  NECO_CHECK_EQ(test::maxAbsDiff(got.at("cls_token"), want.at("cls_token") + want.at("pos_embed").slice(1, 0, 1)), 0.0);
  NECO_CHECK_EQ(test::maxAbsDiff(got.at("pos_embed").slice(1, 1), want.at("pos_embed").slice(1, 1)), 0.0);
  // Same network: the canonical model and the timm one agree at the trained size.
  auto canonical = checkpoint::loadBackbone(test::dataDir() / "vit" / "dinov2_reg4.safetensors");
  torch::NoGradGuard noGrad;
  const auto x = test::referenceInput(1, 518, 518);
  NECO_CHECK(test::maxAbsDiff(reg.model->forward(x).patchTokens, canonical.model->forward(x).patchTokens) < 1e-5);

  const auto plain = checkpoint::loadBackbone(ckpt("dinov2_timm.pth"), heads(2));
  expectWeights(plain, "dinov2", 1.0, {"mask_token"});
}

NECO_TEST(CheckpointLayout, necoLightningStudentAndTeacher) {
  const auto student = checkpoint::loadBackbone(ckpt("neco_dinov2_reg4.ckpt"), heads(2));
  NECO_CHECK_EQ(student.mapped.layout, std::string("neco-lightning"));
  NECO_CHECK_EQ(student.mapped.part, std::string("student"));
  NECO_CHECK_EQ(student.mapped.prefix, std::string("model."));
  NECO_CHECK_EQ(student.mapped.projectionHead.size(), 6u);
  NECO_CHECK(student.mapped.config.interpolation == nn::PosEmbedInterpolation::OffsetScaleFactor);
  expectWeights(student, "dinov2_reg4");
  const auto& opaque = student.source.opaqueObjects;
  NECO_CHECK(std::find(opaque.begin(), opaque.end(), "argparse.Namespace") != opaque.end());

  CheckpointOptions teacherOptions = heads(2);
  teacherOptions.part = "teacher";
  const auto teacher = checkpoint::loadBackbone(ckpt("neco_dinov2_reg4.ckpt"), teacherOptions);
  NECO_CHECK_EQ(teacher.mapped.part, std::string("teacher"));
  expectWeights(teacher, "dinov2_reg4", 0.5);
}

NECO_TEST(CheckpointLayout, necoReleasedFilesAndXr) {
  const auto released = checkpoint::loadBackbone(ckpt("neco_dinov2_model.ckpt"), heads(2));
  NECO_CHECK_EQ(released.mapped.layout, std::string("neco-released"));
  NECO_CHECK_EQ(released.mapped.projectionHead.size(), 6u);
  expectWeights(released, "dinov2");
  const auto xr = checkpoint::loadBackbone(ckpt("neco_dinov2r_xr_model.ckpt"), heads(2));
  NECO_CHECK_EQ(xr.mapped.config.numRegisters, 0);
  NECO_CHECK(!xr.mapped.notes.empty());
  expectWeights(xr, "dinov2_reg4");
  // Asking for the registers explicitly keeps them.
  CheckpointOptions keep = heads(2);
  keep.numRegisters = 4;
  NECO_CHECK_EQ(checkpoint::loadBackbone(ckpt("neco_dinov2r_xr_model.ckpt"), keep).mapped.config.numRegisters, 4);
}

NECO_TEST(CheckpointLayout, dinoV1TrainingDdpAndRelease) {
  const auto teacher = checkpoint::loadBackbone(ckpt("dino_v1_p16_train.pth"), heads(2));
  NECO_CHECK_EQ(teacher.mapped.layout, std::string("dino-v1-training"));
  NECO_CHECK_EQ(teacher.mapped.part, std::string("teacher"));
  NECO_CHECK_EQ(teacher.mapped.config.family, std::string("dino"));
  NECO_CHECK(!teacher.mapped.config.layerScale);
  NECO_CHECK(!teacher.mapped.ignored.empty());  // the DINO head
  expectWeights(teacher, "dino_v1_p16");
  CheckpointOptions studentOptions = heads(2);
  studentOptions.part = "student";
  const auto student = checkpoint::loadBackbone(ckpt("dino_v1_p16_train.pth"), studentOptions);
  NECO_CHECK_EQ(student.mapped.prefix, std::string("module.backbone."));
  expectWeights(student, "dino_v1_p16", 0.5);

  const auto ddp = checkpoint::loadBackbone(ckpt("dino_v1_p16_ddp.pth"), heads(2));
  NECO_CHECK_EQ(ddp.mapped.layout, std::string("dino-v1-ddp"));
  expectWeights(ddp, "dino_v1_p16");
  const auto p8 = checkpoint::loadBackbone(ckpt("dino_v1_p8_official.pth"), heads(2));
  NECO_CHECK_EQ(p8.mapped.config.patchSize, 8);
  NECO_CHECK_EQ(p8.mapped.config.posEmbedGrid, 28);
  expectWeights(p8, "dino_v1_p8");
}

NECO_TEST(CheckpointLayout, convertWritesAReloadableCanonicalFile) {
  test::TempDir dir;
  const auto out = dir.path() / "neco.safetensors";
  const auto report = convertCheckpoint(ckpt("neco_dinov2_reg4.ckpt"), out, heads(2));
  NECO_CHECK(report.matches());
  NECO_CHECK_EQ(report.layout, std::string("neco-lightning"));
  // Reloads with no options: heads and interpolation come from the metadata.
  const auto reloaded = checkpoint::loadBackbone(out);
  NECO_CHECK_EQ(reloaded.mapped.config.numHeads, 2);
  NECO_CHECK(reloaded.mapped.config.interpolation == nn::PosEmbedInterpolation::OffsetScaleFactor);
  NECO_CHECK_EQ(reloaded.mapped.projectionHead.size(), 6u);
  expectWeights(reloaded, "dinov2_reg4");
  // Never overwrites without being asked, never the input.
  NECO_CHECK_THROWS(InvalidArgumentError, convertCheckpoint(ckpt("neco_dinov2_reg4.ckpt"), out, heads(2)));
  NECO_CHECK_THROWS(InvalidArgumentError, convertCheckpoint(out, out, {}, true, true));
  const auto inspected = inspectCheckpoint(out);
  NECO_CHECK_EQ(inspected.model.numRegisters, 4);
  NECO_CHECK(inspected.model.parameterCount > 0);
}

NECO_TEST(CheckpointLayout, strictLoadingListsProblemsAndNonStrictLoadsTheRest) {
  // A state dict missing one block's MLP, with one stray key.
  auto st = formats::readSafetensors(test::dataDir() / "vit" / "dinov2.safetensors");
  formats::TensorList tensors;
  for (auto& t : st.tensors) {
    if (t.name.rfind("blocks.1.mlp.fc2", 0) == 0) continue;
    tensors.push_back(t);
  }
  tensors.push_back({"extra.weight", st.tensors.front().tensor});
  test::TempDir dir;
  const auto file = dir.path() / "partial.safetensors";
  formats::writeSafetensors(file, tensors, st.metadata);
  try {
    checkpoint::loadBackbone(file);
    NECO_CHECK(false);
  } catch (const FormatError& e) {
    const std::string what = e.what();
    NECO_CHECK(what.find("2 missing (blocks.1.mlp.fc2.weight, blocks.1.mlp.fc2.bias)") != std::string::npos);
    NECO_CHECK(what.find("1 unexpected (extra.weight)") != std::string::npos);
  }
  CheckpointOptions lenient;
  lenient.strict = false;
  const auto loaded = checkpoint::loadBackbone(file, lenient);
  NECO_CHECK_EQ(loaded.keys.missing.size(), 2u);
  // A named architecture that does not fit is refused with both descriptions.
  CheckpointOptions vits;
  vits.architecture = "dinov2_vits14";
  NECO_CHECK_THROWS(FormatError, inspectCheckpoint(test::dataDir() / "vit" / "dinov2.safetensors", vits));
  // Part selection on a one-network file.
  CheckpointOptions teacher;
  teacher.part = "teacher";
  NECO_CHECK_THROWS(InvalidArgumentError, inspectCheckpoint(test::dataDir() / "vit" / "dinov2.safetensors", teacher));
  // Unknown content type is a FormatError naming the file.
  const auto junk = dir.path() / "junk.pth";
  const std::string text = "not a checkpoint at all";
  test::writeBytes(junk, test::Bytes(text.begin(), text.end()));
  NECO_CHECK_THROWS(FormatError, inspectCheckpoint(junk));
  NECO_CHECK_THROWS(IoError, inspectCheckpoint(dir.path() / "absent.pth"));
}
