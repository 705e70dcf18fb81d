#include <gtest/gtest.h>

#include <fstream>

#include "core/config.h"

using ocrkit::Config;
using ocrkit::ConfigError;

static std::string write_tmp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

static std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsThenFileThenSet) {
  Config c;
  EXPECT_EQ(c.get_int("train.batch_size"), 64);
  c.merge_file(write_tmp("a.yaml", "train:\n  batch_size: 32\n  lr: 3e-4\nmodel:\n  arch: transformer\n"));
  EXPECT_EQ(c.get_int("train.batch_size"), 32);
  EXPECT_DOUBLE_EQ(c.get_double("train.lr"), 3e-4);
  c.set("train.batch_size=16");
  c.set("data.train=[a.tsv, b.tsv]");
  EXPECT_EQ(c.get_int("train.batch_size"), 16);
  EXPECT_EQ(c.get_strings("data.train"), (std::vector<std::string>{"a.tsv", "b.tsv"}));
  EXPECT_EQ(c.get_string("model.arch"), "transformer");
  // dump() round-trips through a fresh config.
  Config d;
  d.merge_text(c.dump(), "dump");
  EXPECT_EQ(d.dump(), c.dump());
}

TEST(Config, UnknownKeyNamesPathAndLine) {
  Config c;
  std::string path = write_tmp("b.yaml", "train:\n  batch_size: 8\n  learning_rate: 0.1\n");
  std::string msg = error_of([&] { c.merge_file(path); });
  EXPECT_NE(msg.find("train.learning_rate"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path + ":3"), std::string::npos) << msg;
  msg = error_of([&] { c.set("model.colour=red"); });
  EXPECT_NE(msg.find("model.colour"), std::string::npos) << msg;
}

TEST(Config, BadValuesNameTheKey) {
  Config c;
  std::string msg = error_of([&] { c.set("train.batch_size=lots"); });
  EXPECT_NE(msg.find("train.batch_size"), std::string::npos) << msg;
  EXPECT_NE(msg.find("integer"), std::string::npos) << msg;
  msg = error_of([&] { c.merge_file(write_tmp("c.yaml", "data:\n  train: notalist\n")); });
  EXPECT_NE(msg.find("data.train"), std::string::npos) << msg;
  c.set("runtime.attention=fast");
  msg = error_of([&] { c.get_choice("runtime.attention", {"auto", "flash", "sdpa", "eager"}); });
  EXPECT_NE(msg.find("runtime.attention"), std::string::npos) << msg;
  msg = error_of([&] { c.merge_file(write_tmp("d.yaml", "train: [1, 2\n")); });
  EXPECT_NE(msg.find("syntax"), std::string::npos) << msg;
  msg = error_of([&] { c.set("nodots"); });
  EXPECT_NE(msg.find("key.path=value"), std::string::npos) << msg;
}

TEST(Config, ShippedConfigsLoad) {
  for (const char* name : {"vin.yaml", "printed.yaml"}) {
    std::string path = std::string(OCRKIT_SOURCE_DIR) + "/configs/" + name;
    if (!std::ifstream(path)) continue;
    Config c;
    EXPECT_NO_THROW(c.merge_file(path)) << path;
  }
}
