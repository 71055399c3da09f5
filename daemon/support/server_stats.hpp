// The server's own counters (server::PipelineStats) for operators: as Prometheus families
// (tern_pipeline_*_total) through a Metrics collector, and as a JSON object for
// `ternctl stats`. The pipeline counts these itself on every query; nothing is double-counted
// with the Metrics hot-path arrays (those fill in when the pipeline reports replies to them).
#pragma once

#include "server/control_json.hpp"
#include "server/metrics.hpp"
#include "server/pipeline.hpp"
#include "server/server.hpp"

namespace tern::daemon {

// `stats` is read at each scrape; it must outlive `metrics`' renders.
void add_pipeline_collector(server::Metrics& metrics, const server::PipelineStats& stats);
// Writes "pipeline": {...} into an open object.
// tern_udp_*_total: the UDP listeners' counters (backlog, kernel drops, send queue).
void add_udp_collector(server::Metrics& metrics, const server::Server& srv);
void write_pipeline_stats(server::JsonWriter& w, const server::PipelineStats& stats);

}  // namespace tern::daemon
