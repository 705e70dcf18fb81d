// Where the shipped default model is looked up.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "infer/pipeline.h"

namespace ocrkit::infer {
namespace fs = std::filesystem;

static const char* kDefaultModel = "printed-v1.ckpt";

std::string resolve_model(const std::string& requested) {
  std::error_code ec;
  if (!requested.empty()) {
    if (!fs::is_regular_file(requested, ec)) throw std::runtime_error(requested + ": model checkpoint not found");
    return requested;
  }
  std::vector<fs::path> places;
  if (const char* env = std::getenv("OCRKIT_MODELS")) places.push_back(env);
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    fs::path dir = fs::path(std::string(exe, size_t(n))).parent_path();
    places.push_back(dir / "../share/ocrkit/models");
    places.push_back(dir / "models");
    places.push_back(dir / "../models");  // a build folder inside the source tree
  }
  // The source tree this file was compiled from (developer builds).
  fs::path here(__FILE__);
  if (here.is_absolute()) places.push_back(here.parent_path().parent_path() / "models");
  places.push_back("/usr/local/share/ocrkit/models");
  places.push_back("/usr/share/ocrkit/models");
  std::string searched;
  for (auto& p : places) {
    fs::path candidate = p / kDefaultModel;
    if (fs::is_regular_file(candidate, ec)) return fs::weakly_canonical(candidate, ec).string();
    searched += "\n  " + candidate.lexically_normal().string();
  }
  throw std::runtime_error(std::string("the default model ") + kDefaultModel +
                           " was not found; pass --model CKPT or set OCRKIT_MODELS. Searched:" + searched);
}

}  // namespace ocrkit::infer
