// Named parameter slots: a model declares each weight it needs (name as in the checkpoint, shape,
// optional or not); the binder then fills the slots from a safetensors checkpoint.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <ATen/ATen.h>

namespace pictor::nn {

struct ParameterSlot {
    std::string name;
    std::vector<std::int64_t> shape;
    at::Tensor* tensor; // owned by the module that declared it; modules never move after declaring
    bool optional;
};

class ParameterTable {
public:
    at::Tensor& declare(
        std::string name, std::vector<std::int64_t> shape, at::Tensor& slot, bool optional = false);
    const std::vector<ParameterSlot>& slots() const { return slots_; }
    std::int64_t parameterCount() const; // the elements of every slot

private:
    std::vector<ParameterSlot> slots_;
};

// A name prefix inside a table: scope / "encoder" / "layers" / 3 gives "....encoder.layers.3".
class Scope {
public:
    Scope(ParameterTable& table, std::string prefix = {}) : table_(&table), prefix_(std::move(prefix)) { }
    Scope operator/(std::string_view child) const;
    Scope operator/(std::size_t index) const { return *this / std::string_view(std::to_string(index)); }
    at::Tensor& param(std::string_view name, std::vector<std::int64_t> shape, at::Tensor& slot,
        bool optional = false) const;
    const std::string& prefix() const { return prefix_; }

private:
    ParameterTable* table_;
    std::string prefix_;
};

} // namespace pictor::nn
