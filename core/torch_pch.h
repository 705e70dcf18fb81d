// Precompiled header for every target that includes libtorch (see CMakeLists.txt).
#pragma once
#include <torch/torch.h>
