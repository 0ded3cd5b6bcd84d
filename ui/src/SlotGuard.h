#pragma once
// Runs the body of a Qt slot or event handler and logs what it throws: an exception escaping a slot
// is undefined behaviour, and the studio must survive whatever a file or a model does.

#include <spdlog/spdlog.h>

#include <exception>
#include <utility>

namespace neco::ui {

template <typename Body>
void guardSlot(const char* slot, Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
  } catch (const std::exception& e) {
    spdlog::error("{}: {}", slot, e.what());
  } catch (...) {
    spdlog::error("{}: unknown error", slot);
  }
}

}  // namespace neco::ui
