// ProgramTrace: manifest.json load/save and replay on a Device (format: docs/trace-format.md).
#include "vta/driver/program_trace.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "src/file_util.h"
#include "src/trace_internal.h"
#include "vta/isa/error.h"

namespace vta::driver {

namespace detail {

std::string_view status_name(RunStatus status) {
  switch (status) {
    case RunStatus::kOk: return "ok";
    case RunStatus::kTimeout: return "timeout";
    case RunStatus::kError: return "error";
  }
  return "unknown";
}

std::vector<std::string> counter_names() {
  std::vector<std::string> names;
  for (const auto& item : isa::ExecutionCounters{}.items()) names.push_back(item.first);
  return names;
}

bool is_counter_name(std::string_view name) {
  for (const auto& item : isa::ExecutionCounters{}.items()) {
    if (item.first == name) return true;
  }
  return false;
}

uint64_t get_counter(const isa::ExecutionCounters& counters, std::string_view name) {
  for (const auto& item : counters.items()) {
    if (item.first == name) return item.second;
  }
  throw Error(fmt::format("unknown counter '{}' (known: {})", name, fmt::join(counter_names(), ", ")));
}

void set_counter(isa::ExecutionCounters& counters, std::string_view name, uint64_t value) {
  if (!is_counter_name(name)) {
    throw Error(fmt::format("unknown counter '{}' (known: {})", name, fmt::join(counter_names(), ", ")));
  }
  // ExecutionCounters has no setter by name; its JSON form is the name -> value map of items().
  nlohmann::json j = counters.to_json();
  j[std::string(name)] = value;
  counters = isa::ExecutionCounters::from_json(j);
}

bool is_valid_region_name(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

}  // namespace detail

namespace {

using nlohmann::json;

constexpr const char* kFormatName = "vta-trace";
constexpr int kFormatVersion = 1;
constexpr uint64_t kInstructionBytes = 16;
// replay() has no timeout parameter; fsim cannot hang, and the slow backends get an hour.
constexpr std::chrono::milliseconds kReplayTimeout{std::chrono::hours(1)};

// Reports problems in one manifest with its path in every message.
class ManifestChecker {
 public:
  explicit ManifestChecker(std::string manifest) : manifest_(std::move(manifest)) {}

  [[noreturn]] void fail(const std::string& context, const std::string& problem) const {
    if (context.empty()) throw Error(fmt::format("trace manifest {}: {}", manifest_, problem));
    throw Error(fmt::format("trace manifest {}: {}: {}", manifest_, context, problem));
  }

  const json& require(const json& object, const char* key, const std::string& context) const {
    const auto it = object.find(key);
    if (it == object.end()) fail(context, fmt::format("missing key \"{}\"", key));
    return *it;
  }

  void check_keys(const json& object, std::initializer_list<const char*> allowed, const std::string& context) const {
    for (const auto& entry : object.items()) {
      const bool known = std::any_of(allowed.begin(), allowed.end(),
                                     [&](const char* key) { return entry.key() == key; });
      if (!known) {
        fail(context, fmt::format("unknown key \"{}\" (allowed: {})", entry.key(), fmt::join(allowed, ", ")));
      }
    }
  }

  // A non-negative integer, given as a JSON number or as a "0x..." / decimal string.
  uint64_t to_uint(const json& value, const std::string& context) const {
    if (value.is_number_unsigned()) return value.get<uint64_t>();
    if (value.is_number_integer()) {
      fail(context, fmt::format("must be a non-negative integer, got {}", value.dump()));
    }
    if (value.is_string()) {
      const auto& text = value.get_ref<const std::string&>();
      std::string_view digits = text;
      int base = 10;
      if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        digits.remove_prefix(2);
        base = 16;
      }
      uint64_t parsed = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed, base);
      if (!digits.empty() && ec == std::errc() && end == digits.data() + digits.size()) return parsed;
      fail(context, fmt::format("must be a non-negative integer, got the string {}", value.dump()));
    }
    fail(context, fmt::format("must be a non-negative integer, got {} ({})", value.dump(), value.type_name()));
  }

  uint64_t get_uint(const json& object, const char* key, const std::string& context) const {
    return to_uint(require(object, key, context), join(context, key));
  }

  const std::string& get_string(const json& object, const char* key, const std::string& context) const {
    const json& value = require(object, key, context);
    if (!value.is_string()) {
      fail(join(context, key), fmt::format("must be a string, got {} ({})", value.dump(), value.type_name()));
    }
    return value.get_ref<const std::string&>();
  }

  bool get_bool(const json& object, const char* key, const std::string& context) const {
    const json& value = require(object, key, context);
    if (!value.is_boolean()) {
      fail(join(context, key), fmt::format("must be true or false, got {} ({})", value.dump(), value.type_name()));
    }
    return value.get<bool>();
  }

