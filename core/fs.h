// Atomic file writes: every output, checkpoint and label file goes through these, so a killed process
// never leaves a half-written file under the final name.
#pragma once
#include <functional>
#include <string>

namespace ocrkit {

// Calls write(tmp) with a temporary path beside `path` (same folder), then renames it over `path`.
// On an exception the temporary file is removed and the exception propagates.
void write_atomically(const std::string& path, const std::function<void(const std::string& tmp)>& write);
// Writes the bytes atomically; throws naming the file on failure.
void write_file_atomically(const std::string& path, const std::string& content);
// Reads a whole file; throws naming the file on failure.
std::string read_file(const std::string& path);
// Removes a file or a folder with everything in it; a missing path is fine, failures are ignored
// (temporary folders). POSIX nftw, not std::filesystem::remove_all: that one jumped to address 0 in the
// GPU host's build (libstdc++ of its compiler, under its sandboxed kernel).
void remove_tree(const std::string& path);

}  // namespace ocrkit
