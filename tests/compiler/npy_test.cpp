#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "vta/compiler/npy.h"

namespace vta::compiler {
namespace {

std::vector<uint8_t> make_npy(const std::string& header, size_t data_bytes, int major = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  const size_t len = header.size();
  out.push_back(static_cast<uint8_t>(len & 0xff));
  out.push_back(static_cast<uint8_t>(len >> 8));
  if (major >= 2) {
    out.push_back(0);
    out.push_back(0);
  }
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 7);
  return out;
}

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    parse_npy(bytes, "t.npy");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Npy, RoundTripEveryDtype) {
  for (DType t : {DType::kInt8, DType::kUint8, DType::kInt32, DType::kFloat32}) {
    Tensor x(t, {2, 3, 4});
    for (size_t i = 0; i < x.nbytes(); ++i) x.raw()[i] = static_cast<std::byte>(i * 37 + 1);
    const Tensor y = parse_npy(serialize_npy(x));
    EXPECT_EQ(x, y) << to_string(t);
  }
  const Tensor scalar(DType::kInt32, {});
  EXPECT_EQ(parse_npy(serialize_npy(scalar)), scalar);
  const Tensor one_d = Tensor::from_values<int32_t>({3}, {1, -2, 3});
  EXPECT_EQ(parse_npy(serialize_npy(one_d)), one_d);
}

TEST(Npy, HeaderAlignedTo64) {
  const auto bytes = serialize_npy(Tensor(DType::kInt8, {5, 7}));
  const size_t hlen = bytes[8] | (size_t{bytes[9]} << 8);
  EXPECT_EQ((10 + hlen) % 64, 0u);
  EXPECT_EQ(bytes[10 + hlen - 1], '\n');
}

TEST(Npy, ParsesNumpyStyleHeaders) {
  const auto v1 = make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }          \n", 8);
  const Tensor t = parse_npy(v1);
  EXPECT_EQ(t.dtype(), DType::kInt32);
  EXPECT_EQ(t.shape(), (std::vector<int64_t>{2}));
  const auto v2 = make_npy("{'descr': '|i1', 'fortran_order': False, 'shape': (3, 1)}\n", 3, 2);
  EXPECT_EQ(parse_npy(v2).shape(), (std::vector<int64_t>{3, 1}));
}

TEST(Npy, ClearErrors) {
  EXPECT_NE(error_of(make_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n", 16)).find("'<f8'"),
            std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 2), }\n", 16)).find("Fortran"),
            std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n", 8)).find("big-endian"),
            std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }\n", 8)).find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '<i4', 'shape': (2,), }\n", 8)).find("lacks"), std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,x), }\n", 8)).find("shape"),
            std::string::npos);
  EXPECT_NE(error_of({'n', 'o', 'p', 'e', 0, 0, 0, 0, 0, 0, 0}).find("magic"), std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }\n", 4, 9)).find("version"),
            std::string::npos);
  EXPECT_THROW(read_npy("/nonexistent/file.npy"), Error);
}

// Found by fuzzing (tests/fuzz/regressions/npy): the claimed shape is checked against the data before
// anything is allocated, also when the element count overflows 64 bits; empty shapes stay fine.
TEST(Npy, HugeClaimedShapeIsAnErrorNotAnAllocation) {
  EXPECT_NE(error_of(make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (50000, 50000), }\n", 8))
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(error_of(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }\n",
                              8))
                .find("more than 2^62"),
            std::string::npos);
  const Tensor empty =
      parse_npy(make_npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1099511627776, 0), }\n", 0));
  EXPECT_EQ(empty.nbytes(), 0u);
}

TEST(Npy, FileRoundTrip) {
  const auto path = std::filesystem::temp_directory_path() / "vta_npy_test.npy";
  const Tensor x = Tensor::from_values<int8_t>({2, 2}, {1, -1, 127, -128});
  write_npy(path, x);
  EXPECT_EQ(read_npy(path), x);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace vta::compiler
