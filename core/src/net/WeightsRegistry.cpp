// The registry of official weights (METHOD.md §7): Meta's DINOv2 / DINOv2-reg / DINO v1 releases
// and every NeCo file released on Hugging Face (FunAILab/NeCo).
//
// NOTE: no SHA-256 or size is listed unless it was verified against the published file; this
// table was written offline, so all are unknown (empty / 0). fetchWeights then relies on the
// server's advertised SHA-256 (Hugging Face) and on the zip CRC-32 of every entry (.pth/.ckpt).
#include "neco/core/Weights.h"

namespace neco {
namespace {

std::vector<OfficialWeights> buildRegistry() {
  std::vector<OfficialWeights> r;
  auto add = [&r](std::string name, std::string description, std::string family, std::string url) {
    r.push_back({std::move(name), std::move(description), std::move(family), std::move(url), "", 0});
  };

  const std::string dinov2 = "https://dl.fbaipublicfiles.com/dinov2/";
  add("dinov2_vits14", "DINOv2 ViT-S/14 (21 M parameters), Meta's pretrained backbone", "dinov2",
      dinov2 + "dinov2_vits14/dinov2_vits14_pretrain.pth");
  add("dinov2_vitb14", "DINOv2 ViT-B/14 (86 M parameters), Meta's pretrained backbone", "dinov2",
      dinov2 + "dinov2_vitb14/dinov2_vitb14_pretrain.pth");
  add("dinov2_vitl14", "DINOv2 ViT-L/14 (300 M parameters), Meta's pretrained backbone", "dinov2",
      dinov2 + "dinov2_vitl14/dinov2_vitl14_pretrain.pth");
  add("dinov2_vitg14", "DINOv2 ViT-g/14 (1.1 B parameters, SwiGLU), Meta's pretrained backbone", "dinov2",
      dinov2 + "dinov2_vitg14/dinov2_vitg14_pretrain.pth");
  add("dinov2_vits14_reg", "DINOv2 ViT-S/14 with 4 registers (21 M parameters), Meta's pretrained backbone",
      "dinov2-reg", dinov2 + "dinov2_vits14/dinov2_vits14_reg4_pretrain.pth");
  add("dinov2_vitb14_reg", "DINOv2 ViT-B/14 with 4 registers (86 M parameters), Meta's pretrained backbone",
      "dinov2-reg", dinov2 + "dinov2_vitb14/dinov2_vitb14_reg4_pretrain.pth");
  add("dinov2_vitl14_reg", "DINOv2 ViT-L/14 with 4 registers (300 M parameters), Meta's pretrained backbone",
      "dinov2-reg", dinov2 + "dinov2_vitl14/dinov2_vitl14_reg4_pretrain.pth");
  add("dinov2_vitg14_reg", "DINOv2 ViT-g/14 with 4 registers (1.1 B parameters), Meta's pretrained backbone",
      "dinov2-reg", dinov2 + "dinov2_vitg14/dinov2_vitg14_reg4_pretrain.pth");

  const std::string dino = "https://dl.fbaipublicfiles.com/dino/";
  add("dino_vits16", "DINO v1 ViT-S/16 (21 M parameters), Meta's pretrained backbone", "dino",
      dino + "dino_deitsmall16_pretrain/dino_deitsmall16_pretrain.pth");
  add("dino_vits8", "DINO v1 ViT-S/8 (21 M parameters), Meta's pretrained backbone", "dino",
      dino + "dino_deitsmall8_pretrain/dino_deitsmall8_pretrain.pth");
  add("dino_vitb16", "DINO v1 ViT-B/16 (85 M parameters), Meta's pretrained backbone", "dino",
      dino + "dino_vitbase16_pretrain/dino_vitbase16_pretrain.pth");
  add("dino_vitb8", "DINO v1 ViT-B/8 (85 M parameters), Meta's pretrained backbone", "dino",
      dino + "dino_vitbase8_pretrain/dino_vitbase8_pretrain.pth");

  // Hugging Face FunAILab/NeCo: vit-{small,base}/dinov2-architectures/neco_on_<init>_vit14_<role>.ckpt and
  // vit-small/dino-architectures/neco_on_<init>_vit16_<role>.ckpt ("model" = the student).
  const std::string neco = "https://huggingface.co/FunAILab/NeCo/resolve/main/";
  struct Init {
    const char* key;
    const char* text;
  };
  const Init v2Inits[] = {{"dinov2", "DINOv2"},
                          {"dinov2r", "DINOv2 with registers"},
                          {"dinov2r_xr", "DINOv2 with registers, trained without them (XR)"}};
  const Init v1Inits[] = {{"dino", "DINO"}, {"timetuning", "TimeT"}, {"leopart", "Leopart"}};
  const struct {
    const char* key;
    const char* text;
  } roles[] = {{"model", "student"}, {"teacher", "EMA teacher"}};
  const struct {
    const char* folder;
    const char* tag;
    const char* text;
  } sizes[] = {{"vit-small", "vits14", "ViT-S/14"}, {"vit-base", "vitb14", "ViT-B/14"}};
  for (const auto& size : sizes)
    for (const Init& init : v2Inits)
      for (const auto& role : roles)
        add(std::string("neco_") + size.tag + "_" + init.key + "_" + role.key,
            std::string("NeCo on ") + init.text + " " + size.text + ", " + role.text + " weights", "neco",
            neco + size.folder + "/dinov2-architectures/neco_on_" + init.key + "_vit14_" + role.key + ".ckpt");
  for (const Init& init : v1Inits)
    for (const auto& role : roles)
      add(std::string("neco_vits16_") + init.key + "_" + role.key,
          std::string("NeCo on ") + init.text + " ViT-S/16, " + role.text + " weights", "neco",
          neco + "vit-small/dino-architectures/neco_on_" + init.key + "_vit16_" + role.key + ".ckpt");
  return r;
}

}  // namespace

const std::vector<OfficialWeights>& officialWeights() {
  static const std::vector<OfficialWeights> registry = buildRegistry();
  return registry;
}

const OfficialWeights* findOfficialWeights(std::string_view name) {
  for (const OfficialWeights& w : officialWeights())
    if (w.name == name) return &w;
  return nullptr;
}

}  // namespace neco
