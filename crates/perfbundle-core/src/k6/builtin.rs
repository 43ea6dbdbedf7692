//! k6's built-in metrics, for inputs that do not declare types (the CSV output).

use super::model::MetricType;

/// The type and `contains` of a k6 built-in metric, if `name` is one.
pub fn builtin_metric(name: &str) -> Option<(MetricType, &'static str)> {
    use MetricType::*;
    Some(match name {
        "http_reqs"
        | "iterations"
        | "dropped_iterations"
        | "grpc_reqs"
        | "ws_msgs_sent"
        | "ws_msgs_received"
        | "ws_sessions"
        | "browser_http_req_failed_count" => (Counter, "default"),
        "data_sent" | "data_received" | "browser_data_sent" | "browser_data_received" => (Counter, "data"),
        "vus" | "vus_max" => (Gauge, "default"),
        "http_req_failed" | "checks" | "browser_http_req_failed" => (Rate, "default"),
        "http_req_duration"
        | "http_req_blocked"
        | "http_req_connecting"
        | "http_req_tls_handshaking"
        | "http_req_sending"
        | "http_req_waiting"
        | "http_req_receiving"
        | "iteration_duration"
        | "group_duration"
        | "ws_connecting"
        | "ws_session_duration"
        | "ws_ping"
        | "grpc_req_duration"
        | "grpc_streams_msgs_received"
        | "browser_http_req_duration"
        | "browser_web_vital_fcp"
        | "browser_web_vital_lcp"
        | "browser_web_vital_inp"
        | "browser_web_vital_ttfb"
        | "browser_web_vital_fid" => (Trend, "time"),
        "browser_web_vital_cls" => (Trend, "default"),
        _ => return None,
    })
}

/// Tag keys that every series is broken down by (k6's usual ones).
pub const DEFAULT_BREAKDOWN_TAGS: &[&str] =
    &["name", "scenario", "group", "method", "status", "expected_response", "check", "error_code"];
