#include "vta/area/area_model.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "area_data.h"
#include "vta/hw/acc_rows.h"
#include "vta/hw/gemm_packing.h"
#include "vta/isa/error.h"

namespace vta::area {
namespace {

using Vector = std::vector<double>;

// RAMB36 aspect ratios (depth x width) of 7-series and UltraScale block RAM.
constexpr std::pair<uint32_t, uint32_t> kBram36Shapes[] = {{32768, 1}, {16384, 2}, {8192, 4}, {4096, 9},
                                                           {2048, 18}, {1024, 36}, {512, 72}};

double blocks_for(uint64_t depth, uint64_t width) {
  uint64_t best = UINT64_MAX;
  for (const auto& [d, w] : kBram36Shapes) best = std::min(best, ((depth + d - 1) / d) * ((width + w - 1) / w));
  return static_cast<double>(best);
}

// DSP48 slices one multiplier of a x b bits takes (25 x 18 per slice).
double dsp_per_multiplier(uint32_t a, uint32_t b) {
  const uint32_t wide = std::max(a, b), narrow = std::min(a, b);
  return std::ceil(wide / 25.0) * std::ceil(narrow / 18.0);
}

// The features of each resource, scaled by their value at VTA's default config so that the fit is well
// conditioned. Index 0 is the intercept.
Vector lut_ff_features(const isa::HwConfig& c) {
  const double macs = double(c.batch()) * c.block_in() * c.block_out();
  const double alu = double(c.batch()) * c.block_out();
  const double ports = double(c.inp().element_bits) + c.wgt().element_bits + c.acc().element_bits + c.uop().element_bits;
  return {1.0, macs * c.acc_width() / (256.0 * 32), alu * c.acc_width() / (16.0 * 32), ports / (128.0 + 2048 + 512 + 32)};
}

// The GEMM's DSPs are structural: one per multiplier, and a multiplier per product or per packed pair of
// products (Yosys maps each to one DSP48, as the samples show exactly). The fit covers the rest: the ALU's
// ACC x ACC multipliers and the address arithmetic, i.e. ALU lanes and a constant.
double gemm_dsp(const isa::HwConfig& c) {
  const double per_mac = hw::gemm_packs_pairs(c) ? 0.5 : dsp_per_multiplier(c.inp_width(), c.wgt_width());
  return double(c.batch()) * c.block_in() * c.block_out() * per_mac;
}

Vector dsp_features(const isa::HwConfig& c) {
  const double alu = double(c.batch()) * c.block_out() * dsp_per_multiplier(c.acc_width(), c.acc_width());
  return {1.0, alu / 64.0};
}

Vector bram_features(const isa::HwConfig& c) { return {1.0, structural_bram36(c) / 110.0}; }

// Solves A x = b (A square, symmetric positive definite after the ridge) by Gaussian elimination.
Vector solve(std::vector<Vector> a, Vector b) {
  const size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r)
      if (std::abs(a[r][col]) > std::abs(a[pivot][col])) pivot = r;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    if (std::abs(a[col][col]) < 1e-300) throw Error("area model: singular fit");
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double f = a[r][col] / a[col][col];
      for (size_t k = col; k < n; ++k) a[r][k] -= f * a[col][k];
      b[r] -= f * b[col];
    }
  }
  Vector x(n);
  for (size_t i = 0; i < n; ++i) x[i] = b[i] / a[i][i];
  return x;
}

// Ridge least squares: (X^T X + lambda D) w = X^T y, D = identity without the intercept. lambda is tiny
// against the data, so with enough samples this is plain least squares; with fewer it picks the smallest
// non-intercept weights that fit.
AreaModel::Linear fit_linear(const std::vector<Vector>& x, const Vector& y) {
  const size_t n = x.front().size();
  std::vector<Vector> a(n, Vector(n, 0.0));
  Vector b(n, 0.0);
  for (size_t s = 0; s < x.size(); ++s)
    for (size_t i = 0; i < n; ++i) {
      b[i] += x[s][i] * y[s];
      for (size_t j = 0; j < n; ++j) a[i][j] += x[s][i] * x[s][j];
    }
  double trace = 0;
  for (size_t i = 0; i < n; ++i) trace += a[i][i];
  for (size_t i = 1; i < n; ++i) a[i][i] += 1e-4 * trace / double(n);
  return {solve(a, b)};
}

