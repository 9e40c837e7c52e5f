// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
#include "space/task.h"

namespace sonar {

std::string Task::ArgsJson() const { return args_json.empty() ? ShapeToJson(shape) : args_json; }

uint64_t Task::WorkloadKey() const { return WorkloadKeyOf(op, ArgsJson(), target); }

std::string ShapeToJson(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ",";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::string CanonicalWorkload(std::string_view op, std::string_view args_json,
                              std::string_view target) {
  std::string out;
  out.reserve(op.size() + args_json.size() + target.size() + 2);
  out.append(op);
  out.push_back('\x1f');
  out.append(args_json);
  out.push_back('\x1f');
  out.append(target);
  return out;
}

uint64_t Fnv1a64(std::string_view data) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : data) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t WorkloadKeyOf(std::string_view op, std::string_view args_json, std::string_view target) {
  return Fnv1a64(CanonicalWorkload(op, args_json, target));
}

std::string WorkloadKeyToHex(uint64_t key) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[key & 0xf];
    key >>= 4;
  }
  return out;
}

bool HexToWorkloadKey(std::string_view hex, uint64_t* key) {
  if (hex.empty() || hex.size() > 16) return false;
  uint64_t value = 0;
  for (char c : hex) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = (value << 4) | static_cast<uint64_t>(digit);
  }
  *key = value;
  return true;
}

}  // namespace sonar
