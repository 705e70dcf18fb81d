// SHA-256 of files and strings (model and dataset fingerprints in checkpoints and the eval store).
#pragma once
#include <string>

namespace ocrkit {

std::string sha256_hex(const std::string& data);
// Throws naming the file when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace ocrkit