  static std::string join(const std::string& context, const char* key) {
    return context.empty() ? std::string(key) : context + "." + key;
  }

  const std::string& manifest() const { return manifest_; }

 private:
  std::string manifest_;
};

// A file named in the manifest must stay inside the trace directory.
void check_relative_file(const ManifestChecker& checker, const std::string& file, const std::string& context) {
  const std::filesystem::path path(file);
  if (file.empty()) checker.fail(context, "file name is empty");
  if (path.is_absolute() || path.has_root_name() || path.has_root_directory()) {
    checker.fail(context, fmt::format("file \"{}\" must be relative to the trace directory", file));
  }
  for (const auto& part : path) {
    if (part == "..") checker.fail(context, fmt::format("file \"{}\" must not leave the trace directory", file));
  }
}

void check_file_size(const ManifestChecker& checker, const std::filesystem::path& dir, const std::string& file,
                     uint64_t size, const std::string& context) {
  const auto path = dir / file;
  uint64_t actual = 0;
  try {
    actual = detail::regular_file_size(path);
  } catch (const Error& e) {
    checker.fail(context, fmt::format("cannot use file \"{}\": {}", file, e.what()));
  }
  if (actual != size) {
    checker.fail(context, fmt::format("file \"{}\" has {} bytes but the region size is {}", file, actual, size));
  }
}

TraceRegion parse_region(const ManifestChecker& checker, const json& value, size_t index,
                         const std::filesystem::path& dir) {
  std::string context = fmt::format("regions[{}]", index);
  if (!value.is_object()) checker.fail(context, fmt::format("must be an object, got {}", value.type_name()));
  checker.check_keys(value, {"name", "address", "size", "file", "dump", "expected", "comment"}, context);

  TraceRegion region;
  region.name = checker.get_string(value, "name", context);
  if (!detail::is_valid_region_name(region.name)) {
    checker.fail(context, fmt::format("invalid region name \"{}\" (use letters, digits, '_', '-', '.')",
                                      region.name));
  }
  context = fmt::format("regions[{}] (\"{}\")", index, region.name);
  region.address = checker.get_uint(value, "address", context);
  region.size = checker.get_uint(value, "size", context);
  if (region.size == 0) checker.fail(context, "size must be greater than 0");
  if (region.address + region.size < region.address) {
    checker.fail(context, fmt::format("[{:#x} + {}] wraps around the 64-bit address space", region.address,
                                      region.size));
  }
  region.file = checker.get_string(value, "file", context);
  check_relative_file(checker, region.file, context);
  check_file_size(checker, dir, region.file, region.size, context);
  if (value.contains("dump")) region.dump = checker.get_bool(value, "dump", context);
  if (value.contains("expected")) {
    region.expected_file = checker.get_string(value, "expected", context);
    check_relative_file(checker, *region.expected_file, context);
    check_file_size(checker, dir, *region.expected_file, region.size, context);
  }
  return region;
}

}  // namespace

