#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "vta/isa/disassembler.h"
#include "vta/isa/error.h"
#include "vta/isa/instruction_codec.h"
#include "vta/test/test_data.h"

namespace vta::isa {
namespace {

RawInstruction from_hex(const std::string& hex32) {
  return RawInstruction{std::stoull(hex32.substr(16, 16), nullptr, 16), std::stoull(hex32.substr(0, 16), nullptr, 16)};
}

class DefaultCodec : public ::testing::Test {
 protected:
  InstructionCodec codec{HwConfig::default_config()};
};

// Patterns recorded from Apache VTA's simulator (tvm-vta-fsim/tiny.T1), pinned here so the test stands alone.
TEST_F(DefaultCodec, GoldenLoadStorePatterns) {
  MemInsn uop_load;
  uop_load.opcode = Opcode::kLoad;
  uop_load.memory_type = MemoryType::kUop;
  uop_load.dep.pop_next = true;
  uop_load.dram_base = 5120;
  uop_load.y_size = uop_load.x_size = uop_load.x_stride = 1;
  EXPECT_EQ(codec.encode(uop_load), from_hex("00000001000100010000005000000010"));

  MemInsn inp;
  inp.opcode = Opcode::kLoad;
  inp.memory_type = MemoryType::kInp;
  inp.dep.pop_next = true;
  inp.dram_base = 256;
  inp.y_size = 2;
  inp.x_size = 2;
  inp.x_stride = 8;
  inp.y_pad_0 = 1;
  inp.x_pad_0 = 1;
  EXPECT_EQ(codec.encode(inp), from_hex("01010008000200020000000400000110"));
  inp.x_pad_0 = 0;
  inp.x_pad_1 = 1;
  inp.y_pad_0 = 1;
  inp.dram_base = 262;
  EXPECT_EQ(codec.encode(inp), from_hex("10010008000200020000000418000110"));

  MemInsn store;
  store.opcode = Opcode::kStore;
  store.memory_type = MemoryType::kOut;
  store.dep.pop_prev = true;
  store.dep.push_prev = true;
  store.dram_base = 1024;
  store.y_size = store.x_size = store.x_stride = 1;
  EXPECT_EQ(codec.encode(store), from_hex("00000001000100010000001000000229"));

  MemInsn nop;
  nop.opcode = Opcode::kStore;
  nop.memory_type = MemoryType::kUop;
  nop.dep.push_prev = true;
  EXPECT_EQ(codec.encode(nop), from_hex("00000000000000000000000000000021"));
}

TEST_F(DefaultCodec, GoldenGemmAluFinishPatterns) {
  GemmInsn reset;
  reset.dep.push_prev = true;
  reset.loop = {true, 0, 1, 1, 1, 0, 0, 0, 0};
  EXPECT_EQ(codec.encode(reset), from_hex("000000000000000000020008002000a2"));

  GemmInsn gemm;
  gemm.loop = {false, 1, 2, 3, 3, 0, 0, 1, 3};
  gemm.wgt_factor_out = 1;
  gemm.wgt_factor_in = 3;
  EXPECT_EQ(codec.encode(gemm), from_hex("00c01006004000000006001800400102"));

  AluInsn shr;
  shr.loop = {false, 2, 3, 1, 1, 0, 0, 0, 0};
  shr.alu_opcode = AluOpcode::kShr;
  shr.use_imm = true;
  shr.imm = 8;
  EXPECT_EQ(codec.encode(shr), from_hex("0008b000000000000002000800600204"));

  AluInsn add;
  add.loop = {false, 3, 4, 1, 1, 0, 0, 0, 0};
  add.alu_opcode = AluOpcode::kAdd;
  EXPECT_EQ(codec.encode(add), from_hex("00002000000000000002000800800304"));

  AluInsn min;
  min.loop = {false, 4, 5, 1, 1, 0, 0, 0, 0};
  min.alu_opcode = AluOpcode::kMin;
  min.use_imm = true;
  min.imm = 127;
  EXPECT_EQ(codec.encode(min), from_hex("007f8000000000000002000800a00404"));

  // A negative immediate occupies the top 16 bits in two's complement.
  AluInsn neg = min;
  neg.imm = -1;
  EXPECT_EQ(codec.encode(neg).hi >> 48, 0xffffu);
  EXPECT_EQ(std::get<AluInsn>(codec.decode(codec.encode(neg))).imm, -1);

  EXPECT_EQ(codec.encode(FinishInsn{}), from_hex("00000000000000000000000000000003"));
}

// Golden encodings at batch2 (LOG_BATCH 1: INP elements of 32 B, ACC of 128 B, so INP, ACC and OUT hold 1024
// elements and their index fields are 10 bits, one less than at the default config; UOP stays 13/14
// bits, WGT 10). Written out by hand from the packing rule and field order of docs/isa.md, not by the codec,
// whose layout also generates the RTL's: a field placed wrongly at this width would otherwise go unseen.
//   GEMM: [7] reset [20:8] uop_bgn [34:21] uop_end [48:35] iter_out [62:49] iter_in | [73:64] dst_fo
//         [83:74] dst_fi [93:84] src_fo [103:94] src_fi [113:104] wgt_fo [123:114] wgt_fi
//   ALU:  as GEMM to bit 63 | [73:64] dst_fo [83:74] dst_fi [93:84] src_fo [103:94] src_fi
//         [106:104] alu_opcode [107] use_imm [123:108] imm
//   micro-op: [9:0] dst [19:10] src [29:20] wgt
TEST(Batch2Codec, GoldenPatternsAtTenBitIndices) {
  const HwConfig cfg = HwConfig::from_file(std::string(VTA_CONFIG_DIR) + "/batch2.json");
  ASSERT_EQ(cfg.acc().log_depth, 10u);
  ASSERT_EQ(cfg.inp().log_depth, 10u);
  ASSERT_EQ(cfg.wgt().log_depth, 10u);
  ASSERT_EQ(cfg.uop().log_depth, 13u);
  const InstructionCodec codec(cfg);
  const auto golden = [&](const Instruction& insn, const std::string& hex) {
    SCOPED_TRACE(disassemble(insn));
    EXPECT_EQ(codec.encode(insn), from_hex(hex));
    EXPECT_EQ(codec.decode(from_hex(hex)), insn);
  };

  // Every field at or near its largest value, so a field one bit off overlaps its neighbour.
  GemmInsn gemm;
  gemm.dep.pop_next = gemm.dep.push_prev = true;
  gemm.loop = {false, 8191, 8192, 3, 16383, 1023, 1, 1023, 2};
  gemm.wgt_factor_out = 5;
  gemm.wgt_factor_in = 1023;
  golden(gemm, "0ffc0500bff007ff7ffe001c001fff32");

  GemmInsn reset;
  reset.dep.pop_prev = true;
  reset.loop = {true, 1, 2, 1, 1, 16, 0, 0, 0};
  golden(reset, "0000000000000010000200080040018a");

  AluInsn mul;
  mul.dep.push_next = true;
  mul.loop = {false, 0, 8191, 16383, 2, 1, 1023, 7, 1023};
  mul.alu_opcode = AluOpcode::kMul;
  mul.use_imm = true;
  mul.imm = -32768;
  golden(mul, "08000cffc07ffc010005fffbffe00044");

  AluInsn min;
  min.dep.pop_prev = true;
  min.loop = {false, 5, 6, 1, 1, 0, 0, 512, 0};
  min.alu_opcode = AluOpcode::kMin;
  golden(min, "00000000200000000002000800c0050c");

  AluInsn shr;
  shr.loop = {false, 0, 1, 1, 1, 0, 0, 0, 0};
  shr.alu_opcode = AluOpcode::kShr;
  shr.use_imm = true;
  shr.imm = -1;
  golden(shr, "0ffffb00000000000002000800200004");

  // LOAD/STORE fields do not depend on the config.
  MemInsn inp = make_mem(Opcode::kLoad, MemoryType::kInp, 1023, 0x89abcdef, 3, 0xffff, 17, 1, 2, 15, 4);
  inp.dep.pop_next = inp.dep.push_next = true;
  golden(inp, "4f210011ffff00030226af37bc0ffd50");

  EXPECT_EQ(codec.encode_uop(MicroOp{1023, 1, 1023}), 0x3ff007ffu);
  EXPECT_EQ(codec.encode_uop(MicroOp{5, 1023, 0}), 0x000ffc05u);
  EXPECT_EQ(codec.decode_uop(0x3ff007ffu), (MicroOp{1023, 1, 1023}));
  EXPECT_THROW(codec.encode_uop(MicroOp{1024, 0, 0}), ProgramError);  // 11 bits: fits the default, not batch2
}

TEST_F(DefaultCodec, LayoutMatchesIsaTable) {
  auto offsets = [&](Opcode op) {
    std::map<std::string, std::pair<uint32_t, uint32_t>> m;
    for (const auto& f : codec.layout(op)) m[f.name] = {f.offset, f.width};
    return m;
  };
  auto mem = offsets(Opcode::kLoad);
  EXPECT_EQ(mem["memory_type"], std::make_pair(7u, 3u));
  EXPECT_EQ(mem["sram_base"], std::make_pair(10u, 16u));
  EXPECT_EQ(mem["dram_base"], std::make_pair(26u, 32u));
  EXPECT_EQ(mem["y_size"], std::make_pair(64u, 16u));
  EXPECT_EQ(mem["x_pad_1"], std::make_pair(124u, 4u));
  auto gemm = offsets(Opcode::kGemm);
  EXPECT_EQ(gemm["uop_bgn"], std::make_pair(8u, 13u));
  EXPECT_EQ(gemm["uop_end"], std::make_pair(21u, 14u));
  EXPECT_EQ(gemm["iter_in"], std::make_pair(49u, 14u));
  EXPECT_EQ(gemm["dst_factor_out"], std::make_pair(64u, 11u));
  EXPECT_EQ(gemm["src_factor_in"], std::make_pair(97u, 11u));
  EXPECT_EQ(gemm["wgt_factor_in"], std::make_pair(118u, 10u));
  auto alu = offsets(Opcode::kAlu);
  EXPECT_EQ(alu["alu_opcode"], std::make_pair(108u, 3u));
  EXPECT_EQ(alu["use_imm"], std::make_pair(111u, 1u));
  EXPECT_EQ(alu["imm"], std::make_pair(112u, 16u));
  const auto uop = codec.uop_layout();
  ASSERT_EQ(uop.size(), 3u);
  EXPECT_EQ(uop[1].offset, 11u);
  EXPECT_EQ(uop[2].offset, 22u);
  EXPECT_EQ(codec.decode_uop(0x00000800u), (MicroOp{0, 1, 0}));
  EXPECT_EQ(codec.encode_uop(MicroOp{5, 7, 9}), 5u | (7u << 11) | (9u << 22));
}

TEST_F(DefaultCodec, RejectsBadFieldsAndOpcodes) {
  MemInsn m;
  m.x_size = 70000;
  EXPECT_THROW(codec.encode(m), ProgramError);
  AluInsn a;
  a.imm = 40000;
  EXPECT_THROW(codec.encode(a), ProgramError);
  GemmInsn g;
  g.loop.uop_bgn = 8192;  // needs 14 bits
  EXPECT_THROW(codec.encode(g), ProgramError);
  EXPECT_THROW(codec.encode_uop(MicroOp{2048, 0, 0}), ProgramError);
  for (uint64_t op : {5u, 6u, 7u}) EXPECT_THROW(codec.decode(RawInstruction{op, 0}), ProgramError);
  EXPECT_THROW(codec.decode(RawInstruction{uint64_t{6} << 7, 0}), ProgramError);  // LOAD of memory type 6
  const std::vector<uint8_t> odd(17, 0);
  EXPECT_THROW(raw_instructions_from_bytes(odd), ProgramError);
}

// Every instruction recorded from Apache VTA decodes to the fields its own decoder printed, and encodes back to
// the same bits.
TEST_F(DefaultCodec, AgreesWithVtaRecordings) {
  const std::filesystem::path root = vta::test::conformance_root();
  const std::regex field(R"((\w+)=[\[\(]?(-?\d+)(?:,(-?\d+))?)");
  size_t checked = 0;
  for (const char* dir : {"tiny.T1", "small.T2", "resnet-18.C10"}) {
    std::ifstream txt(root / dir / "run000.insn.txt");
    ASSERT_TRUE(txt) << dir;
    std::string line;
    while (std::getline(txt, line)) {
      std::istringstream ls(line);
      std::string index, hex;
      ls >> index >> hex;
      const RawInstruction raw = from_hex(hex);
      const Instruction insn = codec.decode(raw);
      EXPECT_EQ(codec.encode(insn), raw) << line;
      std::map<std::string, std::pair<int64_t, int64_t>> f;
      for (auto it = std::sregex_iterator(line.begin(), line.end(), field); it != std::sregex_iterator(); ++it) {
        const auto& m = *it;
        f[m[1]] = {std::stoll(m[2]), m[3].matched ? std::stoll(m[3]) : 0};
      }
      const DepFlags& d = dep_flags(insn);
      EXPECT_EQ(d.pop_prev, f["pp"].first != 0) << line;
      EXPECT_EQ(d.pop_next, f["pn"].first != 0) << line;
      EXPECT_EQ(d.push_prev, f["sp"].first != 0) << line;
      EXPECT_EQ(d.push_next, f["sn"].first != 0) << line;
      if (const auto* m = std::get_if<MemInsn>(&insn)) {
        EXPECT_NE(line.find(std::string(to_string(m->memory_type))), std::string::npos) << line;
        EXPECT_EQ(m->sram_base, f["sram"].first) << line;
        EXPECT_EQ(m->dram_base, f["dram"].first) << line;
        EXPECT_EQ(m->y_size, f["y_size"].first) << line;
        EXPECT_EQ(m->x_size, f["x_size"].first) << line;
        EXPECT_EQ(m->x_stride, f["x_stride"].first) << line;
        EXPECT_EQ(m->y_pad_0, f["y_pad"].first) << line;
        EXPECT_EQ(m->y_pad_1, f["y_pad"].second) << line;
        EXPECT_EQ(m->x_pad_0, f["x_pad"].first) << line;
        EXPECT_EQ(m->x_pad_1, f["x_pad"].second) << line;
      } else if (const auto* g = std::get_if<GemmInsn>(&insn)) {
        EXPECT_EQ(g->loop.reset, f["reset"].first != 0) << line;
        EXPECT_EQ(g->loop.uop_bgn, f["uop"].first) << line;
        EXPECT_EQ(g->loop.uop_end, f["uop"].second) << line;
        EXPECT_EQ(g->loop.iter_out, f["iter_out"].first) << line;
        EXPECT_EQ(g->loop.iter_in, f["iter_in"].first) << line;
        EXPECT_EQ(g->loop.dst_factor_out, f["acc_f"].first) << line;
        EXPECT_EQ(g->loop.dst_factor_in, f["acc_f"].second) << line;
        EXPECT_EQ(g->loop.src_factor_out, f["inp_f"].first) << line;
        EXPECT_EQ(g->loop.src_factor_in, f["inp_f"].second) << line;
        EXPECT_EQ(g->wgt_factor_out, f["wgt_f"].first) << line;
        EXPECT_EQ(g->wgt_factor_in, f["wgt_f"].second) << line;
      } else if (const auto* a = std::get_if<AluInsn>(&insn)) {
        EXPECT_NE(line.find(std::string(to_string(a->alu_opcode))), std::string::npos) << line;
        EXPECT_EQ(a->loop.uop_bgn, f["uop"].first) << line;
        EXPECT_EQ(a->loop.uop_end, f["uop"].second) << line;
        EXPECT_EQ(a->loop.iter_out, f["iter_out"].first) << line;
        EXPECT_EQ(a->loop.iter_in, f["iter_in"].first) << line;
        EXPECT_EQ(a->loop.dst_factor_out, f["dst_f"].first) << line;
        EXPECT_EQ(a->loop.dst_factor_in, f["dst_f"].second) << line;
        EXPECT_EQ(a->loop.src_factor_out, f["src_f"].first) << line;
        EXPECT_EQ(a->loop.src_factor_in, f["src_f"].second) << line;
        EXPECT_EQ(a->use_imm, f["use_imm"].first != 0) << line;
        EXPECT_EQ(a->imm, f["imm"].first) << line;
      } else {
        EXPECT_NE(line.find("FINISH"), std::string::npos) << line;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 651u + 2755u + 127u);
}

// Random instructions of every kind round-trip at every shipped config.
TEST(InstructionCodec, RoundTripsAtEveryConfig) {
  std::mt19937_64 rng(42);
  auto bits = [&](uint32_t width) { return static_cast<uint32_t>(rng() & ((uint64_t{1} << width) - 1)); };
  for (const auto& entry : std::filesystem::directory_iterator(VTA_CONFIG_DIR)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const HwConfig c = HwConfig::from_file(entry.path());
    const InstructionCodec codec(c);
    const uint32_t u = c.uop().log_depth, acc = c.acc().log_depth, inp = c.inp().log_depth, wgt = c.wgt().log_depth;
    for (int i = 0; i < 2000; ++i) {
      const DepFlags dep{(rng() & 1) != 0, (rng() & 1) != 0, (rng() & 1) != 0, (rng() & 1) != 0};
      MemInsn m{(rng() & 1) ? Opcode::kLoad : Opcode::kStore, dep, static_cast<MemoryType>(rng() % 5), bits(16),
                bits(32), bits(16), bits(16), bits(16), bits(4), bits(4), bits(4), bits(4)};
      LoopNest l{(rng() & 1) != 0, bits(u), bits(u + 1), bits(14), bits(14), bits(acc), bits(acc), 0, 0};
      GemmInsn g{dep, l, bits(wgt), bits(wgt)};
      g.loop.src_factor_out = bits(inp);
      g.loop.src_factor_in = bits(inp);
      AluInsn a{dep, l, static_cast<AluOpcode>(rng() % 8), (rng() & 1) != 0,
                static_cast<int32_t>(bits(16)) - 32768};
      a.loop.src_factor_out = bits(acc);
      a.loop.src_factor_in = bits(acc);
      for (const Instruction& insn : {Instruction(m), Instruction(g), Instruction(a), Instruction(FinishInsn{dep})}) {
        const RawInstruction raw = codec.encode(insn);
        ASSERT_EQ(codec.decode(raw), insn) << disassemble(insn);
      }
      const MicroOp uop{bits(c.uop_dst_bits()), bits(c.uop_src_bits()), bits(c.uop_wgt_bits())};
      ASSERT_EQ(codec.decode_uop(codec.encode_uop(uop)), uop);
    }
    // Every layout fits in 128 bits and no two fields overlap.
    for (Opcode op : {Opcode::kLoad, Opcode::kGemm, Opcode::kAlu, Opcode::kFinish}) {
      uint32_t end = 0;
      for (const auto& f : codec.layout(op)) {
        EXPECT_GE(f.offset, end) << f.name;
        EXPECT_EQ(f.offset / 64, (f.offset + f.width - 1) / 64) << f.name << " straddles a word";
        end = f.offset + f.width;
      }
      EXPECT_LE(end, 128u);
    }
  }
}

TEST(InstructionCodec, BytesRoundTrip) {
  std::vector<RawInstruction> insns = {{0x0123456789abcdefull, 0xfedcba9876543210ull}, {3, 0}};
  std::vector<uint8_t> bytes;
  raw_instructions_to_bytes(insns, bytes);
  ASSERT_EQ(bytes.size(), 32u);
  EXPECT_EQ(bytes[0], 0xef);
  EXPECT_EQ(bytes[8], 0x10);
  EXPECT_EQ(raw_instructions_from_bytes(bytes), insns);
}

TEST(Disassembler, ReadableText) {
  MemInsn m;
  m.memory_type = MemoryType::kInp;
  m.x_size = 2;
  m.y_size = 3;
  m.x_pad_1 = 1;
  m.dep.pop_next = true;
  EXPECT_EQ(disassemble(m), "LOAD INP sram=0 dram=0 y=3 x=2 stride=0 pad=(y:0,0 x:0,1) dep(pop_next)");
  AluInsn a;
  a.alu_opcode = AluOpcode::kShr;
  a.use_imm = true;
  a.imm = -3;
  EXPECT_NE(disassemble(a).find("ALU SHR"), std::string::npos);
  EXPECT_NE(disassemble(a).find("imm=-3"), std::string::npos);
}

}  // namespace
}  // namespace vta::isa
