// vta disasm: print an instruction stream (raw .bin or the stream of a trace directory) one line per
// instruction: index, the 128-bit word in hex (bit 127 first) and the decoded text.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "vta/driver/program_trace.h"
#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"

namespace vta::cli {
namespace {

namespace fs = std::filesystem;

struct DisasmOptions {
  std::string input;
  std::string config;
  bool uops = false;
};

std::vector<uint8_t> read_file_bytes(const fs::path& path, uint64_t offset, uint64_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open {}", path.string()));
  in.seekg(static_cast<std::streamoff>(offset));
  std::vector<uint8_t> bytes(count);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
  if (static_cast<uint64_t>(in.gcount()) != count)
    throw Error(fmt::format("{}: expected {} bytes at offset {}, file is shorter", path.string(), count, offset));
  return bytes;
}

std::vector<uint8_t> read_whole_file(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (ec) throw Error(fmt::format("cannot read {}: {}", path.string(), ec.message()));
  return read_file_bytes(path, 0, size);
}

// Device memory as described by a trace directory, read from the region files on demand.
class TraceMemory {
 public:
  TraceMemory(const driver::ProgramTrace& trace, fs::path dir) : trace_(trace), dir_(std::move(dir)) {}

  // Bytes [address, address + count), which must lie inside one region.
  std::span<const uint8_t> read(uint64_t address, uint64_t count) {
    for (size_t i = 0; i < trace_.regions.size(); ++i) {
      const auto& r = trace_.regions[i];
      if (address >= r.address && address - r.address <= r.size && count <= r.size - (address - r.address)) {
        auto it = cache_.find(i);
        if (it == cache_.end()) it = cache_.emplace(i, read_file_bytes(dir_ / r.file, 0, r.size)).first;
        return std::span<const uint8_t>(it->second).subspan(address - r.address, count);
      }
    }
    throw Error(fmt::format("address range 0x{:x}+{} is not inside any region of the trace", address, count));
  }

 private:
  const driver::ProgramTrace& trace_;
  fs::path dir_;
  std::map<size_t, std::vector<uint8_t>> cache_;
};

void print_uops_of_load(const isa::MemInsn& m, const isa::InstructionCodec& codec, TraceMemory& memory) {
  // A UOP load copies y_size rows of x_size micro-ops (4 bytes each) from dram_base + y * x_stride.
  uint32_t sram = m.sram_base;
  for (uint32_t y = 0; y < m.y_size; ++y) {
    const uint64_t first = (uint64_t{m.dram_base} + uint64_t{y} * m.x_stride) * 4;
    const auto bytes = memory.read(first, uint64_t{m.x_size} * 4);
    for (uint32_t x = 0; x < m.x_size; ++x, ++sram) {
      const uint32_t raw = uint32_t{bytes[4 * x]} | uint32_t{bytes[4 * x + 1]} << 8 |
                           uint32_t{bytes[4 * x + 2]} << 16 | uint32_t{bytes[4 * x + 3]} << 24;
      fmt::print("        uop[{:>5}]  {:08x}  {}\n", sram, raw, isa::disassemble(codec.decode_uop(raw)));
    }
  }
}

int run_disasm(const DisasmOptions& o) {
  const fs::path input(o.input);
  std::error_code ec;
  if (!fs::exists(input, ec)) throw Error(fmt::format("{}: no such file or directory", o.input));

  std::vector<uint8_t> stream;
  std::unique_ptr<driver::ProgramTrace> trace;
  std::unique_ptr<TraceMemory> memory;
  isa::HwConfig config = isa::HwConfig::default_config();
  if (fs::is_directory(input)) {
    trace = std::make_unique<driver::ProgramTrace>(driver::ProgramTrace::load(input));
    config = o.config.empty() ? trace->config : load_config(o.config);
    memory = std::make_unique<TraceMemory>(*trace, input);
    const auto bytes = memory->read(trace->insn_address, uint64_t{trace->insn_count} * 16);
    stream.assign(bytes.begin(), bytes.end());
  } else {
    config = load_config(o.config);
    stream = read_whole_file(input);
    if (stream.size() % 16 != 0) {
      throw Error(fmt::format("{}: size {} bytes is not a multiple of 16 (one instruction is 16 bytes)", o.input,
                              stream.size()));
    }
  }
  if (o.uops && !trace) throw Error("--uops needs a trace directory (a raw .bin file holds no micro-ops)");

  const isa::InstructionCodec codec(config);
  const auto raws = isa::raw_instructions_from_bytes(stream);
  for (size_t i = 0; i < raws.size(); ++i) {
    isa::Instruction insn;
    try {
      insn = codec.decode(raws[i]);
    } catch (const ProgramError& e) {
      std::fflush(stdout);
      throw ProgramError(fmt::format("{} (word {:016x}{:016x} at byte offset {})", e.what(), raws[i].hi,
                                     raws[i].lo, i * 16),
                         i);
    }
    fmt::print("{:>6}  {:016x}{:016x}  {}\n", i, raws[i].hi, raws[i].lo, isa::disassemble(insn));
    if (o.uops) {
      const auto* m = std::get_if<isa::MemInsn>(&insn);
      if (m && m->opcode == isa::Opcode::kLoad && m->memory_type == isa::MemoryType::kUop && m->x_size > 0)
        print_uops_of_load(*m, codec, *memory);
    }
  }
  return 0;
}

}  // namespace

void register_disasm(CLI::App& app, Action& action) {
  auto opts = std::make_shared<DisasmOptions>();
  CLI::App* sub = app.add_subcommand("disasm", "Disassemble an instruction binary or a trace's stream");
  set_footer(*sub,
      "FILE is a raw binary (16 bytes per instruction, little-endian) or a trace directory (its manifest names "
      "the instruction region). Each line shows the index, the 128-bit instruction in hex (bit 127 first) and "
      "its decoded fields. Exits 1 on a malformed stream (size not a multiple of 16, unknown opcode or memory "
      "type), naming the offending instruction.");
  sub->add_option("FILE", opts->input, "Raw instruction binary (.bin) or trace directory")->required();
  add_config_option(*sub, opts->config)->description(
      "Hardware config the stream was built for; defaults to the trace's config for a trace directory and to "
      "VTA's default config for a raw file");
  sub->add_flag("--uops,-u", opts->uops,
                "For a trace directory: after each LOAD UOP, list the micro-ops it loads (read from the trace's "
                "memory regions)");
  sub->callback([opts, &action] { action = [opts] { return run_disasm(*opts); }; });
}

}  // namespace vta::cli
