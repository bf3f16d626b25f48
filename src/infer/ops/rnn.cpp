#include "infer/ops/common.hpp"
namespace tickrt::infer::ops { void register_rnn(std::vector<OpDef>&) {} }