ProgramTrace ProgramTrace::load(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw Error(fmt::format("trace directory {} does not exist or is not a directory", dir.string()));
  }
  const auto manifest_path = dir / "manifest.json";
  const ManifestChecker checker(manifest_path.string());
  std::string text;
  try {
    text = detail::read_text_file(manifest_path);
  } catch (const Error& e) {
    throw Error(fmt::format("trace directory {} has no readable manifest.json: {}", dir.string(), e.what()));
  }
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    checker.fail("", fmt::format("malformed JSON: {}", e.what()));
  }
  if (!root.is_object()) checker.fail("", fmt::format("must hold a JSON object, got {}", root.type_name()));
  checker.check_keys(root, {"format", "version", "config", "instructions", "regions", "expected_counters", "comment"},
                     "");

  const std::string& format = checker.get_string(root, "format", "");
  if (format != kFormatName) {
    checker.fail("format", fmt::format("is \"{}\", expected \"{}\"", format, kFormatName));
  }
  const json& version = checker.require(root, "version", "");
  if (!version.is_number_integer() || version.get<int64_t>() != kFormatVersion) {
    checker.fail("version", fmt::format("unsupported version {} (this build reads version {})", version.dump(),
                                        kFormatVersion));
  }

  ProgramTrace trace;
  const json& config = checker.require(root, "config", "");
  if (!config.is_object()) {
    checker.fail("config", fmt::format("must be an object of VTA config keys, got {}", config.type_name()));
  }
  try {
    trace.config = isa::HwConfig::from_json(config);
  } catch (const ConfigError& e) {
    // Keep the type and the key; add where the config came from.
    std::string what = e.what();
    const std::string prefix = "config key " + e.key() + ": ";
    if (what.rfind(prefix, 0) == 0) what.erase(0, prefix.size());
    throw ConfigError(e.key(), fmt::format("{} (in \"config\" of trace manifest {})", what, checker.manifest()));
  } catch (const Error& e) {
    checker.fail("config", e.what());
  } catch (const json::exception& e) {
    checker.fail("config", e.what());
  }

  const json& regions = checker.require(root, "regions", "");
  if (!regions.is_array()) checker.fail("regions", fmt::format("must be an array, got {}", regions.type_name()));
  if (regions.empty()) checker.fail("regions", "must name at least one region (the instruction stream's)");
  std::set<std::string> names;
  for (size_t i = 0; i < regions.size(); ++i) {
    TraceRegion region = parse_region(checker, regions[i], i, dir);
    if (!names.insert(region.name).second) {
      checker.fail(fmt::format("regions[{}]", i), fmt::format("duplicate region name \"{}\"", region.name));
    }
    trace.regions.push_back(std::move(region));
  }
  std::vector<size_t> order(trace.regions.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return trace.regions[a].address < trace.regions[b].address; });
  for (size_t k = 1; k < order.size(); ++k) {
    const auto& prev = trace.regions[order[k - 1]];
    const auto& cur = trace.regions[order[k]];
    if (cur.address < prev.address + prev.size) {
      checker.fail("regions", fmt::format("region \"{}\" [{:#x}, {:#x}) overlaps region \"{}\" [{:#x}, {:#x})",
                                          cur.name, cur.address, cur.address + cur.size, prev.name, prev.address,
                                          prev.address + prev.size));
    }
  }

  const json& insns = checker.require(root, "instructions", "");
  if (!insns.is_object()) checker.fail("instructions", fmt::format("must be an object, got {}", insns.type_name()));
  checker.check_keys(insns, {"address", "count"}, "instructions");
  trace.insn_address = checker.get_uint(insns, "address", "instructions");
  const uint64_t count = checker.get_uint(insns, "count", "instructions");
  if (count == 0) checker.fail("instructions.count", "must be at least 1");
  if (count > std::numeric_limits<uint32_t>::max()) {
    checker.fail("instructions.count", fmt::format("{} does not fit in 32 bits", count));
  }
  trace.insn_count = static_cast<uint32_t>(count);
  const uint64_t insn_bytes = count * kInstructionBytes;
  const uint64_t insn_end = trace.insn_address + insn_bytes;
  const bool inside = insn_end >= trace.insn_address &&
                      std::any_of(trace.regions.begin(), trace.regions.end(), [&](const TraceRegion& r) {
                        return trace.insn_address >= r.address && insn_end <= r.address + r.size;
                      });
  if (!inside) {
    checker.fail("instructions", fmt::format("the {} instructions at [{:#x}, {:#x}) do not lie inside one region",
                                             count, trace.insn_address, insn_end));
  }

  if (root.contains("expected_counters")) {
    const json& counters = root["expected_counters"];
    if (!counters.is_object()) {
      checker.fail("expected_counters", fmt::format("must be an object, got {}", counters.type_name()));
    }
    isa::ExecutionCounters expected;
    for (const auto& entry : counters.items()) {
      const std::string context = "expected_counters." + entry.key();
      if (!detail::is_counter_name(entry.key())) {
        checker.fail(context, fmt::format("unknown counter (known: {})", fmt::join(detail::counter_names(), ", ")));
      }
      detail::set_counter(expected, entry.key(), checker.to_uint(entry.value(), context));
      trace.expected_counter_names.push_back(entry.key());
    }
    trace.expected_counters = expected;
  }
  return trace;
}

