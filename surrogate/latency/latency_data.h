// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The Sonar Authors
//
// What this file defines: the data side of the latency predictor. LatencySpace names the three
// architecture search spaces of HELP's data (NAS-Bench-201, FBNet, OFA); the Encode* functions
// turn one architecture into a fixed-length feature vector; LatencyTable holds architectures x
// devices latencies read from one or more CSV files (joined on arch_idx); and
// DescriptorFromReferenceLatencies builds a device's HardwareDescriptor from the latencies of the
// reference architectures (HELP's hardware embedding), the data-set kind of descriptor.
//
// Example:
//   StatusOr<LatencyTable> t = LoadLatencyTable({"nasbench201_latency_ms.csv"},
//                                               LatencySpace::kNasBench201);
//   StatusOr<std::vector<int64_t>> refs =
//       ReadReferenceArchIndices("nasbench201_hardware_embedding_index.txt");
//   HardwareDescriptor fpga = t->Descriptor(t->DeviceColumn("fpga"), *refs);
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "measure/hardware.h"

namespace sonar {

// The architecture search spaces of the latency data.
enum class LatencySpace {
  kNasBench201,  // cell string, 6 edges x 5 ops
  kFbnet,        // 22 blocks, op ids 0..8
  kOfa,          // MobileNetV3 supernet: 20 kernel sizes, 20 expansions, 5 depths, resolution
};

std::string_view LatencySpaceToString(LatencySpace space);  // "nasbench201", "fbnet", "ofa"
// Returns false (and leaves *space alone) for an unknown name.
bool StringToLatencySpace(std::string_view name, LatencySpace* space);

// Length of the encoding of an architecture of `space`: 30, 198 or 161.
int LatencyEncodingSize(LatencySpace space);

// The key columns that describe an architecture of `space` in a CSV file, in order:
// {"arch_str"}, {"op_idx_list"} or {"ks", "e", "d", "r"}.
std::vector<std::string> LatencyKeyColumns(LatencySpace space);

// NAS-Bench-201 cell string, e.g. "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...~2|", to a
// one-hot of the operation on each of the 6 edges (1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2), ops in
// the order none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3. Returns 30 values.
StatusOr<Eigen::VectorXd> EncodeNasBench201(std::string_view cell);

// FBNet block choices as 22 dash-joined op ids 0..8 (e.g. "7-8-1-...") to a one-hot per block.
// Returns 22 x 9 = 198 values.
StatusOr<Eigen::VectorXd> EncodeFbnet(std::string_view op_idx_list);

// OFA (MobileNetV3) subnet: ks = 20 dash-joined kernel sizes in {3,5,7}, e = 20 expansions in
// {3,4,6}, d = 5 stage depths in {2,3,4}, r = input resolution in pixels (128..224 step 4).
// Layer j of stage s is active when j < d[s]; inactive layers encode as zeros. Returns
// 20 x (3 + 3) one-hots, 5 x 3 depth one-hots, 25 resolution one-hots and (r/224)^2: 161 values.
StatusOr<Eigen::VectorXd> EncodeOfa(std::string_view ks, std::string_view e, std::string_view d,
                                    int r);

// Encodes the key-column values of one architecture (as LatencyKeyColumns orders them).
StatusOr<Eigen::VectorXd> EncodeArchitecture(LatencySpace space,
                                             const std::vector<std::string>& key_values);

// The arch_idx values listed one per line in a *_hardware_embedding_index.txt file.
StatusOr<std::vector<int64_t>> ReadReferenceArchIndices(const std::string& path);

// The name a reference-architecture feature has in a descriptor: "ref_arch_<arch_idx>".
std::string ReferenceFeatureName(int64_t arch_idx);
// The arch_idx of a ReferenceFeatureName, or -1 when `name` is not one.
int64_t ReferenceFeatureArchIndex(std::string_view name);

// A descriptor of the data-set kind: feature i is ln(latency in ms) of reference architecture
// i on the device, named ReferenceFeatureName(arch_idx[i]), source "reference_arch"; the
// descriptor's source is "reference_latencies". The predictor standardizes the features across
// its source devices. Non-positive or non-finite latencies become NaN (absent).
// requires: arch_idx.size() == latency_ms.size().
HardwareDescriptor DescriptorFromReferenceLatencies(const std::string& device_name,
                                                    const std::vector<int64_t>& arch_idx,
                                                    const std::vector<double>& latency_ms);

// Architectures x devices latencies of one search space.
// Thread safety: value type.
struct LatencyTable {
  LatencySpace space = LatencySpace::kNasBench201;
  std::vector<int64_t> arch_idx;                    // n, as in the CSV files
  std::vector<std::vector<std::string>> arch_keys;  // n, the key-column values
  Eigen::MatrixXd encodings;                        // n x LatencyEncodingSize(space)
  std::vector<std::string> devices;                 // m device (column) names
  Eigen::MatrixXd latency_ms;                       // n x m; NaN where absent

  int num_archs() const { return static_cast<int>(arch_idx.size()); }
  int num_devices() const { return static_cast<int>(devices.size()); }
  // Column of `device`, or -1.
  int DeviceColumn(std::string_view device) const;
  // Row of `arch`, or -1.
  int ArchRow(int64_t arch) const;
  // The reference-latency descriptor of device column `column`, from the rows of
  // `reference_arch_idx` (absent architectures give NaN features).
  // requires: 0 <= column < num_devices().
  HardwareDescriptor Descriptor(int column, const std::vector<int64_t>& reference_arch_idx) const;
};

// Reads latency CSV files of `space` (HELP's format: arch_idx, the key columns, then one column
// of milliseconds per device) and joins them on arch_idx: a device column from any file, rows
// present in every file. Empty cells and "nan" are absent values. Returns InvalidArgument or
// NotFound with the file and line for malformed input.
StatusOr<LatencyTable> LoadLatencyTable(const std::vector<std::string>& paths, LatencySpace space);

// Reads a CSV with the key columns of `space` and optionally arch_idx and latency_ms (used for
// the samples of `sonar latency adapt` and the architectures of `sonar latency predict`).
// *latency_ms gets NaN for rows without one. Either output may be null.
Status LoadArchitectureCsv(const std::string& path, LatencySpace space, Eigen::MatrixXd* encodings,
                           std::vector<int64_t>* arch_idx, std::vector<double>* latency_ms,
                           std::vector<std::vector<std::string>>* keys);

}  // namespace sonar
