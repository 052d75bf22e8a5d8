// Error types shared by every layer. Each carries enough context for a clear message.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace vta {

// Base of every error this stack throws on bad input (configs, programs, traces, models).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invalid hardware config; the message names the offending key.
class ConfigError : public Error {
 public:
  ConfigError(const std::string& key, const std::string& what)
      : Error("config key " + key + ": " + what), key_(key), detail_(what) {}
  const std::string& key() const { return key_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string key_;
  std::string detail_;
};

// A malformed instruction stream or a program that cannot run (bad opcode, index out of range,
// deadlock...). `instruction_index` is the position in the stream when one instruction is to blame.
class ProgramError : public Error {
 public:
  explicit ProgramError(const std::string& what, std::optional<uint64_t> instruction_index = {})
      : Error(instruction_index ? "instruction " + std::to_string(*instruction_index) + ": " + what : what),
        instruction_index_(instruction_index) {}
  std::optional<uint64_t> instruction_index() const { return instruction_index_; }

 private:
  std::optional<uint64_t> instruction_index_;
};

// A run stopped because it went past its time or work budget (a legal program can ask for ~2^43
// micro-op executions); the message says which budget and how to raise it.
class TimeoutError : public Error {
 public:
  using Error::Error;
};

// A device-memory access outside every allocated region.
class MemoryError : public Error {
 public:
  using Error::Error;
};

}  // namespace vta
