// Precompiled header of neco_core (never included directly). Narrow torch headers only: the full
// <torch/torch.h> drags in data loaders, serialization and JIT that core does not use here.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn.h>
#include <torch/types.h>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>
