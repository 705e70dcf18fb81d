// The checkpoint file: one torch archive holding the weights and a JSON "ocrkit" record (format version,
// resolved config, charset, preprocessing, training metadata). Written atomically (temp + rename).
#pragma once
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/charset.h"
#include "core/config.h"
#include "core/image.h"
#include "core/model.h"
#include "core/fs.h"
#include "core/sha256.h"

namespace ocrkit {

constexpr int kCheckpointVersion = 1;

struct Checkpoint {
  Config config;                // resolved config the model was trained with
  Charset charset;
  PreprocessParams preprocess;
  nlohmann::json training;      // step, metrics, data hashes, time, torch version
  OcrModel model{nullptr};
};

void save_checkpoint(const std::string& path, OcrModel& model, const Config& config, const Charset& charset,
                     const PreprocessParams& preprocess, const nlohmann::json& training);
// Loads onto `device`; throws naming the file for a missing/corrupt file or a newer format version.
Checkpoint load_checkpoint(const std::string& path, const torch::Device& device = torch::kCPU);
// Builds the model a config describes (fresh weights).
OcrModel build_model(const Config& config, const Charset& charset);


}  // namespace ocrkit
