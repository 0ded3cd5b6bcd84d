#include "NecoTest.h"
#include "formats/RawTensor.h"

#include <cstring>

using namespace neco::formats;

namespace {

ByteView floats(std::vector<float> values) {
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(values.size() * 4);
  std::memcpy(bytes->data(), values.data(), bytes->size());
  return viewOf(bytes);
}

}  // namespace

NECO_TEST(RawTensor, dtypeNamesRoundTrip) {
  for (DType d : {DType::Bool, DType::U8, DType::I8, DType::I16, DType::I32, DType::I64, DType::F16, DType::BF16,
                  DType::F32, DType::F64}) {
    NECO_CHECK(dtypeFromName(dtypeName(d)) == d);
  }
  NECO_CHECK(!dtypeFromName("F8").has_value());
  NECO_CHECK(dtypeSize(DType::BF16) == 2);
  NECO_CHECK(dtypeSize(DType::I64) == 8);
}

NECO_TEST(RawTensor, boundsAcceptExactFitAndRejectOverrun) {
  RawTensor t;
  t.storage = floats({0, 1, 2, 3, 4, 5});
  t.shape = {2, 3};
  t.strides = RawTensor::contiguousStrides(t.shape);
  NECO_CHECK(checkTensorBounds(t).empty());
  t.storageOffset = 1;
  NECO_CHECK(!checkTensorBounds(t).empty());
  t.storageOffset = 0;
  t.strides = {4, 1};  // last element index 4 + 2 = 6 -> needs 7 floats
  NECO_CHECK(!checkTensorBounds(t).empty());
  t.strides = {1, -1};
  NECO_CHECK(checkTensorBounds(t).find("negative stride") != std::string::npos);
  t.strides = {INT64_MAX / 2, 1};
  NECO_CHECK(checkTensorBounds(t).find("overflow") != std::string::npos);
}

NECO_TEST(RawTensor, transposedViewCopiesInRowMajorOrder) {
  RawTensor t;
  t.storage = floats({0, 1, 2, 3, 4, 5});
  t.shape = {3, 2};
  t.strides = {1, 3};  // the transpose of a contiguous (2, 3)
  NECO_CHECK(!t.isContiguous());
  NECO_CHECK(checkTensorBounds(t).empty());
  const auto bytes = t.contiguousBytes();
  std::vector<float> out(6);
  std::memcpy(out.data(), bytes.data(), 24);
  NECO_CHECK(out == (std::vector<float>{0, 3, 1, 4, 2, 5}));
  NECO_CHECK_NEAR(t.valueAt(1), 3.0, 0.0);
}

NECO_TEST(RawTensor, halfAndBfloatDecode) {
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(std::vector<std::uint8_t>{0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00});
  RawTensor h;
  h.dtype = DType::F16;
  h.storage = viewOf(bytes);
  h.shape = {3};
  h.strides = {1};
  NECO_CHECK_NEAR(h.valueAt(0), 1.0, 0.0);
  NECO_CHECK_NEAR(h.valueAt(1), -2.0, 0.0);
  NECO_CHECK_NEAR(h.valueAt(2), 5.960464477539063e-08, 1e-15);  // smallest subnormal
  RawTensor b = h;
  b.dtype = DType::BF16;
  NECO_CHECK_NEAR(b.valueAt(0), 0.0078125, 0.0);  // 0x3c00 as bf16 = 2^-7
  NECO_CHECK(shapeString({1, 4, 384}) == "(1, 4, 384)");
  NECO_CHECK(shapeString({384}) == "(384,)");
}
