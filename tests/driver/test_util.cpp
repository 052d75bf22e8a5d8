#include "test_util.h"

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <stdexcept>

#include <unistd.h>

#include "vta/isa/instruction_codec.h"

namespace vta::driver::test {

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    path_ = base / ("vta-driver-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    if (std::filesystem::create_directory(path_)) return;
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_text(const std::filesystem::path& path) {
  const auto bytes = read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  write_file(path, std::vector<uint8_t>(text.begin(), text.end()));
}

std::vector<uint8_t> encode_program(const isa::HwConfig& config, const std::vector<isa::Instruction>& insns) {
  const isa::InstructionCodec codec(config);
  std::vector<isa::RawInstruction> raw;
  for (const auto& insn : insns) raw.push_back(codec.encode(insn));
  std::vector<uint8_t> bytes;
  isa::raw_instructions_to_bytes(raw, bytes);
  return bytes;
}

DeviceBuffer upload_program(Device& device, const std::vector<isa::Instruction>& insns) {
  const auto bytes = encode_program(device.config(), insns);
  const DeviceBuffer buffer = device.allocate(bytes.size(), 256);
  std::memcpy(buffer.host, bytes.data(), bytes.size());
  device.flush(buffer, 0, buffer.size);
  return buffer;
}

namespace {

isa::MemInsn mem(isa::Opcode op, isa::MemoryType type, uint32_t sram, uint64_t dram_byte_address, uint32_t elem_bytes) {
  isa::MemInsn m;
  m.opcode = op;
  m.memory_type = type;
  m.sram_base = sram;
  m.dram_base = static_cast<uint32_t>(dram_byte_address / elem_bytes);
  m.y_size = 1;
  m.x_size = 1;
  m.x_stride = 1;
  return m;
}

}  // namespace

SmallProgram build_small_program(Device& device, uint32_t seed, int32_t shift) {
  using isa::MemoryType;
  using isa::Opcode;
  const isa::HwConfig& config = device.config();
  const isa::InstructionCodec codec(config);
  const uint32_t block_in = config.block_in(), block_out = config.block_out();

  SmallProgram p;
  p.uops = device.allocate(4, 256);
  p.inp = device.allocate(config.inp().element_bytes, 256);
  p.wgt = device.allocate(config.wgt().element_bytes, 256);
  p.out = device.allocate(config.out().element_bytes, 256);

  const uint32_t uop = codec.encode_uop(isa::MicroOp{0, 0, 0});
  for (int i = 0; i < 4; ++i) p.uops.host[i] = static_cast<uint8_t>(uop >> (8 * i));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-128, 127);
  for (uint64_t i = 0; i < p.inp.size; ++i) p.inp.host[i] = static_cast<uint8_t>(dist(rng));
  for (uint64_t i = 0; i < p.wgt.size; ++i) p.wgt.host[i] = static_cast<uint8_t>(dist(rng));
  std::memset(p.out.host, 0xee, p.out.size);  // the store must overwrite this

  p.expected_out.resize(block_out);
  for (uint32_t o = 0; o < block_out; ++o) {
    int32_t acc = 0;
    for (uint32_t i = 0; i < block_in; ++i) {
      acc += static_cast<int8_t>(p.inp.host[i]) * static_cast<int8_t>(p.wgt.host[o * block_in + i]);
    }
    p.expected_out[o] = static_cast<uint8_t>(static_cast<uint32_t>(acc >> shift) & 0xffu);
  }

  std::vector<isa::Instruction> insns;
  insns.push_back(mem(Opcode::kLoad, MemoryType::kUop, 0, p.uops.device_address, 4));
  insns.push_back(mem(Opcode::kLoad, MemoryType::kInp, 0, p.inp.device_address, config.inp().element_bytes));
  auto load_wgt = mem(Opcode::kLoad, MemoryType::kWgt, 0, p.wgt.device_address, config.wgt().element_bytes);
  load_wgt.dep.push_next = true;  // data loaded -> compute
  insns.push_back(load_wgt);
  isa::GemmInsn reset;
  reset.loop = {true, 0, 1, 1, 1, 0, 0, 0, 0};
  insns.push_back(reset);
  isa::GemmInsn gemm;
  gemm.dep.pop_prev = true;
  gemm.loop = {false, 0, 1, 1, 1, 0, 0, 0, 0};
  insns.push_back(gemm);
  isa::AluInsn alu;
  alu.dep.push_next = true;  // results ready -> store
  alu.loop = {false, 0, 1, 1, 1, 0, 0, 0, 0};
  alu.alu_opcode = isa::AluOpcode::kShr;
  alu.use_imm = true;
  alu.imm = shift;
  insns.push_back(alu);
  auto store = mem(Opcode::kStore, MemoryType::kOut, 0, p.out.device_address, config.out().element_bytes);
  store.dep.pop_prev = true;
  insns.push_back(store);
  insns.push_back(isa::FinishInsn{});

  p.insn_count = static_cast<uint32_t>(insns.size());
  p.insns = upload_program(device, insns);
  for (const auto* b : {&p.uops, &p.inp, &p.wgt, &p.out}) device.flush(*b, 0, b->size);

  auto& c = p.expected_counters;
  c.load_insn_count = 2;
  c.compute_insn_count = 5;
  c.store_insn_count = 1;
  c.inp_load_nbytes = config.inp().element_bytes;
  c.wgt_load_nbytes = config.wgt().element_bytes;
  c.uop_load_nbytes = 4;
  c.out_store_nbytes = config.out().element_bytes;
  c.gemm_counter = 1;
  c.alu_counter = 1;
  return p;
}

}  // namespace vta::driver::test