Resources resources_from_json(const nlohmann::json& r) {
  return {r.at("lut").get<double>(), r.at("ff").get<double>(), r.at("dsp").get<double>(), r.at("bram36").get<double>()};
}

}  // namespace

double AreaModel::Linear::apply(const std::vector<double>& features) const {
  double v = 0;
  for (size_t i = 0; i < weights.size() && i < features.size(); ++i) v += weights[i] * features[i];
  return std::max(0.0, v);
}

const std::vector<Part>& parts() {
  static const std::vector<Part> all = [] {
    std::vector<Part> out;
    const nlohmann::json j = nlohmann::json::parse(detail::kPartsJson);
    for (const auto& [name, p] : j.at("parts").items())
      out.push_back({name, p.at("family").get<std::string>(), p.at("board").get<std::string>(), resources_from_json(p)});
    return out;
  }();
  return all;
}

const Part& part(const std::string& name) {
  std::string known;
  for (const Part& p : parts()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  throw Error(fmt::format("unknown FPGA part '{}' (known: {})", name, known));
}

std::vector<SynthSample> samples_from_json(const nlohmann::json& j, const char* key) {
  std::vector<SynthSample> out;
  if (!j.contains(key)) return out;
  try {
    for (const auto& s : j.at(key))
      out.push_back({s.at("name").get<std::string>(), isa::HwConfig::from_json(s.at("config")),
                     resources_from_json(s.at("resources"))});
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("synthesis results: ") + e.what());
  }
  return out;
}

std::vector<SynthSample> shipped_samples() {
  return samples_from_json(nlohmann::json::parse(detail::kSynthResultsJson), "samples");
}
std::vector<SynthSample> shipped_validation_samples() {
  return samples_from_json(nlohmann::json::parse(detail::kSynthResultsJson), "validation");
}

double structural_bram36(const isa::HwConfig& c) {
  double total = 0;
  // the UOP buffer has a copy per compute engine (a read port each)
  total += 2 * blocks_for(c.uop().depth, c.uop().element_bits);
  for (const isa::BufferGeometry* b : {&c.inp(), &c.wgt()}) total += blocks_for(b->depth, b->element_bits);
  // ACC and OUT: a memory per bank, several rows per word
  const uint32_t rows = hw::acc_rows_per_word(c), banks = hw::acc_banks(c);
  for (const isa::BufferGeometry* b : {&c.acc(), &c.out()})
    total += banks * blocks_for(b->depth / rows / banks, uint64_t{b->element_bits} * rows);
  return total;
}

AreaModel AreaModel::fit(const std::vector<SynthSample>& samples) {
  if (samples.empty()) throw Error("area model: no synthesis results to fit");
  std::vector<Vector> xl, xd, xb;
  Vector lut, ff, dsp, bram;
  for (const SynthSample& s : samples) {
    xl.push_back(lut_ff_features(s.config));
    xd.push_back(dsp_features(s.config));
    xb.push_back(bram_features(s.config));
    lut.push_back(s.measured.lut);
    ff.push_back(s.measured.ff);
    dsp.push_back(s.measured.dsp - gemm_dsp(s.config));
    bram.push_back(s.measured.bram36);
  }
  AreaModel m;
  m.lut_ = fit_linear(xl, lut);
  m.ff_ = fit_linear(xl, ff);
  m.dsp_ = fit_linear(xd, dsp);
  m.bram_ = fit_linear(xb, bram);
  m.samples_ = samples.size();
  return m;
}

const AreaModel& AreaModel::shipped() {
  static const AreaModel model = fit(shipped_samples());
  return model;
}

Resources AreaModel::estimate(const isa::HwConfig& config) const {
  const Vector f = lut_ff_features(config);
  return {lut_.apply(f), ff_.apply(f), gemm_dsp(config) + dsp_.apply(dsp_features(config)),
          bram_.apply(bram_features(config))};
}

}  // namespace vta::area
