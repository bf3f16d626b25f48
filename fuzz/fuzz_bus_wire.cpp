// fuzz/fuzz_bus_wire.cpp — libFuzzer target for the NATS wire decoders (src/bus/wire.hpp, header-only):
// any byte string must decode to a value or a WireError, never crash or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bus/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace tickrt::bus;
  // An exact-size copy: ASan sees any read past the end.
  std::vector<std::uint8_t> m(data, data + size);
  static std::vector<tickrt::feed::Level> levels(4096);
  Header h;
  tickrt::feed::Event ev;
  IntentMsg im;
  AnswerMsg am;
  AccountView av;
  ControlMsg cm;
  (void)decode_event(m, h, ev, levels);
  (void)decode_intent(m, h, im);
  (void)decode_answer(m, h, am);
  (void)decode_account(m, h, av);
  (void)decode_control(m, h, cm);
  return 0;
}