void ProgramTrace::save_manifest(const std::filesystem::path& dir) const {
  nlohmann::ordered_json root;
  root["format"] = kFormatName;
  root["version"] = kFormatVersion;
  root["config"] = nlohmann::ordered_json(config.to_json());
  root["instructions"] = {{"address", insn_address}, {"count", insn_count}};
  auto regions_json = nlohmann::ordered_json::array();
  for (const auto& region : regions) {
    nlohmann::ordered_json r;
    r["name"] = region.name;
    r["address"] = region.address;
    r["size"] = region.size;
    r["file"] = region.file;
    r["dump"] = region.dump;
    if (region.expected_file) r["expected"] = *region.expected_file;
    regions_json.push_back(std::move(r));
  }
  root["regions"] = std::move(regions_json);
  if (expected_counters) {
    nlohmann::ordered_json counters = nlohmann::ordered_json::object();
    const auto names = expected_counter_names.empty() ? detail::counter_names() : expected_counter_names;
    for (const auto& name : names) counters[name] = detail::get_counter(*expected_counters, name);
    root["expected_counters"] = std::move(counters);
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create trace directory {}: {}", dir.string(), ec.message()));
  detail::write_text_file(dir / "manifest.json", root.dump(2) + "\n");
}

namespace {

// Frees the buffers replay() mapped, also when it leaves by an exception.
class MappedBuffers {
 public:
  explicit MappedBuffers(Device& device) : device_(device) {}
  ~MappedBuffers() {
    for (const auto& buffer : buffers_) {
      try {
        device_.free(buffer);
      } catch (...) {  // NOLINT(bugprone-empty-catch): best effort while unwinding
      }
    }
  }
  MappedBuffers(const MappedBuffers&) = delete;
  MappedBuffers& operator=(const MappedBuffers&) = delete;
  void add(const DeviceBuffer& buffer) { buffers_.push_back(buffer); }
  const DeviceBuffer& operator[](size_t i) const { return buffers_[i]; }

 private:
  Device& device_;
  std::vector<DeviceBuffer> buffers_;
};

}  // namespace

ReplayResult replay(const ProgramTrace& trace, const std::filesystem::path& trace_dir, Device& device,
                    const std::optional<std::filesystem::path>& dump_dir) {
  if (!(trace.config == device.config())) {
    throw Error(fmt::format("trace {} was recorded for config {} but device {} has config {}", trace_dir.string(),
                            trace.config.name(), device.name(), device.config().name()));
  }
  MappedBuffers mapped(device);
  for (const auto& region : trace.regions) {
    const DeviceBuffer buffer = device.map_at(region.address, region.size);
    mapped.add(buffer);
    const auto bytes = detail::read_binary_file(trace_dir / region.file);
    if (bytes.size() != region.size) {
      throw Error(fmt::format("trace {}: region \"{}\": file \"{}\" has {} bytes, expected {}", trace_dir.string(),
                              region.name, region.file, bytes.size(), region.size));
    }
    std::memcpy(buffer.host, bytes.data(), bytes.size());
    device.flush(buffer, 0, region.size);
  }

  ReplayResult result;
  result.run = device.run(trace.insn_address, trace.insn_count, kReplayTimeout);
  for (size_t i = 0; i < trace.regions.size(); ++i) device.invalidate(mapped[i], 0, trace.regions[i].size);

  if (dump_dir) {
    std::error_code ec;
    std::filesystem::create_directories(*dump_dir, ec);
    if (ec) throw Error(fmt::format("cannot create dump directory {}: {}", dump_dir->string(), ec.message()));
    for (size_t i = 0; i < trace.regions.size(); ++i) {
      if (!trace.regions[i].dump) continue;
      detail::write_binary_file(*dump_dir / (trace.regions[i].name + ".bin"),
                                std::span<const uint8_t>(mapped[i].host, trace.regions[i].size));
    }
    nlohmann::ordered_json stats;
    stats["status"] = std::string(detail::status_name(result.run.status));
    stats["message"] = result.run.message;
    stats["warnings"] = result.run.warnings;
    stats["device"] = device.name();
    stats["counters"] = nlohmann::ordered_json(result.run.counters.to_json());
    stats["wall_seconds"] = result.run.wall_seconds;
    detail::write_text_file(*dump_dir / "stats.json", stats.dump(2) + "\n");
  }

  for (size_t i = 0; i < trace.regions.size(); ++i) {
    const auto& region = trace.regions[i];
    if (!region.expected_file) continue;
    const auto expected = detail::read_binary_file(trace_dir / *region.expected_file);
    if (expected.size() != region.size) {
      throw Error(fmt::format("trace {}: region \"{}\": expected file \"{}\" has {} bytes, expected {}",
                              trace_dir.string(), region.name, *region.expected_file, expected.size(), region.size));
    }
    const uint8_t* actual = mapped[i].host;
    uint64_t first = 0, differing = 0;
    for (uint64_t k = 0; k < region.size; ++k) {
      if (actual[k] != expected[k]) {
        if (differing == 0) first = k;
        ++differing;
      }
    }
    if (differing != 0) result.mismatches.push_back({region.name, first, differing});
  }

  if (trace.expected_counters) {
    const auto names = trace.expected_counter_names.empty() ? detail::counter_names() : trace.expected_counter_names;
    std::vector<std::string> differences;
    for (const auto& name : names) {
      const uint64_t want = detail::get_counter(*trace.expected_counters, name);
      const uint64_t got = detail::get_counter(result.run.counters, name);
      if (want != got) differences.push_back(fmt::format("{} expected {}, got {}", name, want, got));
    }
    if (!differences.empty()) result.counter_mismatch = fmt::format("{}", fmt::join(differences, "; "));
  }
  return result;
}

}  // namespace vta::driver
