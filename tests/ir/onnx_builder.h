// Test helper: builds small ONNX models in memory with the protobuf API (no files needed).
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

namespace vta::ir::test {

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int64_t opset = 13, const std::string& name = "test") {
    model_.set_ir_version(8);
    model_.set_producer_name("vta_ir_tests");
    auto* op = model_.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    graph()->set_name(name);
  }

  onnx::GraphProto* graph() { return model_.mutable_graph(); }
  onnx::ModelProto& model() { return model_; }

  // A dimension < 0 is symbolic ("N"); `no_shape` leaves the shape out.
  OnnxBuilder& input(const std::string& name, const std::vector<int64_t>& shape,
                     int elem = onnx::TensorProto::FLOAT, bool no_shape = false) {
    fill_value_info(graph()->add_input(), name, shape, elem, no_shape);
    return *this;
  }
  OnnxBuilder& output(const std::string& name, const std::vector<int64_t>& shape = {}, int elem = onnx::TensorProto::FLOAT) {
    fill_value_info(graph()->add_output(), name, shape, elem, shape.empty());
    return *this;
  }
  OnnxBuilder& init(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& values,
                    bool raw = false) {
    onnx::TensorProto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    if (raw) {
      t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
    } else {
      for (float v : values) t->add_float_data(v);
    }
    return *this;
  }
  OnnxBuilder& init_i64(const std::string& name, const std::vector<int64_t>& shape, const std::vector<int64_t>& values) {
    onnx::TensorProto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : shape) t->add_dims(d);
    for (int64_t v : values) t->add_int64_data(v);
    return *this;
  }
  // int8 / uint8 / int32 in int32_data.
  OnnxBuilder& init_int(const std::string& name, int type, const std::vector<int64_t>& shape,
                        const std::vector<int32_t>& values) {
    onnx::TensorProto* t = graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : shape) t->add_dims(d);
    for (int32_t v : values) t->add_int32_data(v);
    return *this;
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    onnx::NodeProto* n = graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? outputs.at(0) : name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  std::string bytes() const { return model_.SerializeAsString(); }

 private:
  static void fill_value_info(onnx::ValueInfoProto* vi, const std::string& name, const std::vector<int64_t>& shape,
                              int elem, bool no_shape) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    if (no_shape) return;
    auto* s = tt->mutable_shape();
    for (int64_t d : shape) {
      auto* dim = s->add_dim();
      if (d < 0) {
        dim->set_dim_param("N");
      } else {
        dim->set_dim_value(d);
      }
    }
  }

  onnx::ModelProto model_;
};

inline onnx::AttributeProto* add_attr(onnx::NodeProto& n, const std::string& name) {
  auto* a = n.add_attribute();
  a->set_name(name);
  return a;
}
inline void attr_int(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = add_attr(n, name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
inline void attr_float(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = add_attr(n, name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
inline void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = add_attr(n, name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}
inline void attr_string(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = add_attr(n, name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

}  // namespace vta::ir::test
