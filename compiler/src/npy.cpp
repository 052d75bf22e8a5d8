#include "vta/compiler/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace vta::compiler {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw Error(fmt::format("{}: not a supported .npy file: {}", name, what));
}

// A tiny parser for the header's Python dict literal: {'descr': '<i1', 'fortran_order': False,
// 'shape': (2, 3), }.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& name) : s_(text), name_(name) {}

  void parse(std::string& descr, bool& fortran, std::vector<int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    ws();
    expect('{');
    while (true) {
      ws();
      if (peek() == '}') break;
      const std::string key = string_lit();
      ws();
      expect(':');
      ws();
      if (key == "descr") {
        descr = string_lit();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = bool_lit();
        have_fortran = true;
      } else if (key == "shape") {
        shape = tuple_lit();
        have_shape = true;
      } else {
        fail(name_, fmt::format("unexpected header key '{}'", key));
      }
      ws();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      ws();
      if (peek() != '}') fail(name_, "malformed header dict (expected ',' or '}')");
    }
    if (!have_descr || !have_fortran || !have_shape) {
      fail(name_, "header lacks one of 'descr', 'fortran_order', 'shape'");
    }
  }

 private:
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    if (peek() != c) fail(name_, fmt::format("malformed header (expected '{}' at offset {})", c, pos_));
    ++pos_;
  }
  std::string string_lit() {
    const char q = peek();
    if (q != '\'' && q != '"') fail(name_, fmt::format("malformed header (expected a string at offset {})", pos_));
    ++pos_;
    const size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) fail(name_, "malformed header (unterminated string)");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool bool_lit() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail(name_, "malformed header ('fortran_order' is not True or False)");
  }
  std::vector<int64_t> tuple_lit() {
    std::vector<int64_t> dims;
    expect('(');
    while (true) {
      ws();
      if (peek() == ')') {
        ++pos_;
        break;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail(name_, "malformed header (bad 'shape')");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        v = v * 10 + (peek() - '0');
        if (v > (int64_t{1} << 40)) fail(name_, "shape dimension too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix
      dims.push_back(v);
      ws();
      if (peek() == ',') {
        ++pos_;
      } else if (peek() != ')') {
        fail(name_, "malformed header (bad 'shape')");
      }
    }
    return dims;
  }

  std::string_view s_;
  const std::string& name_;
  size_t pos_ = 0;
};

DType dtype_from_descr(const std::string& descr, const std::string& name) {
  if (descr.size() >= 2) {
    const char order = descr[0];
    const std::string code = descr.substr(1);
    if (code == "i1" && (order == '|' || order == '<' || order == '>' || order == '=')) return DType::kInt8;
    if (code == "u1" && (order == '|' || order == '<' || order == '>' || order == '=')) return DType::kUint8;
    if (code == "b1") fail(name, "dtype bool ('" + descr + "') is not supported (use int8, uint8, int32, float32)");
    if (order == '<' && code == "i4") return DType::kInt32;
    if (order == '<' && code == "f4") return DType::kFloat32;
    if (order == '>') fail(name, "big-endian dtype '" + descr + "' is not supported (little endian only)");
  }
  fail(name, "dtype '" + descr + "' is not supported (use int8, uint8, int32 or float32)");
}

std::string descr_of(DType t) {
  switch (t) {
    case DType::kInt8: return "|i1";
    case DType::kUint8: return "|u1";
    case DType::kInt32: return "<i4";
    case DType::kFloat32: return "<f4";
  }
  return "|i1";
}

}  // namespace

