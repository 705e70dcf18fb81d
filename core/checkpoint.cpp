#include "core/checkpoint.h"

#include <filesystem>

#include "core/text.h"
#include "core/torch_compat.h"

namespace ocrkit {

static const char* kMetaKey = "ocrkit";

OcrModel build_model(const Config& config, const Charset& charset) {
  return OcrModel(ModelOptions::from_config(config, charset.num_classes()));
}

void save_checkpoint(const std::string& path, OcrModel& model, const Config& config, const Charset& charset,
                     const PreprocessParams& preprocess, const nlohmann::json& training) {
  nlohmann::json meta = {{"format", "ocrkit-checkpoint"},
                         {"version", kCheckpointVersion},
                         {"config", config.dump()},
                         {"charset", charset.characters()},
                         {"preprocess", preprocess.to_json()},
                         {"training", training},
                         {"torch", compat::torch_version()}};
  write_atomically(path, [&](const std::string& tmp) {
    torch::serialize::OutputArchive archive;
    // Weights are stored as fp32 on the CPU, whatever device and precision trained them.
    torch::NoGradGuard no_grad;
    for (const auto& p : model->named_parameters()) archive.write(p.key(), p.value().detach().to(torch::kCPU, torch::kFloat32), false);
    for (const auto& b : model->named_buffers()) archive.write(b.key(), b.value().detach().to(torch::kCPU), true);
    archive.write(kMetaKey, c10::IValue(meta.dump()));
    archive.save_to(tmp);
  });
}

Checkpoint load_checkpoint(const std::string& path, const torch::Device& device) {
  if (!std::filesystem::is_regular_file(path)) throw std::runtime_error(path + ": checkpoint not found");
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": not a readable ocrkit checkpoint (" + std::string(e.what()).substr(0, 200) + ")");
  }
  c10::IValue meta_value;
  if (!archive.try_read(kMetaKey, meta_value) || !meta_value.isString())
    throw std::runtime_error(path + ": not an ocrkit checkpoint (no '" + kMetaKey + "' record)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(meta_value.toStringRef());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": corrupt checkpoint metadata (" + e.what() + ")");
  }
  int version = meta.value("version", 0);
  if (version > kCheckpointVersion)
    throw std::runtime_error(path + ": checkpoint format version " + std::to_string(version) +
                             " is newer than this ocrkit supports (" + std::to_string(kCheckpointVersion) +
                             "); upgrade ocrkit");
  if (version < 1) throw std::runtime_error(path + ": checkpoint has no valid format version");
  Checkpoint ck;
  ck.config.merge_text(meta.at("config").get<std::string>(), path + " (embedded config)");
  ck.charset = Charset(utf8_chars(meta.at("charset").get<std::string>()));
  ck.preprocess = PreprocessParams::from_json(meta.at("preprocess"));
  ck.training = meta.value("training", nlohmann::json::object());
  ck.model = build_model(ck.config, ck.charset);
  torch::NoGradGuard no_grad;
  auto load = [&](const std::string& name, torch::Tensor& target) {
    torch::Tensor value;
    if (!archive.try_read(name, value))
      throw std::runtime_error(path + ": checkpoint lacks tensor '" + name + "' (model config mismatch)");
    if (value.sizes() != target.sizes())
      throw std::runtime_error(path + ": tensor '" + name + "' has shape " + c10::str(value.sizes()) + ", model expects " +
                               c10::str(target.sizes()));
    target.copy_(value);
  };
  for (auto& p : ck.model->named_parameters()) load(p.key(), p.value());
  for (auto& b : ck.model->named_buffers()) load(b.key(), b.value());
  ck.model->to(device);
  return ck;
}

}  // namespace ocrkit
