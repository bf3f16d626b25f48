// sim/matching_engine.cpp — see matching_engine.hpp for the contract.
#include "sim/matching_engine.hpp"

namespace tickrt::sim {

std::string_view queue_model_name(QueueModel m) noexcept {
  switch (m) {
    case QueueModel::proportional: return "proportional";
    case QueueModel::cancels_behind: return "cancels_behind";
    case QueueModel::cancels_ahead: return "cancels_ahead";
  }
  return "?";
}

}  // namespace tickrt::sim