Tensor parse_npy(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.size() < kMagicLen + 4 || std::memcmp(bytes.data(), kMagic, kMagicLen) != 0) {
    fail(name, "missing the \\x93NUMPY magic");
  }
  const uint8_t major = bytes[6];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = bytes[8] | (size_t{bytes[9]} << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) fail(name, "truncated header");
    header_len = bytes[8] | (size_t{bytes[9]} << 8) | (size_t{bytes[10]} << 16) | (size_t{bytes[11]} << 24);
    header_start = 12;
  } else {
    fail(name, fmt::format("format version {}.{} is not supported (1.0, 2.0, 3.0)", major, bytes[7]));
  }
  if (header_start + header_len > bytes.size()) fail(name, "truncated header");
  const std::string_view header(reinterpret_cast<const char*>(bytes.data()) + header_start, header_len);

  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  HeaderParser(header, name).parse(descr, fortran, shape);
  const DType dtype = dtype_from_descr(descr, name);
  if (fortran) fail(name, "Fortran-order arrays are not supported (save a C-contiguous array)");

  // Check the size the header claims against the data before allocating anything (found by fuzzing: a
  // 118-byte file claiming shape (16, 160000000) allocated 2.56 GB). Dimensions are at most 2^40 each, so
  // the running product is checked for overflow against the bytes actually present.
  const size_t data_start = header_start + header_len;
  const size_t have = bytes.size() - data_start;
  const uint64_t elem = dtype_size(dtype);
  uint64_t need = elem;
  bool too_large = false;
  for (int64_t d : shape) {
    if (d != 0 && need > (uint64_t{1} << 62) / static_cast<uint64_t>(d)) too_large = true;
    if (!too_large) need *= static_cast<uint64_t>(d);
  }
  const bool empty = std::find(shape.begin(), shape.end(), int64_t{0}) != shape.end();
  if (empty) need = 0;
  if ((too_large && !empty) || have < need) {
    fail(name, fmt::format("data is truncated: shape {} of {} needs {} bytes, file holds {}",
                           Tensor::shape_to_string(shape), to_string(dtype),
                           too_large && !empty ? std::string("more than 2^62") : std::to_string(need), have));
  }
  if (have > need) {
    fail(name, fmt::format("{} trailing bytes after the data of shape {}", have - need, Tensor::shape_to_string(shape)));
  }
  Tensor t(dtype, shape);
  if (t.nbytes()) std::memcpy(t.raw(), bytes.data() + data_start, t.nbytes());
  return t;
}

Tensor read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open for reading", path.string()));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(bytes, path.string());
}

std::vector<uint8_t> serialize_npy(const Tensor& tensor) {
  std::string shape = "(";
  for (size_t i = 0; i < tensor.rank(); ++i) shape += fmt::format("{}, ", tensor.dim(i));
  if (tensor.rank() > 1) shape.resize(shape.size() - 2);
  else if (tensor.rank() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr_of(tensor.dtype()), shape);
  // Pad with spaces so that the data starts on a 64-byte boundary; the header ends with '\n'.
  size_t prefix = 10;
  size_t total = prefix + header.size() + 1;
  bool v2 = false;
  if ((total + 63) / 64 * 64 - prefix > 65535) {
    v2 = true;
    prefix = 12;
    total = prefix + header.size() + 1;
  }
  const size_t padded = (total + 63) / 64 * 64;
  header.append(padded - total, ' ');
  header.push_back('\n');
  const size_t hlen = header.size();

  std::vector<uint8_t> out(prefix + hlen + tensor.nbytes());
  std::memcpy(out.data(), kMagic, kMagicLen);
  out[6] = v2 ? 2 : 1;
  out[7] = 0;
  for (size_t i = 0; i < prefix - 8; ++i) out[8 + i] = static_cast<uint8_t>((hlen >> (8 * i)) & 0xff);
  std::memcpy(out.data() + prefix, header.data(), hlen);
  if (tensor.nbytes()) std::memcpy(out.data() + prefix + hlen, tensor.raw(), tensor.nbytes());
  return out;
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  const std::vector<uint8_t> bytes = serialize_npy(tensor);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw Error(fmt::format("{}: cannot open for writing", path.string()));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw Error(fmt::format("{}: write failed", path.string()));
}

}  // namespace vta::compiler
